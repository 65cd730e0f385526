//! Lending end to end: banks finance only what the holder offered them, one
//! lien at a time whatever the concurrency (also across two server
//! processes on PostgreSQL), idempotent signed requests, invariant 4, the
//! buyer's signed payments through the waterfall and the banks' receipts,
//! releases and defaults. The messages are signed here from the documented
//! canonical lines (docs/FINANCING.md), independently of the server's code.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, eventually, send_together, TestApp};
use crate::on_both_backends;
use crate::registry::{confirm, deal, invoice, onboard, register, registered, sign, Deal};

on_both_backends!(
    the_holder_offering_a_financed_asset_again_is_refused_and_alerted,
    retries_with_the_same_key_return_the_first_answer,
    bad_pledges_are_refused_with_closed_codes,
    racing_banks_get_exactly_one_lien,
    payments_run_through_the_waterfall_and_receipts_end_the_liens,
    a_retry_after_a_dropped_connection_never_pledges_twice,
    many_concurrent_pledges_commit_together_and_each_is_on_the_ledger,
    a_released_pledge_frees_the_asset,
    a_key_revoked_after_it_pledged_pledges_nothing_more,
    a_payment_racing_a_release_pays_the_bank_only_if_its_pledge_stood,
    a_purchase_order_lien_reserves_its_receivables,
    a_purchase_order_is_not_offered_over_receivables_financed_elsewhere,
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

/// An organisation that offers what it holds: its API key, id and key.
pub struct Holder<'a> {
    pub api_key: String,
    pub id: String,
    pub key: &'a SigningKey,
}

