//! Certificates of non-encumbrance (issue 18, item 5): a bank asks for the
//! look-up's answer as a statement the log signs, with the checkpoint it
//! speaks for and the entries it rests on; the real `anchorfin certificate
//! verify` checks each offline from a file, and refuses each tampered part
//! naming it — and a false statement properly signed, as far as the bank
//! can see.

use std::process::{Command, Output};

use anchorfin::ledger::certificate::Statement;
use anchorfin::ledger::{cosign, note_text, sign_note, VerifierKey};
use ed25519_dalek::SigningKey;
use serde_json::Value;

use crate::helpers::{assert_problem, TestApp, TestDatabase};
use crate::lending::{
    acknowledged_order, asset_under_order, bank, confirmed_asset, financed, offered, order_pledge_body, post_with_key,
    Bank,
};
use crate::on_both_backends;
use crate::registry::{deal, registered, Deal};

on_both_backends!(
    a_pledged_asset_is_certified_encumbered,
    a_free_asset_and_a_released_pledge_are_certified_unencumbered,
    an_unregistered_fingerprint_is_certified_unregistered,
    each_tampered_part_is_refused_by_name,
    an_invoice_reserved_by_its_purchase_orders_pledge_rests_on_the_pledge,
    only_banks_get_certificates_and_each_is_recorded_as_a_look_up,
    the_migration_finds_the_fingerprints_of_entries_made_before_it,
);

async fn certificate(app: &TestApp, bank: &Bank, fingerprint: &str) -> Value {
    let response = app
        .get(
            &format!("/v1/encumbrance/{fingerprint}/certificate"),
            Some(&bank.api_key()),
        )
        .await;
    assert_eq!(response.status(), 200, "certificate of {fingerprint}");
    response.json().await.unwrap()
}

/// The fingerprint of the receivable an asset was minted from.
async fn fingerprint_of(app: &TestApp, deal: &Deal, asset: &str) -> (String, String) {
    let supplier = Deal::key(&deal.supplier);
    let seen: Value = app.get_json(&format!("/v1/assets/{asset}"), Some(&supplier)).await;
    let id = seen["receivable_id"].as_str().unwrap().to_owned();
    let receivable: Value = app.get_json(&format!("/v1/receivables/{id}"), Some(&supplier)).await;
    (receivable["fingerprint"].as_str().unwrap().to_owned(), id)
}

/// Runs the real `anchorfin certificate verify` on `certificate` written
/// to a file.
fn verify(certificate: &Value, log_key: &str, extra: &[&str]) -> Output {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("certificate.json");
    std::fs::write(&file, serde_json::to_vec_pretty(certificate).unwrap()).unwrap();
    Command::new(env!("CARGO_BIN_EXE_anchorfin"))
        .args(["certificate", "verify"])
        .arg(&file)
        .args(["--log-key", log_key])
        .args(extra)
        .output()
        .unwrap()
}

/// Verifies and returns the printed summary.
fn verified(certificate: &Value, log_key: &str) -> Value {
    let output = verify(certificate, log_key, &[]);
    assert!(
        output.status.success(),
        "{}\n{certificate:#}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn refused(certificate: &Value, log_key: &str, extra: &[&str], reason: &str) {
    let output = verify(certificate, log_key, extra);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "accepted; expected {reason:?}");
    assert!(stderr.contains(reason), "expected {reason:?}, got {stderr}");
}

fn statement_of(certificate: &Value) -> Statement {
    Statement::parse(note_text(certificate["statement"].as_str().unwrap())).unwrap()
}

/// The platform's own key, as a platform that lies would use it.
fn platform_key(app: &TestApp) -> SigningKey {
    anchorfin::keyfile::load(&app.settings.platform_key_path()).unwrap()
}

/// `certificate` with its statement replaced by `statement`, signed with
/// the platform's real key.
fn resigned(app: &TestApp, certificate: &Value, statement: &Statement) -> Value {
    let mut forged = certificate.clone();
    let (note, _) = sign_note(&statement.text(), &statement.origin, &platform_key(app));
    forged["statement"] = Value::String(note);
    forged
}

