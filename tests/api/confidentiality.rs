//! Confidentiality of the ledger, tried as an outsider and as a party: the
//! public log proves its shape and names its participants, and says nothing
//! of who deals with whom or for how much; a party opens the entries it is
//! given, checks them against the leaves and the signatures inside them,
//! and `anchorfin verify` with its key catches an edited detail.

use serde_json::Value;

use crate::helpers::TestApp;
use crate::lending::{bank, confirmed_asset, financed, pay, receipt};
use crate::on_both_backends;
use crate::registry::{deal, invoice, register, Deal};

on_both_backends!(
    an_outsider_reading_the_whole_ledger_learns_only_participants_and_timing,
    a_party_verifies_the_details_it_is_given_and_catches_an_edited_one,
);

/// The business entries [`a_whole_deal`] appends, in order.
const BUSINESS: [&str; 7] = [
    "receivable_registered",
    "receivable_confirmed",
    "alert_raised",
    "offer_made",
    "asset_pledged",
    "asset_paid",
    "lien_settled",
];

/// A deal that leaves every kind of business entry on the ledger: a
/// registration, a duplicate's alert, a confirmation, an offer, a pledge, a
/// signed payment and a receipt. Returns the ledger's size, where its
/// business entries begin (those before are onboarding's) and what an
/// outsider must not learn (ids, the fingerprint, the amount).
async fn a_whole_deal(app: &TestApp) -> (u64, u64, Deal, crate::lending::Bank, Vec<String>) {
    let deal = deal(app).await;
    let bank = bank(app, "Bank One", 21).await;
    let business = app.ledger_mark().await;
    let asset = confirmed_asset(app, &deal, "INV-SECRET-1", "7654.32").await;
    let response = register(app, &deal, &invoice(&deal, "inv secret 1", "7654.32")).await;
    assert_eq!(response.status(), 409);
    let lien = financed(app, &deal, &bank, &asset, "7000.00").await;
    assert_eq!(
        pay(app, &deal, &asset, &Deal::key(&deal.buyer), "7654.32")
            .await
            .status(),
        201
    );
    assert_eq!(
        receipt(app, &bank, lien["id"].as_str().unwrap(), "7000.00")
            .await
            .status(),
        200
    );
    let seen: Value = app
        .get_json(&format!("/v1/assets/{asset}"), Some(&Deal::key(&deal.supplier)))
        .await;
    let receivable: Value = app
        .get_json(
            &format!("/v1/receivables/{}", seen["receivable_id"].as_str().unwrap()),
            Some(&Deal::key(&deal.supplier)),
        )
        .await;
    // Registration, confirmation, the duplicate's alert; offer, pledge,
    // payment, receipt.
    assert_eq!(app.kinds_since(business).await, BUSINESS);
    let size = business + BUSINESS.len() as u64;
    assert_eq!(app.settled_head().await["tree_size"], size);
    let secrets = vec![
        Deal::id(&deal.supplier),
        Deal::id(&deal.buyer),
        bank.id(),
        asset,
        receivable["fingerprint"].as_str().unwrap().to_owned(),
        "7654.32".to_owned(),
        "INV-SECRET-1".to_owned(),
    ];
    (size, business, deal, bank, secrets)
}

