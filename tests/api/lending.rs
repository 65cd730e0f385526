//! Lending end to end: one lien at a time whatever the concurrency (also
//! across two server processes on PostgreSQL), idempotent signed requests,
//! invariant 4, payments through the waterfall, releases and defaults.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, send_together, TestApp};
use crate::on_both_backends;
use crate::registry::{confirm, deal, invoice, onboard, register, registered, sign, Deal};

on_both_backends!(
    a_second_bank_is_refused_and_alerted,
    retries_with_the_same_key_return_the_first_answer,
    bad_pledges_are_refused_with_closed_codes,
    racing_banks_get_exactly_one_lien,
    payments_run_through_the_waterfall,
    a_retry_after_a_dropped_connection_never_pledges_twice,
    many_concurrent_pledges_commit_together_and_each_is_on_the_ledger,
    a_released_pledge_frees_the_asset,
    a_purchase_order_lien_reserves_its_receivables,
    a_purchase_order_is_not_pledged_over_receivables_financed_elsewhere,
    a_purchase_order_and_its_receivable_raced_by_two_banks_get_one_lien,
    overdue_assets_default,
    encumbrance_tells_banks_nothing_more,
);

pub struct Bank {
    pub org: Value,
    pub key: SigningKey,
}

impl Bank {
    pub fn api_key(&self) -> String {
        Deal::key(&self.org)
    }

    pub fn id(&self) -> String {
        Deal::id(&self.org)
    }
}

pub async fn bank(app: &TestApp, name: &str, seed: u8) -> Bank {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let org = onboard(
        app,
        name,
        "bank",
        &format!("LEI-BANK-{seed}"),
        vec![hex::encode(key.verifying_key().to_bytes())],
    )
    .await;
    Bank { org, key }
}

pub fn pledge_body(bank: &Bank, asset: &str, amount: &str, currency: &str, nonce: &str) -> Value {
    let signature = sign(
        &bank.key,
        &[
            "anchorfin/v1/pledge".to_owned(),
            format!("asset={asset}"),
            format!("amount={amount}"),
            format!("currency={currency}"),
            format!("bank={}", bank.id()),
            format!("nonce={nonce}"),
        ],
    );
    json!({ "asset_id": asset, "amount": amount, "signature": signature })
}

