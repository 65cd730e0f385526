//! The registry end to end: purchase orders, receivables, the buyer's signed
//! confirmation, assets, splits and transfers, bulk upload. Signatures are
//! made here from docs/PRODUCT.md §6's canonical messages, independently of the
//! server's code.

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, send_together, TestApp};
use crate::on_both_backends;

on_both_backends!(
    register_confirm_split_and_transfer,
    format_variants_of_one_invoice_are_refused_and_alerted,
    a_near_duplicate_is_accepted_and_alerted,
    invalid_registrations_name_the_field,
    purchase_orders_cap_what_is_invoiced_against_them,
    only_the_buyers_key_confirms,
    splits_must_conserve_value,
    racing_registrations_of_one_invoice_create_exactly_one,
    a_key_revoked_after_it_registered_registers_nothing_more,
    a_csv_upload_reports_every_row_and_is_idempotent,
    a_ubl_batch_upload_reports_every_invoice,
    an_xlsx_upload_is_sniffed_and_reports_excel_rows,
);

/// The parties of a typical deal.
pub struct Deal {
    pub supplier: Value,
    /// The supplier's signing key: it offers its assets to banks.
    pub supplier_key: SigningKey,
    pub second_supplier: Value,
    pub second_supplier_key: SigningKey,
    pub buyer: Value,
    pub buyer_key: SigningKey,
    pub bank: Value,
}

impl Deal {
    pub fn key(org: &Value) -> String {
        org["api_key"].as_str().unwrap().to_owned()
    }

    pub fn id(org: &Value) -> String {
        org["id"].as_str().unwrap().to_owned()
    }
}

