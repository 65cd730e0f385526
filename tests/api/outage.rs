//! Outages as an operations team sees them. The database: once the prober
//! finds it gone, every request is answered 503 at once, saying that
//! nothing was done and when to retry; `/readyz` follows; when the database
//! is back the service recovers by itself, and the connections the outage
//! broke are not handed to the first requests after it. The ledger: entries
//! that wait too long for a signed tree head alert the operator, once.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, send_together, TestApp, TestDatabase};

/// Polls `/readyz` until it answers `status` (within 30 s).
pub async fn wait_for_readiness(app: &TestApp, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if app.get("/readyz", None).await.status() == status {
            return;
        }
        assert!(Instant::now() < deadline, "/readyz never answered {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn admin(app: &TestApp) -> (diesel::PgConnection, String) {
    let TestDatabase::Postgres { admin_url, name } = &app.database else {
        unreachable!("a PostgreSQL test app")
    };
    (diesel::PgConnection::establish(admin_url).unwrap(), name.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_answered_503_at_once_and_ends_by_itself_on_postgres() {
    let Some(app) = TestApp::postgres_with(|settings| {
        settings.database.probe_interval = Duration::from_millis(100);
        settings.database.probe_timeout = Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    // Every pooled connection opened (requests at once), so that the
    // outage breaks them all.
    let onboarding = |label: &str, count: usize| -> Vec<reqwest::RequestBuilder> {
        (0..count)
            .map(|index| {
                app.client
                    .post(app.url("/v1/orgs"))
                    .bearer_auth(&app.operator_key)
                    .json(&json!({"name": format!("Bank {label} {index}"), "role": "bank", "legal_id": format!("LEI-{label}-{index}")}))
            })
            .collect()
    };
    assert_eq!(send_together(onboarding("BEFORE", 8)).await, vec![201; 8]);

    // The outage: no new connections, the open ones terminated.
    let (mut admin, name) = admin(&app);
    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&mut admin)
        .unwrap();
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .execute(&mut admin)
    .unwrap();
    wait_for_readiness(&app, 503).await;

    let onboard = json!({"name": "Bank During", "role": "bank", "legal_id": "LEI-DURING"});
    let response = app.post_json("/v1/orgs", Some(&app.operator_key), &onboard).await;
    assert_eq!(response.headers()["retry-after"], "1");
    let problem = assert_problem(response, 503, "service_unavailable").await;
    assert_eq!(problem["outcome"], "not_applied", "{problem}");
    let response = app.get("/v1/ledger/head", None).await;
    let problem = assert_problem(response, 503, "service_unavailable").await;
    assert_eq!(problem["outcome"], "not_applied", "{problem}");

    // Back: ready again without a restart, and the first requests — one
    // per broken pooled connection and more — succeed.
    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .unwrap();
    wait_for_readiness(&app, 200).await;
    assert_eq!(send_together(onboarding("AFTER", 8)).await, vec![201; 8]);
    // The request answered "not applied" was not applied.
    let response = app.post_json("/v1/orgs", Some(&app.operator_key), &onboard).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["legal_id"], "LEI-DURING");
}

/// A gauge's value on `/metrics`.
async fn gauge(app: &TestApp, name: &str) -> f64 {
    let text = app.get("/metrics", Some(&app.operator_key)).await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("anchorfin_{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_ledger_alerts_the_operator_once_on_postgres() {
    let Some(app) = TestApp::postgres_with(|settings| {
        settings.ledger.watch_interval = Duration::from_millis(100);
        settings.ledger.stall_threshold = Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    let officer = crate::alerts::operator_officer(&app);
    assert_eq!(gauge(&app, "database_up").await, 1.0);
    let stalled = |alerts: &Value| alerts["items"].as_array().unwrap().len();

    // The sequencer stuck: another session holds its lock.
    // (The lock is `tlog::sequencer`'s SEQUENCER_LOCK, 0x616e_6368_7365_7100.)
    let mut holder = diesel::PgConnection::establish(&app.database_url().unwrap()).unwrap();
    holder
        .batch_execute("BEGIN; SELECT pg_advisory_xact_lock(7020658169380958464);")
        .unwrap();
    app.create_org("Bank Waiting", "bank", "LEI-WAITING").await;

    // Past the threshold: one alert, to the operator's officers, however
    // long the stall lasts; the gauges say how far behind the ledger is.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let alerts: Value = app.get_json("/v1/alerts?kind=ledger_stalled", Some(&officer)).await;
        if stalled(&alerts) > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no ledger_stalled alert; unsequenced {} oldest {}",
            gauge(&app, "ledger_unsequenced_entries").await,
            gauge(&app, "ledger_oldest_unsequenced_seconds").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gauge(&app, "ledger_unsequenced_entries").await >= 1.0);
    assert!(gauge(&app, "ledger_oldest_unsequenced_seconds").await > 1.0);
    // Several more measures of the same stall raise nothing more: wait until
    // the gauge has been refreshed past another second of waiting.
    let seen = gauge(&app, "ledger_oldest_unsequenced_seconds").await;
    while gauge(&app, "ledger_oldest_unsequenced_seconds").await < seen + 1.0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let alerts: Value = app.get_json("/v1/alerts?kind=ledger_stalled", Some(&officer)).await;
    assert_eq!(stalled(&alerts), 1, "{alerts}");
    let alert = &alerts["items"][0];
    assert_eq!(alert["attempting_org_id"], app.operator_id);
    assert!(alert["facts"]["unsequenced"].as_i64().unwrap() >= 1, "{alert}");

    // Released: the ledger drains, and the gauges say so.
    holder.batch_execute("COMMIT").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while gauge(&app, "ledger_unsequenced_entries").await > 0.0 {
        assert!(Instant::now() < deadline, "the ledger did not drain");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(gauge(&app, "ledger_oldest_unsequenced_seconds").await, 0.0);
}