async fn a_pledged_asset_is_certified_encumbered(app: TestApp) {
    let log_key = app.platform_public_key().await;
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let asset = confirmed_asset(&app, &deal, "INV-CERT-1", "1000.00").await;
    financed(&app, &deal, &first, &asset, "600.00").await;
    let (fingerprint, _) = fingerprint_of(&app, &deal, &asset).await;

    // The lienholder: registration, confirmation and its own pledge, which
    // it alone of the three may open; the amounts of the invoice it sees.
    let given = certificate(&app, &first, &fingerprint).await;
    let statement = statement_of(&given);
    assert!(given["statement"]
        .as_str()
        .unwrap()
        .starts_with("anchorfin/encumbrance-certificate/v1\norigin anchorfin.local/ledger\n"));
    assert_eq!(hex::encode(statement.fingerprint), fingerprint);
    assert!(statement.registered && statement.confirmed && statement.encumbered);
    let amounts = statement.amounts.clone().expect("the lienholder sees the invoice");
    assert_eq!(
        (
            amounts.currency.as_str(),
            amounts.face_value.as_str(),
            amounts.outstanding.as_str()
        ),
        ("CNY", "1000.00", "1000.00")
    );
    assert_eq!(statement.issued_to, first.id());
    assert_eq!(statement.entries.len(), 3, "{given:#}");
    assert!(statement.entries.iter().all(|index| *index < statement.tree_size));
    let opened: Vec<&Value> = given["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry.get("details").is_some())
        .collect();
    assert_eq!(opened.len(), 1, "only its own pledge: {given:#}");
    assert!(opened[0]["details"]["json"]
        .as_str()
        .unwrap()
        .contains("\"asset_pledged\""));
    let summary = verified(&given, &log_key);
    assert_eq!(summary["encumbered"], true);
    assert_eq!(summary["entries"], 3);
    assert_eq!(summary["opened_entries"], 1);
    assert_eq!(summary["amounts"]["face_value"], "1000.00");

    // Another bank: the same answer, nothing it may open, no amounts.
    let other = certificate(&app, &second, &fingerprint).await;
    let statement = statement_of(&other);
    assert!(statement.encumbered);
    assert_eq!(statement.amounts, None);
    assert!(other["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|entry| entry.get("details").is_none()));
    let summary = verified(&other, &log_key);
    assert_eq!(summary["opened_entries"], 0);
    assert_eq!(summary["issued_to"], second.id());
}

async fn a_free_asset_and_a_released_pledge_are_certified_unencumbered(app: TestApp) {
    let log_key = app.platform_public_key().await;
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-CERT-2", "300.00").await;
    let (fingerprint, _) = fingerprint_of(&app, &deal, &asset).await;
    let free = certificate(&app, &first, &fingerprint).await;
    let statement = statement_of(&free);
    assert!(statement.registered && statement.confirmed && !statement.encumbered);
    assert_eq!(statement.entries.len(), 2);
    assert_eq!(statement.amounts, None, "a bank with no part in it sees no amounts");
    assert_eq!(verified(&free, &log_key)["encumbered"], false);

    // Pledged, then released: four entries, the bank opens its two.
    let lien = financed(&app, &deal, &first, &asset, "300.00").await;
    let path = format!("/v1/pledges/{}/release", lien["id"].as_str().unwrap());
    let response = app
        .post_json(&path, Some(&first.api_key()), &serde_json::json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let released = certificate(&app, &first, &fingerprint).await;
    let statement = statement_of(&released);
    assert!(statement.registered && statement.confirmed && !statement.encumbered);
    assert_eq!(statement.entries.len(), 4, "{released:#}");
    let summary = verified(&released, &log_key);
    assert_eq!(summary["opened_entries"], 2);
    assert_eq!(summary["encumbered"], false);

    // A platform that signs "encumbered no" while the bank's own pledge
    // stands is caught: here, the released certificate without its release.
    let mut forged_statement = statement.clone();
    let release_index = forged_statement.entries.pop().unwrap();
    let mut forged = resigned(&app, &released, &forged_statement);
    forged["entries"]
        .as_array_mut()
        .unwrap()
        .retain(|entry| entry["index"] != release_index);
    refused(
        &forged,
        &log_key,
        &[],
        "claims: encumbered no, yet a lien among the entries stands",
    );
}

async fn an_unregistered_fingerprint_is_certified_unregistered(app: TestApp) {
    let log_key = app.platform_public_key().await;
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    // Something on the log, so there is a signed head to speak for.
    registered(&app, &deal, "INV-CERT-3", "10.00").await;
    app.settled_head().await;
    let fingerprint = "ab".repeat(32);
    let given = certificate(&app, &first, &fingerprint).await;
    let statement = statement_of(&given);
    assert!(!statement.registered && !statement.confirmed && !statement.encumbered);
    assert!(statement.entries.is_empty());
    assert!(given["statement"].as_str().unwrap().contains("\nentries none\n"));
    assert!(statement.tree_size > 0);
    let summary = verified(&given, &log_key);
    assert_eq!(summary["registered"], false);
    assert_eq!(summary["fingerprint"], fingerprint);

    // "registered yes" resting on no entry is refused, even properly signed.
    let mut lying = statement.clone();
    lying.registered = true;
    refused(
        &resigned(&app, &given, &lying),
        &log_key,
        &[],
        "claims: registered yes rests on no entry",
    );
}

async fn each_tampered_part_is_refused_by_name(app: TestApp) {
    let log_key = app.platform_public_key().await;
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-CERT-4", "500.00").await;
    financed(&app, &deal, &first, &asset, "500.00").await;
    let (fingerprint, _) = fingerprint_of(&app, &deal, &asset).await;
    let given = certificate(&app, &first, &fingerprint).await;
    verified(&given, &log_key);
    let pledge_position = given["entries"]
        .as_array()
        .unwrap()
        .iter()
        .position(|entry| entry.get("details").is_some())
        .unwrap();

    // A statement line.
    let mut tampered = given.clone();
    tampered["statement"] = Value::String(given["statement"].as_str().unwrap().replacen(
        "encumbered yes",
        "encumbered no",
        1,
    ));
    refused(&tampered, &log_key, &[], "statement signature");

    // Another log key.
    let stranger = hex::encode(SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes());
    refused(&given, &stranger, &[], "statement signature");

    // The checkpoint.
    let checkpoint = given["checkpoint"].as_str().unwrap();
    let size = statement_of(&given).tree_size;
    let mut tampered = given.clone();
    tampered["checkpoint"] =
        Value::String(checkpoint.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size + 1), 1));
    refused(&tampered, &log_key, &[], "checkpoint signature");

    // A proof hash.
    let mut tampered = given.clone();
    let proof = tampered["entries"][0]["inclusion_proof"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = format!("{}{}", if proof.starts_with('0') { "1" } else { "0" }, &proof[1..]);
    tampered["entries"][0]["inclusion_proof"][0] = Value::String(flipped);
    refused(&tampered, &log_key, &[], "inclusion proof");

    // An entry byte (its leaf hash then no longer matches).
    let mut tampered = given.clone();
    let bytes = tampered["entries"][1]["entry"].as_str().unwrap().to_owned();
    let last = bytes.len() - 1;
    let changed = format!("{}{}", &bytes[..last], if bytes.ends_with('0') { "1" } else { "0" });
    tampered["entries"][1]["entry"] = Value::String(changed);
    refused(&tampered, &log_key, &[], "leaf hash");

    // Details that are not what the entry committed to.
    let mut tampered = given.clone();
    let json = tampered["entries"][pledge_position]["details"]["json"]
        .as_str()
        .unwrap()
        .replacen("500.00", "50.00", 1);
    tampered["entries"][pledge_position]["details"]["json"] = Value::String(json);
    refused(&tampered, &log_key, &[], "details: the body does not match");

    // A statement about another fingerprint resting on this one's entries.
    let mut elsewhere = statement_of(&given);
    elsewhere.ledger_fingerprints = vec![[0xcd; 32]];
    refused(
        &resigned(&app, &given, &elsewhere),
        &log_key,
        &[],
        "fingerprint: the opened entry is about another fingerprint",
    );

    // A missing entry.
    let mut tampered = given.clone();
    tampered["entries"].as_array_mut().unwrap().remove(1);
    refused(&tampered, &log_key, &[], "entries: the statement lists");

    // Witnesses: a quorum of the given keys must have cosigned.
    let witness_key = SigningKey::from_bytes(&[77; 32]);
    let witness = VerifierKey::witness("bank-one.example/witness", witness_key.verifying_key()).to_string();
    let arguments = ["--witness-key", witness.as_str(), "--witness-quorum", "1"];
    refused(&given, &log_key, &arguments, "cosignature quorum");
    let mut cosigned = given.clone();
    let line = cosign(
        "bank-one.example/witness",
        &witness_key,
        note_text(checkpoint),
        1_764_000_000,
    );
    cosigned["checkpoint"] = Value::String(format!("{checkpoint}{line}"));
    let output = verify(&cosigned, &log_key, &arguments);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["cosigned_by"][0], "bank-one.example/witness");
}

async fn only_banks_get_certificates_and_each_is_recorded_as_a_look_up(app: TestApp) {
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let receivable = registered(&app, &deal, "INV-CERT-5", "100.00").await;
    let fingerprint = receivable["fingerprint"].as_str().unwrap();
    for (caller, status, code) in [
        (Some(Deal::key(&deal.supplier)), 403, "forbidden"),
        (Some(Deal::key(&deal.buyer)), 403, "forbidden"),
        (Some(app.operator_key.clone()), 403, "forbidden"),
        (None, 401, "unauthorized"),
    ] {
        let look_up = app
            .get(&format!("/v1/encumbrance/{fingerprint}"), caller.as_deref())
            .await;
        let looked = assert_problem(look_up, status, code).await;
        let asked = app
            .get(&format!("/v1/encumbrance/{fingerprint}/certificate"), caller.as_deref())
            .await;
        let refused = assert_problem(asked, status, code).await;
        assert_eq!(refused["detail"], looked["detail"]);
    }
    let malformed = app
        .get("/v1/encumbrance/not-hex/certificate", Some(&first.api_key()))
        .await;
    assert_problem(malformed, 422, "invalid_field").await;

    // The certificate is recorded as a look-up, with its answer.
    certificate(&app, &first, fingerprint).await;
    let path = format!("/v1/receivables/{}/lookups", receivable["id"].as_str().unwrap());
    let page: Value = app.get_json(&path, Some(&Deal::key(&deal.supplier))).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["organization_id"], first.id());
    assert_eq!(items[0]["answered"]["registered"], true);
    assert_eq!(items[0]["answered"]["encumbered"], false);
}

async fn an_invoice_reserved_by_its_purchase_orders_pledge_rests_on_the_pledge(app: TestApp) {
    let log_key = app.platform_public_key().await;
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let order = acknowledged_order(&app, &deal, "PO-CERT-1", "5000.00").await;
    let subject = format!("purchase_order:{order}");
    let offer = offered(&app, &deal.holder(), &subject, &first, "pledge", "4000.00").await;
    let body = order_pledge_body(&first, &offer, &order, "4000.00", "po-cert-1");
    let response = post_with_key(&app, "/v1/pledges", &first.api_key(), "po-cert-1", &body).await;
    assert_eq!(response.status(), 201);
    let asset = asset_under_order(&app, &deal, &order, "INV-PO-CERT-1", "3000.00").await;
    let (fingerprint, _) = fingerprint_of(&app, &deal, &asset).await;

    // The invoice carries no lien of its own: the order's pledge reserves
    // it, and the certificate rests on the order's entries too.
    for (bank, opened) in [(&first, 1), (&second, 0)] {
        let given = certificate(&app, bank, &fingerprint).await;
        let statement = statement_of(&given);
        assert!(statement.encumbered, "{given:#}");
        assert_eq!(statement.ledger_fingerprints.len(), 2);
        // The order's registration, acknowledgement and pledge; the
        // invoice's registration and confirmation.
        assert_eq!(statement.entries.len(), 5, "{given:#}");
        let summary = verified(&given, &log_key);
        assert_eq!(summary["opened_entries"], opened);
    }
}

/// The statement's size must cover every entry about the fingerprint: while
/// the sequencer is stuck (another session holds its lock, as in
/// `outage.rs`) a fresh registration is not in any signed head, so the
/// certificate waits, then answers 503 with Retry-After; once the entry is
/// signed, the certificate rests on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_waits_for_a_head_that_includes_its_entries_on_postgres() {
    use diesel::{connection::SimpleConnection, Connection};
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    let log_key = app.platform_public_key().await;
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    app.settled_head().await;
    let mut holder = diesel::PgConnection::establish(&app.database_url().unwrap()).unwrap();
    holder
        .batch_execute("BEGIN; SELECT pg_advisory_xact_lock(7020658169380958464);")
        .unwrap();
    let receivable = registered(&app, &deal, "INV-CERT-WAIT", "10.00").await;
    let fingerprint = receivable["fingerprint"].as_str().unwrap();
    let path = format!("/v1/encumbrance/{fingerprint}/certificate");
    let started = std::time::Instant::now();
    let response = app.get(&path, Some(&first.api_key())).await;
    assert_eq!(response.headers()["retry-after"], "1");
    let problem = assert_problem(response, 503, "service_unavailable").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("has not yet signed a tree head"),
        "{problem}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(3));

    holder.batch_execute("COMMIT").unwrap();
    let given = certificate(&app, &first, fingerprint).await;
    let statement = statement_of(&given);
    assert!(statement.registered);
    assert_eq!(statement.entries.len(), 1);
    verified(&given, &log_key);
}