pub async fn post_with_key(app: &TestApp, path: &str, api_key: &str, nonce: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(api_key)
        .header("Idempotency-Key", nonce)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn pledge(app: &TestApp, bank: &Bank, asset: &str, amount: &str, nonce: &str) -> reqwest::Response {
    post_with_key(
        app,
        "/v1/pledges",
        &bank.api_key(),
        nonce,
        &pledge_body(bank, asset, amount, "CNY", nonce),
    )
    .await
}

/// The buyer's (or anyone's) payment of `amount` CNY on 2027-03-31.
async fn pay(app: &TestApp, asset: &str, api_key: Option<&str>, amount: &str) -> reqwest::Response {
    app.post_json(
        &format!("/v1/assets/{asset}/payments"),
        api_key,
        &json!({"amount": amount, "paid_on": "2027-03-31"}),
    )
    .await
}

/// A payment's distributions: (organisation, amount, role), in order.
fn distributions(paid: &Value) -> Vec<(String, String, String)> {
    paid["distributions"]
        .as_array()
        .unwrap_or_else(|| panic!("{paid}"))
        .iter()
        .map(|d| {
            (
                d["org_id"].as_str().unwrap().to_owned(),
                d["amount"].as_str().unwrap().to_owned(),
                d["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A confirmed receivable's asset id.
pub async fn confirmed_asset(app: &TestApp, deal: &Deal, number: &str, amount: &str) -> String {
    let receivable = registered(app, deal, number, amount).await;
    let confirmed: Value = confirm(app, deal, &receivable).await.json().await.unwrap();
    confirmed["asset_id"].as_str().unwrap().to_owned()
}

async fn a_second_bank_is_refused_and_alerted(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let asset = confirmed_asset(&app, &deal, "INV-L-1", "1000.00").await;

    let response = pledge(&app, &first, &asset, "800.00", "first-1").await;
    assert_eq!(response.status(), 201);
    let lien: Value = response.json().await.unwrap();
    assert_eq!(lien["status"], "active");
    assert_eq!(lien["kind"], "pledge");
    assert_eq!(lien["amount"], "800.00");
    assert_eq!(lien["ledger"]["leaf_hash"].as_str().unwrap().len(), 64);

    let problem = assert_problem(
        pledge(&app, &second, &asset, "100.00", "second-1").await,
        409,
        "already_encumbered",
    )
    .await;
    // Never by whom.
    assert!(!problem["detail"].as_str().unwrap().contains(&first.id()), "{problem}");

    // The first bank now sees the asset and its lien; the second does not.
    let seen: Value = app
        .get_json(&format!("/v1/assets/{asset}"), Some(&first.api_key()))
        .await;
    assert_eq!(seen["lien"]["id"], lien["id"]);
    assert_problem(
        app.get(&format!("/v1/assets/{asset}"), Some(&second.api_key())).await,
        404,
        "not_found",
    )
    .await;

    // An encumbered asset cannot be split.
    let response = app
        .post_json(
            &format!("/v1/assets/{asset}/split"),
            Some(&Deal::key(&deal.supplier)),
            &json!({"parts": [{"amount": "500.00"}, {"amount": "500.00"}]}),
        )
        .await;
    assert_problem(response, 409, "already_encumbered").await;

    // The refusal's alert is on the ledger: 10 onboarding entries, registration,
    // confirmation, pledge, alert.
    let kinds = crate::registry::ledger_kinds(&app, 14).await;
    assert_eq!(
        kinds.iter().filter(|kind| *kind == "alert_raised").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(kinds.iter().filter(|kind| *kind == "asset_pledged").count(), 1);
}

async fn retries_with_the_same_key_return_the_first_answer(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let asset = confirmed_asset(&app, &deal, "INV-L-2", "1000.00").await;

    let body = pledge_body(&first, &asset, "500.00", "CNY", "retry-1");
    let one: Value = post_with_key(&app, "/v1/pledges", &first.api_key(), "retry-1", &body)
        .await
        .json()
        .await
        .unwrap();
    let response = post_with_key(&app, "/v1/pledges", &first.api_key(), "retry-1", &body).await;
    assert_eq!(response.status(), 201);
    let two: Value = response.json().await.unwrap();
    assert_eq!(one, two, "a retry returns the first answer, the same pledge");

    // The same key with another body is refused.
    let other = pledge_body(&first, &asset, "400.00", "CNY", "retry-1");
    let response = post_with_key(&app, "/v1/pledges", &first.api_key(), "retry-1", &other).await;
    assert_problem(response, 422, "idempotency_mismatch").await;

    // A refusal is replayed as well, even after the lien is gone.
    let refused = pledge_body(&second, &asset, "100.00", "CNY", "retry-2");
    let response = post_with_key(&app, "/v1/pledges", &second.api_key(), "retry-2", &refused).await;
    assert_problem(response, 409, "already_encumbered").await;
    let release = app
        .post_json(
            &format!("/v1/pledges/{}/release", one["id"].as_str().unwrap()),
            Some(&first.api_key()),
            &json!({}),
        )
        .await;
    assert_eq!(release.status(), 200);
    let response = post_with_key(&app, "/v1/pledges", &second.api_key(), "retry-2", &refused).await;
    assert_problem(response, 409, "already_encumbered").await;

    // Keys are per bank: the same key from another bank is a new request.
    let fresh = pledge_body(&second, &asset, "100.00", "CNY", "retry-1");
    assert_eq!(
        post_with_key(&app, "/v1/pledges", &second.api_key(), "retry-1", &fresh)
            .await
            .status(),
        201
    );
}

async fn bad_pledges_are_refused_with_closed_codes(app: TestApp) {
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-L-3", "1000.00").await;

    // Over the face value.
    assert_problem(
        pledge(&app, &first, &asset, "1000.01", "bad-1").await,
        422,
        "exceeds_face_value",
    )
    .await;
    // Signed with another key, or for another nonce.
    let stranger = Bank {
        org: first.org.clone(),
        key: SigningKey::from_bytes(&[77; 32]),
    };
    assert_problem(
        pledge(&app, &stranger, &asset, "10.00", "bad-2").await,
        422,
        "invalid_signature",
    )
    .await;
    let body = pledge_body(&first, &asset, "10.00", "CNY", "signed-nonce");
    let response = post_with_key(&app, "/v1/pledges", &first.api_key(), "sent-nonce", &body).await;
    assert_problem(response, 422, "invalid_signature").await;
    // No Idempotency-Key.
    let response = app.post_json("/v1/pledges", Some(&first.api_key()), &body).await;
    assert_eq!(
        assert_problem(response, 422, "invalid_field").await["field"],
        "Idempotency-Key"
    );
    // A malformed amount names the field.
    let problem = assert_problem(
        pledge(&app, &first, &asset, "10.001", "bad-3").await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "amount");
    // An unconfirmed receivable, named by its id.
    let receivable = registered(&app, &deal, "INV-L-3B", "50.00").await;
    let id = receivable["id"].as_str().unwrap();
    assert_problem(pledge(&app, &first, id, "10.00", "bad-4").await, 409, "not_confirmed").await;
    // Unknown ids, and non-banks.
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_problem(pledge(&app, &first, &unknown, "10.00", "bad-5").await, 404, "not_found").await;
    let response = post_with_key(&app, "/v1/pledges", &Deal::key(&deal.supplier), "bad-6", &body).await;
    assert_problem(response, 403, "forbidden").await;
    // Keys are checked where the request is decided: none, or a wrong one.
    let response = app
        .client
        .post(app.url("/v1/pledges"))
        .header("Idempotency-Key", "bad-8")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(response, 401, "unauthorized").await;
    let key = first.api_key();
    let (kept, last) = key.split_at(key.len() - 1);
    let wrong = format!("{kept}{}", if last == "A" { "B" } else { "A" });
    let response = post_with_key(&app, "/v1/pledges", &wrong, "bad-9", &body).await;
    assert_problem(response, 401, "unauthorized").await;
    // A retired parent can never be pledged.
    let response = app
        .post_json(
            &format!("/v1/assets/{asset}/split"),
            Some(&Deal::key(&deal.supplier)),
            &json!({"parts": [{"amount": "600.00"}, {"amount": "400.00"}]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_problem(
        pledge(&app, &first, &asset, "10.00", "bad-7").await,
        409,
        "asset_not_active",
    )
    .await;
}

async fn racing_banks_get_exactly_one_lien(app: TestApp) {
    let deal = deal(&app).await;
    let asset = confirmed_asset(&app, &deal, "INV-RACE-L", "1000.00").await;
    let mut banks = Vec::new();
    for seed in 0..8 {
        banks.push(bank(&app, &format!("Racing Bank {seed}"), 40 + seed).await);
    }
    let mut requests = Vec::new();
    for (index, bank) in banks.iter().enumerate() {
        let nonce = format!("race-{index}");
        let body = pledge_body(bank, &asset, "900.00", "CNY", &nonce);
        let request = app
            .client
            .post(app.url("/v1/pledges"))
            .bearer_auth(bank.api_key())
            .header("Idempotency-Key", nonce)
            .json(&body);
        requests.push(request);
    }
    let mut statuses = send_together(requests).await;
    statuses.sort();
    assert_eq!(statuses, vec![201, 409, 409, 409, 409, 409, 409, 409]);
    let kinds = crate::registry::ledger_kinds(&app, 6 + 16 + 2 + 1 + 7).await;
    assert_eq!(kinds.iter().filter(|kind| *kind == "alert_raised").count(), 7);
}

async fn payments_run_through_the_waterfall(app: TestApp) {
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let buyer_key = Deal::key(&deal.buyer);

    // A pledged asset: 700 to the bank, 300 to the supplier.
    let asset = confirmed_asset(&app, &deal, "INV-PAY-1", "1000.00").await;
    assert_eq!(pledge(&app, &first, &asset, "700.00", "pay-1").await.status(), 201);
    // Only the buyer pays, and exactly what is outstanding.
    let response = pay(&app, &asset, Some(&Deal::key(&deal.supplier)), "1000.00").await;
    assert_problem(response, 403, "forbidden").await;
    let response = pay(&app, &asset, Some(&buyer_key), "999.99").await;
    assert_problem(response, 422, "payment_mismatch").await;
    let response = pay(&app, &asset, Some(&buyer_key), "1000.00").await;
    assert_eq!(response.status(), 201);
    let paid: Value = response.json().await.unwrap();
    assert_eq!(
        distributions(&paid),
        vec![
            (first.id(), "700.00".to_owned(), "lienholder".to_owned()),
            (Deal::id(&deal.supplier), "300.00".to_owned(), "holder".to_owned()),
        ]
    );
    let seen: Value = app.get_json(&format!("/v1/assets/{asset}"), Some(&buyer_key)).await;
    assert_eq!(seen["status"], "settled");
    assert_eq!(seen["lien"], Value::Null);
    let receivable: Value = app
        .get_json(
            &format!("/v1/receivables/{}", seen["receivable_id"].as_str().unwrap()),
            Some(&buyer_key),
        )
        .await;
    assert_eq!(receivable["status"], "settled");
    // Paying twice is impossible.
    let response = pay(&app, &asset, Some(&buyer_key), "1000.00").await;
    assert_problem(response, 409, "asset_not_active").await;

    // A split asset: each child is paid to its own holder, the pledged one
    // through its lienholder (pledged above the child's value: capped).
    let asset = confirmed_asset(&app, &deal, "INV-PAY-2", "100.00").await;
    let split: Value = app
        .post_json(
            &format!("/v1/assets/{asset}/split"),
            Some(&Deal::key(&deal.supplier)),
            &json!({"parts": [{"amount": "60.00"}, {"amount": "40.00", "transfer_to": Deal::id(&deal.second_supplier)}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let child = split["children"][1]["id"].as_str().unwrap();
    assert_eq!(pledge(&app, &first, child, "40.00", "pay-2").await.status(), 201);
    let response = pay(&app, &asset, Some(&buyer_key), "100.00").await;
    assert_eq!(response.status(), 201);
    let paid: Value = response.json().await.unwrap();
    assert_eq!(
        distributions(&paid),
        vec![
            (Deal::id(&deal.supplier), "60.00".to_owned(), "holder".to_owned()),
            (first.id(), "40.00".to_owned(), "lienholder".to_owned()),
        ]
    );
}

async fn a_released_pledge_frees_the_asset(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let asset = confirmed_asset(&app, &deal, "INV-REL-1", "1000.00").await;
    let lien: Value = pledge(&app, &first, &asset, "500.00", "rel-1")
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v1/pledges/{}/release", lien["id"].as_str().unwrap());
    // Only the lienholder releases; others do not even see it.
    assert_problem(
        app.post_json(&path, Some(&second.api_key()), &json!({})).await,
        404,
        "not_found",
    )
    .await;
    let response = app.post_json(&path, Some(&first.api_key()), &json!({})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "released");
    assert_problem(
        app.post_json(&path, Some(&first.api_key()), &json!({})).await,
        409,
        "lien_not_active",
    )
    .await;
    // Free again: the second bank may take it, here as a true sale.
    let signature = sign(
        &second.key,
        &[
            "anchorfin/v1/assign".to_owned(),
            format!("asset={asset}"),
            "amount=950.00".to_owned(),
            "currency=CNY".to_owned(),
            format!("bank={}", second.id()),
            "nonce=assign-1".to_owned(),
        ],
    );
    let response = post_with_key(
        &app,
        "/v1/assignments",
        &second.api_key(),
        "assign-1",
        &json!({"asset_id": asset, "amount": "950.00", "signature": signature}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let seen: Value = app
        .get_json(&format!("/v1/assets/{asset}"), Some(&second.api_key()))
        .await;
    assert_eq!(seen["holder_id"], second.id());
    assert_eq!(seen["lien"]["kind"], "assignment");
    assert_eq!(seen["lien"]["bank_id"], second.id());
    // The first bank released its pledge: it no longer sees the asset, so it
    // does not learn who finances it now.
    let response = app.get(&format!("/v1/assets/{asset}"), Some(&first.api_key())).await;
    assert_problem(response, 404, "not_found").await;
}

async fn a_purchase_order_lien_reserves_its_receivables(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let order = registered_order(&app, &deal, "PO-FIN-1", "5000.00").await;
    let order_id = order["id"].as_str().unwrap();
    let po_pledge = |bank: &Bank, nonce: &str| {
        let signature = sign(
            &bank.key,
            &[
                "anchorfin/v1/pledge".to_owned(),
                format!("asset={order_id}"),
                "amount=4000.00".to_owned(),
                "currency=CNY".to_owned(),
                format!("bank={}", bank.id()),
                format!("nonce={nonce}"),
            ],
        );
        json!({"purchase_order_id": order_id, "amount": "4000.00", "signature": signature})
    };
    // Not acknowledged yet.
    let response = post_with_key(
        &app,
        "/v1/pledges",
        &first.api_key(),
        "po-0",
        &po_pledge(&first, "po-0"),
    )
    .await;
    assert_problem(response, 409, "not_confirmed").await;
    acknowledge(&app, &deal, &order, "5000.00").await;
    let response = post_with_key(
        &app,
        "/v1/pledges",
        &first.api_key(),
        "po-1",
        &po_pledge(&first, "po-1"),
    )
    .await;
    assert_eq!(response.status(), 201);
    let response = post_with_key(
        &app,
        "/v1/pledges",
        &second.api_key(),
        "po-2",
        &po_pledge(&second, "po-2"),
    )
    .await;
    assert_problem(response, 409, "already_encumbered").await;

    // A receivable under that order: only the first bank may finance it.
    let mut body = invoice(&deal, "INV-PO-FIN-1", "3000.00");
    body["purchase_order_id"] = json!(order_id);
    let receivable: Value = register(&app, &deal, &body).await.json().await.unwrap();
    let confirmed: Value = confirm(&app, &deal, &receivable).await.json().await.unwrap();
    let asset = confirmed["asset_id"].as_str().unwrap();
    assert_problem(
        pledge(&app, &second, asset, "3000.00", "po-3").await,
        403,
        "po_financed_elsewhere",
    )
    .await;
    assert_eq!(pledge(&app, &first, asset, "3000.00", "po-4").await.status(), 201);
    let kinds = crate::registry::ledger_kinds(&app, 18).await;
    assert_eq!(
        kinds.iter().filter(|kind| *kind == "alert_raised").count(),
        2,
        "{kinds:?}"
    );
}

async fn overdue_assets_default(app: TestApp) {
    let deal = deal(&app).await;
    let mut body = invoice(&deal, "INV-OLD-1", "10.00");
    body["issue_date"] = json!("2025-01-01");
    body["due_date"] = json!("2025-02-01");
    let receivable: Value = register(&app, &deal, &body).await.json().await.unwrap();
    let confirmed: Value = confirm(&app, &deal, &receivable).await.json().await.unwrap();
    let asset = confirmed["asset_id"].as_str().unwrap();
    let key = Deal::key(&deal.supplier);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let seen: Value = app.get_json(&format!("/v1/assets/{asset}"), Some(&key)).await;
        if seen["status"] == "defaulted" {
            break;
        }
        assert!(Instant::now() < deadline, "the overdue asset never defaulted: {seen}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen: Value = app
        .get_json(
            &format!("/v1/receivables/{}", receivable["id"].as_str().unwrap()),
            Some(&key),
        )
        .await;
    assert_eq!(seen["status"], "defaulted");
    // A late payment still settles it.
    let response = app
        .post_json(
            &format!("/v1/assets/{asset}/payments"),
            Some(&Deal::key(&deal.buyer)),
            &json!({"amount": "10.00", "paid_on": "2025-03-01"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    // A receivable not yet due stays active.
    let fresh = confirmed_asset(&app, &deal, "INV-NEW-1", "10.00").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen: Value = app.get_json(&format!("/v1/assets/{fresh}"), Some(&key)).await;
    assert_eq!(seen["status"], "active");
}

async fn encumbrance_tells_banks_nothing_more(app: TestApp) {
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let receivable = registered(&app, &deal, "INV-ENC-1", "100.00").await;
    let fingerprint = receivable["fingerprint"].as_str().unwrap();
    let path = format!("/v1/encumbrance/{fingerprint}");
    let look = |expected: Value| {
        let request = app.client.get(app.url(&path)).bearer_auth(first.api_key());
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                json!({"registered": body["registered"], "confirmed": body["confirmed"], "encumbered": body["encumbered"]}),
                expected
            );
            assert_eq!(
                body.as_object().unwrap().len(),
                4,
                "nothing but the three answers: {body}"
            );
        }
    };
    look(json!({"registered": true, "confirmed": false, "encumbered": false})).await;
    let confirmed: Value = confirm(&app, &deal, &receivable).await.json().await.unwrap();
    look(json!({"registered": true, "confirmed": true, "encumbered": false})).await;
    let asset = confirmed["asset_id"].as_str().unwrap();
    assert_eq!(pledge(&app, &first, asset, "100.00", "enc-1").await.status(), 201);
    look(json!({"registered": true, "confirmed": true, "encumbered": true})).await;

    let unknown = format!("/v1/encumbrance/{}", "ab".repeat(32));
    let body: Value = app.get_json(&unknown, Some(&first.api_key())).await;
    assert_eq!(body["registered"], false);
    let problem = assert_problem(
        app.get("/v1/encumbrance/xyz", Some(&first.api_key())).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "fingerprint");
    assert_problem(app.get(&path, Some(&Deal::key(&deal.supplier))).await, 403, "forbidden").await;
    // The key is checked before the fingerprint.
    assert_problem(app.get("/v1/encumbrance/xyz", None).await, 401, "unauthorized").await;

    // A lien on any part of a split receivable encumbers it.
    let receivable = registered(&app, &deal, "INV-ENC-2", "100.00").await;
    let path = format!("/v1/encumbrance/{}", receivable["fingerprint"].as_str().unwrap());
    let confirmed: Value = confirm(&app, &deal, &receivable).await.json().await.unwrap();
    let split: Value = app
        .post_json(
            &format!("/v1/assets/{}/split", confirmed["asset_id"].as_str().unwrap()),
            Some(&Deal::key(&deal.supplier)),
            &json!({"parts": [{"amount": "60.00"}, {"amount": "40.00"}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let encumbered = || async {
        let body: Value = app.get_json(&path, Some(&first.api_key())).await;
        body["encumbered"].clone()
    };
    assert_eq!(encumbered().await, false);
    let second_part = split["children"][1]["id"].as_str().unwrap_or_else(|| panic!("{split}"));
    assert_eq!(pledge(&app, &first, second_part, "40.00", "enc-2").await.status(), 201);
    assert_eq!(encumbered().await, true);
}

async fn a_retry_after_a_dropped_connection_never_pledges_twice(app: TestApp) {
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-DROP-1", "1000.00").await;
    let body = pledge_body(&first, &asset, "500.00", "CNY", "drop-1");
    // The client gives up at once: the request may or may not have been
    // decided when the connection drops.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(1))
        .build()
        .unwrap();
    for _ in 0..3 {
        let _ = impatient
            .post(app.url("/v1/pledges"))
            .bearer_auth(first.api_key())
            .header("Idempotency-Key", "drop-1")
            .json(&body)
            .send()
            .await;
    }
    let response = post_with_key(&app, "/v1/pledges", &first.api_key(), "drop-1", &body).await;
    assert_eq!(response.status(), 201);
    let lien: Value = response.json().await.unwrap();
    let again: Value = post_with_key(&app, "/v1/pledges", &first.api_key(), "drop-1", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lien["id"], again["id"]);
    // 8 onboarding entries, registration, confirmation, one pledge.
    let kinds = crate::registry::ledger_kinds(&app, 11).await;
    assert_eq!(
        kinds.iter().filter(|kind| *kind == "asset_pledged").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(kinds.len(), 11, "{kinds:?}");
}

/// Decisions are batched many per commit: 40 pledges of 20 assets sent at
/// once (two banks per asset) all get their own answer, exactly one lien per
/// asset exists, and every decision and alert is on the ledger.
async fn many_concurrent_pledges_commit_together_and_each_is_on_the_ledger(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let mut assets = Vec::new();
    for number in 0..20 {
        // Distinct amounts: equal ones would be near-duplicate registrations.
        let amount = format!("{}.00", 100 + number);
        assets.push(confirmed_asset(&app, &deal, &format!("INV-BATCH-{number}"), &amount).await);
    }
    let mut requests = Vec::new();
    for (index, asset) in assets.iter().enumerate() {
        for bank in [&first, &second] {
            let nonce = format!("batch-{index}-{}", bank.id());
            let body = pledge_body(bank, asset, "100.00", "CNY", &nonce);
            let request = app
                .client
                .post(app.url("/v1/pledges"))
                .bearer_auth(bank.api_key())
                .header("Idempotency-Key", nonce)
                .json(&body);
            requests.push(request);
        }
    }
    let statuses = send_together(requests).await;
    assert_eq!(
        statuses.iter().filter(|status| **status == 201).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|status| **status == 409).count(),
        20,
        "{statuses:?}"
    );
    for asset in &assets {
        let seen: Value = app
            .get_json(&format!("/v1/assets/{asset}"), Some(&Deal::key(&deal.supplier)))
            .await;
        assert_eq!(seen["lien"]["status"], "active", "{seen}");
    }
    // 10 onboarding entries, 20 registrations and confirmations, 20 pledges, 20 alerts.
    let kinds = crate::registry::ledger_kinds(&app, 10 + 40 + 20 + 20).await;
    assert_eq!(kinds.iter().filter(|kind| *kind == "asset_pledged").count(), 20);
    // The metrics tell how the batches were decided: all set-based here.
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    let set_based: u64 = metrics
        .lines()
        .find(|line| line.starts_with(r#"anchorfin_decision_batches_total{kind="financing",path="set_based"}"#))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no set-based financing batches in {metrics}"));
    assert!((1..=40).contains(&set_based), "{set_based}");
    assert!(
        !metrics.contains(r#"kind="financing",path="after_failure""#),
        "{metrics}"
    );
    assert_eq!(kinds.iter().filter(|kind| *kind == "alert_raised").count(), 20);
}

/// A purchase order registered by the supplier.
async fn registered_order(app: &TestApp, deal: &Deal, number: &str, amount: &str) -> Value {
    let response = app
        .post_json(
            "/v1/purchase-orders",
            Some(&Deal::key(&deal.supplier)),
            &json!({"buyer_id": Deal::id(&deal.buyer), "po_number": number, "issue_date": "2026-10-01",
                    "currency": "CNY", "amount": amount}),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// The buyer's signed acknowledgement of `order`, for `amount` CNY.
async fn acknowledge(app: &TestApp, deal: &Deal, order: &Value, amount: &str) {
    let id = order["id"].as_str().unwrap();
    let acknowledgement = sign(
        &deal.buyer_key,
        &[
            "anchorfin/v1/acknowledge_po".to_owned(),
            format!("purchase_order={id}"),
            format!("fingerprint={}", order["fingerprint"].as_str().unwrap()),
            format!("amount={amount}"),
            "currency=CNY".to_owned(),
            format!("buyer={}", Deal::id(&deal.buyer)),
        ],
    );
    let response = app
        .post_json(
            &format!("/v1/purchase-orders/{id}/acknowledgement"),
            Some(&Deal::key(&deal.buyer)),
            &json!({ "signature": acknowledgement }),
        )
        .await;
    assert_eq!(response.status(), 200);
}

/// A purchase order acknowledged by the buyer; its id.
async fn acknowledged_order(app: &TestApp, deal: &Deal, number: &str, amount: &str) -> String {
    let order = registered_order(app, deal, number, amount).await;
    acknowledge(app, deal, &order, amount).await;
    order["id"].as_str().unwrap().to_owned()
}

/// A confirmed receivable registered against `order`; its asset id.
async fn asset_under_order(app: &TestApp, deal: &Deal, order: &str, number: &str, amount: &str) -> String {
    let mut body = invoice(deal, number, amount);
    body["purchase_order_id"] = json!(order);
    let receivable: Value = register(app, deal, &body).await.json().await.unwrap();
    let confirmed: Value = confirm(app, deal, &receivable).await.json().await.unwrap();
    confirmed["asset_id"].as_str().unwrap().to_owned()
}

/// A pledge of `amount` on a purchase order.
fn order_pledge_body(bank: &Bank, order: &str, amount: &str, nonce: &str) -> Value {
    let mut body = pledge_body(bank, order, amount, "CNY", nonce);
    let signature = body["signature"].take();
    json!({"purchase_order_id": order, "amount": amount, "signature": signature})
}

async fn a_purchase_order_is_not_pledged_over_receivables_financed_elsewhere(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let order = acknowledged_order(&app, &deal, "PO-REV-1", "5000.00").await;
    let asset = asset_under_order(&app, &deal, &order, "INV-REV-1", "2000.00").await;
    assert_eq!(pledge(&app, &first, &asset, "2000.00", "rev-1").await.status(), 201);

    // Another bank would become the only one that may finance a receivable
    // the first already finances: refused, and alerted.
    let response = post_with_key(
        &app,
        "/v1/pledges",
        &second.api_key(),
        "rev-2",
        &order_pledge_body(&second, &order, "1000.00", "rev-2"),
    )
    .await;
    let problem = assert_problem(response, 409, "already_encumbered").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("risk officers were alerted"),
        "{problem}"
    );
    // The bank that finances the receivable may take the order.
    let response = post_with_key(
        &app,
        "/v1/pledges",
        &first.api_key(),
        "rev-3",
        &order_pledge_body(&first, &order, "1000.00", "rev-3"),
    )
    .await;
    assert_eq!(response.status(), 201);
}

async fn a_purchase_order_and_its_receivable_raced_by_two_banks_get_one_lien(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    for round in 0..5 {
        let order = acknowledged_order(&app, &deal, &format!("PO-RACE-{round}"), "5000.00").await;
        let asset = asset_under_order(&app, &deal, &order, &format!("INV-RACE-{round}"), "2000.00").await;
        let (on_order, on_asset) = (format!("race-po-{round}"), format!("race-asset-{round}"));
        let statuses = send_together(vec![
            app.client
                .post(app.url("/v1/pledges"))
                .bearer_auth(first.api_key())
                .header("Idempotency-Key", &on_order)
                .json(&order_pledge_body(&first, &order, "1000.00", &on_order)),
            app.client
                .post(app.url("/v1/pledges"))
                .bearer_auth(second.api_key())
                .header("Idempotency-Key", &on_asset)
                .json(&pledge_body(&second, &asset, "2000.00", "CNY", &on_asset)),
        ])
        .await;
        // Whoever came second is refused: 409 for the order (its receivable
        // is financed), 403 for the receivable (its order is).
        assert!(
            statuses == [201, 403] || statuses == [409, 201],
            "round {round}: {statuses:?}"
        );
    }
}
