//! `Idempotency-Key` on every POST: a retry gets the first answer, another
//! body under the same key is refused, keys are per caller.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;
use crate::registry::{confirm, confirm_message, deal, invoice, registered, sign, Deal};

on_both_backends!(
    a_retried_registration_gets_the_first_answer,
    a_retried_split_gets_the_first_answer,
    twins_racing_on_one_key_are_decided_once_and_raise_no_alert,
    an_upload_commits_with_its_report,
    a_refused_duplicate_tells_its_supplier_the_receivable,
);

/// How many alerts of `kind` were raised.
async fn alerts_of(app: &TestApp, kind: &'static str) -> i64 {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    app.query(move |connection| {
        diesel::sql_query("SELECT COUNT(*) AS n FROM alerts WHERE kind = $1")
            .bind::<Text, _>(kind)
            .get_result::<Count>(connection)
    })
    .await
    .n
}

/// Sends `count` copies of one request at once and returns their answers.
async fn together(count: usize, request: impl Fn() -> reqwest::RequestBuilder) -> Vec<(u16, bool, Value)> {
    let running: Vec<_> = (0..count)
        .map(|_| {
            let request = request();
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                let replayed = response.headers().contains_key("idempotent-replayed");
                (
                    response.status().as_u16(),
                    replayed,
                    response.json::<Value>().await.unwrap(),
                )
            })
        })
        .collect();
    let mut answers = Vec::new();
    for answer in running {
        answers.push(answer.await.unwrap());
    }
    answers
}

/// Retries racing each other (a client that timed out and tried again
/// while its first request was still running) share one decision: the
/// key is claimed in the decision's transaction, so the twin waits for it
/// and gets its answer — never a duplicate, never an alert.
async fn twins_racing_on_one_key_are_decided_once_and_raise_no_alert(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let body = invoice(&deal, "INV-TWINS-1", "100.00");
    let answers = together(8, || {
        app.client
            .post(app.url("/v1/receivables"))
            .bearer_auth(&supplier)
            .header("Idempotency-Key", "twins-registration")
            .json(&body)
    })
    .await;
    let first = &answers[0].2;
    for (status, _, answer) in &answers {
        assert_eq!(*status, 201, "{answer}");
        assert_eq!(answer, first);
    }
    assert_eq!(answers.iter().filter(|(_, replayed, _)| !replayed).count(), 1);
    assert_eq!(alerts_of(&app, "duplicate_registration").await, 0);

    let signature = sign(&deal.buyer_key, &confirm_message(first));
    let path = format!("/v1/receivables/{}/confirmation", first["id"].as_str().unwrap());
    let buyer = Deal::key(&deal.buyer);
    let answers = together(8, || {
        app.client
            .post(app.url(&path))
            .bearer_auth(&buyer)
            .header("Idempotency-Key", "twins-confirmation")
            .json(&json!({ "signature": signature }))
    })
    .await;
    let asset = &answers[0].2["asset_id"];
    assert!(asset.is_string(), "{}", answers[0].2);
    for (status, _, answer) in &answers {
        assert_eq!(*status, 200, "{answer}");
        assert_eq!(&answer["asset_id"], asset, "one asset, whoever answers");
    }
    assert_eq!(answers.iter().filter(|(_, replayed, _)| !replayed).count(), 1);
}

/// An upload is decided in one transaction with its report: a retry with
/// its key gets the same report and registers nothing, raising nothing.
async fn an_upload_commits_with_its_report(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let legal_id = deal.buyer["legal_id"].as_str().unwrap().to_owned();
    let mut csv = String::from("invoice_number,buyer_legal_id,issue_date,due_date,currency,amount,po_number\n");
    for row in 1..=20 {
        csv.push_str(&format!("UP-{row:03},{legal_id},2026-11-01,2027-02-28,CNY,{row}.00,\n"));
    }
    let answers = together(4, || {
        app.client
            .post(app.url("/v1/receivables/import"))
            .bearer_auth(&supplier)
            .header("Idempotency-Key", "twins-upload")
            .header("Content-Type", "text/csv")
            .body(csv.clone())
    })
    .await;
    for (status, _, report) in &answers {
        assert_eq!(*status, 200, "{report}");
        assert_eq!(report, &answers[0].2);
        assert_eq!(report["created"], 20, "{report}");
    }
    assert_eq!(alerts_of(&app, "duplicate_registration").await, 0);
}

/// A supplier registering its own invoice again (without the first
/// request's key: a new request) is refused, and told which receivable it
/// already has.
async fn a_refused_duplicate_tells_its_supplier_the_receivable(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let first = registered(&app, &deal, "INV-AGAIN-1", "10.00").await;
    let again = post(
        &app,
        "/v1/receivables",
        &supplier,
        None,
        &invoice(&deal, "INV-AGAIN-1", "10.00"),
    )
    .await;
    let problem = assert_problem(again, 409, "duplicate_registration").await;
    assert_eq!(problem["existing_id"], first["id"], "{problem}");
}

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