async fn an_outsider_reading_the_whole_ledger_learns_only_participants_and_timing(app: TestApp) {
    let (dealt, business, deal, _, secrets) = a_whole_deal(&app).await;
    let outsider = app.create_org("Curious Bank", "bank", "LEI-CURIOUS").await;
    let size = app.settled_head().await["tree_size"].as_u64().unwrap();
    assert!(size > dealt, "the outsider's onboarding is on the ledger");
    // Where the deal's business entries are; the rest is onboarding.
    let deal_business = business..business + BUSINESS.len() as u64;

    for reader in [None, Some(outsider["api_key"].as_str().unwrap())] {
        let entries = app.entries_since(0, reader).await;
        assert_eq!(entries.len() as u64, size);
        let (mut public, mut sealed) = (0, 0);
        for entry in &entries {
            let in_business = deal_business.contains(&entry["index"].as_u64().unwrap());
            let bytes = hex::decode(entry["entry"].as_str().unwrap()).unwrap();
            match entry["kind"].as_str().unwrap() {
                // The participants and their keys stay public.
                "org_onboarded" | "key_registered" => {
                    assert!(!in_business, "{entry}");
                    assert_eq!(bytes[0], 1);
                    assert!(entry["details"].is_object());
                    public += 1;
                }
                "business" => {
                    assert!(in_business, "{entry}");
                    // Version, class, second, commitment: nothing else.
                    assert_eq!(bytes.len(), 42, "{entry}");
                    assert_eq!(&bytes[..2], &[2, 1]);
                    assert!(entry["details"].is_null(), "{entry}");
                    sealed += 1;
                }
                other => panic!("an outsider reads a {other} entry: {entry}"),
            }
            // Nothing an outsider reads names the deal's parties' business.
            let text = entry.to_string();
            let lowered = String::from_utf8_lossy(&bytes).to_lowercase();
            for secret in &secrets[3..] {
                assert!(!text.contains(secret.as_str()), "{secret} in {text}");
                assert!(
                    !lowered.contains(&secret.to_lowercase()),
                    "{secret} in an entry's bytes"
                );
            }
            if entry["kind"] == "business" {
                for party in &secrets[..3] {
                    assert!(!text.contains(party.as_str()), "{party} in {text}");
                }
            }
            // Fingerprint bytes, not only their hex.
            let fingerprint = hex::decode(&secrets[4]).unwrap();
            assert!(!bytes.windows(32).any(|window| window == fingerprint.as_slice()));
        }
        // Onboarding is public: the deal's, the bank's with its key, the
        // outsider's; the deal's business entries are all sealed.
        assert_eq!(sealed, BUSINESS.len(), "{entries:?}");
        assert_eq!(public as u64, size - BUSINESS.len() as u64, "{entries:?}");
    }

    // The supplier opens its own entries (not the alert's, which only the
    // operator reads), each checked against its leaf.
    let entries = app.entries_since(0, Some(&Deal::key(&deal.supplier))).await;
    let opened: Vec<&str> = entries
        .iter()
        .filter(|entry| entry["entry"].as_str().unwrap().starts_with("0201"))
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        opened,
        [
            "receivable_registered",
            "receivable_confirmed",
            "business",
            "offer_made",
            "asset_pledged",
            "asset_paid",
            "lien_settled"
        ]
    );
    for entry in entries.iter().filter(|entry| entry["details"].is_object()) {
        let bytes = hex::decode(entry["entry"].as_str().unwrap()).unwrap();
        if let anchorfin::ledger::Entry::Sealed(header) = anchorfin::ledger::Entry::decode(&bytes).unwrap() {
            let salt: [u8; 32] = hex::decode(entry["details"]["salt"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            let body =
                anchorfin::ledger::open_sealed(&header, &salt, entry["details"]["json"].as_str().unwrap()).unwrap();
            assert_eq!(entry["kind"], body.kind.as_str());
        }
    }
    // The operator opens everything, the alert included.
    let entries = app.entries_since(0, Some(&app.operator_key)).await;
    assert!(entries.iter().all(|entry| entry["kind"] != "business"));
    let alert = entries.iter().find(|entry| entry["kind"] == "alert_raised").unwrap();
    assert_eq!(alert["details"]["data"]["details"]["kind"], "duplicate_registration");
}

async fn a_party_verifies_the_details_it_is_given_and_catches_an_edited_one(app: TestApp) {
    let (size, _, deal, bank, _) = a_whole_deal(&app).await;
    let verified = |output: std::process::Output| -> Value {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    // Anyone: the tree and the public details.
    let summary = verified(app.verify(None).await);
    assert_eq!(summary["tree_size"], size);
    let public = summary["details_checked"].as_u64().unwrap();
    // The bank: also its own sealed entries, their signatures included.
    let summary = verified(app.verify_as(None, Some(&bank.api_key())).await);
    assert_eq!(summary["details_checked"].as_u64().unwrap(), public + 4);
    let summary = verified(app.verify_as(None, Some(&Deal::key(&deal.supplier))).await);
    assert_eq!(summary["details_checked"].as_u64().unwrap(), public + 6);

    // Someone with database access edits the amount in the pledge's body.
    let entries = app.entries_since(0, Some(&bank.api_key())).await;
    assert_eq!(entries.len() as u64, size);
    let pledged = entries.iter().find(|entry| entry["kind"] == "asset_pledged").unwrap();
    let index = pledged["index"].as_u64().unwrap();
    let json = pledged["details"]["json"].as_str().unwrap();
    let edited = json.replace("\"amount\":\"7000.00\"", "\"amount\":\"70.00\"");
    assert_ne!(edited, json);
    app.drop_ledger_triggers();
    let leaf = pledged["leaf_hash"].as_str().unwrap();
    let leaf = if app.is_postgres() {
        format!("'\\x{leaf}'::bytea")
    } else {
        format!("X'{leaf}'")
    };
    app.tamper(&[&format!(
        "UPDATE ledger_leaves SET details = '{}' WHERE leaf_hash = {leaf}",
        edited.replace('\'', "''")
    )]);
    // The tree is intact, so an outsider sees nothing wrong; the bank does.
    verified(app.verify(None).await);
    let output = app.verify_as(None, Some(&bank.api_key())).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("first bad index {index}")) && stderr.contains("does not open"),
        "{stderr}"
    );
}

