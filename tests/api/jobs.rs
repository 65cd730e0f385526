//! Large uploads run as jobs (docs/DOCUMENTS.md, "Large uploads"): 202 at
//! once, progress to follow, the report when every row is decided; chunks
//! committed one by one, so that a process that dies midway leaves the
//! rest to another, which finishes it without deciding a row twice; and a
//! process that lost its lease decides nothing.

use std::time::{Duration, Instant};

use anchorfin::registry::import::{self, ImportFormat};
use anchorfin::registry::upload_job::{decide, submit};
use anchorfin::registry::{ImportFailure, Lease, Submitted};
use anchorfin::store::schema::{receivables, uploads};
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use serde_json::Value;

use crate::documents::csv;
use crate::helpers::{assert_problem, TestApp};
use crate::processes::spawn_server;
use crate::registry::{deal, registered, Deal};

crate::on_both_backends!(
    a_large_upload_answers_at_once_and_reports_when_done,
    an_upload_left_by_a_dead_process_is_finished_by_another,
    a_process_that_lost_its_lease_decides_nothing,
);

/// A CSV of `rows` invoices numbered `prefix-0`, `prefix-1`, …
fn invoices(prefix: &str, rows: usize) -> String {
    let numbers: Vec<String> = (0..rows).map(|i| format!("{prefix}-{i}")).collect();
    let rows: Vec<(&str, &str)> = numbers.iter().map(|number| (number.as_str(), "1.00")).collect();
    csv(&rows)
}

async fn post_upload(base: &str, api_key: &str, body: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/v1/receivables/import"))
        .bearer_auth(api_key)
        .header("Content-Type", "text/csv")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn shown(base: &str, api_key: &str, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}/v1/uploads/{id}"))
        .bearer_auth(api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Follows an upload until its report is complete.
async fn until_done(base: &str, api_key: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let upload = shown(base, api_key, id).await;
        if upload["status"] == "done" {
            return upload;
        }
        // A server whose database probe timed out on a loaded machine
        // answers 503 "retry later", as a client following a job retries.
        if upload["code"] != "service_unavailable" {
            assert_eq!(upload["status"], "running", "{upload}");
        }
        assert!(Instant::now() < deadline, "the upload never completed: {upload}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn receivables_of(app: &TestApp, supplier_id: &str) -> Vec<String> {
    let supplier_id = supplier_id.to_owned();
    app.query(move |connection| {
        receivables::table
            .filter(receivables::supplier_id.eq(supplier_id))
            .select(receivables::invoice_number)
            .load(connection)
    })
    .await
}

/// Every row created, reported in the file's order, each invoice once.
async fn assert_all_created(app: &TestApp, report: &Value, supplier_id: &str, rows: usize) {
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(rows as u64), Some(0)),
        "{}",
        report["results"][0]
    );
    let lines: Vec<u64> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        lines,
        (2..rows as u64 + 2).collect::<Vec<u64>>(),
        "the file's lines, in order"
    );
    let mut registered = receivables_of(app, supplier_id).await;
    registered.sort();
    let all = registered.len();
    registered.dedup();
    assert_eq!(registered.len(), all, "each invoice registered once");
    let uploaded = registered
        .iter()
        .filter(|number| !number.starts_with("INV-ALONE"))
        .count();
    assert_eq!(uploaded, rows);
}

async fn a_large_upload_answers_at_once_and_reports_when_done(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let supplier_id = deal.supplier["id"].as_str().unwrap();
    let file = invoices("INV-JOB", 10_001);

    let response = post_upload(&app.address, &supplier, &file).await;
    assert_eq!(response.status(), 202, "more than 10,000 rows run as a job");
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["status"], "running", "{accepted}");
    assert_eq!(accepted["total_rows"], 10_001);
    let id = accepted["upload_id"].as_str().unwrap().to_owned();
    assert_eq!(accepted["href"], format!("/v1/uploads/{id}"));

    // While it runs: its progress; no report yet; single registrations go on.
    let progress = shown(&app.address, &supplier, &id).await;
    if progress["status"] == "running" {
        assert!(progress["processed_rows"].as_u64().unwrap() <= 10_001, "{progress}");
        assert_problem(
            app.get(&format!("/v1/uploads/{id}/report.csv"), Some(&supplier)).await,
            409,
            "upload_not_done",
        )
        .await;
    }
    let single = registered(&app, &deal, "INV-ALONE-1", "5.00").await;
    assert_eq!(single["status"], "registered");

    let report = until_done(&app.address, &supplier, &id).await;
    assert_eq!(report["upload_id"], id.as_str());
    assert_eq!(report["replayed"], false);
    assert_all_created(&app, &report, supplier_id, 10_001).await;
    let csv_report = app.get(&format!("/v1/uploads/{id}/report.csv"), Some(&supplier)).await;
    assert_eq!(csv_report.status(), 200);
    assert_eq!(csv_report.text().await.unwrap().lines().count(), 10_002);

    // The same bytes again: the report, replayed; nothing decided again.
    let again = post_upload(&app.address, &supplier, &file).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (again["replayed"].as_bool(), again["upload_id"].as_str()),
        (Some(true), Some(id.as_str()))
    );
    assert_eq!(
        receivables_of(&app, supplier_id).await.len(),
        10_002,
        "the upload's and the single one"
    );
}

