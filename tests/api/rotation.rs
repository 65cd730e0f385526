//! Rotating the platform signing key (`anchorfin key rotate`): the log is
//! handed to the new key by an entry both keys sign, a process holding the
//! old key neither starts nor signs, and `verify` follows the handover from
//! the key an auditor trusted before — and fails on a forged one.

use std::path::{Path, PathBuf};

use anchorfin::cli::verify::{verify_server, Witnesses};
use anchorfin::ledger::{Entry, KeyRotation, ROTATION_KIND};
use anchorfin::store::ledger::{insert_leaf, LeafRow};
use anchorfin::store::DbConnection;
use anchorfin::{keyfile, Application};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde_json::{json, Value};

use crate::cli::run_against;
use crate::helpers::{onboard_directly, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_rotation_hands_the_log_to_the_new_key_and_verify_follows_it,
    a_rotation_signed_only_by_the_new_key_fails_verification,
);

fn public_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

fn verifying(hex_key: &str) -> VerifyingKey {
    VerifyingKey::from_bytes(&hex::decode(hex_key).unwrap().try_into().unwrap()).unwrap()
}

/// Runs `work` on a connection of its own to the app's database, off the
/// async executor, as someone with direct access would.
async fn with_database<T: Send + 'static>(
    app: &TestApp,
    work: impl FnOnce(&mut DbConnection) -> T + Send + 'static,
) -> T {
    let url = app.settings.database_url().unwrap();
    tokio::task::spawn_blocking(move || work(&mut url.establish().unwrap()))
        .await
        .unwrap()
}

/// A copy of the app's data directory holding `signing_key` instead of
/// its own platform key.
fn data_dir_with(app: &TestApp, signing_key: &Path, under: &Path) -> PathBuf {
    let data_dir = under.join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    // `fs::copy` keeps the source's mode, 0600.
    std::fs::copy(signing_key, data_dir.join("platform-signing.key")).unwrap();
    std::fs::copy(app.settings.fingerprint_key_path(), data_dir.join("fingerprint.key")).unwrap();
    data_dir
}

