//! `Idempotency-Key` on every POST: a retry gets the first answer, another
//! body under the same key is refused, keys are per caller.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;
use crate::registry::{confirm, deal, invoice, registered, Deal};

on_both_backends!(
    a_retried_registration_gets_the_first_answer,
    a_retried_split_gets_the_first_answer,
);

async fn post(app: &TestApp, path: &str, api_key: &str, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).bearer_auth(api_key).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.unwrap()
}

async fn a_retried_registration_gets_the_first_answer(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let body = invoice(&deal, "INV-IDEM-1", "100.00");
    let first = post(&app, "/v1/receivables", &supplier, Some("reg-1"), &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();

    let retry = post(&app, "/v1/receivables", &supplier, Some("reg-1"), &body).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);

    // Without the key it is a new request: the invoice is registered already.
    assert_problem(
        post(&app, "/v1/receivables", &supplier, None, &body).await,
        409,
        "duplicate_registration",
    )
    .await;
    // The same key with another body is refused.
    let other = invoice(&deal, "INV-IDEM-2", "100.00");
    assert_problem(
        post(&app, "/v1/receivables", &supplier, Some("reg-1"), &other).await,
        422,
        "idempotency_mismatch",
    )
    .await;
    // Keys are per caller.
    let response = post(
        &app,
        "/v1/orgs",
        &app.operator_key,
        Some("reg-1"),
        &json!({"name": "Another", "role": "supplier", "legal_id": "IDEM-ORG-1"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    // A malformed key names the header.
    let problem = assert_problem(
        post(&app, "/v1/receivables", &supplier, Some("a=b"), &other).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "Idempotency-Key");
    // Refusals are replayed too, and bodies over the limit are still 413.
    let bad = invoice(&deal, "INV-IDEM-3", "-1");
    assert_problem(
        post(&app, "/v1/receivables", &supplier, Some("reg-3"), &bad).await,
        422,
        "invalid_field",
    )
    .await;
    assert_problem(
        post(&app, "/v1/receivables", &supplier, Some("reg-3"), &bad).await,
        422,
        "invalid_field",
    )
    .await;
    let huge = json!({ "padding": "x".repeat(100 * 1024) });
    assert_problem(
        post(&app, "/v1/receivables", &supplier, Some("reg-4"), &huge).await,
        413,
        "payload_too_large",
    )
    .await;
}

async fn a_retried_split_gets_the_first_answer(app: TestApp) {
    let deal = deal(&app).await;
    let receivable = registered(&app, &deal, "INV-IDEM-SPLIT", "100.00").await;
    let confirmed: Value = confirm(&app, &deal, &receivable).await.json().await.unwrap();
    let path = format!("/v1/assets/{}/split", confirmed["asset_id"].as_str().unwrap());
    let supplier = Deal::key(&deal.supplier);
    let parts = json!({"parts": [{"amount": "60.00"}, {"amount": "40.00"}]});
    let first: Value = post(&app, &path, &supplier, Some("split-1"), &parts)
        .await
        .json()
        .await
        .unwrap();
    let retry = post(&app, &path, &supplier, Some("split-1"), &parts).await;
    assert_eq!(retry.status(), 201, "a retry does not meet the retired parent");
    assert_eq!(retry.json::<Value>().await.unwrap()["children"], first["children"]);
    // A new request is refused: the parent is retired.
    assert_problem(
        post(&app, &path, &supplier, Some("split-2"), &parts).await,
        409,
        "asset_not_active",
    )
    .await;
}