on_both_backends!(fingerprints_are_stored_keyed_and_old_ones_are_rekeyed_once);

/// The stored fingerprint of the receivable registered as `number`, read as
/// someone with the database (and not the data directory) would.
fn stored_fingerprint(app: &TestApp, receivable_id: &str) -> Vec<u8> {
    use anchorfin::store::schema::receivables;
    use diesel::prelude::*;
    let mut connection = app.settings.database_url().unwrap().establish().unwrap();
    receivables::table
        .find(receivable_id)
        .select(receivables::fingerprint)
        .first(&mut connection)
        .unwrap()
}

async fn fingerprints_are_stored_keyed_and_old_ones_are_rekeyed_once(app: TestApp) {
    let deal = deal(&app).await;
    let bank = bank(&app, "Bank One", 21).await;
    let receivable = crate::registry::registered(&app, &deal, "INV-KEYED-1", "10.00").await;
    let id = receivable["id"].as_str().unwrap();
    let plain = anchorfin::domain::Fingerprint::parse_hex(receivable["fingerprint"].as_str().unwrap()).unwrap();
    // Whoever reads the database sees neither the fingerprint the API shows
    // nor anything a guess can be tested against without the data dir's key.
    let key = anchorfin::identity::load_fingerprint_key(&app.settings.fingerprint_key_path()).unwrap();
    let stored = stored_fingerprint(&app, id);
    assert_ne!(stored, plain.as_bytes().to_vec());
    assert_eq!(stored, key.stored(&plain).to_vec());
    // The API still speaks the plain fingerprint.
    let path = format!("/v1/encumbrance/{}", plain.to_hex());
    let answer: Value = app.get_json(&path, Some(&bank.api_key())).await;
    assert_eq!(answer["registered"], true, "{answer}");

    // A database written before fingerprints were keyed: plain rows, no
    // key bound. Binding re-keys them, once.
    app.tamper(&[
        &format!(
            "UPDATE receivables SET fingerprint = {} WHERE id = '{id}'",
            if app.is_postgres() {
                format!("'\\x{}'::bytea", plain.to_hex())
            } else {
                format!("X'{}'", plain.to_hex())
            }
        ),
        "DELETE FROM platform_identity WHERE name = 'fingerprint_key_check'",
    ]);
    let mut connection = app.settings.database_url().unwrap().establish().unwrap();
    anchorfin::identity::bind_fingerprint_key(&mut connection, &key).unwrap();
    assert_eq!(stored_fingerprint(&app, id), key.stored(&plain).to_vec());
    anchorfin::identity::bind_fingerprint_key(&mut connection, &key).unwrap();
    assert_eq!(stored_fingerprint(&app, id), key.stored(&plain).to_vec(), "only once");
    let answer: Value = app.get_json(&path, Some(&bank.api_key())).await;
    assert_eq!(answer["registered"], true, "{answer}");
    // Another key is refused.
    let other = anchorfin::domain::FingerprintKey::from_bytes([9; 32]);
    assert!(matches!(
        anchorfin::identity::bind_fingerprint_key(&mut connection, &other),
        Err(anchorfin::identity::IdentityError::FingerprintKeyMismatch)
    ));
}
