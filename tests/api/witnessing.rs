//! The log asks its witnesses: real `anchorfin witness` processes over
//! HTTP cosign the heads the server submits; the cosigned checkpoint is
//! served and waited for (`?wait=cosigned`); a stopped witness delays no
//! write, shows in the metrics and catches up when it returns; an
//! unreachable quorum answers `null` after the bound; a fork of the
//! platform's database is refused by the banks' witnesses, which e-mail
//! their risk officers, and each bank's copy still answers for its assets
//! with both platforms down.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anchorfin::config::{Settings, WitnessPeer};
use anchorfin::ledger::{open_checkpoint, unverified_checkpoint, valid_cosigners, VerifierKey};
use ed25519_dalek::SigningKey;
use serde_json::Value;
use tempfile::TempDir;

use crate::helpers::{assert_problem, eventually, TestApp};
use crate::lending::{bank, confirmed_asset, offered, pledge_body, post_with_key, Bank};
use crate::registry::{deal, Deal};
use crate::smtp::{smtp_tests_run, SmtpSink};

/// A witness process and what it needs to start again as itself.
struct Witness {
    name: String,
    key_path: PathBuf,
    data_dir: PathBuf,
    log_vkey: String,
    port: u16,
    vkey: VerifierKey,
    /// Flags beyond the required ones (`--server`, `--alert-to`, …).
    extra: Vec<String>,
    child: Option<Child>,
    _directory: TempDir,
}

impl Witness {
    /// `anchorfin witness` for the log whose verifier key is `log_vkey`,
    /// on a free port; returns once it has printed its key and address.
    fn start(name: &str, log_vkey: &str) -> Self {
        let mut witness = Self::prepared(name, log_vkey, 0);
        witness.spawn();
        witness
    }

    /// A witness with its key and data directory, to run on `port`, not
    /// started yet: the platform can be told of it before it runs.
    fn prepared(name: &str, log_vkey: &str, port: u16) -> Self {
        let directory = tempfile::tempdir().unwrap();
        let key_path = directory.path().join("witness.key");
        let key = anchorfin::keyfile::generate(&key_path).unwrap();
        Self {
            name: name.to_owned(),
            key_path,
            data_dir: directory.path().join("data"),
            log_vkey: log_vkey.to_owned(),
            port,
            vkey: VerifierKey::witness(name, key.verifying_key()),
            extra: Vec::new(),
            child: None,
            _directory: directory,
        }
    }

    fn spawn(&mut self) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_anchorfin"))
            .args(["witness", "--name", &self.name, "--key"])
            .arg(&self.key_path)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args([
                "--bind",
                &format!("127.0.0.1:{}", self.port),
                "--log-vkey",
                &self.log_vkey,
            ])
            .args(&self.extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (printed_key, port) = read_start_lines(stdout);
        assert_eq!(
            printed_key,
            self.vkey.to_string(),
            "the witness prints its verifier key"
        );
        self.port = port;
        self.child = Some(child);
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn peer(&self) -> WitnessPeer {
        WitnessPeer::new(&self.vkey.to_string(), &self.url()).unwrap()
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Starts again with the same key, data and port.
    fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads the witness's first lines until both its verifier key and its
/// listening address are seen (in whatever words it prints them).
fn read_start_lines(stdout: std::process::ChildStdout) -> (String, u16) {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut key = None;
        let mut port = None;
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            for word in line.split_whitespace() {
                if key.is_none() && VerifierKey::parse(word).is_ok() {
                    key = Some(word.to_owned());
                }
                let address = word.trim_start_matches("http://").trim_end_matches('/');
                if let Some(found) = address
                    .strip_prefix("127.0.0.1:")
                    .and_then(|rest| rest.parse::<u16>().ok())
                {
                    port = Some(found);
                }
            }
            // Then keep reading, so the witness never blocks on a full pipe.
            if let (Some(key), Some(port), false) = (&key, port, sent) {
                let _ = sender.send((key.clone(), port));
                sent = true;
            }
        }
    });
    receiver.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|error| {
        panic!(
            "`anchorfin witness` never printed its verifier key and address ({error}: it exited or hung; \
                 its CLI contract is in docs/ARCHITECTURE.md, The witness)"
        )
    })
}

