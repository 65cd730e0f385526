use std::process::Command;

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, eventually, TestApp};
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
        eventually(&format!("the signed tree reaches {size} entries"), || async move {
            let response = self.get("/v1/ledger/head", None).await;
            if response.status() != 200 {
                return None;
            }
            let head: Value = response.json().await.unwrap();
            (head["tree_size"].as_u64().unwrap() >= size).then_some(head)
        })
        .await
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
    // What the operator's onboarding wrote at start-up.
    let start = app.ledger_mark().await;
    assert!(start >= 1);
    let mut ids = vec![app.operator_id.clone()];
    for (name, legal_id) in [("Supplier A", "SUP-A"), ("Buyer B", "BUY-B"), ("Bank C", "BNK-C")] {
        ids.push(
            app.create_org(name, "supplier", legal_id).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Each onboarding without keys appended exactly its own entry.
    assert_eq!(app.kinds_since(start).await, ["org_onboarded"; 3]);
    let size = start + 3;
    let head = app.settled_head().await;
    assert_eq!(head["tree_size"], size);

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
    assert_eq!(lines.next(), Some(size.to_string().as_str()));
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

    // The tree is made of the onboarding entries, the operator's first,
    // then the three organisations', in order.
    let entries = app.entries_since(0, None).await;
    assert_eq!(entries.len() as u64, size);
    let leaves: Vec<[u8; 32]> = entries
        .iter()
        .map(|entry| rfc9162::leaf_hash(&hex::decode(entry["entry"].as_str().unwrap()).unwrap()))
        .collect();
    assert_eq!(rfc9162::root(&leaves).to_vec(), root);
    let onboarded = std::iter::once(&entries[0]).chain(&entries[start as usize..]);
    assert_eq!(onboarded.clone().count(), ids.len());
    for (entry, id) in onboarded.zip(&ids) {
        assert_eq!(entry["kind"], "org_onboarded");
        let header =
            anchorfin::ledger::EntryHeader::decode(&hex::decode(entry["entry"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(&header.subjects, &vec![id.clone()]);
    }
    // Leaf look-up by hash.
    let index = start as usize + 1;
    let leaf = hex::encode(leaves[index]);
    let body: Value = app.get_json(&format!("/v1/ledger/leaves/{leaf}"), None).await;
    assert_eq!(body["index"], index);
}

async fn every_proof_verifies_independently(app: TestApp) {
    let start = app.ledger_mark().await;
    for index in 0..6 {
        let body = json!({"name": format!("Org {index}"), "role": "bank", "legal_id": format!("LEI-{index}"),
                          "public_keys": [hex::encode(ed25519_dalek::SigningKey::from_bytes(&[index as u8 + 1; 32]).verifying_key().to_bytes())]});
        assert_eq!(
            app.post_json("/v1/orgs", Some(&app.operator_key), &body).await.status(),
            201
        );
    }
    // Each onboarding appended its organisation and its key.
    assert_eq!(
        app.kinds_since(start).await,
        ["org_onboarded", "key_registered"].repeat(6)
    );
    let head = app.settled_head().await;
    let size = head["tree_size"].as_u64().unwrap();
    assert_eq!(size, start + 12);
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
    // The operator's onboarding, signed: whatever its size, past it is out
    // of range.
    let size = app.settled_head().await["tree_size"].as_u64().unwrap();
    assert!(size >= 1);
    for (path, field) in [
        (
            format!("/v1/ledger/proofs/inclusion?index={size}&tree_size={size}"),
            "index",
        ),
        (
            "/v1/ledger/proofs/inclusion?index=0&tree_size=0".to_owned(),
            "tree_size",
        ),
        (
            format!("/v1/ledger/proofs/inclusion?index=0&tree_size={}", size + 98),
            "tree_size",
        ),
        ("/v1/ledger/proofs/inclusion?index=x&tree_size=1".to_owned(), "index"),
        ("/v1/ledger/proofs/inclusion?tree_size=1".to_owned(), "index"),
        ("/v1/ledger/proofs/inclusion?index=-1&tree_size=1".to_owned(), "index"),
        ("/v1/ledger/proofs/consistency?first=2&second=1".to_owned(), "first"),
        ("/v1/ledger/proofs/consistency?first=0&second=1".to_owned(), "first"),
        (
            format!("/v1/ledger/proofs/consistency?first=1&second={}", size + 49),
            "second",
        ),
        ("/v1/ledger/entries?start=5&end=2".to_owned(), "end"),
        (
            format!("/v1/ledger/entries?start={}&end={}", size + 6, size + 8),
            "start",
        ),
        ("/v1/ledger/entries?end=9".to_owned(), "start"),
        ("/v1/ledger/leaves/zz".to_owned(), "leaf_hash"),
    ] {
        let problem = assert_problem(app.get(&path, None).await, 422, "invalid_field").await;
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
    assert_eq!(app.entries(0, 1_000_000, None).await.len() as u64, size);
}

async fn ledger_rows_refuse_updates_and_deletes(app: TestApp) {
    // Rows in every ledger table: the operator's onboarding, signed.
    assert!(app.settled_head().await["tree_size"].as_u64().unwrap() >= 1);
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
    let start = app.ledger_mark().await;
    for index in 0..4 {
        app.create_org(&format!("Org {index}"), "supplier", &format!("EDIT-{index}"))
            .await;
    }
    assert_eq!(app.kinds_since(start).await, ["org_onboarded"; 4]);
    let size = start + 4;
    let output = app.verify(None).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["tree_size"], size);
    assert_eq!(summary["entries_replayed"], size);

    // Someone with database access rewrites one byte of the third
    // organisation's entry.
    app.drop_ledger_triggers();
    let edited = start + 2;
    let body: Value = app.entries(edited, edited + 1, None).await[0].clone();
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
    assert!(stderr.contains(&format!("first bad index {edited}")), "{stderr}");
}

async fn verify_names_a_deleted_row(app: TestApp) {
    let start = app.ledger_mark().await;
    for index in 0..5 {
        app.create_org(&format!("Org {index}"), "bank", &format!("DEL-{index}"))
            .await;
    }
    assert_eq!(app.kinds_since(start).await, ["org_onboarded"; 5]);
    assert!(app.verify(None).await.status.success());
    app.drop_ledger_triggers();
    let deleted = start + 1;
    app.tamper(&[&format!("DELETE FROM ledger_sequence WHERE leaf_index = {deleted}")]);
    let output = app.verify(None).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("first bad index {deleted}")), "{stderr}");
}

async fn verify_detects_history_rewritten_from_an_earlier_size(app: TestApp) {
    let start = app.ledger_mark().await;
    for index in 0..3 {
        app.create_org(&format!("Org {index}"), "supplier", &format!("RW-{index}"))
            .await;
    }
    assert_eq!(app.kinds_since(start).await, ["org_onboarded"; 3]);
    let checkpoint = app.settled_head().await["tree_size"].as_u64().unwrap();
    assert_eq!(checkpoint, start + 3);
    for index in 3..6 {
        app.create_org(&format!("Org {index}"), "supplier", &format!("RW-{index}"))
            .await;
    }
    assert_eq!(app.kinds_since(checkpoint).await, ["org_onboarded"; 3]);
    let size = checkpoint + 3;
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
    // The other history: the five new entries after the checkpoint.
    app.wait_for_tree_size(checkpoint + 5).await;
    assert!(checkpoint + 5 > size);
    let output = app.verify(Some(&state)).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("first bad index {checkpoint}")), "{stderr}");
}

