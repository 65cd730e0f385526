use std::process::Command;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;
use crate::rfc9162;

on_both_backends!(
    the_signed_head_covers_onboarded_organisations,
    every_proof_verifies_independently,
    bad_proof_parameters_are_refused,
    ledger_rows_refuse_updates_and_deletes,
    verify_passes_untouched_and_names_an_edited_row,
    verify_names_a_deleted_row,
    verify_detects_history_rewritten_from_an_earlier_size,
    private_details_reach_only_parties_and_the_operator,
);

fn hash_of(value: &Value) -> [u8; 32] {
    hex::decode(value.as_str().expect("hex string"))
        .unwrap()
        .try_into()
        .unwrap()
}

fn hashes_of(value: &Value) -> Vec<[u8; 32]> {
    value.as_array().expect("array").iter().map(hash_of).collect()
}

impl TestApp {
    /// Waits until the signed tree head has at least `size` entries.
    pub async fn wait_for_tree_size(&self, size: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let response = self.get("/v1/ledger/head", None).await;
            if response.status() == 200 {
                let head: Value = response.json().await.unwrap();
                if head["tree_size"].as_u64().unwrap() >= size {
                    return head;
                }
            }
            assert!(Instant::now() < deadline, "the tree never reached {size} entries");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn entries(&self, start: u64, end: u64, api_key: Option<&str>) -> Vec<Value> {
        let response = self
            .get(&format!("/v1/ledger/entries?start={start}&end={end}"), api_key)
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["entries"].as_array().unwrap().clone()
    }

    pub async fn platform_public_key(&self) -> String {
        let body: Value = self.get("/v1/ledger/public-key", None).await.json().await.unwrap();
        body["public_key"].as_str().unwrap().to_owned()
    }

    /// Runs `anchorfin verify` against this server.
    pub async fn verify(&self, state: Option<&std::path::Path>) -> std::process::Output {
        self.verify_as(state, None).await
    }

    /// Runs `anchorfin verify`, given a party's API key when `api_key` is
    /// set, so that it also checks the details that party is given.
    pub async fn verify_as(&self, state: Option<&std::path::Path>, api_key: Option<&str>) -> std::process::Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_anchorfin"));
        command
            .args([
                "verify",
                "--server",
                &self.address,
                "--public-key",
                &self.platform_public_key().await,
            ])
            .env_remove("ANCHORFIN_API_KEY");
        if let Some(state) = state {
            command.arg("--state").arg(state);
        }
        if let Some(api_key) = api_key {
            command.args(["--api-key", api_key]);
        }
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    }

