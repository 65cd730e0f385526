//! The `anchorfin` binary itself.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

fn anchorfin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_anchorfin"));
    // The tests' own environment must not leak into the CLI under test.
    for name in ["DATABASE_URL", "ANCHORFIN_DATA_DIR", "ANCHORFIN_BIND"] {
        command.env_remove(name);
    }
    command
}

/// `anchorfin <args> --data-dir … [--database-url …]` against the app's database.
pub fn run_against(app: &TestApp, args: &[&str]) -> Output {
    let mut command = anchorfin();
    command.args(args).arg("--data-dir").arg(app.data_dir());
    if let Some(url) = app.database_url() {
        command.arg("--database-url").arg(url);
    }
    command.output().expect("run anchorfin")
}

on_both_backends!(
    org_add_beside_a_running_server_prints_a_working_key,
    risk_officer_add_prints_a_working_key,
    import_registers_a_csv_file_beside_a_running_server,
);

async fn import_registers_a_csv_file_beside_a_running_server(app: TestApp) {
    let supplier = app.create_org("Supplier", "supplier", "SUP-CLI-1").await;
    app.create_org("Buyer", "core_enterprise", "BUY-CLI-1").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoices.csv");
    std::fs::write(
        &file,
        "invoice_number,buyer_legal_id,issue_date,due_date,currency,amount,po_number\n\
         CLI-1,BUY-CLI-1,2026-11-01,2027-01-31,CNY,10.00,\n\
         CLI-2,BUY-CLI-1,2026-11-01,2027-01-31,CNY,not-money,\n",
    )
    .unwrap();
    let supplier_id = supplier["id"].as_str().unwrap();
    let output = run_against(
        &app,
        &["import", "--org", supplier_id, "--file", file.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["results"][1]["field"], "amount");
    // The server sees it.
    let id = report["results"][0]["id"].as_str().unwrap();
    let response = app
        .get(&format!("/v1/receivables/{id}"), supplier["api_key"].as_str())
        .await;
    assert_eq!(response.status(), 200);
    // Again: the same file replays its report and decides nothing.
    let output = run_against(
        &app,
        &["import", "--org", supplier_id, "--file", file.to_str().unwrap()],
    );
    let again: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(again["replayed"], true, "{again}");
    assert_eq!(again["results"], report["results"]);
    // Only a supplier's invoices are imported.
    let output = run_against(
        &app,
        &["import", "--org", &app.operator_id, "--file", file.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
}

async fn org_add_beside_a_running_server_prints_a_working_key(app: TestApp) {
    let output = run_against(
        &app,
        &[
            "org",
            "add",
            "--name",
            "Beta Bank",
            "--role",
            "bank",
            "--legal-id",
            "BETA-1",
            "--risk-email",
            "r@beta.example",
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let body: Value = serde_json::from_slice(&output.stdout).expect("one JSON object on stdout");
    assert!(body["id"].is_string(), "{body}");
    let api_key = body["api_key"].as_str().unwrap();
    // The server sees the organisation the CLI added: the key authenticates
    // (403 for a bank onboarding, not 401).
    let response = app
        .post_json(
            "/v1/orgs",
            Some(api_key),
            &json!({"name": "X", "role": "bank", "legal_id": "Y"}),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;

    // The same legal id again is refused, exit code 2, naming the reason.
    let again = run_against(
        &app,
        &["org", "add", "--name", "B", "--role", "bank", "--legal-id", "beta 1"],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already onboarded"));

    let bad = run_against(
        &app,
        &["org", "add", "--name", "B", "--role", "lender", "--legal-id", "Z-1"],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--role"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

async fn risk_officer_add_prints_a_working_key(app: TestApp) {
    let output = run_against(
        &app,
        &[
            "risk-officer",
            "add",
            "--org",
            &app.operator_id,
            "--email",
            "officer@ops.example",
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let body: Value = serde_json::from_slice(&output.stdout).unwrap();
    let api_key = body["api_key"].as_str().unwrap();
    let response = app
        .post_json(
            "/v1/orgs",
            Some(api_key),
            &json!({"name": "X", "role": "bank", "legal_id": "Y"}),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;

    let again = run_against(
        &app,
        &[
            "risk-officer",
            "add",
            "--org",
            &app.operator_id,
            "--email",
            "officer@ops.example",
        ],
    );
    assert_eq!(again.status.code(), Some(2));
    let unknown = run_against(
        &app,
        &[
            "risk-officer",
            "add",
            "--org",
            &uuid::Uuid::new_v4().to_string(),
            "--email",
            "a@b.example",
        ],
    );
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn key_gen_and_sign_produce_a_signature_the_public_key_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("buyer.key");
    let output = anchorfin()
        .args(["key", "gen", "--out"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let public_hex = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let public: [u8; 32] = hex::decode(&public_hex).unwrap().try_into().unwrap();
    let public = VerifyingKey::from_bytes(&public).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let message = b"anchorfin/v1/dispute\nreceivable=r\nfingerprint=f\nbuyer=b";
    let mut child = anchorfin()
        .args(["sign", "--key"])
        .arg(&key_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(message).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let signature: [u8; 64] = hex::decode(String::from_utf8(output.stdout).unwrap().trim())
        .unwrap()
        .try_into()
        .unwrap();
    let signature = Signature::from_bytes(&signature);
    assert!(public.verify(message, &signature).is_ok());
    assert!(public.verify(b"another message", &signature).is_err());

    // An existing key file is never overwritten.
    let again = anchorfin()
        .args(["key", "gen", "--out"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(!again.status.success());
}

/// `anchorfin serve` with no configuration: SQLite in ./anchorfin-data,
/// platform key created 0600, /healthz 200, clean exit on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_no_configuration_runs_on_sqlite_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = anchorfin()
        .arg("serve")
        .current_dir(dir.path())
        .env("ANCHORFIN_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let healthy = loop {
        match client.get(format!("http://127.0.0.1:{port}/healthz")).send().await {
            Ok(response) => break response.status() == 200,
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(_) => break false,
        }
    };
    let data = dir.path().join("anchorfin-data");
    let key_mode = |name: &str| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(data.join(name)).map(|m| m.permissions().mode() & 0o777)
    };
    let (key_mode, secret_mode) = (key_mode("platform-signing.key"), key_mode("fingerprint.key"));
    let database_exists = data.join("anchorfin.db").exists();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(healthy, "serve did not answer /healthz");
    assert_eq!(key_mode.unwrap(), 0o600);
    assert_eq!(
        secret_mode.unwrap(),
        0o600,
        "the fingerprint key is as private as the signing key"
    );
    assert!(database_exists);
    assert!(killed.success());
    assert!(status.success(), "graceful shutdown exits 0, got {status:?}");
}
