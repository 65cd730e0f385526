//! Consent, tried as a bank's security reviewer would: every attack of the
//! review that found banks could take, freeze or probe assets nobody
//! offered them is a regression test here, with the offers' own rules —
//! one open at a time, only the holder offers and withdraws, withdrawal
//! racing acceptance, expiry — the order in which refusals win, and the
//! loan a lienholder records.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, eventually, send_together, TestApp};
use crate::lending::{
    accept_body, acknowledged_order, asset_under_order, bank, confirmed_asset, expiry_in, financed, offer, offer_body,
    offered, order_pledge_body, pay, pledge, pledge_body, post_with_key, Bank, Holder,
};
use crate::on_both_backends;
use crate::registry::{sign, Deal};

on_both_backends!(
    a_stranger_bank_can_neither_take_nor_freeze_nor_probe_an_asset,
    a_stranger_cannot_lock_a_purchase_order_away_from_the_suppliers_bank,
    a_bank_sees_an_asset_only_while_it_is_offered_to_it_or_financed_by_it,
    one_offer_at_a_time_and_only_its_holder_makes_or_withdraws_it,
    a_withdrawal_racing_an_acceptance_lets_exactly_one_win,
    offers_lapse_at_their_expiry,
    refusals_follow_one_precedence,
    the_lienholder_records_its_loan_on_the_ledger,
);

/// The holder's signed withdrawal of `offer`.
async fn withdraw(app: &TestApp, holder: &Holder<'_>, key: &SigningKey, offer: &str) -> reqwest::Response {
    let signature = sign(
        key,
        &[
            "anchorfin/v1/withdraw_offer".to_owned(),
            format!("offer={offer}"),
            format!("holder={}", holder.id),
        ],
    );
    app.post_json(
        &format!("/v1/offers/{offer}/withdrawal"),
        Some(&holder.api_key),
        &json!({ "signature": signature }),
    )
    .await
}

