//! Two server processes on one PostgreSQL database: one in this test
//! process, one a separate `anchorfin serve` OS process sharing the platform
//! key. Both write; one sequencer at a time integrates everything into a
//! single consistent log that `anchorfin verify` accepts through either.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{send_together, TestApp};

/// An `anchorfin serve` OS process, killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub address: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first server's keys, copied into another data directory, as an
/// operator deploys a second process.
fn copy_keys(app: &TestApp, data_dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    for (from, name) in [
        (app.settings.platform_key_path(), "platform-signing.key"),
        (app.settings.fingerprint_key_path(), "fingerprint.key"),
    ] {
        let key = data_dir.join(name);
        std::fs::copy(from, &key).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

async fn spawn_second_server(app: &TestApp, data_dir: &std::path::Path) -> ServerProcess {
    std::fs::create_dir_all(data_dir).unwrap();
    copy_keys(app, data_dir);
    spawn_server(app, data_dir, &[]).await
}

/// `anchorfin serve` on the app's database with `data_dir` and `extra`
/// arguments, once it is ready.
pub async fn spawn_server(app: &TestApp, data_dir: &std::path::Path, extra: &[&str]) -> ServerProcess {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_anchorfin"));
    command
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--workers", "1"])
        .args(extra)
        .arg("--data-dir")
        .arg(data_dir);
    if let Some(url) = app.database_url() {
        command.arg("--database-url").arg(url);
    }
    let child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let server = ServerProcess {
        child,
        address: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("{}/readyz", server.address))
            .await
            .is_ok_and(|response| response.status() == reqwest::StatusCode::OK);
        if ready {
            break;
        }
        assert!(Instant::now() < deadline, "the server process never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_keep_one_consistent_log_on_postgres() {
    let Some(app) = TestApp::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let second = spawn_second_server(&app, &dir.path().join("second")).await;

    // Both servers onboard organisations at the same time.
    let start = app.ledger_mark().await;
    let client = reqwest::Client::new();
    let requests = (0..40)
        .map(|index| {
            let base = if index % 2 == 0 { &app.address } else { &second.address };
            client
                .post(format!("{base}/v1/orgs"))
                .bearer_auth(&app.operator_key)
                .json(&json!({"name": format!("Org {index}"), "role": "supplier", "legal_id": format!("TWO-{index}")}))
        })
        .collect();
    for status in send_together(requests).await {
        assert_eq!(status, 201);
    }
    // The same legal id through the other server is still refused.
    let response = client
        .post(format!("{}/v1/orgs", second.address))
        .bearer_auth(&app.operator_key)
        .json(&json!({"name": "Again", "role": "supplier", "legal_id": "two 0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);

    // One entry each, the refusal none: one log through both servers.
    assert_eq!(app.kinds_since(start).await, ["org_onboarded"; 40]);
    let head = app.settled_head().await;
    assert_eq!(head["tree_size"], start + 40);
    let other: Value = reqwest::get(format!("{}/v1/ledger/head", second.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["tree_size"], start + 40, "both servers serve the same tree");
    assert_eq!(other["root_hash"], head["root_hash"]);

    let output = app.verify(None).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// N banks race to pledge one asset through two server OS processes on one
/// PostgreSQL database — the one it was offered to, twice, and nine without
/// an offer: exactly one pledge wins, every other is refused, and the log
/// stays consistent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_pledges_through_two_processes_win_exactly_once_on_postgres() {
    use crate::lending::{bank, offered, pledge_body};
    use crate::registry::{confirm, deal, registered};

    let Some(app) = TestApp::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let second = spawn_second_server(&app, &dir.path().join("second")).await;

    let deal = deal(&app).await;
    let receivable = registered(&app, &deal, "INV-TWO-PROC", "1000.00").await;
    let confirmed: Value = confirm(&app, &deal, &receivable).await.json().await.unwrap();
    let asset = confirmed["asset_id"].as_str().unwrap().to_owned();
    let mut banks = Vec::new();
    for seed in 0..10u8 {
        banks.push(bank(&app, &format!("Bank {seed}"), 60 + seed).await);
    }

    let offer = offered(
        &app,
        &deal.holder(),
        &format!("asset:{asset}"),
        &banks[4],
        "pledge",
        "1000.00",
    )
    .await;

    let start = app.ledger_mark().await;
    let client = reqwest::Client::new();
    let mut requests = Vec::new();
    for (index, bank) in banks.iter().chain(std::iter::once(&banks[4])).enumerate() {
        let base = if index % 2 == 0 {
            app.address.clone()
        } else {
            second.address.clone()
        };
        let nonce = format!("two-proc-{index}");
        let request = client
            .post(format!("{base}/v1/pledges"))
            .bearer_auth(bank.api_key())
            .header("Idempotency-Key", &nonce)
            .json(&pledge_body(bank, &offer, &asset, "1000.00", &nonce));
        requests.push(request);
    }
    let mut statuses = send_together(requests).await;
    statuses.sort();
    assert_eq!(statuses, [vec![201], vec![404; 10]].concat());

    // One pledge, the refusals nothing: one log through both servers.
    assert_eq!(app.kinds_since(start).await, ["asset_pledged"]);
    assert_eq!(app.settled_head().await["tree_size"], start + 1);
    let output = app.verify(None).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// A second process started with another data directory (its own, new
/// keys) on the same database refuses to run, naming the key, instead of
/// signing tree heads no auditor accepts or storing fingerprints nobody
/// finds; with the first server's keys it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_with_other_keys_refuses_to_share_the_database_on_postgres() {
    let Some(app) = TestApp::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let url = app.database_url().unwrap();
    let serve = move |data_dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_anchorfin"))
            .args(["serve", "--bind", "127.0.0.1:0", "--workers", "1"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--database-url")
            .arg(&url)
            .output()
            .unwrap()
    };
    // Its own signing key: refused.
    let stranger = dir.path().join("stranger");
    let output = tokio::task::spawn_blocking({
        let (stranger, serve) = (stranger.clone(), serve.clone());
        move || serve(&stranger)
    })
    .await
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("signed with another platform key"), "{stderr}");
    // The right signing key but its own fingerprint key: refused too.
    let half = dir.path().join("half");
    std::fs::create_dir_all(&half).unwrap();
    copy_keys(&app, &half);
    std::fs::remove_file(half.join("fingerprint.key")).unwrap();
    let output = tokio::task::spawn_blocking(move || serve(&half)).await.unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("another fingerprint key"), "{stderr}");
    // Both of the first server's keys: it serves.
    let second = spawn_second_server(&app, &dir.path().join("second")).await;
    let head = reqwest::get(format!("{}/readyz", second.address)).await.unwrap();
    assert_eq!(head.status(), 200);
}