async fn private_details_reach_only_parties_and_the_operator(app: TestApp) {
    let start = app.ledger_mark().await;
    let response = app
        .post_json(
            "/v1/orgs",
            Some(&app.operator_key),
            &json!({"name": "Bank D", "role": "bank", "legal_id": "BNK-D", "risk_emails": ["risk@d.example"]}),
        )
        .await;
    let bank: Value = response.json().await.unwrap();
    let other = app.create_org("Bank E", "bank", "BNK-E").await;
    // The bank with its risk officer, then the other bank.
    assert_eq!(
        app.kinds_since(start).await,
        ["org_onboarded", "risk_officer_added", "org_onboarded"]
    );
    // The officer's entry, as the operator sees it, and the same leaf as
    // others see it (sealed: an outsider does not even learn its kind).
    let officer_entry = |entries: Vec<Value>| entries[1].clone();
    assert_eq!(officer_entry(app.entries_since(start, None).await)["kind"], "business");
    assert!(officer_entry(app.entries_since(start, None).await)["details"].is_null());
    assert!(
        officer_entry(app.entries_since(start, Some(other["api_key"].as_str().unwrap())).await)["details"].is_null()
    );
    let seen = officer_entry(app.entries_since(start, Some(bank["api_key"].as_str().unwrap())).await);
    assert_eq!(seen["details"]["data"]["details"]["email"], "risk@d.example");
    let seen = officer_entry(app.entries_since(start, Some(&app.operator_key)).await);
    assert_eq!(seen["details"]["data"]["details"]["email"], "risk@d.example");
    // Public entries show their details to anyone.
    let entries = app.entries_since(start, None).await;
    assert_eq!(entries[0]["details"]["data"]["legal_id"], "BNK-D");
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
