//! What a security reviewer tried, each now a test: a slow body behind a
//! made-up key, replays that a second spelling of the key or of the JSON
//! escaped, sums that overflowed PostgreSQL's BIGINT, and dates at the
//! edges of the calendar.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use crate::lending::{bank, confirmed_asset, offered, pledge_body, post_with_key};
use crate::on_both_backends;
use crate::registry::{deal, invoice, Deal};

on_both_backends!(
    replays_are_keyed_on_the_caller_and_the_parsed_request,
    sums_at_the_edge_of_bigint_are_refused_not_failed,
    dates_outside_the_calendar_documents_use_are_refused,
);

/// Sends a request head promising a body, then waits: the answer and how
/// long it took.
fn slow_post(address: &str, path: &str, authorization: &str) -> (String, Duration) {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"buyer_id\":"
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = [0u8; 4096];
    let read = stream.read(&mut answer).unwrap_or(0);
    (String::from_utf8_lossy(&answer[..read]).into_owned(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_is_answered_at_once_without_a_key_and_cut_off_with_one() {
    let app = TestApp::sqlite_with(|settings| settings.http.body_read_timeout = Duration::from_secs(2)).await;
    let deal = deal(&app).await;
    let address = app.address.clone();
    // A made-up key: 401 before the body is read.
    let (answer, took) = tokio::task::spawn_blocking({
        let address = address.clone();
        move || slow_post(&address, "/v1/receivables", "Bearer afk_0123456789abcdef_made-up")
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    // A valid key: 408 once the body's time is up, not a connection held.
    let supplier = format!("Bearer {}", Deal::key(&deal.supplier));
    let (answer, took) = tokio::task::spawn_blocking(move || slow_post(&address, "/v1/receivables", &supplier))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

async fn replays_are_keyed_on_the_caller_and_the_parsed_request(app: TestApp) {
    let deal = deal(&app).await;
    let key = Deal::key(&deal.supplier);
    let body = invoice(&deal, "INV-SPELL-1", "100.00");
    let send = |authorization: String, text: String| {
        let request = app
            .client
            .post(app.url("/v1/receivables"))
            .header("Authorization", authorization)
            .header("Idempotency-Key", "spell-1")
            .header("content-type", "application/json")
            .body(text);
        async move { request.send().await.unwrap() }
    };
    let start = app.ledger_mark().await;
    let first = send(format!("Bearer {key}"), body.to_string()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    // Another spelling of the same key, and the same JSON written otherwise:
    // the same request, answered as first.
    let mut fields: Vec<(String, Value)> = body.as_object().unwrap().clone().into_iter().collect();
    fields.reverse();
    let reordered = format!(
        "{{ {} }}",
        fields
            .iter()
            .map(|(name, value)| format!("\"{name}\" :  {value}"))
            .collect::<Vec<_>>()
            .join(",\n")
    );
    let retry = send(format!("bearer   {key}"), reordered).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    // No false duplicate alert was raised: the registration is the only
    // entry the two requests wrote.
    assert_eq!(app.kinds_since(start).await, ["receivable_registered"]);

    // Transactional routes mark their replays too.
    let first_bank = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-SPELL-2", "50.00").await;
    let offer = offered(
        &app,
        &deal.holder(),
        &format!("asset:{asset}"),
        &first_bank,
        "pledge",
        "50.00",
    )
    .await;
    let pledge = pledge_body(&first_bank, &offer, &asset, "50.00", "spell-2");
    let once = post_with_key(&app, "/v1/pledges", &first_bank.api_key(), "spell-2", &pledge).await;
    assert_eq!(once.status(), 201);
    assert!(once.headers().get("idempotent-replayed").is_none());
    let again = post_with_key(&app, "/v1/pledges", &first_bank.api_key(), "spell-2", &pledge).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
}

async fn sums_at_the_edge_of_bigint_are_refused_not_failed(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let response = app
        .post_json(
            "/v1/purchase-orders",
            Some(&supplier),
            &json!({"buyer_id": Deal::id(&deal.buyer), "po_number": "PO-HUGE-1", "issue_date": "2026-10-01",
                    "currency": "CNY", "amount": "92233720368547758.07"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    let against = |number: &str, amount: &str| {
        let mut body = invoice(&deal, number, amount);
        body["purchase_order_id"] = order["id"].clone();
        body
    };
    let response = app
        .post_json(
            "/v1/receivables",
            Some(&supplier),
            &against("INV-HUGE-1", "92233720368547758.07"),
        )
        .await;
    assert_eq!(response.status(), 201);
    // One cent more than the order: refused, on both backends alike.
    let response = app
        .post_json("/v1/receivables", Some(&supplier), &against("INV-HUGE-2", "0.01"))
        .await;
    assert_problem(response, 422, "exceeds_po_amount").await;
}

async fn dates_outside_the_calendar_documents_use_are_refused(app: TestApp) {
    let deal = deal(&app).await;
    for (field, value) in [
        ("issue_date", "1899-12-31"),
        ("due_date", "2201-01-01"),
        ("due_date", "9999-12-31"),
    ] {
        let mut body = invoice(&deal, "INV-DATE-1", "10.00");
        body[field] = json!(value);
        let response = app
            .post_json("/v1/receivables", Some(&Deal::key(&deal.supplier)), &body)
            .await;
        let problem = assert_problem(response, 422, "invalid_field").await;
        assert_eq!(problem["field"], field, "{problem}");
    }
}