/// An answer's status and whole body, to compare answers with each other.
async fn problem_body(response: reqwest::Response) -> (u16, Value) {
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn a_stranger_bank_can_neither_take_nor_freeze_nor_probe_an_asset(app: TestApp) {
    let deal = crate::registry::deal(&app).await;
    let (own, stranger) = (bank(&app, "Own Bank", 21).await, bank(&app, "Stranger Bank", 22).await);
    let asset = confirmed_asset(&app, &deal, "INV-ATTACK-1", "10000.00").await;
    let subject = format!("asset:{asset}");
    let the_offer = offered(&app, &deal.holder(), &subject, &own, "pledge", "8000.00").await;
    let start = app.ledger_mark().await;

    // Assignment without consent: buying a 10,000.00 asset for 100.00, with
    // a made-up offer or with the one addressed to another bank.
    let mut answers = Vec::new();
    for (offer_id, nonce) in [
        (uuid::Uuid::new_v4().to_string(), "buy-1"),
        (the_offer.clone(), "buy-2"),
    ] {
        let body = accept_body(&stranger, "assign", &offer_id, &subject, "100.00", nonce);
        answers
            .push(problem_body(post_with_key(&app, "/v1/assignments", &stranger.api_key(), nonce, &body).await).await);
    }
    // A 0.01 pledge to freeze it, and thirty pledges probing its face value.
    answers.push(problem_body(pledge(&app, &stranger, &the_offer, &asset, "0.01", "freeze-1").await).await);
    for step in 0..30 {
        let amount = format!("{}.00", 9_985 + step);
        let nonce = format!("probe-{step}");
        answers.push(problem_body(pledge(&app, &stranger, &the_offer, &asset, &amount, &nonce).await).await);
    }
    // Every answer is the same 404, whatever the amount: nothing to learn.
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(answers[0].0, 404);
    assert_eq!(answers[0].1["code"], "not_found");
    // Nor may it peek at the asset or its receivable.
    let seen: Value = app
        .get_json(&format!("/v1/assets/{asset}"), Some(&Deal::key(&deal.supplier)))
        .await;
    for path in [
        format!("/v1/assets/{asset}"),
        format!("/v1/receivables/{}", seen["receivable_id"].as_str().unwrap()),
        format!("/v1/offers/{the_offer}"),
    ] {
        assert_problem(app.get(&path, Some(&stranger.api_key())).await, 404, "not_found").await;
    }

    // Nothing changed: the holder is the supplier, the asset free, and the
    // supplier's own bank takes the pledge it was offered.
    assert_eq!(seen["holder_id"], Deal::id(&deal.supplier));
    assert_eq!(seen["lien"], Value::Null);
    assert_eq!(
        pledge(&app, &own, &the_offer, &asset, "8000.00", "own-1")
            .await
            .status(),
        201
    );
    // Its refusals raised no alert and wrote nothing: only the pledge.
    assert_eq!(app.kinds_since(start).await, ["asset_pledged"]);
}

async fn a_stranger_cannot_lock_a_purchase_order_away_from_the_suppliers_bank(app: TestApp) {
    let deal = crate::registry::deal(&app).await;
    let (own, stranger) = (bank(&app, "Own Bank", 21).await, bank(&app, "Stranger Bank", 22).await);
    let order = acknowledged_order(&app, &deal, "PO-ATTACK-1", "50000.00").await;
    // The stranger's 0.01 pledge of the order, naming any offer: 404.
    for offer_id in [uuid::Uuid::new_v4().to_string()] {
        let body = order_pledge_body(&stranger, &offer_id, &order, "0.01", "lock-1");
        let response = post_with_key(&app, "/v1/pledges", &stranger.api_key(), "lock-1", &body).await;
        assert_problem(response, 404, "not_found").await;
    }
    assert_problem(
        app.get(&format!("/v1/purchase-orders/{order}"), Some(&stranger.api_key()))
            .await,
        404,
        "not_found",
    )
    .await;
    // The supplier's own bank finances the order, then an invoice under it.
    let offer_order = offered(
        &app,
        &deal.holder(),
        &format!("purchase_order:{order}"),
        &own,
        "pledge",
        "40000.00",
    )
    .await;
    let body = order_pledge_body(&stranger, &offer_order, &order, "0.01", "lock-2");
    let response = post_with_key(&app, "/v1/pledges", &stranger.api_key(), "lock-2", &body).await;
    assert_problem(response, 404, "not_found").await;
    let body = order_pledge_body(&own, &offer_order, &order, "40000.00", "own-1");
    assert_eq!(
        post_with_key(&app, "/v1/pledges", &own.api_key(), "own-1", &body)
            .await
            .status(),
        201
    );
    // A bank holding a pledge on the order reads it.
    let seen: Value = app
        .get_json(&format!("/v1/purchase-orders/{order}"), Some(&own.api_key()))
        .await;
    assert_eq!(seen["id"], order.as_str());
    let asset = asset_under_order(&app, &deal, &order, "INV-UNDER-1", "20000.00").await;
    financed(&app, &deal, &own, &asset, "20000.00").await;
}

async fn a_bank_sees_an_asset_only_while_it_is_offered_to_it_or_financed_by_it(app: TestApp) {
    let deal = crate::registry::deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-SIGHT-1", "1000.00").await;
    let seen: Value = app
        .get_json(&format!("/v1/assets/{asset}"), Some(&Deal::key(&deal.supplier)))
        .await;
    let receivable = seen["receivable_id"].as_str().unwrap().to_owned();
    let sees = |expected: u16| {
        let paths = [format!("/v1/assets/{asset}"), format!("/v1/receivables/{receivable}")];
        let key = first.api_key();
        let app = &app;
        async move {
            for path in paths {
                assert_eq!(app.get(&path, Some(&key)).await.status(), expected, "{path}");
            }
        }
    };
    sees(404).await;
    let subject = format!("asset:{asset}");
    let one = offered(&app, &deal.holder(), &subject, &first, "pledge", "500.00").await;
    sees(200).await;
    assert_eq!(
        withdraw(&app, &deal.holder(), &deal.supplier_key, &one).await.status(),
        200
    );
    sees(404).await;
    let lien = financed(&app, &deal, &first, &asset, "500.00").await;
    sees(200).await;
    let path = format!("/v1/pledges/{}/release", lien["id"].as_str().unwrap());
    assert_eq!(
        app.post_json(&path, Some(&first.api_key()), &json!({})).await.status(),
        200
    );
    sees(404).await;
}

async fn one_offer_at_a_time_and_only_its_holder_makes_or_withdraws_it(app: TestApp) {
    let deal = crate::registry::deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let asset = confirmed_asset(&app, &deal, "INV-OFFER-1", "1000.00").await;
    let subject = format!("asset:{asset}");
    let holder = deal.holder();

    // Who may offer: the holder; the buyer sees the asset but may not (403);
    // a supplier that does not see it gets 404.
    let buyer = Holder {
        api_key: Deal::key(&deal.buyer),
        id: Deal::id(&deal.buyer),
        key: &deal.buyer_key,
    };
    assert_problem(
        offer(&app, &buyer, &subject, &first, "pledge", "10.00").await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        offer(&app, &deal.second_holder(), &subject, &first, "pledge", "10.00").await,
        404,
        "not_found",
    )
    .await;
    // The terms, each naming its field.
    let send = |body: Value, nonce: &str| {
        let nonce = nonce.to_owned();
        let key = holder.api_key.clone();
        let app = &app;
        async move { post_with_key(app, "/v1/offers", &key, &nonce, &body).await }
    };
    let in_a_day = expiry_in(86_400);
    let field_of = |response: reqwest::Response| async move {
        assert_problem(response, 422, "invalid_field").await["field"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let to_supplier = offer_body(
        &holder,
        &subject,
        &Deal::id(&deal.second_supplier),
        "pledge",
        "10.00",
        &in_a_day,
        "t-1",
    );
    assert_eq!(field_of(send(to_supplier, "t-1").await).await, "bank_id");
    let mut in_dollars = offer_body(&holder, &subject, &first.id(), "pledge", "10.00", &in_a_day, "t-2");
    in_dollars["currency"] = json!("USD");
    assert_eq!(field_of(send(in_dollars, "t-2").await).await, "currency");
    let past = offer_body(
        &holder,
        &subject,
        &first.id(),
        "pledge",
        "10.00",
        &expiry_in(-60),
        "t-3",
    );
    assert_eq!(field_of(send(past, "t-3").await).await, "expires_at");
    let far = offer_body(
        &holder,
        &subject,
        &first.id(),
        "pledge",
        "10.00",
        &expiry_in(400 * 86_400),
        "t-4",
    );
    assert_eq!(field_of(send(far, "t-4").await).await, "expires_at");
    let mut local = offer_body(&holder, &subject, &first.id(), "pledge", "10.00", &in_a_day, "t-5");
    local["expires_at"] = json!("2027-01-31T18:00:00+08:00");
    assert_eq!(field_of(send(local, "t-5").await).await, "expires_at");
    let mut forged = offer_body(&holder, &subject, &first.id(), "pledge", "10.00", &in_a_day, "t-6");
    forged["amount"] = json!("999.00");
    assert_problem(send(forged, "t-6").await, 422, "invalid_signature").await;
    let too_much = offer_body(&holder, &subject, &first.id(), "pledge", "1000.01", &in_a_day, "t-7");
    assert_problem(send(too_much, "t-7").await, 422, "exceeds_face_value").await;

    // One open offer at a time; while it is open, the asset cannot be split.
    let one = offered(&app, &holder, &subject, &first, "pledge", "800.00").await;
    assert_problem(
        offer(&app, &holder, &subject, &second, "pledge", "900.00").await,
        409,
        "offer_open",
    )
    .await;
    let split = app
        .post_json(
            &format!("/v1/assets/{asset}/split"),
            Some(&holder.api_key),
            &json!({"parts": [{"amount": "500.00"}, {"amount": "500.00"}]}),
        )
        .await;
    assert_problem(split, 409, "offer_open").await;

    // Only the holder withdraws: the bank sees it (403), a stranger does not
    // (404); the signature must be the holder's.
    let as_bank = Holder {
        api_key: first.api_key(),
        id: first.id(),
        key: &first.key,
    };
    assert_problem(withdraw(&app, &as_bank, &first.key, &one).await, 403, "forbidden").await;
    assert_problem(
        withdraw(&app, &deal.second_holder(), &deal.second_supplier_key, &one).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        withdraw(&app, &holder, &deal.buyer_key, &one).await,
        422,
        "invalid_signature",
    )
    .await;
    let response = withdraw(&app, &holder, &deal.supplier_key, &one).await;
    assert_eq!(response.status(), 200);
    let withdrawn: Value = response.json().await.unwrap();
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_problem(
        withdraw(&app, &holder, &deal.supplier_key, &one).await,
        409,
        "offer_not_open",
    )
    .await;
    // A withdrawn offer cannot be accepted; a new one can be made.
    assert_problem(
        pledge(&app, &first, &one, &asset, "800.00", "late-1").await,
        404,
        "not_found",
    )
    .await;
    let two = offered(&app, &holder, &subject, &second, "assignment", "950.00").await;

    // Lists: the holder sees both, each bank the one addressed to it.
    let ids = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"))
            .iter()
            .map(|offer| offer["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(app.get_json("/v1/offers", Some(&holder.api_key)).await),
        vec![two.as_str(), one.as_str()]
    );
    assert_eq!(
        ids(app.get_json("/v1/offers", Some(&first.api_key())).await),
        vec![one.as_str()]
    );
    assert_eq!(
        ids(app.get_json("/v1/offers", Some(&second.api_key())).await),
        vec![two.as_str()]
    );
    assert_eq!(
        ids(app.get_json("/v1/offers?status=open", Some(&holder.api_key)).await),
        vec![two.as_str()]
    );
    assert_eq!(
        ids(app.get_json("/v1/offers?status=withdrawn", Some(&holder.api_key)).await),
        vec![one.as_str()]
    );
    assert_eq!(ids(app.get_json("/v1/offers", Some(&app.operator_key)).await).len(), 2);
    let page: Value = app.get_json("/v1/offers?limit=1", Some(&holder.api_key)).await;
    assert_eq!(ids(page.clone()), vec![two.as_str()]);
    let next = page["next_cursor"].as_str().unwrap();
    let page: Value = app
        .get_json(&format!("/v1/offers?limit=1&cursor={next}"), Some(&holder.api_key))
        .await;
    assert_eq!(ids(page.clone()), vec![one.as_str()]);
    assert_eq!(page["next_cursor"], Value::Null);
    let problem = assert_problem(
        app.get("/v1/offers?status=maybe", Some(&holder.api_key)).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "status");
    let shown: Value = app
        .get_json(&format!("/v1/offers/{two}"), Some(&second.api_key()))
        .await;
    assert_eq!(
        (
            shown["kind"].as_str(),
            shown["amount"].as_str(),
            shown["holder_id"].as_str()
        ),
        (Some("assignment"), Some("950.00"), Some(holder.id.as_str()))
    );
}

async fn a_withdrawal_racing_an_acceptance_lets_exactly_one_win(app: TestApp) {
    let deal = crate::registry::deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let holder = deal.holder();
    let withdrawal = |offer: &str| {
        let signature = sign(
            &deal.supplier_key,
            &[
                "anchorfin/v1/withdraw_offer".to_owned(),
                format!("offer={offer}"),
                format!("holder={}", holder.id),
            ],
        );
        app.client
            .post(app.url(&format!("/v1/offers/{offer}/withdrawal")))
            .bearer_auth(&holder.api_key)
            .json(&json!({ "signature": signature }))
    };
    let mut outcomes = std::collections::BTreeSet::new();
    for round in 0..8 {
        let asset = confirmed_asset(&app, &deal, &format!("INV-WR-{round}"), &format!("{}.00", 100 + round)).await;
        let offer = offered(&app, &holder, &format!("asset:{asset}"), &first, "pledge", "50.00").await;
        let nonce = format!("wr-{round}");
        let statuses = send_together(vec![
            withdrawal(&offer),
            app.client
                .post(app.url("/v1/pledges"))
                .bearer_auth(first.api_key())
                .header("Idempotency-Key", &nonce)
                .json(&pledge_body(&first, &offer, &asset, "50.00", &nonce)),
        ])
        .await;
        let shown: Value = app
            .get_json(&format!("/v1/offers/{offer}"), Some(&holder.api_key))
            .await;
        let seen: Value = app
            .get_json(&format!("/v1/assets/{asset}"), Some(&holder.api_key))
            .await;
        match statuses.as_slice() {
            [200, 404] => {
                assert_eq!(shown["status"], "withdrawn", "round {round}");
                assert_eq!(seen["lien"], Value::Null, "round {round}");
            }
            [409, 201] => {
                assert_eq!(shown["status"], "taken", "round {round}");
                assert_eq!(seen["lien"]["bank_id"], first.id(), "round {round}");
            }
            other => panic!("round {round}: {other:?}"),
        }
        outcomes.insert(statuses);
    }
    assert!(!outcomes.is_empty());
}

async fn offers_lapse_at_their_expiry(app: TestApp) {
    let deal = crate::registry::deal(&app).await;
    let first = bank(&app, "Bank One", 21).await;
    let asset = confirmed_asset(&app, &deal, "INV-LAPSE-1", "1000.00").await;
    let subject = format!("asset:{asset}");
    let holder = deal.holder();
    let body = offer_body(
        &holder,
        &subject,
        &first.id(),
        "pledge",
        "500.00",
        &expiry_in(2),
        "lapse-1",
    );
    let response = post_with_key(&app, "/v1/offers", &holder.api_key, "lapse-1", &body).await;
    assert_eq!(response.status(), 201);
    let made: Value = response.json().await.unwrap();
    let offer = made["id"].as_str().unwrap().to_owned();
    let start = app.ledger_mark().await;
    assert_eq!(
        app.get(&format!("/v1/assets/{asset}"), Some(&first.api_key()))
            .await
            .status(),
        200
    );
    // Wall-clock time must pass: the offer lapses at its expiry, which is
    // in whole seconds (at least 1 s away when made). Wait until just past
    // it, as the server reads it, and no longer.
    let expires_at = chrono::DateTime::parse_from_rfc3339(made["expires_at"].as_str().unwrap()).unwrap();
    let left = (expires_at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(50)).await;

    // Lapsed: shown so at once, no longer accepted, no more sight.
    let shown: Value = app
        .get_json(&format!("/v1/offers/{offer}"), Some(&holder.api_key))
        .await;
    assert_eq!(shown["status"], "lapsed", "{shown}");
    assert_problem(
        pledge(&app, &first, &offer, &asset, "500.00", "lapse-2").await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/v1/assets/{asset}"), Some(&first.api_key())).await,
        404,
        "not_found",
    )
    .await;
    // The sweep records the lapse on the ledger, its only entry since the
    // offer (the refused pledge wrote nothing), and a new offer may be made.
    eventually("the sweep records the lapse", || async {
        (app.ledger_mark().await > start).then_some(())
    })
    .await;
    let entries = app.entries_since(start, Some(&holder.api_key)).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["kind"], "offer_lapsed");
    assert_eq!(entries[0]["details"]["data"]["details"]["offer_id"], offer.as_str());
    offered(&app, &holder, &subject, &first, "pledge", "500.00").await;
}

/// Each step removes the fault that won the step before: who you are, the
/// request's shape, may you see it, may you do it, fields, signature, state
/// and encumbrance, amounts.
async fn refusals_follow_one_precedence(app: TestApp) {
    let deal = crate::registry::deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let order = acknowledged_order(&app, &deal, "PO-ORDER-1", "9000.00").await;
    let asset = asset_under_order(&app, &deal, &order, "INV-ORDER-1", "1000.00").await;
    let offer = offered(
        &app,
        &deal.holder(),
        &format!("asset:{asset}"),
        &second,
        "pledge",
        "600.00",
    )
    .await;
    // The order is financed by the first bank since the offer was made.
    let offer_order = offered(
        &app,
        &deal.holder(),
        &format!("purchase_order:{order}"),
        &first,
        "pledge",
        "100.00",
    )
    .await;
    let body = order_pledge_body(&first, &offer_order, &order, "100.00", "order-1");
    let response = post_with_key(&app, "/v1/pledges", &first.api_key(), "order-1", &body).await;
    assert_eq!(response.status(), 201);
    let order_lien = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let wrong_key = format!("{}x", second.api_key());
    let impostor = Bank {
        org: second.org.clone(),
        key: SigningKey::from_bytes(&[99; 32]),
    };
    let mut bad_amount = pledge_body(&impostor, &offer, &asset, "600.00", "p-5");
    bad_amount["amount"] = json!("600.001");
    let steps: Vec<(String, &str, Value, u16, &str)> = vec![
        (wrong_key, "p-1", json!({"offer_id": 5}), 401, "unauthorized"),
        (second.api_key(), "p-2", json!({"offer_id": 5}), 422, "invalid_field"),
        (
            first.api_key(),
            "p-3",
            pledge_body(&impostor, &offer, &asset, "600.01", "p-3"),
            404,
            "not_found",
        ),
        (
            Deal::key(&deal.supplier),
            "p-4",
            pledge_body(&impostor, &offer, &asset, "600.01", "p-4"),
            403,
            "forbidden",
        ),
        (second.api_key(), "p-5", bad_amount, 422, "invalid_field"),
        (
            second.api_key(),
            "p-6",
            pledge_body(&impostor, &offer, &asset, "600.01", "p-6"),
            422,
            "invalid_signature",
        ),
        (
            second.api_key(),
            "p-7",
            pledge_body(&second, &offer, &asset, "600.01", "p-7"),
            403,
            "po_financed_elsewhere",
        ),
    ];
    for (key, nonce, body, status, code) in steps {
        let response = post_with_key(&app, "/v1/pledges", &key, nonce, &body).await;
        assert_problem(response, status, code).await;
    }
    // The order's lien ends; the amounts are what is left to refuse.
    let release = format!("/v1/pledges/{order_lien}/release");
    assert_eq!(
        app.post_json(&release, Some(&first.api_key()), &json!({}))
            .await
            .status(),
        200
    );
    assert_problem(
        pledge(&app, &second, &offer, &asset, "600.01", "p-8").await,
        422,
        "exceeds_offer",
    )
    .await;
    assert_eq!(
        pledge(&app, &second, &offer, &asset, "600.00", "p-9").await.status(),
        201
    );

    // The holder's offer route walks the same list: 404, 403, fields,
    // signature, state and encumbrance, amounts.
    let other = confirmed_asset(&app, &deal, "INV-ORDER-2", "1001.00").await;
    let subject = format!("asset:{other}");
    let holder = deal.holder();
    let in_a_day = expiry_in(86_400);
    let buyer_as_holder = Holder {
        api_key: Deal::key(&deal.buyer),
        id: Deal::id(&deal.buyer),
        key: &deal.buyer_key,
    };
    let mut wrong_currency = offer_body(&holder, &subject, &first.id(), "pledge", "2000.00", &in_a_day, "o-3");
    wrong_currency["currency"] = json!("EUR");
    let mut unsigned = offer_body(&holder, &subject, &first.id(), "pledge", "2000.00", &in_a_day, "o-4");
    unsigned["signature"] = json!("00".repeat(64));
    let steps: Vec<(String, &str, Value, u16, &str)> = vec![
        (
            Deal::key(&deal.second_supplier),
            "o-1",
            unsigned.clone(),
            404,
            "not_found",
        ),
        (
            buyer_as_holder.api_key.clone(),
            "o-2",
            unsigned.clone(),
            403,
            "forbidden",
        ),
        (holder.api_key.clone(), "o-3", wrong_currency, 422, "invalid_field"),
        (holder.api_key.clone(), "o-4", unsigned, 422, "invalid_signature"),
    ];
    for (key, nonce, body, status, code) in steps {
        let response = post_with_key(&app, "/v1/offers", &key, nonce, &body).await;
        assert_problem(response, status, code).await;
    }
    financed(&app, &deal, &first, &other, "500.00").await;
    let over = offer_body(&holder, &subject, &second.id(), "pledge", "2000.00", &in_a_day, "o-5");
    assert_problem(
        post_with_key(&app, "/v1/offers", &holder.api_key, "o-5", &over).await,
        409,
        "already_encumbered",
    )
    .await;
}

/// The lienholder's signed disbursement or repayment.
fn loan_body(bank: &Bank, kind: &str, lien: &str, amount: &str, reference: &str, nonce: &str) -> Value {
    let signature = sign(
        &bank.key,
        &[
            format!("anchorfin/v1/{kind}"),
            format!("lien={lien}"),
            format!("amount={amount}"),
            "currency=CNY".to_owned(),
            "value_date=2026-12-01".to_owned(),
            format!("reference={reference}"),
            format!("bank={}", bank.id()),
            format!("nonce={nonce}"),
        ],
    );
    json!({"amount": amount, "value_date": "2026-12-01", "reference": reference, "signature": signature})
}

async fn record(
    app: &TestApp,
    api_key: &str,
    bank: &Bank,
    kind: &str,
    lien: &str,
    amount: &str,
    nonce: &str,
) -> reqwest::Response {
    let body = loan_body(bank, kind, lien, amount, &format!("REF/{nonce}"), nonce);
    post_with_key(app, &format!("/v1/pledges/{lien}/{kind}s"), api_key, nonce, &body).await
}

async fn the_lienholder_records_its_loan_on_the_ledger(app: TestApp) {
    let deal = crate::registry::deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let asset = confirmed_asset(&app, &deal, "INV-LOAN-1", "1000.00").await;
    let lien = financed(&app, &deal, &first, &asset, "800.00").await;
    let lien = lien["id"].as_str().unwrap().to_owned();
    let key = first.api_key();
    let start = app.ledger_mark().await;

    // Only the lienholder records; the holder sees the lien (403), another
    // bank does not (404).
    let response = record(
        &app,
        &Deal::key(&deal.supplier),
        &first,
        "disbursement",
        &lien,
        "10.00",
        "l-0",
    )
    .await;
    assert_problem(response, 403, "forbidden").await;
    let response = record(&app, &second.api_key(), &second, "disbursement", &lien, "10.00", "l-0").await;
    assert_problem(response, 404, "not_found").await;
    // Never more disbursed than the lien's amount, never more repaid than
    // disbursed; signed, with a reference that cannot forge lines.
    let response = record(&app, &key, &first, "disbursement", &lien, "500.00", "l-1").await;
    assert_eq!(response.status(), 201);
    let first_record: Value = response.json().await.unwrap();
    assert_eq!(first_record["kind"], "disbursement");
    assert_eq!(first_record["reference"], "REF/l-1");
    let again = record(&app, &key, &first, "disbursement", &lien, "500.00", "l-1").await;
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first_record,
        "a retry gets the first answer"
    );
    let response = record(&app, &key, &first, "disbursement", &lien, "400.00", "l-1").await;
    assert_problem(response, 422, "idempotency_mismatch").await;
    let response = record(&app, &key, &first, "disbursement", &lien, "300.01", "l-2").await;
    assert_problem(response, 422, "exceeds_lien_amount").await;
    assert_eq!(
        record(&app, &key, &first, "disbursement", &lien, "300.00", "l-3")
            .await
            .status(),
        201
    );
    let response = record(&app, &key, &first, "repayment", &lien, "800.01", "l-4").await;
    assert_problem(response, 422, "exceeds_disbursed").await;
    assert_eq!(
        record(&app, &key, &first, "repayment", &lien, "200.00", "l-5")
            .await
            .status(),
        201
    );
    let mut forged = loan_body(&first, "repayment", &lien, "1.00", "REF-6", "l-6");
    forged["reference"] = json!("REF-6\nbank=someone");
    let response = post_with_key(&app, &format!("/v1/pledges/{lien}/repayments"), &key, "l-6", &forged).await;
    assert_eq!(
        assert_problem(response, 422, "invalid_field").await["field"],
        "reference"
    );
    let mut forged = loan_body(&first, "repayment", &lien, "1.00", "REF-7", "l-7");
    forged["amount"] = json!("2.00");
    let response = post_with_key(&app, &format!("/v1/pledges/{lien}/repayments"), &key, "l-7", &forged).await;
    assert_problem(response, 422, "invalid_signature").await;

    // The lien with its loan, for its bank and its holder; no one else.
    for reader in [key.clone(), Deal::key(&deal.supplier)] {
        let shown: Value = app.get_json(&format!("/v1/pledges/{lien}"), Some(&reader)).await;
        assert_eq!(shown["loan"]["disbursed"], "800.00", "{shown}");
        assert_eq!(shown["loan"]["repaid"], "200.00");
        assert_eq!(shown["loan"]["outstanding"], "600.00");
        assert_eq!(shown["loan"]["records"].as_array().unwrap().len(), 3);
    }
    assert_problem(
        app.get(&format!("/v1/pledges/{lien}"), Some(&second.api_key())).await,
        404,
        "not_found",
    )
    .await;
    // Each record is a ledger entry the holder reads and another bank
    // cannot; the refused ones wrote nothing.
    assert_eq!(
        app.kinds_since(start).await,
        ["loan_disbursed", "loan_disbursed", "loan_repaid"]
    );
    let seen = app.entries_since(start, Some(&Deal::key(&deal.supplier))).await;
    assert_eq!(seen.len(), 3);
    assert!(seen
        .iter()
        .all(|entry| entry["details"]["data"]["details"]["lien_id"] == lien.as_str()));
    assert!(seen[0]["details"]["data"]["details"]["message"]
        .as_str()
        .unwrap()
        .starts_with("anchorfin/v1/disbursement\n"));
    // Another bank reads the same leaves sealed: no kind, no details.
    let others = app.entries_since(start, Some(&second.api_key())).await;
    for entry in &seen {
        let index = (entry["index"].as_u64().unwrap() - start) as usize;
        assert_eq!(others[index]["leaf_hash"], entry["leaf_hash"]);
        assert_eq!(others[index]["kind"], "business");
        assert!(others[index]["details"].is_null(), "{}", others[index]);
    }

    // Racing disbursements never exceed the lien's amount together.
    let asset = confirmed_asset(&app, &deal, "INV-LOAN-2", "1001.00").await;
    let other = financed(&app, &deal, &first, &asset, "500.00").await;
    let other = other["id"].as_str().unwrap().to_owned();
    let requests = (0..10)
        .map(|index| {
            let nonce = format!("race-{index}");
            app.client
                .post(app.url(&format!("/v1/pledges/{other}/disbursements")))
                .bearer_auth(&key)
                .header("Idempotency-Key", &nonce)
                .json(&loan_body(&first, "disbursement", &other, "100.00", "RACE", &nonce))
        })
        .collect();
    let mut statuses = send_together(requests).await;
    statuses.sort();
    assert_eq!(statuses, [vec![201; 5], vec![422; 5]].concat());

    // After the payment the lien is settling: no more disbursements, but
    // the repayment of what the payment brought is recorded.
    assert_eq!(
        pay(&app, &deal, &asset, &Deal::key(&deal.buyer), "1001.00")
            .await
            .status(),
        201
    );
    let response = record(&app, &key, &first, "disbursement", &other, "1.00", "l-8").await;
    assert_problem(response, 409, "lien_not_active").await;
    assert_eq!(
        record(&app, &key, &first, "repayment", &other, "500.00", "l-9")
            .await
            .status(),
        201
    );
}