    /// Runs raw SQL as someone with direct access to the database would.
    pub fn tamper(&self, statements: &[&str]) {
        use diesel::connection::SimpleConnection;
        let mut connection = self.settings.database_url().unwrap().establish().unwrap();
        for statement in statements {
            match &mut connection {
                anchorfin::store::DbConnection::Postgresql(inner) => inner.batch_execute(statement),
                anchorfin::store::DbConnection::Sqlite(inner) => inner.batch_execute(statement),
            }
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url().is_some()
    }

    /// Lifts the append-only triggers, as an attacker with database rights could.
    pub fn drop_ledger_triggers(&self) {
        if self.is_postgres() {
            self.tamper(&[
                "ALTER TABLE ledger_leaves DISABLE TRIGGER USER",
                "ALTER TABLE ledger_sequence DISABLE TRIGGER USER",
                "ALTER TABLE ledger_nodes DISABLE TRIGGER USER",
                "ALTER TABLE ledger_tree_heads DISABLE TRIGGER USER",
            ]);
        } else {
            for table in ["leaves", "sequence", "nodes", "tree_heads"] {
                self.tamper(&[
                    &format!("DROP TRIGGER ledger_{table}_no_update"),
                    &format!("DROP TRIGGER ledger_{table}_no_delete"),
                ]);
            }
        }
    }
}

async fn the_signed_head_covers_onboarded_organisations(app: TestApp) {
    let mut ids = vec![app.operator_id.clone()];
    for (name, legal_id) in [("Supplier A", "SUP-A"), ("Buyer B", "BUY-B"), ("Bank C", "BNK-C")] {
        ids.push(
            app.create_org(name, "supplier", legal_id).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let head = app.wait_for_tree_size(4).await;
    assert_eq!(head["tree_size"], 4);

    // The signature is ed25519 by the platform key over the checkpoint's note text.
    let key_bytes: [u8; 32] = hex::decode(app.platform_public_key().await)
        .unwrap()
        .try_into()
        .unwrap();
    let key = VerifyingKey::from_bytes(&key_bytes).unwrap();
    let checkpoint = head["checkpoint"].as_str().unwrap();
    let (text, signature_line) = checkpoint.split_once("\n\n").unwrap();
    let text = format!("{text}\n");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("anchorfin.local/ledger"));
    assert_eq!(lines.next(), Some("4"));
    use base64::Engine;
    let root = base64::engine::general_purpose::STANDARD
        .decode(lines.next().unwrap())
        .unwrap();
    assert_eq!(hex::encode(&root), head["root_hash"].as_str().unwrap());
    assert!(
        signature_line.starts_with("\u{2014} anchorfin.local/ledger "),
        "{signature_line}"
    );
    let signature: [u8; 64] = hex::decode(head["signature"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    key.verify(text.as_bytes(), &Signature::from_bytes(&signature))
        .expect("the head's signature verifies");
    let note_signature = base64::engine::general_purpose::STANDARD
        .decode(signature_line.trim_end().rsplit(' ').next().unwrap())
        .unwrap();
    assert_eq!(
        &note_signature[4..],
        &signature[..],
        "the note carries the same signature"
    );

    // The tree is made of the four onboarding entries, in order.
    let entries = app.entries(0, 4, None).await;
    let leaves: Vec<[u8; 32]> = entries
        .iter()
        .map(|entry| rfc9162::leaf_hash(&hex::decode(entry["entry"].as_str().unwrap()).unwrap()))
        .collect();
    assert_eq!(rfc9162::root(&leaves).to_vec(), root);
    for (entry, id) in entries.iter().zip(&ids) {
        assert_eq!(entry["kind"], "org_onboarded");
        let header =
            anchorfin::ledger::EntryHeader::decode(&hex::decode(entry["entry"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(&header.subjects, &vec![id.clone()]);
    }
    // Leaf look-up by hash.
    let leaf = hex::encode(leaves[2]);
    let body: Value = app.get_json(&format!("/v1/ledger/leaves/{leaf}"), None).await;
    assert_eq!(body["index"], 2);
}

async fn every_proof_verifies_independently(app: TestApp) {
    for index in 0..6 {
        let body = json!({"name": format!("Org {index}"), "role": "bank", "legal_id": format!("LEI-{index}"),
                          "public_keys": [hex::encode(ed25519_dalek::SigningKey::from_bytes(&[index as u8 + 1; 32]).verifying_key().to_bytes())]});
        assert_eq!(
            app.post_json("/v1/orgs", Some(&app.operator_key), &body).await.status(),
            201
        );
    }
    // 1 operator + 6 × (organisation + key).
    let head = app.wait_for_tree_size(13).await;
    let size = head["tree_size"].as_u64().unwrap();
    let root = hash_of(&head["root_hash"]);
    let leaves: Vec<[u8; 32]> = app
        .entries(0, size, None)
        .await
        .iter()
        .map(|entry| hash_of(&entry["leaf_hash"]))
        .collect();
    assert_eq!(rfc9162::root(&leaves), root);
    for tree_size in 1..=size {
        let tree_root = rfc9162::root(&leaves[..tree_size as usize]);
        for index in 0..tree_size {
            let body: Value = app
                .get_json(
                    &format!("/v1/ledger/proofs/inclusion?index={index}&tree_size={tree_size}"),
                    None,
                )
                .await;
            let proof = hashes_of(&body["hashes"]);
            assert!(
                rfc9162::verify_inclusion(index, tree_size, &leaves[index as usize], &proof, &tree_root),
                "inclusion {index} in {tree_size}"
            );
            assert!(
                !rfc9162::verify_inclusion(
                    index,
                    tree_size,
                    &leaves[(index as usize + 1) % size as usize],
                    &proof,
                    &tree_root
                ) || size == 1
            );
        }
        for first in 1..=tree_size {
            let body: Value = app
                .get_json(
                    &format!("/v1/ledger/proofs/consistency?first={first}&second={tree_size}"),
                    None,
                )
                .await;
            let proof = hashes_of(&body["hashes"]);
            let first_root = rfc9162::root(&leaves[..first as usize]);
            assert!(
                rfc9162::verify_consistency(first, tree_size, &first_root, &tree_root, &proof),
                "consistency {first} -> {tree_size}"
            );
        }
    }
}

async fn bad_proof_parameters_are_refused(app: TestApp) {
    app.wait_for_tree_size(1).await;
    for (path, field) in [
        ("/v1/ledger/proofs/inclusion?index=1&tree_size=1", "index"),
        ("/v1/ledger/proofs/inclusion?index=0&tree_size=0", "tree_size"),
        ("/v1/ledger/proofs/inclusion?index=0&tree_size=99", "tree_size"),
        ("/v1/ledger/proofs/inclusion?index=x&tree_size=1", "index"),
        ("/v1/ledger/proofs/inclusion?tree_size=1", "index"),
        ("/v1/ledger/proofs/inclusion?index=-1&tree_size=1", "index"),
        ("/v1/ledger/proofs/consistency?first=2&second=1", "first"),
        ("/v1/ledger/proofs/consistency?first=0&second=1", "first"),
        ("/v1/ledger/proofs/consistency?first=1&second=50", "second"),
        ("/v1/ledger/entries?start=5&end=2", "end"),
        ("/v1/ledger/entries?start=7&end=9", "start"),
        ("/v1/ledger/entries?end=9", "start"),
        ("/v1/ledger/leaves/zz", "leaf_hash"),
    ] {
        let problem = assert_problem(app.get(path, None).await, 422, "invalid_field").await;
        assert_eq!(problem["field"], field, "{path}: {problem}");
    }
    let unknown = "00".repeat(32);
    assert_problem(
        app.get(&format!("/v1/ledger/leaves/{unknown}"), None).await,
        404,
        "not_found",
    )
    .await;
    // A page is capped at 1,000 and clamped to the tree.
    assert_eq!(app.entries(0, 1_000_000, None).await.len(), 1);
}

async fn ledger_rows_refuse_updates_and_deletes(app: TestApp) {
    app.wait_for_tree_size(1).await;
    let connection = &mut app.settings.database_url().unwrap().establish().unwrap();
    use diesel::RunQueryDsl;
    for statement in [
        "UPDATE ledger_leaves SET kind = 'forged'",
        "DELETE FROM ledger_leaves",
        "UPDATE ledger_sequence SET leaf_index = leaf_index + 1",
        "DELETE FROM ledger_sequence",
        "UPDATE ledger_nodes SET level = level",
        "DELETE FROM ledger_nodes",
        "DELETE FROM ledger_tree_heads",
        "UPDATE ledger_tree_heads SET tree_size = 100",
    ] {
        let outcome = diesel::sql_query(statement).execute(connection);
        let error = outcome.expect_err(statement).to_string();
        assert!(
            error.contains("append-only") || error.contains("FOREIGN KEY"),
            "{statement}: {error}"
        );
    }
}

async fn verify_passes_untouched_and_names_an_edited_row(app: TestApp) {
    for index in 0..4 {
        app.create_org(&format!("Org {index}"), "supplier", &format!("EDIT-{index}"))
            .await;
    }
    app.wait_for_tree_size(5).await;
    let output = app.verify(None).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["tree_size"], 5);
    assert_eq!(summary["entries_replayed"], 5);

    // Someone with database access rewrites one byte of entry 3.
    app.drop_ledger_triggers();
    let body: Value = app.entries(3, 4, None).await[0].clone();
    let old_leaf = body["leaf_hash"].as_str().unwrap().to_owned();
    let mut bytes = hex::decode(body["entry"].as_str().unwrap()).unwrap();
    let last = bytes.len() - 40;
    bytes[last] ^= 0x01;
    let (blob, old) = if app.is_postgres() {
        (
            format!("'\\x{}'::bytea", hex::encode(&bytes)),
            format!("'\\x{old_leaf}'::bytea"),
        )
    } else {
        (format!("X'{}'", hex::encode(&bytes)), format!("X'{old_leaf}'"))
    };
    app.tamper(&[&format!(
        "UPDATE ledger_leaves SET entry = {blob} WHERE leaf_hash = {old}"
    )]);
    let output = app.verify(None).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("first bad index 3"), "{stderr}");
}

async fn verify_names_a_deleted_row(app: TestApp) {
    for index in 0..5 {
        app.create_org(&format!("Org {index}"), "bank", &format!("DEL-{index}"))
            .await;
    }
    app.wait_for_tree_size(6).await;
    assert!(app.verify(None).await.status.success());
    app.drop_ledger_triggers();
    app.tamper(&["DELETE FROM ledger_sequence WHERE leaf_index = 2"]);
    let output = app.verify(None).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("first bad index 2"), "{stderr}");
}

async fn verify_detects_history_rewritten_from_an_earlier_size(app: TestApp) {
    for index in 0..3 {
        app.create_org(&format!("Org {index}"), "supplier", &format!("RW-{index}"))
            .await;
    }
    let checkpoint = app.wait_for_tree_size(4).await["tree_size"].as_u64().unwrap();
    for index in 3..6 {
        app.create_org(&format!("Org {index}"), "supplier", &format!("RW-{index}"))
            .await;
    }
    let size = app.wait_for_tree_size(7).await["tree_size"].as_u64().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path().join("verify.json");
    let output = app.verify(Some(&state)).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // The operator rolls the log back to an earlier signed size and writes a
    // different history from there, signing new heads with its own key.
    app.drop_ledger_triggers();
    app.tamper(&[
        &format!("DELETE FROM ledger_sequence WHERE leaf_index >= {checkpoint}"),
        &format!("DELETE FROM ledger_nodes WHERE ((node_index + 1) << CAST(level AS INTEGER)) > {checkpoint}"),
        &format!("DELETE FROM ledger_tree_heads WHERE tree_size > {checkpoint}"),
    ]);
    for index in 0..5 {
        app.create_org(&format!("Other {index}"), "bank", &format!("OTHER-{index}"))
            .await;
    }
    app.wait_for_tree_size(size + 1).await;
    let output = app.verify(Some(&state)).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("first bad index {checkpoint}")), "{stderr}");
}

async fn private_details_reach_only_parties_and_the_operator(app: TestApp) {
    let response = app
        .post_json(
            "/v1/orgs",
            Some(&app.operator_key),
            &json!({"name": "Bank D", "role": "bank", "legal_id": "BNK-D", "risk_emails": ["risk@d.example"]}),
        )
        .await;
    let bank: Value = response.json().await.unwrap();
    let other = app.create_org("Bank E", "bank", "BNK-E").await;
    app.wait_for_tree_size(4).await;
    // The officer's entry, as the operator sees it, and the same leaf as
    // others see it (sealed: an outsider does not even learn its kind).
    let index = app
        .entries(0, 4, Some(&app.operator_key))
        .await
        .iter()
        .position(|entry| entry["kind"] == "risk_officer_added")
        .unwrap();
    let officer_entry = |entries: Vec<Value>| entries[index].clone();
    assert_eq!(officer_entry(app.entries(0, 4, None).await)["kind"], "business");
    assert!(officer_entry(app.entries(0, 4, None).await)["details"].is_null());
    assert!(officer_entry(app.entries(0, 4, Some(other["api_key"].as_str().unwrap())).await)["details"].is_null());
    let seen = officer_entry(app.entries(0, 4, Some(bank["api_key"].as_str().unwrap())).await);
    assert_eq!(seen["details"]["data"]["details"]["email"], "risk@d.example");
    let seen = officer_entry(app.entries(0, 4, Some(&app.operator_key)).await);
    assert_eq!(seen["details"]["data"]["details"]["email"], "risk@d.example");
    // Public entries show their details to anyone.
    let entries = app.entries(0, 4, None).await;
    assert_eq!(entries[1]["details"]["data"]["legal_id"], "BNK-D");
    // A party checks the sealed entry's body against the header's
    // commitment; the header itself says nothing.
    let bytes = hex::decode(seen["entry"].as_str().unwrap()).unwrap();
    let anchorfin::ledger::Entry::Sealed(header) = anchorfin::ledger::Entry::decode(&bytes).unwrap() else {
        panic!("a risk officer's entry is sealed")
    };
    assert_eq!(bytes.len(), 42);
    let salt: [u8; 32] = hex::decode(seen["details"]["salt"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let body = anchorfin::ledger::open_sealed(&header, &salt, seen["details"]["json"].as_str().unwrap()).unwrap();
    assert_eq!(body.kind, "risk_officer_added");
    assert_eq!(body.details["email"], "risk@d.example");
    assert_eq!(body.subjects[0], bank["id"].as_str().unwrap());
}
