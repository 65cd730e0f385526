//! The log checked by code nobody here wrote: Go's
//! `golang.org/x/mod/sumdb/note` opens its checkpoints and
//! `golang.org/x/mod/sumdb/tlog` checks its RFC 9162 proofs (Debian's
//! golang-golang-x-mod-dev, in the checker tests/interop/go that
//! scripts/go-checker.sh builds), and that checker's own reading of C2SP
//! `tlog-cosignature` checks a witness's cosignature made by
//! `ledger::cosign`. Skipped without `ANCHORFIN_GO_CHECKER`, unless `CI`
//! is set: CI must run it.

use std::path::PathBuf;
use std::process::{Command, Output};

use anchorfin::ledger::{cosign, note_text, VerifierKey};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde_json::Value;
use tempfile::TempDir;

use crate::helpers::TestApp;
use crate::lending::confirmed_asset;
use crate::on_both_backends;
use crate::registry::deal;

on_both_backends!(go_checks_the_log_notes_proofs_and_cosignatures);

const CHECKER_ENV: &str = "ANCHORFIN_GO_CHECKER";

/// The Go checker, and a directory for the files it reads.
struct Go {
    path: PathBuf,
    files: TempDir,
}

impl Go {
    fn from_env() -> Option<Self> {
        let Some(path) = std::env::var_os(CHECKER_ENV) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{CHECKER_ENV} is not set under CI: scripts/go-checker.sh builds the Go checker and .ci/run sets it"
            );
            eprintln!("skipped: {CHECKER_ENV} is not set (scripts/go-checker.sh builds the Go checker)");
            return None;
        };
        Some(Self {
            path: path.into(),
            files: tempfile::tempdir().unwrap(),
        })
    }

    /// Runs the checker with `arguments` and then a file holding `content`.
    fn run(&self, arguments: &[&str], content: &str) -> Output {
        let file = self.files.path().join("input");
        std::fs::write(&file, content).unwrap();
        let mut command = Command::new(&self.path);
        command.args(arguments).arg(&file);
        // A few milliseconds each: not worth a blocking thread of its own.
        tokio::task::block_in_place(|| command.output())
            .unwrap_or_else(|error| panic!("run {}: {error}", self.path.display()))
    }

    /// Asserts that the checker accepts; its standard output.
    fn accepts(&self, arguments: &[&str], content: &str) -> String {
        let output = self.run(arguments, content);
        assert!(
            output.status.success(),
            "the Go checker refused {arguments:?}: {}\n{content}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Asserts that the checker refuses what it was given (exit 1: not a
    /// usage error, a failed check); its standard error.
    fn refuses(&self, arguments: &[&str], content: &str) -> String {
        let output = self.run(arguments, content);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(
            output.status.code(),
            Some(1),
            "the Go checker did not refuse {arguments:?} ({stderr})\n{content}"
        );
        stderr
    }
}

/// `text` with its character at `at` (ASCII) replaced by another of the
/// same alphabet, so that the result is as well-formed as the original.
fn flip(text: &str, at: usize) -> String {
    let old = text.as_bytes()[at];
    let new = if old == b'A' { b'B' } else { b'A' };
    let mut bytes = text.as_bytes().to_vec();
    bytes[at] = new;
    String::from_utf8(bytes).unwrap()
}

/// A proof's JSON body, as the server serves it.
async fn served(app: &TestApp, path: &str) -> String {
    let response = app.get(path, None).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn go_checks_the_log_notes_proofs_and_cosignatures(app: TestApp) {
    let Some(go) = Go::from_env() else { return };
    let published: Value = app.get_json("/v1/ledger/public-key", None).await;
    let origin = published["origin"].as_str().unwrap();
    let public: [u8; 32] = hex::decode(published["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let vkey = VerifierKey::log(origin, VerifyingKey::from_bytes(&public).unwrap()).to_string();

    // About 30 entries (onboardings, registrations, confirmations), with the
    // signed head kept at several sizes along the way.
    let mut heads = vec![app.settled_head().await];
    let deal = deal(&app).await;
    heads.push(app.settled_head().await);
    for number in 1.. {
        confirmed_asset(&app, &deal, &format!("INV-GO-{number}"), "1000.00").await;
        let head = app.settled_head().await;
        if head["tree_size"].as_u64().unwrap() >= 30 {
            heads.push(head);
            break;
        }
        if number % 3 == 0 {
            heads.push(head);
        }
    }
    let sized = |head: &Value| {
        (
            head["tree_size"].as_u64().unwrap(),
            head["root_hash"].as_str().unwrap().to_owned(),
        )
    };
    let (size, root) = sized(heads.last().unwrap());
    assert!(heads.len() >= 5, "{} heads", heads.len());
    let leaves: Vec<String> = app
        .entries_since(0, None)
        .await
        .iter()
        .map(|entry| entry["leaf_hash"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(leaves.len() as u64, size);

    // sumdb/note opens every head's checkpoint under the log's vkey.
    for head in &heads {
        let note = head["checkpoint"].as_str().unwrap();
        let text = go.accepts(&["note", "--vkey", &vkey], note);
        assert_eq!(text, note_text(note));
        let (tree_size, root_hash) = sized(head);
        assert!(text.starts_with(&format!("{origin}\n{tree_size}\n")), "{text}");
        assert!(
            text.contains(&STANDARD.encode(hex::decode(root_hash).unwrap())),
            "{text}"
        );
    }

    // sumdb/tlog checks consistency proofs: 1 -> n, n -> n, each kept head
    // to the next, the first kept to the last.
    let mut pairs = vec![
        ((1, leaves[0].clone()), (size, root.clone())),
        ((size, root.clone()), (size, root.clone())),
    ];
    for window in heads.windows(2) {
        pairs.push((sized(&window[0]), sized(&window[1])));
    }
    pairs.push((sized(&heads[0]), (size, root.clone())));
    for ((first, old_root), (second, new_root)) in &pairs {
        let proof = served(
            &app,
            &format!("/v1/ledger/proofs/consistency?first={first}&second={second}"),
        )
        .await;
        let said = go.accepts(&["consistency", "--old-root", old_root, "--new-root", new_root], &proof);
        assert_eq!(
            said,
            format!("the tree of size {second} extends the tree of size {first}\n")
        );
    }

    // sumdb/tlog checks inclusion proofs, in the last tree and in earlier ones.
    let (middle_size, middle_root) = sized(&heads[heads.len() / 2]);
    let mut cases: Vec<(u64, u64, String)> = [0, 1, size / 2, size - 2, size - 1]
        .into_iter()
        .map(|index| (index, size, root.clone()))
        .collect();
    cases.push((0, 1, leaves[0].clone()));
    cases.push((0, middle_size, middle_root.clone()));
    cases.push((middle_size - 1, middle_size, middle_root.clone()));
    for (index, tree_size, tree_root) in &cases {
        let proof = served(
            &app,
            &format!("/v1/ledger/proofs/inclusion?index={index}&tree_size={tree_size}"),
        )
        .await;
        let said = go.accepts(
            &["inclusion", "--leaf", &leaves[*index as usize], "--root", tree_root],
            &proof,
        );
        assert_eq!(said, format!("leaf {index} is in the tree of size {tree_size}\n"));
    }

    // A witness cosigns the head with `ledger::cosign`; the checker, from
    // the C2SP text, verifies it, and sumdb/note still opens the note (a
    // signer it does not know is no reason to refuse).
    let witness_key = SigningKey::from_bytes(&[9; 32]);
    let witness = VerifierKey::witness("witness.test/w1", witness_key.verifying_key());
    let witness_vkey = witness.to_string();
    let note = heads.last().unwrap()["checkpoint"].as_str().unwrap().to_owned();
    let time = chrono::Utc::now().timestamp() as u64;
    let line = cosign(&witness.name, &witness_key, note_text(&note), time);
    let cosigned = format!("{note}{line}");
    assert_eq!(
        go.accepts(&["cosignature", "--vkey", &witness_vkey], &cosigned),
        format!("{time}\n")
    );
    assert_eq!(go.accepts(&["note", "--vkey", &vkey], &cosigned), note_text(&note));

    // Negative cases: what was accepted above, one byte changed, is refused.
    let root_line_at = note.find(&format!("\n{size}\n")).unwrap() + format!("\n{size}\n").len();
    let altered_note = flip(&note, root_line_at + 5);
    assert!(go
        .refuses(&["note", "--vkey", &vkey], &altered_note)
        .contains("sumdb/note refuses"));
    let other_log = VerifierKey::log(origin, SigningKey::from_bytes(&[8; 32]).verifying_key()).to_string();
    go.refuses(&["note", "--vkey", &other_log], &note);
    let altered_cosigned = flip(&cosigned, root_line_at + 5);
    assert!(go
        .refuses(&["cosignature", "--vkey", &witness_vkey], &altered_cosigned)
        .contains("does not verify"));
    let blob = STANDARD.decode(line.trim_end().rsplit_once(' ').unwrap().1).unwrap();
    for at in [11, 12 + 30] {
        // 11: the time's last byte; 42: inside the signature.
        let mut changed = blob.clone();
        changed[at] ^= 0x01;
        let forged = format!("{note}\u{2014} {} {}\n", witness.name, STANDARD.encode(&changed));
        assert!(go
            .refuses(&["cosignature", "--vkey", &witness_vkey], &forged)
            .contains("does not verify"));
    }
    let stranger = VerifierKey::witness(&witness.name, SigningKey::from_bytes(&[10; 32]).verifying_key());
    assert!(go
        .refuses(&["cosignature", "--vkey", &stranger.to_string()], &cosigned)
        .contains("no signature line"));

    let (first, second) = (sized(&heads[1]), (size, root.clone()));
    let proof = served(
        &app,
        &format!("/v1/ledger/proofs/consistency?first={}&second={}", first.0, second.0),
    )
    .await;
    let hash_at = proof.find("\"hashes\":[\"").unwrap() + "\"hashes\":[\"".len();
    let flip_hex = |text: &str, at: usize| {
        let mut bytes = text.as_bytes().to_vec();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        String::from_utf8(bytes).unwrap()
    };
    let consistency_arguments = ["consistency", "--old-root", &first.1, "--new-root", &second.1];
    assert!(go
        .refuses(&consistency_arguments, &flip_hex(&proof, hash_at + 7))
        .contains("sumdb/tlog refuses"));
    go.refuses(
        &[
            "consistency",
            "--old-root",
            &flip_hex(&first.1, 0),
            "--new-root",
            &second.1,
        ],
        &proof,
    );
    let proof = served(
        &app,
        &format!("/v1/ledger/proofs/inclusion?index={}&tree_size={size}", size / 2),
    )
    .await;
    let hash_at = proof.find("\"hashes\":[\"").unwrap() + "\"hashes\":[\"".len();
    let leaf = &leaves[(size / 2) as usize];
    assert!(go
        .refuses(
            &["inclusion", "--leaf", leaf, "--root", &root],
            &flip_hex(&proof, hash_at + 7)
        )
        .contains("sumdb/tlog refuses"));
    let neighbour = &leaves[(size / 2 + 1) as usize];
    go.refuses(&["inclusion", "--leaf", neighbour, "--root", &root], &proof);
}