/// The log's verifier key for an app whose signing key is written into its
/// data directory before it starts.
fn log_vkey(settings: &Settings) -> String {
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    let key: SigningKey = anchorfin::keyfile::load_or_generate(&settings.platform_key_path()).unwrap();
    VerifierKey::log(&settings.ledger.origin, key.verifying_key()).to_string()
}

enum Backend {
    Sqlite,
    Postgres,
}

/// An app with `count` witnesses started for its log and a quorum.
async fn app_with_witnesses(
    backend: Backend,
    count: usize,
    quorum: usize,
    wait: Duration,
) -> Option<(TestApp, Vec<Witness>)> {
    let mut witnesses = Vec::new();
    let configure = |settings: &mut Settings| {
        let log = log_vkey(settings);
        for index in 0..count {
            witnesses.push(Witness::start(&format!("bank{}.test/witness", index + 1), &log));
        }
        settings.witnesses.witnesses = witnesses.iter().map(Witness::peer).collect();
        settings.witnesses.quorum = quorum;
        settings.witnesses.wait_timeout = wait;
        settings.witnesses.max_backoff = Duration::from_millis(500);
    };
    let app = app_on(backend, configure).await?;
    Some((app, witnesses))
}

/// The app on `backend` with settings changed by `configure`; `None` on
/// PostgreSQL when none is configured for tests.
async fn app_on(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    match backend {
        Backend::Sqlite => Some(TestApp::sqlite_with(configure).await),
        Backend::Postgres => TestApp::postgres_with(configure).await,
    }
}