async fn a_rotation_hands_the_log_to_the_new_key_and_verify_follows_it(mut app: TestApp) {
    app.create_org("Supplier Before", "supplier", "ROT-BEFORE").await;
    let old_public = app.platform_public_key().await;
    let old_key = keyfile::load(&app.settings.platform_key_path()).unwrap();
    let size_before = app.settled_head().await["tree_size"].as_u64().unwrap();
    app.stop().await;

    // Every server stopped, the operator rotates.
    let output = run_against(&app, &["key", "rotate"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rotated: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rotated["old_public_key"], old_public.as_str());
    let new_public = rotated["new_public_key"].as_str().unwrap().to_owned();
    assert_ne!(new_public, old_public);
    assert_eq!(rotated["index"], size_before, "{rotated}");
    assert_eq!(rotated["tree_size"], size_before + 1, "{rotated}");
    // The data directory holds the new key; the old one is kept beside it.
    let key_path = app.settings.platform_key_path();
    assert_eq!(public_hex(&keyfile::load(&key_path).unwrap()), new_public);
    let retired = PathBuf::from(rotated["retired_key_file"].as_str().unwrap());
    assert_eq!(public_hex(&keyfile::load(&retired).unwrap()), old_public);
    assert!(!app.data_dir().join("platform-signing.key.next").exists());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("every other process"), "{stderr}");
    // A retired key never gets the log back, and a refused run leaves no
    // key staged for the next one.
    let again = run_against(&app, &["key", "rotate", "--new-key", retired.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains(&format!("retired at index {size_before}")), "{stderr}");
    assert!(!app.data_dir().join("platform-signing.key.next").exists());

    // A process still holding the old key refuses to start, naming the
    // log's key and where the right key file comes from.
    let stale_dir = tempfile::tempdir().unwrap();
    let mut stale = app.settings.clone();
    stale.data_dir = data_dir_with(&app, &retired, stale_dir.path());
    // The same database (on SQLite, the file in the app's data directory).
    let database = app
        .database_url()
        .unwrap_or_else(|| format!("sqlite://{}", app.data_dir().join("anchorfin.db").display()));
    stale.database.url = Some(database.into());
    let Err(error) = Application::build(stale).await else {
        panic!("a process with the retired key started");
    };
    let message = format!("{error:#}");
    assert!(message.contains(&new_public), "{message}");
    assert!(message.contains("anchorfin key rotate"), "{message}");
    // …and one already running signs nothing with it: an entry queued now
    // waits for the new key.
    onboard_directly(&app.settings, "Queued While Stopped", "bank", "ROT-QUEUED");
    let origin = app.settings.ledger.origin.clone();
    let signing = old_key.clone();
    let refused = with_database(&app, move |connection| {
        anchorfin::tlog::sequence_batch(connection, &signing, &origin, 2_000).map(|head| head.is_some())
    })
    .await;
    let refusal = refused.expect_err("the retired key signed a head").to_string();
    assert!(refusal.contains(&new_public), "{refusal}");

    // The new key serves; the public key names it and the handover.
    app.restart().await;
    let key: Value = app.get_json("/v1/ledger/public-key", None).await;
    assert_eq!(key["public_key"], new_public.as_str(), "{key}");
    assert_eq!(key["rotations"].as_array().unwrap().len(), 1, "{key}");
    assert_eq!(key["rotations"][0]["index"], size_before);
    assert_eq!(key["rotations"][0]["old_public_key"], old_public.as_str());
    assert_eq!(key["rotations"][0]["new_public_key"], new_public.as_str());
    assert!(key["rotations"][0]["time"].is_string(), "{key}");
    // The rotation entry is public, and its bytes are the whole of it.
    let entry = app.entries(size_before, size_before + 1, None).await[0].clone();
    assert_eq!(entry["kind"], ROTATION_KIND);
    assert!(entry["details"].is_null(), "{entry}");
    let bytes = hex::decode(entry["entry"].as_str().unwrap()).unwrap();
    let Entry::Rotation(rotation) = Entry::decode(&bytes).unwrap() else {
        panic!("not a rotation entry: {entry}");
    };
    assert_eq!(rotation.check_signatures(), Ok(()));
    assert_eq!(hex::encode(rotation.new_key), new_public);

    // More writes, under heads the new key signs.
    app.create_org("Bank After", "bank", "ROT-AFTER").await;
    let head = app.settled_head().await;
    let size_after = head["tree_size"].as_u64().unwrap();
    assert_eq!(size_after, size_before + 3, "the rotation, the queued bank, this bank");
    anchorfin::ledger::open_checkpoint(
        head["checkpoint"].as_str().unwrap(),
        &app.settings.ledger.origin,
        &verifying(&new_public),
    )
    .unwrap();

    // An auditor who trusted the old key follows the handover; one who
    // took the new key from the server checks the same log.
    for trusted in [&old_public, &new_public] {
        let summary = verify_server(&app.address, &verifying(trusted), None, None, &Witnesses::default())
            .await
            .unwrap_or_else(|error| panic!("verify from {trusted}: {error}"));
        assert_eq!(summary["tree_size"], size_after);
        assert_eq!(summary["signing_key"], new_public.as_str());
        assert_eq!(summary["key_rotations_followed"], 1);
    }
    let stranger = SigningKey::from_bytes(&[9; 32]).verifying_key();
    let error = verify_server(&app.address, &stranger, None, None, &Witnesses::default())
        .await
        .expect_err("a key the log never had");
    assert!(
        error.to_string().contains("not one of this log's signing keys"),
        "{error}"
    );

    // Whoever kept the retired key signs a later head with it (recording it
    // again, as only direct database access could): verify refuses that
    // head, naming the handover.
    app.stop().await;
    onboard_directly(&app.settings, "Late Bank", "bank", "ROT-LATE");
    let (old_bytes, new_bytes) = (old_key.verifying_key().to_bytes(), verifying(&new_public).to_bytes());
    let origin = app.settings.ledger.origin.clone();
    let signed = with_database(&app, move |connection| {
        anchorfin::identity::record_rotated_signing_key(connection, &old_bytes).unwrap();
        let head = anchorfin::tlog::sequence_batch(connection, &old_key, &origin, 2_000).unwrap();
        anchorfin::identity::record_rotated_signing_key(connection, &new_bytes).unwrap();
        head.map(|head| head.tree_size)
    })
    .await;
    assert_eq!(signed, Some(size_after as i64 + 1));
    app.restart().await;
    let error = verify_server(&app.address, &verifying(&old_public), None, None, &Witnesses::default())
        .await
        .expect_err("a head signed with the retired key");
    let message = error.to_string();
    assert!(
        message.contains(&format!("handed over to {new_public} at index {size_before}")),
        "{message}"
    );
}

async fn a_rotation_signed_only_by_the_new_key_fails_verification(mut app: TestApp) {
    app.create_org("Supplier", "supplier", "FORGE-1").await;
    let old_public = app.platform_public_key().await;
    let size = app.settled_head().await["tree_size"].as_u64().unwrap();
    app.stop().await;

    // Someone with the database but not the platform key names the log's
    // key as the old one and signs for it with their own key, records
    // their key as the log's and signs a head with it.
    let forger = SigningKey::from_bytes(&[77; 32]);
    let origin = app.settings.ledger.origin.clone();
    let mut forged = KeyRotation {
        origin: origin.clone(),
        index: size,
        time_micros: chrono::Utc::now().timestamp_micros(),
        old_key: verifying(&old_public).to_bytes(),
        new_key: forger.verifying_key().to_bytes(),
        old_signature: [0; 64],
        new_signature: [0; 64],
    };
    let message = forged.message();
    forged.old_signature = forger.sign(message.as_bytes()).to_bytes();
    forged.new_signature = forger.sign(message.as_bytes()).to_bytes();
    let bytes = forged.encode().unwrap();
    let signing = forger.clone();
    with_database(&app, move |connection| {
        insert_leaf(
            connection,
            &LeafRow {
                leaf_hash: anchorfin::ledger::leaf_hash(&bytes).to_vec(),
                entry: bytes,
                kind: ROTATION_KIND.to_owned(),
                details: "{}".to_owned(),
                details_salt: vec![0; 32],
                parties: json!("*").to_string(),
                queued_at: anchorfin::store::now(),
            },
        )
        .unwrap();
        anchorfin::identity::record_rotated_signing_key(connection, &signing.verifying_key().to_bytes()).unwrap();
        anchorfin::tlog::sequence_batch(connection, &signing, &origin, 2_000).unwrap();
    })
    .await;
    // They serve the log with their key.
    std::fs::remove_file(app.settings.platform_key_path()).unwrap();
    keyfile::save(&app.settings.platform_key_path(), &forger).unwrap();
    app.restart().await;
    assert_eq!(app.platform_public_key().await, public_hex(&forger));

    let error = verify_server(&app.address, &verifying(&old_public), None, None, &Witnesses::default())
        .await
        .expect_err("a forged handover");
    let message = error.to_string();
    assert!(message.contains(&format!("first bad index {size}")), "{message}");
    assert!(
        message.contains("not signed by the key it hands over from"),
        "{message}"
    );
}