pub async fn onboard(app: &TestApp, name: &str, role: &str, legal_id: &str, public_keys: Vec<String>) -> Value {
    let response = app
        .post_json(
            "/v1/orgs",
            Some(&app.operator_key),
            &json!({"name": name, "role": role, "legal_id": legal_id, "public_keys": public_keys}),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

pub async fn deal(app: &TestApp) -> Deal {
    let buyer_key = SigningKey::from_bytes(&[11; 32]);
    let supplier_key = SigningKey::from_bytes(&[13; 32]);
    Deal {
        supplier: onboard(
            app,
            "Shenzhen Parts",
            "supplier",
            "91440300MA5F000001",
            vec![hex::encode(supplier_key.verifying_key().to_bytes())],
        )
        .await,
        supplier_key,
        second_supplier: onboard(
            app,
            "Dongguan Screws",
            "supplier",
            "91441900MA5F000002",
            vec![hex::encode(
                SigningKey::from_bytes(&[15; 32]).verifying_key().to_bytes(),
            )],
        )
        .await,
        second_supplier_key: SigningKey::from_bytes(&[15; 32]),
        buyer: onboard(
            app,
            "Big Buyer",
            "core_enterprise",
            "91110000100000000X",
            vec![hex::encode(buyer_key.verifying_key().to_bytes())],
        )
        .await,
        buyer_key,
        bank: onboard(app, "Bank A", "bank", "5493001234567890AB", vec![]).await,
    }
}

pub fn invoice(deal: &Deal, number: &str, amount: &str) -> Value {
    json!({
        "buyer_id": Deal::id(&deal.buyer),
        "invoice_number": number,
        "issue_date": "2026-11-01",
        "due_date": "2027-03-31",
        "currency": "CNY",
        "amount": amount,
    })
}

pub fn sign(key: &SigningKey, lines: &[String]) -> String {
    hex::encode(key.sign(lines.join("\n").as_bytes()).to_bytes())
}

pub fn confirm_message(receivable: &Value) -> Vec<String> {
    vec![
        "anchorfin/v1/confirm".to_owned(),
        format!("receivable={}", receivable["id"].as_str().unwrap()),
        format!("fingerprint={}", receivable["fingerprint"].as_str().unwrap()),
        format!("amount={}", receivable["amount"].as_str().unwrap()),
        format!("currency={}", receivable["currency"].as_str().unwrap()),
        format!("due_date={}", receivable["due_date"].as_str().unwrap()),
        format!("supplier={}", receivable["supplier_id"].as_str().unwrap()),
        format!("buyer={}", receivable["buyer_id"].as_str().unwrap()),
    ]
}

pub async fn register(app: &TestApp, deal: &Deal, body: &Value) -> reqwest::Response {
    app.post_json("/v1/receivables", Some(&Deal::key(&deal.supplier)), body)
        .await
}

pub async fn registered(app: &TestApp, deal: &Deal, number: &str, amount: &str) -> Value {
    let response = register(app, deal, &invoice(deal, number, amount)).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

pub async fn confirm(app: &TestApp, deal: &Deal, receivable: &Value) -> reqwest::Response {
    let signature = sign(&deal.buyer_key, &confirm_message(receivable));
    app.post_json(
        &format!("/v1/receivables/{}/confirmation", receivable["id"].as_str().unwrap()),
        Some(&Deal::key(&deal.buyer)),
        &json!({ "signature": signature }),
    )
    .await
}

async fn register_confirm_split_and_transfer(app: TestApp) {
    let deal = deal(&app).await;
    let supplier_key = Deal::key(&deal.supplier);
    let start = app.ledger_mark().await;

    // A purchase order, acknowledged by the buyer.
    let response = app
        .post_json(
            "/v1/purchase-orders",
            Some(&supplier_key),
            &json!({"buyer_id": Deal::id(&deal.buyer), "po_number": "PO-7781", "issue_date": "2026-10-01",
                    "currency": "CNY", "amount": "200000.00"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "registered");
    assert_eq!(order["invoiced_amount"], "0.00");
    let acknowledgement = sign(
        &deal.buyer_key,
        &[
            "anchorfin/v1/acknowledge_po".to_owned(),
            format!("purchase_order={}", order["id"].as_str().unwrap()),
            format!("fingerprint={}", order["fingerprint"].as_str().unwrap()),
            "amount=200000.00".to_owned(),
            "currency=CNY".to_owned(),
            format!("buyer={}", Deal::id(&deal.buyer)),
        ],
    );
    let path = format!("/v1/purchase-orders/{}/acknowledgement", order["id"].as_str().unwrap());
    let response = app
        .post_json(
            &path,
            Some(&Deal::key(&deal.buyer)),
            &json!({ "signature": acknowledgement }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "acknowledged");
    let again = app
        .post_json(
            &path,
            Some(&Deal::key(&deal.buyer)),
            &json!({ "signature": acknowledgement }),
        )
        .await;
    assert_problem(again, 409, "already_acknowledged").await;

    // An invoice against it.
    let mut body = invoice(&deal, "INV-2026/0001", "120000.00");
    body["purchase_order_id"] = order["id"].clone();
    let response = register(&app, &deal, &body).await;
    assert_eq!(response.status(), 201);
    let receivable: Value = response.json().await.unwrap();
    assert_eq!(receivable["status"], "registered");
    assert_eq!(receivable["fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(receivable["ledger"]["leaf_hash"].as_str().unwrap().len(), 64);
    assert_eq!(receivable["amount"], "120000.00");
    let order_now: Value = app
        .get_json(
            &format!("/v1/purchase-orders/{}", order["id"].as_str().unwrap()),
            Some(&supplier_key),
        )
        .await;
    assert_eq!(order_now["invoiced_amount"], "120000.00");

    // Visibility: the parties and the operator; anyone else gets 404.
    let path = format!("/v1/receivables/{}", receivable["id"].as_str().unwrap());
    for key in [&supplier_key, &Deal::key(&deal.buyer), &app.operator_key] {
        assert_eq!(app.get(&path, Some(key)).await.status(), 200);
    }
    for key in [Deal::key(&deal.bank), Deal::key(&deal.second_supplier)] {
        assert_problem(app.get(&path, Some(&key)).await, 404, "not_found").await;
    }

    // The buyer confirms: the asset is minted, held by the supplier.
    let response = confirm(&app, &deal, &receivable).await;
    assert_eq!(response.status(), 200);
    let confirmed: Value = response.json().await.unwrap();
    assert_eq!(confirmed["status"], "confirmed");
    let asset_id = confirmed["asset_id"].as_str().unwrap().to_owned();
    assert_problem(confirm(&app, &deal, &receivable).await, 409, "already_confirmed").await;

    let asset: Value = app
        .get_json(&format!("/v1/assets/{asset_id}"), Some(&supplier_key))
        .await;
    assert_eq!(asset["holder_id"], Deal::id(&deal.supplier));
    assert_eq!(asset["face_value"], "120000.00");
    assert_eq!(asset["receivable_id"], receivable["id"]);
    assert_eq!(asset["status"], "active");
    assert_eq!(asset["parent_id"], Value::Null);
    assert_problem(
        app.get(&format!("/v1/assets/{asset_id}"), Some(&Deal::key(&deal.bank)))
            .await,
        404,
        "not_found",
    )
    .await;

    // Split, transferring one part to a second-tier supplier.
    let split_path = format!("/v1/assets/{asset_id}/split");
    let parts = json!({"parts": [{"amount": "70000.00"}, {"amount": "50000.00", "transfer_to": Deal::id(&deal.second_supplier)}]});
    // Only the holder splits.
    assert_problem(
        app.post_json(&split_path, Some(&Deal::key(&deal.buyer)), &parts).await,
        403,
        "forbidden",
    )
    .await;
    let response = app.post_json(&split_path, Some(&supplier_key), &parts).await;
    assert_eq!(response.status(), 201);
    let split: Value = response.json().await.unwrap();
    assert_eq!(split["parent"]["status"], "retired");
    let children = split["children"].as_array().unwrap();
    assert_eq!(children.len(), 2);
    assert_eq!(children[0]["face_value"], "70000.00");
    assert_eq!(children[0]["holder_id"], Deal::id(&deal.supplier));
    assert_eq!(children[1]["face_value"], "50000.00");
    assert_eq!(children[1]["holder_id"], Deal::id(&deal.second_supplier));
    assert_eq!(children[1]["parent_id"], asset_id);

    // The retired parent cannot be split again.
    let again = json!({"parts": [{"amount": "60000.00"}, {"amount": "60000.00"}]});
    assert_problem(
        app.post_json(&split_path, Some(&supplier_key), &again).await,
        409,
        "asset_not_active",
    )
    .await;

    // The second-tier supplier now sees its part, and can split it further.
    let child = children[1]["id"].as_str().unwrap();
    let second_key = Deal::key(&deal.second_supplier);
    assert_eq!(
        app.get(&format!("/v1/assets/{child}"), Some(&second_key))
            .await
            .status(),
        200
    );
    let response = app
        .post_json(
            &format!("/v1/assets/{child}/split"),
            Some(&second_key),
            &json!({"parts": [{"amount": "25000.00"}, {"amount": "25000.00"}]}),
        )
        .await;
    assert_eq!(response.status(), 201);

    // Every change is on the ledger, in order, and nothing else: the
    // refused second acknowledgement, confirmation and split wrote nothing.
    assert_eq!(
        app.kinds_since(start).await,
        vec![
            "purchase_order_registered",
            "purchase_order_acknowledged",
            "receivable_registered",
            "receivable_confirmed",
            "asset_split",
            "asset_issued",
            "asset_transferred",
            "asset_split",
            "asset_issued",
            "asset_issued",
        ]
    );
}

async fn format_variants_of_one_invoice_are_refused_and_alerted(app: TestApp) {
    let deal = deal(&app).await;
    let start = app.ledger_mark().await;
    let first = registered(&app, &deal, "INV-2026/001", "1000.00").await;
    // What a fraudster or a sloppy ERP export makes of the same number.
    let variants = [
        "inv 2026 001",
        "INV.2026.001",
        "INV_2026-001",
        "ＩＮＶ－２０２６／００１",
        " Inv2026001 ",
    ];
    for variant in variants {
        let response = register(&app, &deal, &invoice(&deal, variant, "1000.00")).await;
        let problem = assert_problem(response, 409, "duplicate_registration").await;
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains(first["fingerprint"].as_str().unwrap()));
    }
    // A different amount changes nothing: the invoice is the same.
    let response = register(&app, &deal, &invoice(&deal, "INV 2026 001", "999.00")).await;
    assert_problem(response, 409, "duplicate_registration").await;

    // Every refusal left a durable alert on the ledger, visible to the
    // operator, and nothing else.
    let kinds = app.kinds_since(start).await;
    let mut expected = vec!["receivable_registered"];
    expected.extend(["alert_raised"].repeat(variants.len() + 1));
    assert_eq!(kinds, expected);
}

async fn a_near_duplicate_is_accepted_and_alerted(app: TestApp) {
    let deal = deal(&app).await;
    let start = app.ledger_mark().await;
    let first = registered(&app, &deal, "INV-A-1", "5000.00").await;
    assert!(first.get("warnings").is_none(), "{first}");
    let second = registered(&app, &deal, "INV-B-2", "5000.00").await;
    assert_eq!(second["warnings"][0]["code"], "near_duplicate_registration", "{second}");
    // Another amount is not a near duplicate.
    let third = registered(&app, &deal, "INV-C-3", "5000.01").await;
    assert!(third.get("warnings").is_none(), "{third}");
    // Three registrations, one alert.
    let mut kinds = app.kinds_since(start).await;
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "alert_raised",
            "receivable_registered",
            "receivable_registered",
            "receivable_registered"
        ]
    );
}

async fn invalid_registrations_name_the_field(app: TestApp) {
    let deal = deal(&app).await;
    let start = app.ledger_mark().await;
    let cases: Vec<(&str, Value)> = vec![
        ("currency", json!({"currency": "XXY"})),
        ("amount", json!({"amount": "100.001"})),
        ("amount", json!({"amount": "-5.00"})),
        ("amount", json!({"amount": "0.00"})),
        ("amount", json!({"amount": "1e5"})),
        ("amount", json!({"currency": "JPY", "amount": "500.5"})),
        ("due_date", json!({"due_date": "2026-10-31"})),
        ("issue_date", json!({"issue_date": "2026-13-01"})),
        ("invoice_number", json!({"invoice_number": " - / . "})),
        ("buyer_id", json!({"buyer_id": "not-a-uuid"})),
        ("buyer_id", json!({"buyer_id": Deal::id(&deal.bank)})),
        ("buyer_id", json!({"buyer_id": uuid::Uuid::new_v4().to_string()})),
        (
            "purchase_order_id",
            json!({"purchase_order_id": uuid::Uuid::new_v4().to_string()}),
        ),
        ("surprise", json!({"surprise": 1})),
    ];
    for (field, change) in cases {
        let mut body = invoice(&deal, "INV-BAD-1", "100.00");
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let problem = assert_problem(register(&app, &deal, &body).await, 422, "invalid_field").await;
        assert_eq!(problem["field"], field, "{problem}");
    }
    // JPY has no minor unit: 500 is fine.
    let mut body = invoice(&deal, "INV-JPY-1", "500");
    body["currency"] = json!("JPY");
    let response = register(&app, &deal, &body).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.json::<Value>().await.unwrap()["amount"], "500");
    // Only suppliers register; nothing was written by the refusals.
    let response = app
        .post_json(
            "/v1/receivables",
            Some(&Deal::key(&deal.bank)),
            &invoice(&deal, "INV-X", "1.00"),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;
    let response = app
        .post_json("/v1/receivables", None, &invoice(&deal, "INV-X", "1.00"))
        .await;
    assert_problem(response, 401, "unauthorized").await;
    assert_eq!(app.kinds_since(start).await, ["receivable_registered"]);
}

async fn purchase_orders_cap_what_is_invoiced_against_them(app: TestApp) {
    let deal = deal(&app).await;
    let supplier_key = Deal::key(&deal.supplier);
    let order: Value = app
        .post_json(
            "/v1/purchase-orders",
            Some(&supplier_key),
            &json!({"buyer_id": Deal::id(&deal.buyer), "po_number": "PO-1", "issue_date": "2026-10-01",
                    "currency": "CNY", "amount": "1000.00"}),
        )
        .await
        .json()
        .await
        .unwrap();
    // The same order in other formatting is a duplicate.
    let response = app
        .post_json(
            "/v1/purchase-orders",
            Some(&supplier_key),
            &json!({"buyer_id": Deal::id(&deal.buyer), "po_number": "po 1", "issue_date": "2026-10-02",
                    "currency": "CNY", "amount": "5.00"}),
        )
        .await;
    assert_problem(response, 409, "duplicate_registration").await;

    let against = |number: &str, amount: &str| {
        let mut body = invoice(&deal, number, amount);
        body["purchase_order_id"] = order["id"].clone();
        body
    };
    assert_eq!(register(&app, &deal, &against("I-1", "600.00")).await.status(), 201);
    let problem = assert_problem(
        register(&app, &deal, &against("I-2", "400.01")).await,
        422,
        "exceeds_po_amount",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("400.00"), "{problem}");
    assert_eq!(register(&app, &deal, &against("I-2", "400.00")).await.status(), 201);
    assert_problem(
        register(&app, &deal, &against("I-3", "0.01")).await,
        422,
        "exceeds_po_amount",
    )
    .await;
    // Another currency or another supplier's order is refused by field.
    let mut other_currency = against("I-4", "1.00");
    other_currency["currency"] = json!("USD");
    let problem = assert_problem(register(&app, &deal, &other_currency).await, 422, "invalid_field").await;
    assert_eq!(problem["field"], "purchase_order_id");
    let response = app
        .post_json(
            "/v1/receivables",
            Some(&Deal::key(&deal.second_supplier)),
            &against("I-5", "1.00"),
        )
        .await;
    let problem = assert_problem(response, 422, "invalid_field").await;
    assert_eq!(problem["field"], "purchase_order_id");
}

async fn only_the_buyers_key_confirms(app: TestApp) {
    let deal = deal(&app).await;
    let receivable = registered(&app, &deal, "INV-SIG-1", "300.00").await;
    let path = format!("/v1/receivables/{}/confirmation", receivable["id"].as_str().unwrap());
    let buyer_key = Deal::key(&deal.buyer);

    // A stranger's key, over the right message.
    let stranger = SigningKey::from_bytes(&[99; 32]);
    let signature = sign(&stranger, &confirm_message(&receivable));
    let response = app
        .post_json(&path, Some(&buyer_key), &json!({ "signature": signature }))
        .await;
    assert_problem(response, 422, "invalid_signature").await;
    // The buyer's key over another amount.
    let mut tampered = confirm_message(&receivable);
    tampered[3] = "amount=3000.00".to_owned();
    let signature = sign(&deal.buyer_key, &tampered);
    let response = app
        .post_json(&path, Some(&buyer_key), &json!({ "signature": signature }))
        .await;
    assert_problem(response, 422, "invalid_signature").await;
    // A malformed signature names the field.
    let response = app
        .post_json(&path, Some(&buyer_key), &json!({ "signature": "abc" }))
        .await;
    assert_eq!(
        assert_problem(response, 422, "invalid_field").await["field"],
        "signature"
    );
    // The supplier may not confirm its own invoice, even with a good signature.
    let signature = sign(&deal.buyer_key, &confirm_message(&receivable));
    let response = app
        .post_json(
            &path,
            Some(&Deal::key(&deal.supplier)),
            &json!({ "signature": signature }),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;
    // A bank does not even learn that it exists.
    let response = app
        .post_json(&path, Some(&Deal::key(&deal.bank)), &json!({ "signature": signature }))
        .await;
    assert_problem(response, 404, "not_found").await;

    // A dispute, signed, ends it: it can no longer be confirmed.
    let other = registered(&app, &deal, "INV-SIG-2", "300.00").await;
    let dispute = sign(
        &deal.buyer_key,
        &[
            "anchorfin/v1/dispute".to_owned(),
            format!("receivable={}", other["id"].as_str().unwrap()),
            format!("fingerprint={}", other["fingerprint"].as_str().unwrap()),
            format!("buyer={}", Deal::id(&deal.buyer)),
        ],
    );
    let response = app
        .post_json(
            &format!("/v1/receivables/{}/dispute", other["id"].as_str().unwrap()),
            Some(&buyer_key),
            &json!({ "reason": "goods not delivered", "signature": dispute }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let disputed: Value = response.json().await.unwrap();
    assert_eq!(disputed["status"], "disputed");
    assert_eq!(disputed["dispute_reason"], "goods not delivered");
    assert_problem(confirm(&app, &deal, &other).await, 409, "already_disputed").await;

    // The first one still confirms with the right signature.
    assert_eq!(confirm(&app, &deal, &receivable).await.status(), 200);
}

async fn splits_must_conserve_value(app: TestApp) {
    let deal = deal(&app).await;
    let receivable = registered(&app, &deal, "INV-SPLIT-1", "100.00").await;
    let confirmed: Value = confirm(&app, &deal, &receivable).await.json().await.unwrap();
    let path = format!("/v1/assets/{}/split", confirmed["asset_id"].as_str().unwrap());
    let key = Deal::key(&deal.supplier);
    let split = |parts: Value| {
        let request = app
            .client
            .post(app.url(&path))
            .bearer_auth(&key)
            .json(&json!({ "parts": parts }));
        async move { request.send().await.unwrap() }
    };

    assert_problem(
        split(json!([{"amount": "60.00"}, {"amount": "40.01"}])).await,
        422,
        "parts_do_not_sum",
    )
    .await;
    assert_problem(
        split(json!([{"amount": "60.00"}, {"amount": "39.99"}])).await,
        422,
        "parts_do_not_sum",
    )
    .await;
    let problem = assert_problem(split(json!([{"amount": "100.00"}])).await, 422, "invalid_field").await;
    assert_eq!(problem["field"], "parts");
    let problem = assert_problem(
        split(json!([{"amount": "60.005"}, {"amount": "40.00"}])).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "parts[0].amount");
    let bank = Deal::id(&deal.bank);
    let problem = assert_problem(
        split(json!([{"amount": "60.00"}, {"amount": "40.00", "transfer_to": bank}])).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "parts[1].transfer_to");
    // Nothing was retired by the refusals: an exact split still succeeds.
    let response = split(json!([{"amount": "33.33"}, {"amount": "33.33"}, {"amount": "33.34"}])).await;
    assert_eq!(response.status(), 201);
}

async fn racing_registrations_of_one_invoice_create_exactly_one(app: TestApp) {
    let deal = deal(&app).await;
    let body = invoice(&deal, "INV-RACE-1", "10.00");
    let requests = (0..8)
        .map(|_| {
            app.client
                .post(app.url("/v1/receivables"))
                .bearer_auth(Deal::key(&deal.supplier))
                .json(&body)
        })
        .collect();
    let mut statuses = send_together(requests).await;
    statuses.sort();
    assert_eq!(statuses, vec![201, 409, 409, 409, 409, 409, 409, 409]);
}

/// The gate admits a key it authenticated in the last seconds to a
/// registration without asking the database; the registration's own
/// transaction authenticates it again (a batch's keys in one query; one by
/// one, against a purchase order, in each one's savepoint). A key revoked
/// in between is refused there, 401: nothing is registered, nothing
/// appended to the ledger, nothing kept under the Idempotency-Key.
async fn a_key_revoked_after_it_registered_registers_nothing_more(app: TestApp) {
    let deal = deal(&app).await;
    let key = Deal::key(&deal.supplier);
    let order: Value = app
        .post_json(
            "/v1/purchase-orders",
            Some(&key),
            &json!({"buyer_id": Deal::id(&deal.buyer), "po_number": "PO-REVOKED", "issue_date": "2026-10-01",
                    "currency": "CNY", "amount": "1000.00"}),
        )
        .await
        .json()
        .await
        .unwrap();
    // The gate authenticates the key and remembers it.
    registered(&app, &deal, "INV-KEPT-1", "10.00").await;
    let mark = app.ledger_mark().await;
    let keys = |revoked_at: &str| {
        format!(
            "UPDATE api_keys SET revoked_at = {revoked_at} WHERE organization_id = '{}'",
            Deal::id(&deal.supplier)
        )
    };
    app.tamper(&[&keys("created_at")]);
    let fresh = invoice(&deal, "INV-REVOKED-1", "10.00");
    let mut linked = invoice(&deal, "INV-REVOKED-2", "10.00");
    linked["purchase_order_id"] = order["id"].clone();
    let send = |body: &Value, idempotency_key: &str| {
        app.client
            .post(app.url("/v1/receivables"))
            .bearer_auth(&key)
            .header("Idempotency-Key", idempotency_key)
            .json(body)
            .send()
    };
    assert_problem(send(&fresh, "revoked-1").await.unwrap(), 401, "unauthorized").await;
    assert_problem(send(&linked, "revoked-2").await.unwrap(), 401, "unauthorized").await;
    assert_eq!(app.ledger_mark().await, mark, "a revoked key appended to the ledger");
    // The key restored, the same requests under the same keys are new:
    // registered, not a replay of the 401 nor a duplicate.
    app.tamper(&[&keys("NULL")]);
    for (body, idempotency_key) in [(&fresh, "revoked-1"), (&linked, "revoked-2")] {
        assert_eq!(send(body, idempotency_key).await.unwrap().status(), 201);
    }
}

async fn upload(app: &TestApp, key: &str, content_type: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/v1/receivables/import"))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn a_csv_upload_reports_every_row_and_is_idempotent(app: TestApp) {
    let deal = deal(&app).await;
    let key = Deal::key(&deal.supplier);
    let buyer_legal_id = "9111-0000-1000-0000-0X"; // the buyer's id, formatted differently
    let mut csv = String::from("invoice_number,buyer_legal_id,issue_date,due_date,currency,amount,po_number\n");
    for row in 1..=1000 {
        csv.push_str(&format!(
            "CSV-{row:05},{buyer_legal_id},2026-11-01,2027-02-28,CNY,{row}.50,\n"
        ));
    }
    // Bad rows among good ones: a bad date, an unknown buyer, a duplicate of row 1.
    csv.push_str(&format!(
        "CSV-BAD-DATE,{buyer_legal_id},2026-02-30,2027-02-28,CNY,1.00,\n"
    ));
    csv.push_str("CSV-BAD-BUYER,NOBODY-1,2026-11-01,2027-02-28,CNY,1.00,\n");
    csv.push_str(&format!("csv 00001,{buyer_legal_id},2026-11-01,2027-02-28,CNY,1.50,\n"));

    let response = upload(&app, &key, "text/csv", csv.clone()).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["created"], 1000, "{}", report["results"][1000]);
    assert_eq!(report["rejected"], 3);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 1003);
    // Rows are located by line, the header being line 1.
    assert_eq!(results[0]["row"], 2);
    assert_eq!(results[0]["status"], "created");
    assert!(results[0]["id"].is_string());
    assert_eq!(results[1000]["row"], 1002);
    assert_eq!(results[1000]["code"], "invalid_field");
    assert_eq!(results[1000]["field"], "issue_date");
    assert_eq!(results[1001]["field"], "buyer_legal_id");
    assert_eq!(results[1002]["code"], "duplicate_registration");

    // A created row is a real receivable.
    let id = results[41]["id"].as_str().unwrap();
    let receivable: Value = app.get_json(&format!("/v1/receivables/{id}"), Some(&key)).await;
    assert_eq!(receivable["invoice_number"], "CSV-00042");
    assert_eq!(receivable["amount"], "42.50");
    assert_eq!(receivable["buyer_id"], Deal::id(&deal.buyer));

    // The same file again replays its report and decides nothing.
    let replay: Value = upload(&app, &key, "text/csv", csv.clone()).await.json().await.unwrap();
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["results"], Value::from(results.clone()));
    // Other bytes with the same rows create nothing: every good row is a
    // duplicate.
    let report: Value = upload(&app, &key, "text/csv", format!("{csv}\n"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["created"], 0);
    let results = report["results"].as_array().unwrap();
    assert!(results[..1000]
        .iter()
        .all(|result| result["code"] == "duplicate_registration"));

    // A wrong header refuses the whole file; another content type is 415.
    let response = upload(&app, &key, "text/csv", "number,amount\nX,1\n".to_owned()).await;
    assert_eq!(assert_problem(response, 422, "invalid_field").await["field"], "header");
    let response = upload(&app, &key, "text/plain", "x".to_owned()).await;
    assert_problem(response, 415, "unsupported_media_type").await;
    // Over 32 MiB is 413.
    let big = "x".repeat(32 * 1024 * 1024 + 1);
    assert_problem(upload(&app, &key, "text/csv", big).await, 413, "payload_too_large").await;
}

async fn a_ubl_batch_upload_reports_every_invoice(app: TestApp) {
    let deal = deal(&app).await;
    let key = Deal::key(&deal.supplier);
    let invoice = |number: &str, seller: &str, amount: &str| {
        format!(
            r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
         xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">
  <cbc:UBLVersionID>2.1</cbc:UBLVersionID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-11-02</cbc:IssueDate>
  <cbc:DueDate>2027-01-31</cbc:DueDate>
  <cbc:DocumentCurrencyCode>CNY</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party><cac:PartyLegalEntity><cbc:CompanyID>{seller}</cbc:CompanyID></cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity><cbc:CompanyID>91110000100000000X</cbc:CompanyID></cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>
  <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="CNY">{amount}</cbc:PayableAmount></cac:LegalMonetaryTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine>
</Invoice>"#
        )
    };
    let batch = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Invoices>{}{}{}</Invoices>",
        invoice("UBL-1", "91440300MA5F000001", "100.00"),
        invoice("UBL-2", "SOMEONE-ELSE", "200.00"),
        invoice("UBL-3", "91440300MA5F000001", "300.001"),
    );
    let response = upload(&app, &key, "application/xml", batch).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{report}");
    assert_eq!(results[0]["status"], "created", "{report}");
    assert_eq!(results[1]["status"], "rejected");
    assert_eq!(results[1]["field"], "seller");
    assert_eq!(results[2]["row"], 3);
    assert_eq!(results[2]["field"], "amount");

    // A single invoice document; then the same document in other bytes is
    // a duplicate.
    let single = invoice("UBL-4", "91440300MA5F000001", "400.00");
    let report: Value = upload(&app, &key, "application/xml", single.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["results"][0]["status"], "created", "{report}");
    let report: Value = upload(&app, &key, "application/xml", format!("{single}\n"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["results"][0]["code"], "duplicate_registration");
    // Not XML at all.
    let response = upload(&app, &key, "application/xml", "<Invoice".to_owned()).await;
    assert_problem(response, 400, "malformed_body").await;
}

async fn an_xlsx_upload_is_sniffed_and_reports_excel_rows(app: TestApp) {
    let deal = deal(&app).await;
    let key = Deal::key(&deal.supplier);
    let workbook = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/xlsx/invoices.xlsx"
    ))
    .unwrap();
    // A generic content type: the ZIP magic says XLSX.
    let response = app
        .client
        .post(app.url("/v1/receivables/import"))
        .bearer_auth(&key)
        .header("content-type", "application/octet-stream")
        .body(workbook)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    let results = report["results"].as_array().unwrap();
    // Excel's row numbers: a title on row 1, the header on row 2, row 5 empty
    // (see tests/fixtures/xlsx/make.py).
    let rows: Vec<u64> = results.iter().map(|result| result["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, vec![3, 4, 6, 7, 8, 9], "{report}");
    // Row 3 names the deal's buyer and an order that is no purchase order
    // registered here: kept as a reference, not linked.
    assert_eq!(results[0]["status"], "created", "{report}");
    assert_eq!(results[0]["note"], "not_linked", "{report}");
    // A credit note for a buyer nobody onboarded.
    assert_eq!(results[2]["kind"], "credit_note", "{report}");
    assert_eq!(results[2]["field"], "buyer_legal_id", "{report}");
    assert_eq!(results[2]["value"], "B-3", "{report}");
    assert_eq!(results[3]["code"], "malformed_row");
    assert_eq!(results[3]["field"], "amount");
    assert_eq!(results[4]["code"], "missing_field");
    assert_eq!(results[5]["code"], "invalid_date");
    assert_eq!(results[5]["value"], "next week");
    assert_eq!(report["created"], 1);
}