async fn text(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.get(path, None).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// A supplier's confirmed asset offered to a fresh bank; the pledge's
/// request with `query` (e.g. `?wait=cosigned`), its answer and how long
/// it took.
async fn pledge_with(app: &TestApp, deal: &Deal, number: &str, seed: u8, query: &str) -> (reqwest::Response, Duration) {
    let lender = bank(app, &format!("Bank {seed}"), seed).await;
    pledge_to(app, deal, &lender, number, query).await
}

/// `pledge_with` to a bank already onboarded.
async fn pledge_to(
    app: &TestApp,
    deal: &Deal,
    lender: &Bank,
    number: &str,
    query: &str,
) -> (reqwest::Response, Duration) {
    let asset = confirmed_asset(app, deal, number, "1000.00").await;
    let offer = offered(
        app,
        &deal.holder(),
        &format!("asset:{asset}"),
        lender,
        "pledge",
        "800.00",
    )
    .await;
    let nonce = uuid::Uuid::new_v4().to_string();
    let body = pledge_body(lender, &offer, &asset, "800.00", &nonce);
    let started = Instant::now();
    let response = post_with_key(app, &format!("/v1/pledges{query}"), &lender.api_key(), &nonce, &body).await;
    (response, started.elapsed())
}

/// The index of the lien's ledger entry.
async fn leaf_index(app: &TestApp, lien: &Value) -> u64 {
    let leaf = lien["ledger"]["leaf_hash"].as_str().unwrap();
    let found = app.get_json(&format!("/v1/ledger/leaves/{leaf}"), None).await;
    found["index"]
        .as_u64()
        .unwrap_or_else(|| panic!("a sequenced leaf: {found}"))
}

fn platform_key(app: &TestApp) -> ed25519_dalek::VerifyingKey {
    anchorfin::keyfile::load(&app.settings.platform_key_path())
        .unwrap()
        .verifying_key()
}

async fn metrics(app: &TestApp) -> String {
    app.get("/metrics", Some(&app.operator_key)).await.text().await.unwrap()
}

/// The value of the metric line starting with `prefix`, if any.
fn metric(metrics: &str, prefix: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

async fn two_witnesses_cosign_what_a_pledge_waits_for(backend: Backend) {
    let Some((app, witnesses)) = app_with_witnesses(backend, 2, 2, Duration::from_secs(20)).await else {
        return;
    };
    let keys: Vec<VerifierKey> = witnesses.iter().map(|witness| witness.vkey.clone()).collect();
    let origin = app.settings.ledger.origin.clone();

    let (status, vkey) = text(&app, "/v1/ledger/vkey").await;
    assert_eq!(status, 200);
    assert_eq!(
        vkey.trim_end(),
        VerifierKey::log(&origin, platform_key(&app)).to_string()
    );

    let deal = deal(&app).await;
    let (response, _) = pledge_with(&app, &deal, "INV-W-1", 41, "?wait=cosigned").await;
    assert_eq!(response.status(), 201);
    let lien: Value = response.json().await.unwrap();
    let note = lien["cosigned_checkpoint"]
        .as_str()
        .unwrap_or_else(|| panic!("a cosigned checkpoint: {lien}"));
    let checkpoint = open_checkpoint(note, &origin, &platform_key(&app)).unwrap();
    let cosigners = valid_cosigners(note, &keys);
    assert_eq!(cosigners.len(), 2, "both witnesses cosigned: {note}");
    assert!(
        checkpoint.size > leaf_index(&app, &lien).await,
        "the checkpoint covers the pledge's entry"
    );

    // The served checkpoint is (at least) as new, with both cosignatures.
    let (status, served) = text(&app, "/v1/ledger/checkpoint").await;
    assert_eq!(status, 200);
    let served_checkpoint = open_checkpoint(&served, &origin, &platform_key(&app)).unwrap();
    assert!(served_checkpoint.size >= checkpoint.size);
    assert_eq!(valid_cosigners(&served, &keys).len(), 2);

    // A look-up waits too; another value of `wait` is refused, naming it.
    let lender = bank(&app, "Bank Look", 42).await;
    let fingerprint = hex::encode([7u8; 32]);
    let found = app
        .get_json(
            &format!("/v1/encumbrance/{fingerprint}?wait=cosigned"),
            Some(&lender.api_key()),
        )
        .await;
    let note = found["cosigned_checkpoint"]
        .as_str()
        .unwrap_or_else(|| panic!("{found}"));
    assert_eq!(valid_cosigners(note, &keys).len(), 2);
    let response = app
        .get(
            &format!("/v1/encumbrance/{fingerprint}?wait=later"),
            Some(&lender.api_key()),
        )
        .await;
    let problem = assert_problem(response, 400, "invalid_field").await;
    assert_eq!(problem["field"], "wait");
    drop(witnesses);
}

async fn a_stopped_witness_delays_no_write_and_catches_up(backend: Backend) {
    let Some((app, mut witnesses)) = app_with_witnesses(backend, 2, 2, Duration::from_secs(20)).await else {
        return;
    };
    let keys: Vec<VerifierKey> = witnesses.iter().map(|witness| witness.vkey.clone()).collect();
    let deal = deal(&app).await;
    let (response, _) = pledge_with(&app, &deal, "INV-W-2", 43, "?wait=cosigned").await;
    let lien: Value = response.json().await.unwrap();
    let cosigned = unverified_checkpoint(lien["cosigned_checkpoint"].as_str().unwrap())
        .unwrap()
        .size;

    witnesses[1].stop();
    let (response, took) = pledge_with(&app, &deal, "INV-W-3", 44, "").await;
    assert_eq!(response.status(), 201);
    assert!(took < Duration::from_secs(2), "a write waits for no witness: {took:?}");
    let lien: Value = response.json().await.unwrap();
    assert!(lien.get("cosigned_checkpoint").is_none(), "asked for nothing: {lien}");
    assert!(app.settled_head().await["tree_size"].as_u64().unwrap() > cosigned);

    // The checkpoint stays at the last quorum; the metrics show the lag.
    let stopped = &witnesses[1].name;
    let reported = eventually("failures and lag of the stopped witness", || async {
        let text = metrics(&app).await;
        let failures = text
            .lines()
            .filter(|line| line.starts_with("anchorfin_witness_failures_total") && line.contains(stopped.as_str()))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>();
        let lag = metric(
            &text,
            &format!("anchorfin_witness_lag_entries{{witness=\"{stopped}\"}}"),
        )?;
        (failures >= 1.0 && lag >= 1.0).then_some((failures, lag))
    })
    .await;
    assert!(reported.0 >= 1.0 && reported.1 >= 1.0);
    let (_, served) = text(&app, "/v1/ledger/checkpoint").await;
    assert_eq!(unverified_checkpoint(&served).unwrap().size, cosigned, "{served}");
    let healthy = metrics(&app).await;
    let first = &witnesses[0].name;
    assert_eq!(
        metric(
            &healthy,
            &format!("anchorfin_witness_lag_entries{{witness=\"{first}\"}}")
        ),
        Some(0.0),
        "the running witness keeps up: {healthy}"
    );

    // Back, it catches up: the checkpoint holds both pledges, cosigned twice.
    witnesses[1].restart();
    let latest = app.settled_head().await["tree_size"].as_u64().unwrap();
    let served = eventually("a checkpoint cosigned by both again", || async {
        let (status, served) = text(&app, "/v1/ledger/checkpoint").await;
        let size = unverified_checkpoint(&served).ok()?.size;
        (status == 200 && size >= latest).then_some(served)
    })
    .await;
    assert_eq!(valid_cosigners(&served, &keys).len(), 2);
}

async fn an_unreachable_quorum_answers_null_after_the_bound(backend: Backend) {
    // A witness nobody runs: the port is closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let absent = VerifierKey::witness("absent.test/witness", SigningKey::from_bytes(&[5; 32]).verifying_key());
    let bound = Duration::from_millis(1500);
    let configure = |settings: &mut Settings| {
        settings.witnesses.witnesses =
            vec![WitnessPeer::new(&absent.to_string(), &format!("http://127.0.0.1:{port}")).unwrap()];
        settings.witnesses.quorum = 1;
        settings.witnesses.wait_timeout = bound;
        settings.witnesses.max_backoff = Duration::from_millis(300);
    };
    let Some(app) = app_on(backend, configure).await else {
        return;
    };

    let deal = deal(&app).await;
    let (response, took) = pledge_with(&app, &deal, "INV-W-4", 45, "?wait=cosigned").await;
    assert_eq!(response.status(), 201);
    let lien: Value = response.json().await.unwrap();
    assert!(lien["cosigned_checkpoint"].is_null(), "{lien}");
    assert_eq!(lien["status"], "active", "the durable decision all the same: {lien}");
    assert!(took >= bound, "it waited the bound: {took:?}");
    assert!(took < bound + Duration::from_secs(3), "and no longer: {took:?}");

    // Nothing to serve yet: 503, retry later.
    let response = app.get("/v1/ledger/checkpoint", None).await;
    assert_eq!(response.headers()["retry-after"], "1");
    assert_problem(response, 503, "service_unavailable").await;
    let reported = eventually("the witness's failures counted", || async {
        let text = metrics(&app).await;
        metric(
            &text,
            "anchorfin_witness_failures_total{reason=\"unreachable\",witness=\"absent.test/witness\"}",
        )
        .filter(|count| *count >= 1.0)
    })
    .await;
    assert!(reported >= 1.0);
    let state = app
        .query(|connection| anchorfin::store::witnesses::state(connection, &absent_key_text()))
        .await
        .expect("the witness's state is stored");
    assert!(state.failures >= 1);
    assert!(state.last_error.unwrap().contains("unreachable"));
}

fn absent_key_text() -> String {
    VerifierKey::witness("absent.test/witness", SigningKey::from_bytes(&[5; 32]).verifying_key()).to_string()
}

async fn without_witnesses_the_newest_head_is_the_checkpoint(backend: Backend) {
    let Some(app) = app_on(backend, |_| {}).await else {
        return;
    };
    let deal = deal(&app).await;
    let (response, took) = pledge_with(&app, &deal, "INV-W-5", 46, "?wait=cosigned").await;
    assert_eq!(response.status(), 201);
    let lien: Value = response.json().await.unwrap();
    let note = lien["cosigned_checkpoint"].as_str().unwrap_or_else(|| panic!("{lien}"));
    let checkpoint = open_checkpoint(note, &app.settings.ledger.origin, &platform_key(&app)).unwrap();
    assert!(checkpoint.size > leaf_index(&app, &lien).await);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let (status, served) = text(&app, "/v1/ledger/checkpoint").await;
    assert_eq!(status, 200);
    assert!(unverified_checkpoint(&served).unwrap().size >= checkpoint.size);

    let (response, _) = pledge_with(&app, &deal, "INV-W-6", 47, "?wait=now").await;
    let problem = assert_problem(response, 400, "invalid_field").await;
    assert_eq!(problem["field"], "wait");
}

/// Issue 18's scenario: two banks each run a witness that keeps its own
/// copy (with the bank's details) and e-mails its risk officer; the log
/// needs both (quorum 2). A pledge is answered with a checkpoint both
/// cosigned. Then the platform's database is forked — same key, same
/// history — and each copy appends something else: the real one first
/// (cosigned), the fork's head is refused by both witnesses with 409, kept
/// as evidence and e-mailed to both banks' risk officers, and alerted in the
/// fork; with both platforms down, each bank's copy still answers for the
/// asset it financed.
async fn a_forked_log_is_refused_by_the_witness_and_alerted(backend: Backend) {
    assert!(smtp_tests_run(), "aiosmtpd is required: pip install aiosmtpd");
    let sink = SmtpSink::up();
    let mut witnesses = Vec::new();
    let configure = |settings: &mut Settings| {
        let log = log_vkey(settings);
        for bank in ["a", "b"] {
            witnesses.push(Witness::prepared(
                &format!("bank-{bank}.test/witness"),
                &log,
                SmtpSink::free_port(),
            ));
        }
        settings.witnesses.witnesses = witnesses.iter().map(Witness::peer).collect();
        settings.witnesses.quorum = 2;
        settings.witnesses.wait_timeout = Duration::from_secs(20);
        settings.witnesses.max_backoff = Duration::from_millis(500);
    };
    let Some(mut app) = app_on(backend, configure).await else {
        return;
    };
    let deal = deal(&app).await;
    let lenders = [bank(&app, "Bank A", 48).await, bank(&app, "Bank B", 49).await];
    for ((witness, lender), bank) in witnesses.iter_mut().zip(&lenders).zip(["a", "b"]) {
        witness.extra = vec![
            "--server".to_owned(),
            app.address.clone(),
            "--api-key".to_owned(),
            lender.api_key(),
            "--smtp-url".to_owned(),
            format!("smtp://127.0.0.1:{}", sink.port),
            "--alert-to".to_owned(),
            format!("risk@bank-{bank}.test"),
        ];
        witness.spawn();
    }
    let keys: Vec<VerifierKey> = witnesses.iter().map(|witness| witness.vkey.clone()).collect();

    let (response, _) = pledge_to(&app, &deal, &lenders[0], "INV-W-7", "?wait=cosigned").await;
    let first: Value = response.json().await.unwrap();
    let cosigned = first["cosigned_checkpoint"].as_str().unwrap();
    assert_eq!(valid_cosigners(cosigned, &keys).len(), 2, "{cosigned}");
    let shared = unverified_checkpoint(cosigned).unwrap().size;

    // A copy of the platform (same key, same history so far, same
    // witnesses) goes on with another history once the real one is
    // cosigned further.
    let fork = app.fork().await;
    let (response, _) = pledge_to(&app, &deal, &lenders[1], "INV-W-8", "?wait=cosigned").await;
    let second: Value = response.json().await.unwrap();
    let held = unverified_checkpoint(second["cosigned_checkpoint"].as_str().unwrap())
        .unwrap()
        .size;
    assert!(held > shared);
    fork.create_org("Forked Bank", "bank", "LEI-FORK-1").await;

    // Each witness refuses the fork's head (409: it holds another root at
    // that size) and e-mails its bank's risk officer.
    let mails = eventually("both banks' risk officers e-mailed about the fork", || async {
        let mails: Vec<(String, String, String)> = sink
            .messages()
            .into_iter()
            .filter(|(_, _, text)| text.contains("log_inconsistency"))
            .collect();
        let told = |officer: &str| mails.iter().any(|(to, _, _)| to == officer);
        (told("risk@bank-a.test") && told("risk@bank-b.test")).then_some(mails)
    })
    .await;
    assert!(
        mails
            .iter()
            .all(|(_, _, text)| text.contains(&app.settings.ledger.origin)),
        "{mails:?}"
    );
    for witness in &witnesses {
        let evidence: Value = reqwest::get(format!("{}/evidence", witness.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            !evidence["evidence"].as_array().unwrap().is_empty(),
            "{}: {evidence}",
            witness.name
        );
    }

    // The fork itself learns it was refused: one alert however often it
    // retries; its cosigned checkpoint stays the shared one; the real log
    // goes on being cosigned.
    let alerts = eventually("a log_inconsistency alert in the forked log", || async {
        let alerts = inconsistencies(&fork).await;
        (!alerts.is_empty()).then_some(alerts)
    })
    .await;
    let (subject, facts, attempting) = &alerts[0];
    assert!(subject.starts_with("witness:bank-"), "{subject}");
    assert_eq!(facts["witness_size"], held, "{facts}");
    assert_eq!(attempting, &fork.operator_id);
    let (_, served) = text(&fork, "/v1/ledger/checkpoint").await;
    assert_eq!(unverified_checkpoint(&served).unwrap().size, shared, "{served}");
    assert_eq!(inconsistencies(&app).await, vec![]);

    // Both platforms down: each bank's copy answers for the asset it
    // financed, from its own database.
    app.stop().await;
    fork.stop().await;
    for (witness, lien) in witnesses.iter().zip([&first, &second]) {
        let asset = lien["asset_id"].as_str().unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_anchorfin"))
            .args(["witness", "show", "--data-dir"])
            .arg(&witness.data_dir)
            .arg(asset)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        let kinds: Vec<&str> = answer["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|entry| entry["kind"].as_str())
            .collect();
        assert!(kinds.contains(&"asset_pledged"), "{}: {answer}", witness.name);
        assert!(answer["checkpoint"]["tree_size"].as_u64() >= Some(held), "{answer}");
    }
}

/// The `log_inconsistency` alerts stored: subject, facts, attempting
/// organisation (the operator reads them with a risk officer's key; the
/// rows are what every audience's copy comes from).
async fn inconsistencies(app: &TestApp) -> Vec<(String, Value, String)> {
    use anchorfin::store::schema::alerts;
    use diesel::prelude::*;
    let rows: Vec<(Option<String>, String, String)> = app
        .query(|connection| {
            alerts::table
                .filter(alerts::kind.eq("log_inconsistency"))
                .select((alerts::subject_id, alerts::details, alerts::attempting_org_id))
                .load(connection)
        })
        .await;
    rows.into_iter()
        .map(|(subject, details, attempting)| {
            (
                subject.unwrap_or_default(),
                serde_json::from_str(&details).unwrap(),
                attempting,
            )
        })
        .collect()
}

/// Each scenario on SQLite and, when configured, PostgreSQL.
macro_rules! on_both {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario(super::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario(super::Backend::Postgres).await;
            }
        }
    )*};
}

on_both!(
    two_witnesses_cosign_what_a_pledge_waits_for,
    a_stopped_witness_delays_no_write_and_catches_up,
    an_unreachable_quorum_answers_null_after_the_bound,
    without_witnesses_the_newest_head_is_the_checkpoint,
    a_forked_log_is_refused_by_the_witness_and_alerted,
);