async fn an_upload_left_by_a_dead_process_is_finished_by_another(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let supplier_id = deal.supplier["id"].as_str().unwrap();
    let rows = 12_000;
    let file = invoices("INV-CRASH", rows);

    // The other process takes the upload and dies (SIGKILL) after its
    // first chunk committed, long before its last.
    // A second `anchorfin serve` on the same database and data directory,
    // with a short upload lease.
    let mut doomed = spawn_server(&app, &app.data_dir(), &["--upload-lease-seconds", "3"]).await;
    let response = post_upload(&doomed.address, &supplier, &file).await;
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["upload_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let progress = shown(&doomed.address, &supplier, &id).await;
        if progress["processed_rows"].as_u64().unwrap() > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "no chunk was ever committed: {progress}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    doomed.child.kill().unwrap();
    doomed.child.wait().unwrap();
    let left = shown(&app.address, &supplier, &id).await;
    let decided = left["processed_rows"].as_u64().unwrap();
    assert!(
        left["status"] == "running" && decided < rows as u64,
        "the process died midway: {left}"
    );

    // This server's worker takes it over once the dead one's lease has
    // run out, and goes on from the last committed chunk.
    let report = until_done(&app.address, &supplier, &id).await;
    assert_all_created(&app, &report, supplier_id, rows).await;
    let attempts: i32 = app
        .query(move |connection| uploads::table.find(id).select(uploads::attempts).get_result(connection))
        .await;
    assert_eq!(attempts, 2, "taken up twice: by the dead process and by this one");
}

async fn a_process_that_lost_its_lease_decides_nothing(app: TestApp) {
    let deal = deal(&app).await;
    let supplier_id = deal.supplier["id"].as_str().unwrap().to_owned();
    let key = anchorfin::identity::load_fingerprint_key(&app.settings.fingerprint_key_path()).unwrap();
    let body = invoices("INV-LEASE", 3);
    let rows = import::parse(ImportFormat::Csv, body.as_bytes()).unwrap();

    let (first, second) = (Lease::new(Duration::from_secs(30)), Lease::new(Duration::from_secs(30)));
    let held = {
        let (supplier_id, first, body, rows) = (supplier_id.clone(), first.clone(), body.clone(), rows.len());
        app.query(move |connection| {
            submit(
                connection,
                &supplier_id,
                ImportFormat::Csv,
                body.as_bytes(),
                rows,
                Some(&first),
            )
        })
        .await
    };
    let Submitted::Held(upload) = held else {
        panic!("a new upload is held by its submitter")
    };

    // The first holder stalls past its lease; a second process takes over.
    let taken = {
        let (id, second) = (upload.id.clone(), second.clone());
        app.query(move |connection| {
            let past = anchorfin::store::now() - chrono::Duration::seconds(60);
            diesel::update(uploads::table.find(&id))
                .set(uploads::lease_until.eq(past))
                .execute(connection)?;
            let now = anchorfin::store::now();
            anchorfin::store::documents::lease_upload(
                connection,
                &id,
                &second.owner,
                now + chrono::Duration::seconds(30),
                now,
            )
        })
        .await
    };
    assert!(taken);

    // The first wakes up: its chunk rolls back, nothing of it stays.
    let stale = {
        let (upload, rows) = (upload.clone(), rows.clone());
        app.query(move |connection| {
            Ok(matches!(
                decide(connection, &key, &first, &upload, rows, &mut |_, _| true),
                Err(ImportFailure::Taken)
            ))
        })
        .await
    };
    assert!(stale, "a holder without the lease is refused");
    assert!(receivables_of(&app, &supplier_id).await.is_empty());

    // The second decides every row.
    let report = app
        .query(move |connection| {
            Ok(decide(connection, &key, &second, &upload, rows, &mut |_, _| true).map_err(|error| error.to_string()))
        })
        .await
        .unwrap();
    assert_eq!((report.created, report.rejected), (3, 0));
    assert_eq!(receivables_of(&app, &supplier_id).await.len(), 3);
}