/// Migration 000026 finds the fingerprints of the entries made before it:
/// its backfill, run again once the table is emptied, finds the same
/// entries as the server recorded when it appended them.
async fn the_migration_finds_the_fingerprints_of_entries_made_before_it(app: TestApp) {
    use diesel::RunQueryDsl;
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-CERT-6", "700.00").await;
    financed(&app, &deal, &first, &asset, "700.00").await;
    let (fingerprint, _) = fingerprint_of(&app, &deal, &asset).await;
    let before = statement_of(&certificate(&app, &first, &fingerprint).await);
    assert_eq!(before.entries.len(), 3);

    let backend = match app.database {
        TestDatabase::Sqlite => "sqlite",
        TestDatabase::Postgres { .. } => "postgres",
    };
    let up = std::fs::read_to_string(format!(
        "{}/migrations/{backend}/2026-12-01-000026_ledger_leaf_fingerprints/up.sql",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let start = up.find("INSERT").unwrap();
    let backfill = up[start..=start + up[start..].find(';').unwrap()].to_owned();
    app.query(move |connection| {
        let emptied = diesel::sql_query("DELETE FROM ledger_leaf_fingerprints").execute(connection)?;
        assert!(emptied >= 3);
        let filled = diesel::sql_query(backfill).execute(connection)?;
        assert_eq!(filled, emptied);
        Ok(())
    })
    .await;
    let after = statement_of(&certificate(&app, &first, &fingerprint).await);
    assert_eq!(after.entries, before.entries);
    assert_eq!(after.ledger_fingerprints, before.ledger_fingerprints);
}
