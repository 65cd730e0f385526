//! `anchorfin witness` as a real process: the C2SP tlog-witness protocol's
//! every answer (checkpoints signed here with a test log key, roots and
//! proofs built from leaf hashes with the crate's ledger functions), a race
//! between two submissions, a restart, the data directory's lock, split
//! views kept as evidence and e-mailed through a real aiosmtpd, and — against
//! a real platform on both backends — the bank's verified copy of the log,
//! which still answers with the platform stopped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anchorfin::keyfile;
use anchorfin::ledger::{
    self, consistency_proof_plan, leaf_hash, root_from_leaf_hashes, Checkpoint, Hash, KeyType, VerifierKey,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::SigningKey;
use serde_json::Value;

use crate::helpers::{eventually, send_together, TestApp};
use crate::lending::{financed, Bank};
use crate::on_both_backends;
use crate::registry::{confirm, deal, registered};
use crate::smtp::{smtp_tests_run, SmtpSink};

const ORIGIN: &str = "test.example/log";

/// A witness process; killed when dropped.
struct WitnessProcess {
    child: Child,
    url: String,
    vkey: String,
    http: reqwest::Client,
}

/// How to start one.
#[derive(Clone)]
struct Start {
    name: String,
    key: PathBuf,
    data_dir: PathBuf,
    log_vkey: String,
    extra: Vec<String>,
}

impl Start {
    /// A witness named `name` trusting `log_vkey`, with a new key and data
    /// directory in `dir`.
    fn new(dir: &Path, name: &str, log_vkey: &str) -> Self {
        Start {
            name: name.to_owned(),
            key: key_file(dir, "witness.key"),
            data_dir: dir.join("data"),
            log_vkey: log_vkey.to_owned(),
            extra: Vec::new(),
        }
    }

    fn with(mut self, extra: &[&str]) -> Self {
        self.extra.extend(extra.iter().map(|flag| (*flag).to_owned()));
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_anchorfin"));
        command
            .args(["witness", "--name", &self.name, "--key"])
            .arg(&self.key)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--bind", "127.0.0.1:0", "--log-vkey", &self.log_vkey])
            .args(&self.extra)
            .env_remove("ANCHORFIN_API_KEY")
            .env_remove("ANCHORFIN_SMTP_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Starts the witness and reads its two start-up lines.
    fn spawn(&self) -> WitnessProcess {
        let mut child = self.command().spawn().expect("start anchorfin witness");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("a vkey line").unwrap();
        let second = lines.next().expect("a listening line").unwrap();
        let vkey = first.strip_prefix("witness vkey: ").expect(&first).to_owned();
        let url = second.strip_prefix("listening on ").expect(&second).to_owned();
        WitnessProcess {
            child,
            url,
            vkey,
            http: reqwest::Client::new(),
        }
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WitnessProcess {
    async fn submit(&self, body: &str) -> (u16, Option<String>, String) {
        let response = self.submission(body).send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_owned());
        (status, content_type, response.text().await.unwrap())
    }

    fn submission(&self, body: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/add-checkpoint", self.url))
            .body(body.to_owned())
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.url)).send().await.unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    async fn evidence(&self) -> Vec<Value> {
        self.json("/evidence").await["evidence"].as_array().unwrap().clone()
    }

    async fn latest_size(&self) -> u64 {
        let note = self.get("/checkpoint").await.text().await.unwrap();
        ledger::unverified_checkpoint(&note).unwrap().size
    }
}

/// A key file written as `anchorfin key gen` writes it.
fn key_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    keyfile::generate(&path).unwrap();
    path
}

/// A test log: its key and leaves.
struct TestLog {
    origin: String,
    key: SigningKey,
    leaves: Vec<Hash>,
}

impl TestLog {
    fn new(size: usize) -> Self {
        TestLog {
            origin: ORIGIN.to_owned(),
            key: SigningKey::from_bytes(&[21; 32]),
            leaves: (0..size)
                .map(|index| leaf_hash(format!("entry {index}").as_bytes()))
                .collect(),
        }
    }

    fn vkey(&self) -> String {
        VerifierKey::log(&self.origin, self.key.verifying_key()).to_string()
    }

    fn root(&self, size: u64) -> Hash {
        root_from_leaf_hashes(&self.leaves[..size as usize])
    }

    fn note_with(&self, size: u64, root: Hash, key: &SigningKey, origin: &str) -> String {
        Checkpoint {
            origin: origin.to_owned(),
            size,
            root_hash: root,
            timestamp_ms: 1_764_000_000_000 + size as i64,
        }
        .sign(key)
        .note
    }

    fn note(&self, size: u64) -> String {
        self.note_with(size, self.root(size), &self.key, &self.origin)
    }

    fn proof(&self, first: u64, second: u64) -> Vec<Hash> {
        if first == 0 {
            return Vec::new();
        }
        consistency_proof_plan(first, second)
            .unwrap()
            .elements()
            .iter()
            .map(|element| root_from_leaf_hashes(&self.leaves[element.start as usize..element.end as usize]))
            .collect()
    }

    /// An add-checkpoint body from `old` to `new`.
    fn body(&self, old: u64, new: u64) -> String {
        request_body(old, &self.proof(old, new), &self.note(new))
    }
}

fn request_body(old: u64, proof: &[Hash], note: &str) -> String {
    let lines: String = proof
        .iter()
        .map(|hash| format!("{}\n", STANDARD.encode(hash)))
        .collect();
    format!("old {old}\n{lines}\n{note}")
}

/// Checks the witness's cosignature (the answer of a 200) on `note`.
fn assert_cosigned(vkey: &str, note: &str, lines: &str) {
    let witness = VerifierKey::parse(vkey).unwrap();
    let cosigned = format!("{note}{lines}");
    assert!(witness.verify_cosignature(&cosigned).is_ok(), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_every_status_of_the_protocol_and_keeps_its_state_over_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log = TestLog::new(12);
    let start = Start::new(dir.path(), "bank-a.example/witness", &log.vkey());
    let witness = start.spawn();
    assert_eq!(witness.get("/healthz").await.status(), 200);
    assert_eq!(witness.get("/checkpoint").await.status(), 404);

    // 200: the first checkpoint extends the empty tree.
    let (status, _, lines) = witness.submit(&log.body(0, 4)).await;
    assert_eq!(status, 200, "{lines}");
    assert_cosigned(&witness.vkey, &log.note(4), &lines);

    // 400: malformed, old > new, too many proof lines.
    assert_eq!(witness.submit("old x\n\nnote").await.0, 400);
    assert_eq!(witness.submit(&request_body(5, &[], &log.note(4))).await.0, 400);
    let too_many = vec![[7u8; 32]; 64];
    assert_eq!(witness.submit(&request_body(4, &too_many, &log.note(8))).await.0, 400);

    // 404: another origin (signed by its own key).
    let stranger = SigningKey::from_bytes(&[99; 32]);
    let foreign = log.note_with(8, log.root(8), &stranger, "other.example/log");
    assert_eq!(
        witness.submit(&request_body(4, &log.proof(4, 8), &foreign)).await.0,
        404
    );

    // 403: our log's origin, not its key.
    let forged = log.note_with(8, log.root(8), &stranger, ORIGIN);
    assert_eq!(witness.submit(&request_body(4, &log.proof(4, 8), &forged)).await.0, 403);

    // 409: stale (old size behind), with our size; not evidence.
    let (status, content_type, body) = witness.submit(&log.body(0, 6)).await;
    assert_eq!(
        (status, content_type.as_deref(), body.as_str()),
        (409, Some("text/x.tlog.size"), "4\n")
    );
    assert!(witness.evidence().await.is_empty());

    // 422: a proof that does not verify; kept as evidence.
    let mut bad = log.proof(4, 8);
    bad[0][0] ^= 1;
    let (status, _, _) = witness.submit(&request_body(4, &bad, &log.note(8))).await;
    assert_eq!(status, 422);
    let evidence = witness.evidence().await;
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0]["old_size"], 4);
    assert_eq!(evidence[0]["note"], log.note(8));
    assert_eq!(evidence[0]["proof"].as_array().unwrap().len(), bad.len());
    assert!(evidence[0]["conflicting_note"]
        .as_str()
        .unwrap()
        .starts_with(&log.note(4)));

    // 200 with a good proof; the same checkpoint again is cosigned again.
    let (status, _, lines) = witness.submit(&log.body(4, 8)).await;
    assert_eq!(status, 200);
    assert_cosigned(&witness.vkey, &log.note(8), &lines);
    assert_eq!(witness.submit(&log.body(8, 8)).await.0, 200);

    // A split view at our size, and at a smaller one: 409 and evidence.
    let other = log.note_with(8, [5; 32], &log.key, ORIGIN);
    let (status, _, body) = witness.submit(&request_body(8, &[], &other)).await;
    assert_eq!((status, body.as_str()), (409, "8\n"));
    let older = log.note_with(4, [6; 32], &log.key, ORIGIN);
    assert_eq!(witness.submit(&request_body(0, &[], &older)).await.0, 409);
    let evidence = witness.evidence().await;
    assert_eq!(evidence.len(), 3, "{evidence:?}");
    assert!(evidence[1]["reason"].as_str().unwrap().contains("split view"));
    assert!(evidence[2]["reason"].as_str().unwrap().contains("size 4"));

    // The latest cosigned checkpoint, with our cosignature.
    let latest = witness.get("/checkpoint").await.text().await.unwrap();
    assert!(latest.starts_with(&log.note(8)));
    VerifierKey::parse(&witness.vkey)
        .unwrap()
        .verify_cosignature(&latest)
        .unwrap();

    // A second witness on the same data directory is refused.
    let second = start.command().output().unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another witness process holds the data directory"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );

    // A restart keeps everything.
    drop(witness);
    let witness = start.spawn();
    assert_eq!(witness.latest_size().await, 8);
    assert_eq!(witness.evidence().await.len(), 3);
    assert_eq!(witness.submit(&log.body(4, 10)).await.2, "8\n");
    assert_eq!(witness.submit(&log.body(8, 10)).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_racing_submissions_from_one_size_one_wins_and_the_size_never_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let log = TestLog::new(40);
    let witness = Start::new(dir.path(), "bank-b.example/witness", &log.vkey()).spawn();
    assert_eq!(witness.submit(&log.body(0, 1)).await.0, 200);
    let mut size = 1;
    for round in 0..8 {
        let (small, large) = (size + 1 + round % 2, size + 3);
        let statuses = send_together(vec![
            witness.submission(&log.body(size, small)),
            witness.submission(&log.body(size, large)),
        ])
        .await;
        let mut sorted = statuses.clone();
        sorted.sort();
        assert_eq!(sorted, vec![200, 409], "round {round}: {statuses:?}");
        let won = if statuses[0] == 200 { small } else { large };
        assert_eq!(witness.latest_size().await, won);
        // The loser, resubmitted, is still refused: the size never goes back.
        let lost = if won == small { large } else { small };
        let (status, _, body) = witness.submit(&log.body(size, lost)).await;
        assert_eq!((status, body), (409, format!("{won}\n")));
        size = won;
    }
    assert!(witness.evidence().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_view_is_refused_kept_and_emailed_to_every_risk_officer_despite_an_smtp_outage_and_a_restart() {
    if !smtp_tests_run() {
        eprintln!("skipped: aiosmtpd is not installed");
        return;
    }
    let mut sink = SmtpSink::down();
    let dir = tempfile::tempdir().unwrap();
    let log = TestLog::new(8);
    let smtp_url = format!("smtp://127.0.0.1:{}", sink.port);
    let start = Start::new(dir.path(), "bank-c.example/witness", &log.vkey()).with(&[
        "--smtp-url",
        &smtp_url,
        "--alert-from",
        "witness@bank-c.example",
        "--alert-to",
        "risk-1@bank-c.example",
        "--alert-to",
        "risk-2@bank-c.example",
    ]);
    let witness = start.spawn();
    assert_eq!(witness.submit(&log.body(0, 6)).await.0, 200);
    // The fork: the same key signs another history of the same size.
    let forked_root = [0x5a; 32];
    let fork = log.note_with(6, forked_root, &log.key, ORIGIN);
    let (status, content_type, body) = witness.submit(&request_body(6, &[], &fork)).await;
    assert_eq!(
        (status, content_type.as_deref(), body.as_str()),
        (409, Some("text/x.tlog.size"), "6\n")
    );
    let evidence = witness.evidence().await;
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0]["note"], fork);
    // The log's submitter retries: still refused, kept and told once.
    assert_eq!(witness.submit(&request_body(6, &[], &fork)).await.0, 409);
    assert_eq!(witness.evidence().await.len(), 1);

    // The SMTP server is down: both e-mails fail, wait in the outbox, and
    // survive a restart of the witness.
    eventually("both e-mails fail once", || async {
        let evidence = witness.evidence().await;
        let emails = evidence[0]["emails"].as_array().unwrap().clone();
        (emails.len() == 2
            && emails
                .iter()
                .all(|email| email["sent"] == false && email["attempts"].as_i64() >= Some(1)))
        .then_some(())
    })
    .await;
    drop(witness);
    sink.start();
    let witness = start.spawn();

    let messages = eventually("both risk officers receive the alert", || async {
        let messages = sink.messages();
        (messages.len() == 2).then_some(messages)
    })
    .await;
    let recipients: Vec<&str> = messages.iter().map(|(to, _, _)| to.as_str()).collect();
    assert_eq!(recipients, ["risk-1@bank-c.example", "risk-2@bank-c.example"]);
    for (_, _, text) in &messages {
        assert!(text.contains("log_inconsistency"), "{text}");
        assert!(text.contains(ORIGIN), "{text}");
        assert!(text.contains(&hex::encode(forked_root)), "{text}");
        assert!(text.contains(&hex::encode(log.root(6))), "{text}");
        assert!(text.contains("size 6"), "{text}");
    }
    let evidence = eventually("the outbox marks both sent", || async {
        let evidence = witness.evidence().await;
        evidence[0]["emails"]
            .as_array()
            .unwrap()
            .iter()
            .all(|email| email["sent"] == true)
            .then_some(evidence)
    })
    .await;
    assert_eq!(evidence[0]["emails"][0]["kind"], "log_inconsistency");
    assert_eq!(sink.messages().len(), 2, "each risk officer is e-mailed once");
}

#[test]
fn witness_vkey_prints_a_cosignature_key_that_parses() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "witness.key");
    let output = Command::new(env!("CARGO_BIN_EXE_anchorfin"))
        .args(["witness", "vkey", "--name", "bank-d.example/witness", "--key"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    let vkey = VerifierKey::parse(text.trim()).unwrap();
    assert_eq!(vkey.key_type, KeyType::CosignatureV1);
    assert_eq!(vkey.name, "bank-d.example/witness");
    assert_eq!(vkey.key, keyfile::load(&key).unwrap().verifying_key());
}

on_both_backends!(the_banks_copy_holds_every_entry_with_its_details_and_answers_with_the_platform_down);

/// A platform that serves `entries` from `GET /v1/ledger/entries` (its
/// pages of at most 2, to exercise paging); returns its base URL.
fn fake_platform(entries: Vec<Value>) -> String {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let entries = web::Data::new(entries);
    let server = HttpServer::new(move || {
        App::new().app_data(entries.clone()).route(
            "/v1/ledger/entries",
            web::get().to(
                |query: web::Query<std::collections::HashMap<String, usize>>, entries: web::Data<Vec<Value>>| async move {
                    let start = query["start"];
                    let end = query["end"].min(start + 2).min(entries.len());
                    HttpResponse::Ok().json(serde_json::json!({
                        "tree_size": entries.len(),
                        "entries": entries[start..end],
                    }))
                },
            ),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    url
}

/// The platform's head as an add-checkpoint request from `old`, with the
/// platform's own consistency proof.
async fn platform_submission(app: &TestApp, old: u64) -> (u64, String) {
    let head = app.settled_head().await;
    let size = head["tree_size"].as_u64().unwrap();
    let note = head["checkpoint"].as_str().unwrap().to_owned();
    let proof: Vec<Hash> = if old == 0 || old == size {
        Vec::new()
    } else {
        app.get_json(
            &format!("/v1/ledger/proofs/consistency?first={old}&second={size}"),
            None,
        )
        .await["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hash| hex::decode(hash.as_str().unwrap()).unwrap().try_into().unwrap())
            .collect()
    };
    (size, request_body(old, &proof, &note))
}

async fn the_banks_copy_holds_every_entry_with_its_details_and_answers_with_the_platform_down(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let platform_key = keyfile::load(&app.settings.platform_key_path()).unwrap();
    let origin = app.settings.ledger.origin.clone();
    let log_vkey = VerifierKey::log(&origin, platform_key.verifying_key()).to_string();
    let deal = deal(&app).await;
    let bank_key = SigningKey::from_bytes(&[31; 32]);
    let bank_org = app
        .post_json(
            "/v1/orgs",
            Some(&app.operator_key),
            &serde_json::json!({"name": "Witness Bank", "role": "bank", "legal_id": "LEI-WITNESS-1",
                    "public_keys": [hex::encode(bank_key.verifying_key().to_bytes())]}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let bank = Bank {
        org: bank_org,
        key: bank_key,
    };
    let receivable = registered(&app, &deal, "INV-WITNESS-1", "1000.00").await;
    let confirmed: Value = confirm(&app, &deal, &receivable).await.json().await.unwrap();
    let asset = confirmed["asset_id"].as_str().unwrap().to_owned();

    let api_key = bank.api_key();
    let start = Start::new(dir.path(), "witness-bank.example/witness", &log_vkey).with(&[
        "--server",
        &app.address,
        "--api-key",
        &api_key,
    ]);
    let data_dir = start.data_dir.clone();
    let witness = start.spawn();
    let (first, body) = platform_submission(&app, 0).await;
    let (status, _, lines) = witness.submit(&body).await;
    assert_eq!(status, 200, "{lines}");

    // More happens; the next head, with the platform's proof.
    financed(&app, &deal, &bank, &asset, "900.00").await;
    let (second, body) = platform_submission(&app, first).await;
    assert!(second > first);
    let (status, _, lines) = witness.submit(&body).await;
    assert_eq!(status, 200, "{lines}");

    // The copy holds every entry, as the bank is given them.
    let served = app.entries_since(0, Some(&bank.api_key())).await;
    let about_asset = witness.json(&format!("/entries?subject={asset}")).await;
    let copied = about_asset["entries"].as_array().unwrap().clone();
    let expected: Vec<u64> = served
        .iter()
        .filter(|entry| entry["index"].as_u64().unwrap() < second)
        .filter(|entry| entry["details"]["data"]["subjects"].to_string().contains(&asset))
        .map(|entry| entry["index"].as_u64().unwrap())
        .collect();
    let indexes: Vec<u64> = copied.iter().map(|entry| entry["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, expected, "{copied:?}");
    assert!(
        copied
            .iter()
            .any(|entry| entry["kind"] != "business" && entry["details"].is_object()),
        "the bank's own pledge is copied with its details: {copied:?}"
    );
    for entry in &copied {
        let index = entry["index"].as_u64().unwrap() as usize;
        assert_eq!(entry["leaf_hash"], served[index]["leaf_hash"]);
        assert_eq!(entry["details"], served[index]["details"]["data"]);
    }
    assert_eq!(about_asset["checkpoint"]["tree_size"], second);
    let fingerprint = copied
        .iter()
        .find_map(|entry| entry["fingerprint"].as_str())
        .expect("an entry names the receivable's fingerprint")
        .to_owned();

    // A head of a size it never cosigned, but holds: the copy's root at
    // that size tells the fork (409 and evidence), with no proof needed.
    let fork = Checkpoint {
        origin: origin.clone(),
        size: 1,
        root_hash: [9; 32],
        timestamp_ms: 3,
    }
    .sign(&platform_key)
    .note;
    let (status, _, body) = witness.submit(&request_body(0, &[], &fork)).await;
    assert_eq!((status, body), (409, format!("{second}\n")));
    let evidence = witness.evidence().await;
    assert_eq!(evidence.len(), 1);
    assert!(
        evidence[0]["reason"].as_str().unwrap().contains("split view"),
        "{evidence:?}"
    );
    assert_ne!(first, 1, "size 1 was never cosigned");

    // Every entry up to the cosigned size is in the copy, as served to the bank.
    let stored = {
        let mut connection = anchorfin::witness::store::connect(&data_dir).unwrap();
        anchorfin::witness::store::all_entries(&mut connection).unwrap()
    };
    assert_eq!(stored.len() as u64, second);
    let mut with_details = 0;
    for (row, served) in stored.iter().zip(&served) {
        assert_eq!(hex::encode(&row.leaf_hash), served["leaf_hash"].as_str().unwrap());
        assert_eq!(hex::encode(&row.entry), served["entry"].as_str().unwrap());
        let details: Option<Value> = row.details.as_deref().map(|text| serde_json::from_str(text).unwrap());
        assert_eq!(details.as_ref().unwrap_or(&Value::Null), &served["details"]);
        with_details += usize::from(details.is_some());
    }
    assert!(with_details > 0);

    // A platform that serves the bank altered details: refused, evidence.
    let tampered_index = copied
        .iter()
        .find(|entry| entry["kind"] != "business" && entry["details"].is_object())
        .unwrap()["index"]
        .as_u64()
        .unwrap() as usize;
    let mut tampered: Vec<Value> = served[..second as usize].to_vec();
    let json = tampered[tampered_index]["details"]["json"]
        .as_str()
        .unwrap()
        .replace("900.00", "9.00");
    assert_ne!(json, tampered[tampered_index]["details"]["json"].as_str().unwrap());
    tampered[tampered_index]["details"]["json"] = Value::String(json);
    let liar = fake_platform(tampered);
    let lied_to = Start {
        data_dir: dir.path().join("lied-to"),
        extra: vec!["--server".to_owned(), liar],
        ..start.clone()
    }
    .spawn();
    let (_, body) = platform_submission(&app, 0).await;
    let (status, _, reason) = lied_to.submit(&body).await;
    assert_eq!(status, 422, "{reason}");
    assert!(reason.contains(&format!("index {tampered_index}")), "{reason}");
    assert_eq!(lied_to.evidence().await.len(), 1);
    drop(lied_to);

    // A checkpoint whose root the entries do not hash to: refused, evidence.
    let wrong = Checkpoint {
        origin: origin.clone(),
        size: second,
        root_hash: [1; 32],
        timestamp_ms: 1,
    }
    .sign(&platform_key)
    .note;
    let fresh = Start {
        data_dir: dir.path().join("fresh"),
        ..start.clone()
    }
    .spawn();
    let (status, _, reason) = fresh.submit(&request_body(0, &[], &wrong)).await;
    assert_eq!(status, 422, "{reason}");
    assert!(reason.contains("do not hash to the signed root"), "{reason}");
    assert_eq!(fresh.evidence().await.len(), 1);
    assert_eq!(fresh.get("/checkpoint").await.status(), 404);
    drop(fresh);

    // The platform stops. A consistent, larger checkpoint cannot be
    // mirrored: 503 (the log retries), never cosigned without its entries.
    app.stop().await;
    let mut leaves: Vec<Hash> = served[..second as usize]
        .iter()
        .map(|entry| {
            hex::decode(entry["leaf_hash"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    leaves.push(leaf_hash(b"an entry the witness cannot fetch"));
    let forked = TestLog {
        origin: origin.clone(),
        key: platform_key,
        leaves,
    };
    let (status, _, reason) = witness.submit(&forked.body(second, second + 1)).await;
    assert_eq!(status, 503, "{reason}");
    assert_eq!(witness.latest_size().await, second);

    // The bank still answers from its copy, no network.
    drop(witness);
    for (about, expected) in [(asset.as_str(), &copied), (fingerprint.as_str(), &copied)] {
        let output = Command::new(env!("CARGO_BIN_EXE_anchorfin"))
            .args(["witness", "show", "--data-dir"])
            .arg(&data_dir)
            .arg(about)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
        let entries = shown["entries"].as_array().unwrap();
        assert_eq!(shown["checkpoint"]["tree_size"], second);
        if about == asset {
            assert_eq!(entries, expected);
        } else {
            assert!(!entries.is_empty());
            assert!(entries.iter().all(|entry| entry["fingerprint"] == fingerprint.as_str()));
        }
    }
}
