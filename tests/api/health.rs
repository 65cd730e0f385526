use crate::helpers::{assert_problem, TestApp, TestDatabase};
use crate::on_both_backends;

on_both_backends!(healthz_and_readyz_answer_200, metrics_count_requests_by_route);

async fn healthz_and_readyz_answer_200(app: TestApp) {
    for path in ["/healthz", "/readyz"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
    }
}

async fn metrics_count_requests_by_route(app: TestApp) {
    for _ in 0..3 {
        app.get("/healthz", None).await;
    }
    app.get("/v1/no-such-thing", None).await;
    // Only the operator reads them.
    assert_problem(app.get("/metrics", None).await, 401, "unauthorized").await;
    let bank = app.create_org("Bank M", "bank", "LEI-METRICS").await;
    assert_problem(
        app.get("/metrics", Some(bank["api_key"].as_str().unwrap())).await,
        403,
        "forbidden",
    )
    .await;
    let response = app.get("/metrics", Some(&app.operator_key)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    let line = text
        .lines()
        .find(|line| line.starts_with(r#"anchorfin_http_requests_total{method="GET",route="/healthz",status="200"}"#))
        .unwrap_or_else(|| panic!("no healthz counter in:\n{text}"));
    assert!(line.ends_with(" 3"), "{line}");
    assert!(
        text.contains(r#"anchorfin_http_requests_total{method="GET",route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("anchorfin_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

/// With its database gone, the service answers 503 (retry later), never 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_is_answered_503_on_postgres() {
    let Some(app) = TestApp::postgres().await else { return };
    let TestDatabase::Postgres { admin_url, name } = &app.database else {
        unreachable!()
    };
    assert_eq!(app.get("/readyz", None).await.status(), 200);

    use diesel::{Connection, RunQueryDsl};
    let mut admin = diesel::PgConnection::establish(admin_url).unwrap();
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();

    // Once the prober has found it gone, readiness says so at once.
    crate::outage::wait_for_readiness(&app, 503).await;
    assert_problem(app.get("/readyz", None).await, 503, "service_unavailable").await;
    let response = app
        .post_json(
            "/v1/orgs",
            Some(&app.operator_key),
            &serde_json::json!({"name": "A", "role": "bank", "legal_id": "X1"}),
        )
        .await;
    assert_problem(response, 503, "service_unavailable").await;
}