impl Deal {
    /// The supplier, as the holder of its assets.
    pub fn holder(&self) -> Holder<'_> {
        Holder {
            api_key: Deal::key(&self.supplier),
            id: Deal::id(&self.supplier),
            key: &self.supplier_key,
        }
    }

    /// The second-tier supplier, holder of what was transferred to it.
    pub fn second_holder(&self) -> Holder<'_> {
        Holder {
            api_key: Deal::key(&self.second_supplier),
            id: Deal::id(&self.second_supplier),
            key: &self.second_supplier_key,
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, `seconds` from now.
pub fn expiry_in(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A holder's signed offer of `subject` (`asset:<id>` or
/// `purchase_order:<id>`) to `bank_id`, in CNY.
#[allow(clippy::too_many_arguments)]
pub fn offer_body(
    holder: &Holder,
    subject: &str,
    bank_id: &str,
    kind: &str,
    amount: &str,
    expires_at: &str,
    nonce: &str,
) -> Value {
    let (what, id) = subject.split_once(':').unwrap();
    let signature = sign(
        holder.key,
        &[
            format!("anchorfin/v1/offer_{kind}"),
            format!("subject={subject}"),
            format!("bank={bank_id}"),
            format!("amount={amount}"),
            "currency=CNY".to_owned(),
            format!("expires_at={expires_at}"),
            format!("holder={}", holder.id),
            format!("nonce={nonce}"),
        ],
    );
    let mut body = json!({"bank_id": bank_id, "kind": kind, "amount": amount, "currency": "CNY",
                          "expires_at": expires_at, "signature": signature});
    body[format!("{what}_id")] = json!(id);
    body
}

/// The holder offers `subject` to the bank for a day.
pub async fn offer(
    app: &TestApp,
    holder: &Holder<'_>,
    subject: &str,
    bank: &Bank,
    kind: &str,
    amount: &str,
) -> reqwest::Response {
    let nonce = uuid::Uuid::new_v4().to_string();
    let body = offer_body(holder, subject, &bank.id(), kind, amount, &expiry_in(86_400), &nonce);
    post_with_key(app, "/v1/offers", &holder.api_key, &nonce, &body).await
}

/// An open offer's id; asserts it was made.
pub async fn offered(
    app: &TestApp,
    holder: &Holder<'_>,
    subject: &str,
    bank: &Bank,
    kind: &str,
    amount: &str,
) -> String {
    let response = offer(app, holder, subject, bank, kind, amount).await;
    assert_eq!(response.status(), 201, "offer of {subject}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "open", "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// A bank's signed acceptance of `offer`: `action` is `pledge` or `assign`.
pub fn accept_body(bank: &Bank, action: &str, offer: &str, subject: &str, amount: &str, nonce: &str) -> Value {
    let (what, id) = subject.split_once(':').unwrap();
    let signature = sign(
        &bank.key,
        &[
            format!("anchorfin/v1/{action}"),
            format!("offer={offer}"),
            format!("subject={subject}"),
            format!("amount={amount}"),
            "currency=CNY".to_owned(),
            format!("bank={}", bank.id()),
            format!("nonce={nonce}"),
        ],
    );
    let mut body = json!({"offer_id": offer, "amount": amount, "signature": signature});
    body[format!("{what}_id")] = json!(id);
    body
}

/// A pledge body for an asset.
pub fn pledge_body(bank: &Bank, offer: &str, asset: &str, amount: &str, nonce: &str) -> Value {
    accept_body(bank, "pledge", offer, &format!("asset:{asset}"), amount, nonce)
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

pub async fn pledge(
    app: &TestApp,
    bank: &Bank,
    offer: &str,
    asset: &str,
    amount: &str,
    nonce: &str,
) -> reqwest::Response {
    post_with_key(
        app,
        "/v1/pledges",
        &bank.api_key(),
        nonce,
        &pledge_body(bank, offer, asset, amount, nonce),
    )
    .await
}

/// The supplier offers `asset` to `bank` for `amount`, and the bank pledges
/// it; the lien.
pub async fn financed(app: &TestApp, deal: &Deal, bank: &Bank, asset: &str, amount: &str) -> Value {
    let offer = offered(app, &deal.holder(), &format!("asset:{asset}"), bank, "pledge", amount).await;
    let response = pledge(app, bank, &offer, asset, amount, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(response.status(), 201, "pledge of {asset}");
    response.json().await.unwrap()
}

/// The buyer's signed payment of `amount` CNY on `paid_on`.
pub fn payment_body(deal: &Deal, asset: &str, amount: &str, paid_on: &str, nonce: &str) -> Value {
    let signature = sign(
        &deal.buyer_key,
        &[
            "anchorfin/v1/payment".to_owned(),
            format!("asset={asset}"),
            format!("amount={amount}"),
            "currency=CNY".to_owned(),
            format!("paid_on={paid_on}"),
            format!("buyer={}", Deal::id(&deal.buyer)),
            format!("nonce={nonce}"),
        ],
    );
    json!({"amount": amount, "paid_on": paid_on, "signature": signature})
}

/// The buyer pays `amount` CNY on 2027-03-31, with `api_key`.
pub async fn pay(app: &TestApp, deal: &Deal, asset: &str, api_key: &str, amount: &str) -> reqwest::Response {
    let nonce = uuid::Uuid::new_v4().to_string();
    post_with_key(
        app,
        &format!("/v1/assets/{asset}/payments"),
        api_key,
        &nonce,
        &payment_body(deal, asset, amount, "2027-03-31", &nonce),
    )
    .await
}

/// The lienholder's signed receipt of `amount` CNY.
pub async fn receipt(app: &TestApp, bank: &Bank, lien: &str, amount: &str) -> reqwest::Response {
    let signature = sign(
        &bank.key,
        &[
            "anchorfin/v1/receipt".to_owned(),
            format!("lien={lien}"),
            format!("amount={amount}"),
            "currency=CNY".to_owned(),
            format!("bank={}", bank.id()),
        ],
    );
    app.post_json(
        &format!("/v1/pledges/{lien}/receipt"),
        Some(&bank.api_key()),
        &json!({"amount": amount, "signature": signature}),
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

async fn the_holder_offering_a_financed_asset_again_is_refused_and_alerted(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let asset = confirmed_asset(&app, &deal, "INV-L-1", "1000.00").await;
    let subject = format!("asset:{asset}");
    let start = app.ledger_mark().await;

    let offer = offered(&app, &deal.holder(), &subject, &first, "pledge", "800.00").await;
    let response = pledge(&app, &first, &offer, &asset, "800.00", "first-1").await;
    assert_eq!(response.status(), 201);
    let lien: Value = response.json().await.unwrap();
    assert_eq!(lien["status"], "active");
    assert_eq!(lien["kind"], "pledge");
    assert_eq!(lien["amount"], "800.00");
    assert_eq!(lien["offer_id"], offer.as_str());
    assert_eq!(lien["ledger"]["leaf_hash"].as_str().unwrap().len(), 64);
    let taken: Value = app
        .get_json(&format!("/v1/offers/{offer}"), Some(&first.api_key()))
        .await;
    assert_eq!(taken["status"], "taken");
    assert_eq!(taken["lien_id"], lien["id"]);

    // The double-financing attempt comes from the holder now: refused, alerted.
    let response = crate::lending::offer(&app, &deal.holder(), &subject, &second, "pledge", "100.00").await;
    let problem = assert_problem(response, 409, "already_encumbered").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("risk officers were alerted"), "{problem}");
    assert!(!detail.contains(&first.id()), "never by whom: {problem}");
    // The second bank has no offer: 404, as for an asset it cannot see.
    let response = pledge(&app, &second, &offer, &asset, "100.00", "second-1").await;
    assert_problem(response, 404, "not_found").await;

    // The first bank sees the asset and its lien; the second does not.
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

    // The refusal's alert is on the ledger after the offer and the pledge;
    // the other refusals wrote nothing.
    assert_eq!(
        app.kinds_since(start).await,
        ["offer_made", "asset_pledged", "alert_raised"]
    );
}

async fn retries_with_the_same_key_return_the_first_answer(app: TestApp) {
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-L-2", "1000.00").await;
    let subject = format!("asset:{asset}");

    // An offer: a retry gets the same offer, not a second one (nor 409).
    let expires_at = expiry_in(3_600);
    let body = offer_body(
        &deal.holder(),
        &subject,
        &first.id(),
        "pledge",
        "500.00",
        &expires_at,
        "offer-1",
    );
    let key = Deal::key(&deal.supplier);
    let one: Value = post_with_key(&app, "/v1/offers", &key, "offer-1", &body)
        .await
        .json()
        .await
        .unwrap();
    let response = post_with_key(&app, "/v1/offers", &key, "offer-1", &body).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.json::<Value>().await.unwrap(), one);
    let offer = one["id"].as_str().unwrap();

    let body = pledge_body(&first, offer, &asset, "500.00", "retry-1");
    let lien: Value = post_with_key(&app, "/v1/pledges", &first.api_key(), "retry-1", &body)
        .await
        .json()
        .await
        .unwrap();
    let response = post_with_key(&app, "/v1/pledges", &first.api_key(), "retry-1", &body).await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        lien,
        "the first answer, the same pledge"
    );

    // The same key with another body is refused.
    let other = pledge_body(&first, offer, &asset, "400.00", "retry-1");
    let response = post_with_key(&app, "/v1/pledges", &first.api_key(), "retry-1", &other).await;
    assert_problem(response, 422, "idempotency_mismatch").await;

    // A refusal is replayed as well, even after things changed: a second
    // acceptance of the taken offer is 404, and stays 404 after release.
    let again = pledge_body(&first, offer, &asset, "100.00", "retry-2");
    let response = post_with_key(&app, "/v1/pledges", &first.api_key(), "retry-2", &again).await;
    assert_problem(response, 404, "not_found").await;
    let release = app
        .post_json(
            &format!("/v1/pledges/{}/release", lien["id"].as_str().unwrap()),
            Some(&first.api_key()),
            &json!({}),
        )
        .await;
    assert_eq!(release.status(), 200);
    let response = post_with_key(&app, "/v1/pledges", &first.api_key(), "retry-2", &again).await;
    assert_problem(response, 404, "not_found").await;

    // Keys are per organisation: the holder's offer key is its own.
    let fresh = offer_body(
        &deal.holder(),
        &subject,
        &first.id(),
        "pledge",
        "300.00",
        &expires_at,
        "retry-1",
    );
    let response = post_with_key(&app, "/v1/offers", &key, "retry-1", &fresh).await;
    assert_eq!(response.status(), 201);
}

async fn bad_pledges_are_refused_with_closed_codes(app: TestApp) {
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-L-3", "1000.00").await;
    let offer = offered(
        &app,
        &deal.holder(),
        &format!("asset:{asset}"),
        &first,
        "pledge",
        "900.00",
    )
    .await;

    // Over the offer; the offer is a pledge's, not an assignment's.
    assert_problem(
        pledge(&app, &first, &offer, &asset, "900.01", "bad-1").await,
        422,
        "exceeds_offer",
    )
    .await;
    let body = accept_body(&first, "assign", &offer, &format!("asset:{asset}"), "900.00", "bad-1b");
    let response = post_with_key(&app, "/v1/assignments", &first.api_key(), "bad-1b", &body).await;
    assert_problem(response, 404, "not_found").await;
    // Signed with another key, or for another nonce.
    let stranger = Bank {
        org: first.org.clone(),
        key: SigningKey::from_bytes(&[77; 32]),
    };
    assert_problem(
        pledge(&app, &stranger, &offer, &asset, "10.00", "bad-2").await,
        422,
        "invalid_signature",
    )
    .await;
    let body = pledge_body(&first, &offer, &asset, "10.00", "signed-nonce");
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
        pledge(&app, &first, &offer, &asset, "10.001", "bad-3").await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "amount");
    // No offer by that id, or one of another asset: 404.
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_problem(
        pledge(&app, &first, &unknown, &asset, "10.00", "bad-5").await,
        404,
        "not_found",
    )
    .await;
    let other = confirmed_asset(&app, &deal, "INV-L-3B", "50.00").await;
    assert_problem(
        pledge(&app, &first, &offer, &other, "10.00", "bad-5b").await,
        404,
        "not_found",
    )
    .await;
    // Not a bank: 403 for the holder who sees its offer, 404 for others.
    let response = post_with_key(&app, "/v1/pledges", &Deal::key(&deal.supplier), "bad-6", &body).await;
    assert_problem(response, 403, "forbidden").await;
    let response = post_with_key(&app, "/v1/pledges", &Deal::key(&deal.second_supplier), "bad-6", &body).await;
    assert_problem(response, 404, "not_found").await;
    // Keys are checked first: none, or a wrong one, whatever the body.
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
    let response = post_with_key(&app, "/v1/pledges", &wrong, "bad-9", &json!({"offer_id": 5})).await;
    assert_problem(response, 401, "unauthorized").await;
    let response = post_with_key(&app, "/v1/pledges", &key, "bad-9", &json!({"offer_id": 5})).await;
    assert_eq!(
        assert_problem(response, 422, "invalid_field").await["field"],
        "offer_id"
    );
    // An asset paid while offered cannot be financed any more.
    assert_eq!(
        pay(&app, &deal, &asset, &Deal::key(&deal.buyer), "1000.00")
            .await
            .status(),
        201
    );
    assert_problem(
        pledge(&app, &first, &offer, &asset, "10.00", "bad-7").await,
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
    // The offer is addressed to bank 3, which also races itself.
    let offer = offered(
        &app,
        &deal.holder(),
        &format!("asset:{asset}"),
        &banks[3],
        "pledge",
        "900.00",
    )
    .await;
    let mut requests = Vec::new();
    for (index, bank) in banks.iter().chain(std::iter::once(&banks[3])).enumerate() {
        let nonce = format!("race-{index}");
        let request = app
            .client
            .post(app.url("/v1/pledges"))
            .bearer_auth(bank.api_key())
            .header("Idempotency-Key", &nonce)
            .json(&pledge_body(bank, &offer, &asset, "900.00", &nonce));
        requests.push(request);
    }
    let mut statuses = send_together(requests).await;
    statuses.sort();
    assert_eq!(statuses, [vec![201], vec![404; 8]].concat());
    let seen: Value = app
        .get_json(&format!("/v1/assets/{asset}"), Some(&banks[3].api_key()))
        .await;
    assert_eq!(seen["lien"]["bank_id"], banks[3].id());
}

async fn payments_run_through_the_waterfall_and_receipts_end_the_liens(app: TestApp) {
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let buyer_key = Deal::key(&deal.buyer);

    // A pledged asset: 700 to the bank, 300 to the supplier.
    let asset = confirmed_asset(&app, &deal, "INV-PAY-1", "1000.00").await;
    let lien = financed(&app, &deal, &first, &asset, "700.00").await;
    let lien_id = lien["id"].as_str().unwrap();
    // Only the buyer pays, signed, and exactly what is outstanding.
    let response = pay(&app, &deal, &asset, &Deal::key(&deal.supplier), "1000.00").await;
    assert_problem(response, 403, "forbidden").await;
    let response = pay(&app, &deal, &asset, &buyer_key, "999.99").await;
    assert_problem(response, 422, "payment_mismatch").await;
    let unsigned = app
        .post_json(
            &format!("/v1/assets/{asset}/payments"),
            Some(&buyer_key),
            &json!({"amount": "1000.00", "paid_on": "2027-03-31"}),
        )
        .await;
    assert_eq!(
        assert_problem(unsigned, 422, "invalid_field").await["field"],
        "signature"
    );
    let mut forged = payment_body(&deal, &asset, "1000.00", "2027-03-31", "pay-forged");
    forged["paid_on"] = json!("2027-03-30");
    let response = post_with_key(
        &app,
        &format!("/v1/assets/{asset}/payments"),
        &buyer_key,
        "pay-forged",
        &forged,
    )
    .await;
    assert_problem(response, 422, "invalid_signature").await;
    // Refusals are stored too: the corrected payment needs a new key.
    let body = payment_body(&deal, &asset, "1000.00", "2027-03-31", "pay-1");
    let path = format!("/v1/assets/{asset}/payments");
    let response = post_with_key(&app, &path, &buyer_key, "pay-1", &body).await;
    assert_eq!(response.status(), 201);
    let paid: Value = response.json().await.unwrap();
    assert_eq!(
        distributions(&paid),
        vec![
            (first.id(), "700.00".to_owned(), "lienholder".to_owned()),
            (Deal::id(&deal.supplier), "300.00".to_owned(), "holder".to_owned()),
        ]
    );
    // A retry gets the first answer, not "nothing is outstanding".
    let response = post_with_key(&app, &path, &buyer_key, "pay-1", &body).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.json::<Value>().await.unwrap(), paid);
    let seen: Value = app.get_json(&format!("/v1/assets/{asset}"), Some(&buyer_key)).await;
    assert_eq!(seen["status"], "settled");
    assert_eq!(seen["lien"]["status"], "settling", "{seen}");
    let receivable: Value = app
        .get_json(
            &format!("/v1/receivables/{}", seen["receivable_id"].as_str().unwrap()),
            Some(&buyer_key),
        )
        .await;
    assert_eq!(receivable["status"], "settled");
    // Paying twice is impossible.
    let response = pay(&app, &deal, &asset, &buyer_key, "1000.00").await;
    assert_problem(response, 409, "asset_not_active").await;

    // The lien stands until the bank signs the receipt of exactly its share.
    let shown: Value = app
        .get_json(&format!("/v1/pledges/{lien_id}"), Some(&first.api_key()))
        .await;
    assert_eq!(shown["status"], "settling");
    assert_eq!(shown["share"], "700.00");
    assert_problem(receipt(&app, &first, lien_id, "699.99").await, 422, "receipt_mismatch").await;
    let stranger = Bank {
        org: first.org.clone(),
        key: SigningKey::from_bytes(&[78; 32]),
    };
    assert_problem(
        receipt(&app, &stranger, lien_id, "700.00").await,
        422,
        "invalid_signature",
    )
    .await;
    let response = receipt(&app, &first, lien_id, "700.00").await;
    assert_eq!(response.status(), 200);
    let settled: Value = response.json().await.unwrap();
    assert_eq!(settled["status"], "settled");
    assert!(settled["ended_at"].is_string());
    assert_problem(receipt(&app, &first, lien_id, "700.00").await, 409, "lien_not_settling").await;
    // The bank still sees what it financed until settlement.
    let seen: Value = app
        .get_json(&format!("/v1/assets/{asset}"), Some(&first.api_key()))
        .await;
    assert_eq!(seen["status"], "settled");

    // A split asset: each child is paid to its own holder, the pledged one
    // (transferred to the second-tier supplier, which offered it) through
    // its lienholder.
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
    let offer = offered(
        &app,
        &deal.second_holder(),
        &format!("asset:{child}"),
        &first,
        "pledge",
        "40.00",
    )
    .await;
    let response = pledge(&app, &first, &offer, child, "30.00", "pay-2").await;
    assert_eq!(response.status(), 201);
    let child_lien: Value = response.json().await.unwrap();
    let response = pay(&app, &deal, &asset, &buyer_key, "100.00").await;
    assert_eq!(response.status(), 201);
    let paid: Value = response.json().await.unwrap();
    assert_eq!(
        distributions(&paid),
        vec![
            (Deal::id(&deal.supplier), "60.00".to_owned(), "holder".to_owned()),
            (first.id(), "30.00".to_owned(), "lienholder".to_owned()),
            (Deal::id(&deal.second_supplier), "10.00".to_owned(), "holder".to_owned()),
        ]
    );
    let response = receipt(&app, &first, child_lien["id"].as_str().unwrap(), "30.00").await;
    assert_eq!(response.status(), 200);
}

async fn a_released_pledge_frees_the_asset(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let asset = confirmed_asset(&app, &deal, "INV-REL-1", "1000.00").await;
    let lien = financed(&app, &deal, &first, &asset, "500.00").await;
    let path = format!("/v1/pledges/{}/release", lien["id"].as_str().unwrap());
    // Only the lienholder releases; the holder sees the lien but may not,
    // another bank does not even see it.
    assert_problem(
        app.post_json(&path, Some(&second.api_key()), &json!({})).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(&path, Some(&Deal::key(&deal.supplier)), &json!({})).await,
        403,
        "forbidden",
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
    // Free again: the holder sells it to the second bank at the price asked.
    let subject = format!("asset:{asset}");
    let offer = offered(&app, &deal.holder(), &subject, &second, "assignment", "950.00").await;
    let sell = |price: &str, nonce: &str| accept_body(&second, "assign", &offer, &subject, price, nonce);
    let response = post_with_key(
        &app,
        "/v1/assignments",
        &second.api_key(),
        "assign-0",
        &sell("900.00", "assign-0"),
    )
    .await;
    assert_problem(response, 422, "price_mismatch").await;
    let response = post_with_key(
        &app,
        "/v1/assignments",
        &second.api_key(),
        "assign-1",
        &sell("950.00", "assign-1"),
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

/// The gate admits a key it authenticated in the last seconds to a pledge
/// without asking the database (the decision authenticates it again in
/// its own transaction): a key revoked in between is refused there, 401,
/// and nothing is pledged — the offer stays open.
async fn a_key_revoked_after_it_pledged_pledges_nothing_more(app: TestApp) {
    let deal = deal(&app).await;
    let bank = bank(&app, "Bank Revoked", 23).await;
    let first = confirmed_asset(&app, &deal, "INV-REVOKED-1", "1000.00").await;
    let second = confirmed_asset(&app, &deal, "INV-REVOKED-2", "1000.00").await;
    // The gate authenticates the key and remembers it.
    financed(&app, &deal, &bank, &first, "500.00").await;
    let offer = offered(
        &app,
        &deal.holder(),
        &format!("asset:{second}"),
        &bank,
        "pledge",
        "500.00",
    )
    .await;
    app.tamper(&[&format!(
        "UPDATE api_keys SET revoked_at = created_at WHERE organization_id = '{}'",
        bank.id()
    )]);
    let response = pledge(&app, &bank, &offer, &second, "500.00", "after-revocation").await;
    assert_problem(response, 401, "unauthorized").await;
    let seen: Value = app
        .get_json(&format!("/v1/assets/{second}"), Some(&Deal::key(&deal.supplier)))
        .await;
    assert!(seen["lien"].is_null(), "{seen}");
    let offer: Value = app
        .get_json(&format!("/v1/offers/{offer}"), Some(&Deal::key(&deal.supplier)))
        .await;
    assert_eq!(offer["status"], "open", "{offer}");
}

async fn a_payment_racing_a_release_pays_the_bank_only_if_its_pledge_stood(app: TestApp) {
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let buyer_key = Deal::key(&deal.buyer);
    // Which one wins each round is up to the scheduler; whichever does, the
    // bank is paid a share exactly when its pledge stood. (The window in
    // which a release could slip between the payment's read of the lien
    // and its settlement is narrow: this checks the outcome, the lock
    // order in `lending::lien::release` closes the window.)
    for round in 0..12 {
        let asset = confirmed_asset(&app, &deal, &format!("INV-RACE-PR-{round}"), "1000.00").await;
        let lien = financed(&app, &deal, &first, &asset, "600.00").await;
        let lien_id = lien["id"].as_str().unwrap().to_owned();
        let nonce = format!("race-pay-{round}");
        let payment = app
            .client
            .post(app.url(&format!("/v1/assets/{asset}/payments")))
            .bearer_auth(&buyer_key)
            .header("Idempotency-Key", &nonce)
            .json(&payment_body(&deal, &asset, "1000.00", "2027-03-31", &nonce));
        let release = app
            .client
            .post(app.url(&format!("/v1/pledges/{lien_id}/release")))
            .bearer_auth(first.api_key())
            .json(&json!({}));
        let (payment, release) = tokio::join!(payment.send(), release.send());
        let (payment, release) = (payment.unwrap(), release.unwrap());
        assert_eq!(payment.status(), 201, "round {round}");
        let paid: Value = payment.json().await.unwrap();
        let shown: Value = app
            .get_json(&format!("/v1/pledges/{lien_id}"), Some(&first.api_key()))
            .await;
        let supplier = Deal::id(&deal.supplier);
        if release.status() == 200 {
            // Released before the payment: the supplier gets it all, and
            // the bank is owed nothing.
            assert_eq!(shown["status"], "released", "round {round}: {shown}");
            assert_eq!(
                distributions(&paid),
                vec![(supplier, "1000.00".to_owned(), "holder".to_owned())],
                "round {round}"
            );
        } else {
            // Paid first: the bank was paid its share and its lien awaits
            // the receipt; releasing it now is refused.
            assert_problem(release, 409, "lien_not_active").await;
            assert_eq!(shown["status"], "settling", "round {round}: {shown}");
            assert_eq!(
                distributions(&paid),
                vec![
                    (first.id(), "600.00".to_owned(), "lienholder".to_owned()),
                    (supplier, "400.00".to_owned(), "holder".to_owned()),
                ],
                "round {round}"
            );
            assert_eq!(receipt(&app, &first, &lien_id, "600.00").await.status(), 200);
        }
    }
}

/// A purchase order registered by the supplier.
pub async fn registered_order(app: &TestApp, deal: &Deal, number: &str, amount: &str) -> Value {
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
pub async fn acknowledged_order(app: &TestApp, deal: &Deal, number: &str, amount: &str) -> String {
    let order = registered_order(app, deal, number, amount).await;
    acknowledge(app, deal, &order, amount).await;
    order["id"].as_str().unwrap().to_owned()
}

/// A confirmed receivable registered against `order`; its asset id.
pub async fn asset_under_order(app: &TestApp, deal: &Deal, order: &str, number: &str, amount: &str) -> String {
    let mut body = invoice(deal, number, amount);
    body["purchase_order_id"] = json!(order);
    let receivable: Value = register(app, deal, &body).await.json().await.unwrap();
    let confirmed: Value = confirm(app, deal, &receivable).await.json().await.unwrap();
    confirmed["asset_id"].as_str().unwrap().to_owned()
}

/// A pledge of `amount` on a purchase order, accepting `offer`.
pub fn order_pledge_body(bank: &Bank, offer: &str, order: &str, amount: &str, nonce: &str) -> Value {
    accept_body(bank, "pledge", offer, &format!("purchase_order:{order}"), amount, nonce)
}

async fn a_purchase_order_lien_reserves_its_receivables(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let start = app.ledger_mark().await;
    let order = registered_order(&app, &deal, "PO-FIN-1", "5000.00").await;
    let order_id = order["id"].as_str().unwrap();
    let subject = format!("purchase_order:{order_id}");
    // Not acknowledged yet: it cannot be offered.
    let response = crate::lending::offer(&app, &deal.holder(), &subject, &first, "pledge", "4000.00").await;
    assert_problem(response, 409, "not_confirmed").await;
    acknowledge(&app, &deal, &order, "5000.00").await;
    // An order is offered for a pledge only, and within its amount.
    let response = crate::lending::offer(&app, &deal.holder(), &subject, &first, "assignment", "4000.00").await;
    assert_eq!(assert_problem(response, 422, "invalid_field").await["field"], "kind");
    let response = crate::lending::offer(&app, &deal.holder(), &subject, &first, "pledge", "5000.01").await;
    assert_problem(response, 422, "exceeds_face_value").await;
    let offer = offered(&app, &deal.holder(), &subject, &first, "pledge", "4000.00").await;
    // The bank it is offered to may read the order; another may not.
    assert_eq!(
        app.get(&format!("/v1/purchase-orders/{order_id}"), Some(&first.api_key()))
            .await
            .status(),
        200
    );
    assert_problem(
        app.get(&format!("/v1/purchase-orders/{order_id}"), Some(&second.api_key()))
            .await,
        404,
        "not_found",
    )
    .await;
    let response = post_with_key(
        &app,
        "/v1/pledges",
        &second.api_key(),
        "po-2",
        &order_pledge_body(&second, &offer, order_id, "4000.00", "po-2"),
    )
    .await;
    assert_problem(response, 404, "not_found").await;
    let response = post_with_key(
        &app,
        "/v1/pledges",
        &first.api_key(),
        "po-1",
        &order_pledge_body(&first, &offer, order_id, "4000.00", "po-1"),
    )
    .await;
    assert_eq!(response.status(), 201);
    // The order is encumbered now: offering it again is refused and alerted.
    let response = crate::lending::offer(&app, &deal.holder(), &subject, &second, "pledge", "100.00").await;
    assert_problem(response, 409, "already_encumbered").await;

    // A receivable under that order: only the first bank may finance it —
    // offering it to another is refused and alerted.
    let asset = asset_under_order(&app, &deal, order_id, "INV-PO-FIN-1", "3000.00").await;
    let response = crate::lending::offer(
        &app,
        &deal.holder(),
        &format!("asset:{asset}"),
        &second,
        "pledge",
        "3000.00",
    )
    .await;
    assert_problem(response, 409, "already_encumbered").await;
    financed(&app, &deal, &first, &asset, "3000.00").await;
    // The order and its acknowledgement; offer and pledge; the refused
    // offer's alert; the receivable; the other refused offer's alert; offer
    // and pledge. The other refusals wrote nothing.
    assert_eq!(
        app.kinds_since(start).await,
        [
            "purchase_order_registered",
            "purchase_order_acknowledged",
            "offer_made",
            "purchase_order_pledged",
            "alert_raised",
            "receivable_registered",
            "receivable_confirmed",
            "alert_raised",
            "offer_made",
            "asset_pledged",
        ]
    );
}

async fn a_purchase_order_is_not_offered_over_receivables_financed_elsewhere(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let order = acknowledged_order(&app, &deal, "PO-REV-1", "5000.00").await;
    let asset = asset_under_order(&app, &deal, &order, "INV-REV-1", "2000.00").await;
    financed(&app, &deal, &first, &asset, "2000.00").await;

    // Another bank would become the only one that may finance a receivable
    // the first already finances: refused, and alerted.
    let subject = format!("purchase_order:{order}");
    let response = crate::lending::offer(&app, &deal.holder(), &subject, &second, "pledge", "1000.00").await;
    let problem = assert_problem(response, 409, "already_encumbered").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("risk officers were alerted"),
        "{problem}"
    );
    // The bank that finances the receivable may take the order.
    let offer = offered(&app, &deal.holder(), &subject, &first, "pledge", "1000.00").await;
    let response = post_with_key(
        &app,
        "/v1/pledges",
        &first.api_key(),
        "rev-3",
        &order_pledge_body(&first, &offer, &order, "1000.00", "rev-3"),
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
        // Both offers are made while neither is financed.
        let order_offer = offered(
            &app,
            &deal.holder(),
            &format!("purchase_order:{order}"),
            &first,
            "pledge",
            "1000.00",
        )
        .await;
        let asset_offer = offered(
            &app,
            &deal.holder(),
            &format!("asset:{asset}"),
            &second,
            "pledge",
            "2000.00",
        )
        .await;
        let (on_order, on_asset) = (format!("race-po-{round}"), format!("race-asset-{round}"));
        let statuses = send_together(vec![
            app.client
                .post(app.url("/v1/pledges"))
                .bearer_auth(first.api_key())
                .header("Idempotency-Key", &on_order)
                .json(&order_pledge_body(&first, &order_offer, &order, "1000.00", &on_order)),
            app.client
                .post(app.url("/v1/pledges"))
                .bearer_auth(second.api_key())
                .header("Idempotency-Key", &on_asset)
                .json(&pledge_body(&second, &asset_offer, &asset, "2000.00", &on_asset)),
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

/// Waits until the sweep has defaulted `asset`, as `api_key` sees it.
async fn defaulted(app: &TestApp, api_key: &str, asset: &str) {
    eventually(&format!("the overdue asset {asset} defaults"), || async {
        let seen: Value = app.get_json(&format!("/v1/assets/{asset}"), Some(api_key)).await;
        (seen["status"] == "defaulted").then_some(())
    })
    .await;
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
    defaulted(&app, &key, asset).await;
    let seen: Value = app
        .get_json(
            &format!("/v1/receivables/{}", receivable["id"].as_str().unwrap()),
            Some(&key),
        )
        .await;
    assert_eq!(seen["status"], "defaulted");
    // A defaulted asset cannot be offered; a late payment still settles it.
    let bank = bank(&app, "Bank One", 21).await;
    let response = crate::lending::offer(
        &app,
        &deal.holder(),
        &format!("asset:{asset}"),
        &bank,
        "pledge",
        "10.00",
    )
    .await;
    assert_problem(response, 409, "asset_not_active").await;
    let nonce = "late-1";
    let response = post_with_key(
        &app,
        &format!("/v1/assets/{asset}/payments"),
        &Deal::key(&deal.buyer),
        nonce,
        &payment_body(&deal, asset, "10.00", "2025-03-01", nonce),
    )
    .await;
    assert_eq!(response.status(), 201);
    // A receivable not yet due stays active: another overdue one, confirmed
    // after it, defaults, so a sweep ran since the fresh one was there.
    let fresh = confirmed_asset(&app, &deal, "INV-NEW-1", "10.00").await;
    let mut body = invoice(&deal, "INV-OLD-2", "11.00");
    body["issue_date"] = json!("2025-01-01");
    body["due_date"] = json!("2025-02-01");
    let receivable: Value = register(&app, &deal, &body).await.json().await.unwrap();
    let confirmed: Value = confirm(&app, &deal, &receivable).await.json().await.unwrap();
    defaulted(&app, &key, confirmed["asset_id"].as_str().unwrap()).await;
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
    financed(&app, &deal, &first, asset, "100.00").await;
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
    financed(&app, &deal, &first, second_part, "40.00").await;
    assert_eq!(encumbered().await, true);
}

async fn a_retry_after_a_dropped_connection_never_pledges_twice(app: TestApp) {
    let deal = deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-DROP-1", "1000.00").await;
    let offer = offered(
        &app,
        &deal.holder(),
        &format!("asset:{asset}"),
        &first,
        "pledge",
        "500.00",
    )
    .await;
    let start = app.ledger_mark().await;
    let body = pledge_body(&first, &offer, &asset, "500.00", "drop-1");
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
    // One pledge, whatever became of the dropped attempts.
    assert_eq!(app.kinds_since(start).await, ["asset_pledged"]);
}

/// Decisions are batched many per commit: 40 pledges of 20 assets sent at
/// once — each offered to the first bank, and raced by a second without an
/// offer — all get their own answer, exactly one lien per asset exists, and
/// every decision is on the ledger.
async fn many_concurrent_pledges_commit_together_and_each_is_on_the_ledger(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let mut assets = Vec::new();
    for number in 0..20 {
        // Distinct amounts: equal ones would be near-duplicate registrations.
        let amount = format!("{}.00", 100 + number);
        let asset = confirmed_asset(&app, &deal, &format!("INV-BATCH-{number}"), &amount).await;
        let offer = offered(
            &app,
            &deal.holder(),
            &format!("asset:{asset}"),
            &first,
            "pledge",
            "100.00",
        )
        .await;
        assets.push((asset, offer));
    }
    let start = app.ledger_mark().await;
    let mut requests = Vec::new();
    for (index, (asset, offer)) in assets.iter().enumerate() {
        for bank in [&first, &second] {
            let nonce = format!("batch-{index}-{}", bank.id());
            let request = app
                .client
                .post(app.url("/v1/pledges"))
                .bearer_auth(bank.api_key())
                .header("Idempotency-Key", &nonce)
                .json(&pledge_body(bank, offer, asset, "100.00", &nonce));
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
        statuses.iter().filter(|status| **status == 404).count(),
        20,
        "{statuses:?}"
    );
    for (asset, _) in &assets {
        let seen: Value = app
            .get_json(&format!("/v1/assets/{asset}"), Some(&Deal::key(&deal.supplier)))
            .await;
        assert_eq!(seen["lien"]["status"], "active", "{seen}");
        assert_eq!(seen["lien"]["bank_id"], first.id(), "{seen}");
    }
    // The 20 pledges, and no alert: the refused racers wrote nothing.
    let kinds = app.kinds_since(start).await;
    assert_eq!(kinds, ["asset_pledged"; 20]);
    // The metrics tell how the batches were decided: all set-based here.
    let metrics = app.get("/metrics", Some(&app.operator_key)).await.text().await.unwrap();
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
}
