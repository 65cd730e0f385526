//! A batch of financing requests decided set-based (`lending::decide_many`,
//! what the server does with requests that arrive together) answers each
//! exactly as deciding them one at a time would: later requests see the
//! liens earlier ones granted, a repeated Idempotency-Key replays, and a
//! second run of the batch writes nothing.

use std::time::Duration;

use anchorfin::domain::{Currency, InvoiceNumber, Money, Nonce, Signature, Subject};
use anchorfin::lending::{decide_many, request_hash, Decision, Denied, FinanceJob, FinanceRequest, LienKind, Outcome};
use anchorfin::refusal::UseCaseError;
use anchorfin::registry::{confirm_many, register_many, ConfirmationJob, NewReceivable, RegistrationJob};
use anchorfin::store::{write_transaction, Database, DbConnection};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::lending::{
    acknowledged_order, asset_under_order, bank, confirmed_asset, offered, order_pledge_body, pledge_body,
    post_with_key, Bank,
};
use crate::on_both_backends;
use crate::registry::{deal, Deal};

on_both_backends!(
    a_batch_decides_as_its_requests_would_one_by_one,
    a_batch_registers_as_its_invoices_would_one_by_one,
    a_batch_confirms_as_its_buyers_would_one_by_one,
);

pub fn job(bank: &Bank, body: &Value, nonce: &str) -> FinanceJob {
    job_with_key(&bank.api_key(), body, nonce)
}

fn job_with_key(api_key: &str, body: &Value, nonce: &str) -> FinanceJob {
    let subject = match (body.get("asset_id"), body.get("purchase_order_id")) {
        (Some(asset), _) => Subject::Asset(Uuid::parse_str(asset.as_str().unwrap()).unwrap()),
        (_, Some(order)) => Subject::PurchaseOrder(Uuid::parse_str(order.as_str().unwrap()).unwrap()),
        _ => panic!("no subject in {body}"),
    };
    FinanceJob {
        token: api_key.to_owned(),
        request: FinanceRequest {
            kind: LienKind::Pledge,
            offer: Uuid::parse_str(body["offer_id"].as_str().unwrap()).unwrap(),
            subject,
            amount: body["amount"].as_str().unwrap().to_owned(),
            signature: Signature::parse_hex(body["signature"].as_str().unwrap()).unwrap(),
            nonce: Nonce::parse(nonce).unwrap(),
            request_hash: request_hash("pledge", body),
        },
    }
}

/// Runs `work` in one transaction on the app's database, as the batcher
/// runs a batch.
async fn in_one_transaction<T, F>(app: &TestApp, work: F) -> T
where
    F: FnOnce(&mut DbConnection) -> Result<T, diesel::result::Error> + Send + 'static,
    T: Send + 'static,
{
    let url = app.settings.database_url().unwrap();
    tokio::task::spawn_blocking(move || {
        Database::new(url, 1, Duration::from_secs(10))
            .run_blocking(|connection| write_transaction(connection, work))
            .unwrap()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Decides the batch set-based, as the batcher does.
pub async fn decide(app: &TestApp, jobs: Vec<FinanceJob>) -> Option<Vec<Decision>> {
    in_one_transaction(app, move |connection| decide_many(connection, &jobs)).await
}

/// A registry result as the tests compare it: the `Ok` value, or the
/// refusal's name, or the error's text.
fn outcome<T>(result: Result<T, UseCaseError>) -> Result<T, String> {
    result.map_err(|error| match error {
        UseCaseError::Refused { refusal, .. } => format!("{refusal:?}"),
        other => other.to_string(),
    })
}

/// A decision's code: `created`, a refusal's code, or why there was none.
fn code(decision: &Decision) -> &'static str {
    match decision.as_ref().map(Outcome::first) {
        Ok(Outcome::Refused { code, .. }) => code.code(),
        Ok(_) => "created",
        Err(Denied::Unauthenticated) => "unauthorized",
        Err(Denied::NotABank(_)) => "forbidden",
    }
}

async fn a_batch_decides_as_its_requests_would_one_by_one(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let a = confirmed_asset(&app, &deal, "INV-B-1", "1000.00").await;
    let b = confirmed_asset(&app, &deal, "INV-B-2", "1001.00").await;
    let c = confirmed_asset(&app, &deal, "INV-B-3", "1002.00").await;
    let holder = deal.holder();
    let offer_a = offered(&app, &holder, &format!("asset:{a}"), &first, "pledge", "800.00").await;
    let offer_b = offered(&app, &holder, &format!("asset:{b}"), &first, "pledge", "500.00").await;
    let offer_c = offered(&app, &holder, &format!("asset:{c}"), &second, "pledge", "1002.00").await;
    // A receivable offered to the second bank whose purchase order the
    // first bank finances since: accepting it is refused and alerted.
    let order = acknowledged_order(&app, &deal, "PO-B-0", "9000.00").await;
    let d = asset_under_order(&app, &deal, &order, "INV-B-4", "1003.00").await;
    let offer_d = offered(&app, &holder, &format!("asset:{d}"), &second, "pledge", "1003.00").await;
    let offer_order = offered(
        &app,
        &holder,
        &format!("purchase_order:{order}"),
        &first,
        "pledge",
        "100.00",
    )
    .await;
    let body = order_pledge_body(&first, &offer_order, &order, "100.00", "b-0");
    assert_eq!(
        post_with_key(&app, "/v1/pledges", &first.api_key(), "b-0", &body)
            .await
            .status(),
        201
    );
    // What the batch writes is counted from here, whatever the set-up wrote.
    let before = app.ledger_mark().await;
    let impostor = Bank {
        org: second.org.clone(),
        key: first.key.clone(),
    };

    let jobs = vec![
        job(&first, &pledge_body(&first, &offer_a, &a, "800.00", "b-1"), "b-1"),
        job(&second, &pledge_body(&second, &offer_a, &a, "100.00", "b-2"), "b-2"),
        job(&first, &pledge_body(&first, &offer_b, &b, "500.00", "b-3"), "b-3"),
        job(&first, &pledge_body(&first, &offer_b, &b, "500.00", "b-3"), "b-3"),
        job(&first, &pledge_body(&first, &offer_b, &b, "400.00", "b-3"), "b-3"),
        job(&second, &pledge_body(&impostor, &offer_c, &c, "100.00", "b-4"), "b-4"),
        job(&second, &pledge_body(&second, &offer_c, &c, "1002.01", "b-5"), "b-5"),
        job(&second, &pledge_body(&second, &offer_c, &c, "1002.00", "b-6"), "b-6"),
        // The first bank's offer of `a` was taken earlier in this batch.
        job(&first, &pledge_body(&first, &offer_a, &a, "10.00", "b-11"), "b-11"),
        job(&second, &pledge_body(&second, &offer_d, &d, "1003.00", "b-12"), "b-12"),
        // Callers are authenticated in the batch: an unknown key (naming an
        // asset that does not exist, which must not stop the others), a
        // supplier's key.
        job_with_key(
            &format!("{}x", first.api_key()),
            &pledge_body(&first, &offer_a, &Uuid::new_v4().to_string(), "1.00", "b-9"),
            "b-9",
        ),
        job_with_key(
            &Deal::key(&deal.supplier),
            &pledge_body(&first, &offer_c, &c, "1.00", "b-10"),
            "b-10",
        ),
    ];
    let outcomes = decide(&app, jobs.clone())
        .await
        .expect("a batch of assets is decided set-based");
    let codes: Vec<&str> = outcomes.iter().map(code).collect();
    assert_eq!(
        codes,
        [
            "created",
            "not_found",
            "created",
            "created",
            "idempotency_mismatch",
            "invalid_signature",
            "exceeds_offer",
            "created",
            "not_found",
            "po_financed_elsewhere",
            "unauthorized",
            "forbidden",
        ]
    );
    assert_eq!(
        outcomes[3],
        Ok(Outcome::Replayed(Box::new(outcomes[2].clone().unwrap()))),
        "a repeated key answers the first answer, as a replay"
    );

    // What the batch granted is what the API shows.
    let seen: Value = app.get_json(&format!("/v1/assets/{a}"), Some(&first.api_key())).await;
    let Ok(Outcome::Created { body: granted }) = &outcomes[0] else {
        unreachable!()
    };
    assert_eq!(seen["lien"]["id"], granted["id"]);
    assert_eq!(seen["lien"]["bank_id"], json!(first.id()));
    let seen: Value = app.get_json(&format!("/v1/assets/{c}"), Some(&second.api_key())).await;
    assert_eq!(seen["lien"]["amount"], "1002.00");
    let taken: Value = app
        .get_json(&format!("/v1/offers/{offer_c}"), Some(&second.api_key()))
        .await;
    assert_eq!(taken["status"], "taken");

    // Three liens and one alert, each on the ledger, in the batch's order of
    // decision; the alert's entry is the refused attempt's.
    let mut tail = app.kinds_since(before).await;
    tail.sort();
    assert_eq!(
        tail,
        ["alert_raised", "asset_pledged", "asset_pledged", "asset_pledged"]
    );
    let Ok(Outcome::Refused { detail, .. }) = &outcomes[9] else {
        unreachable!()
    };
    assert!(detail.contains("risk officers were alerted"), "{detail}");

    // The same batch again: every answer is the stored one, nothing is written.
    let again = decide(&app, jobs).await.expect("decided again");
    for (again, first) in again.iter().zip(&outcomes) {
        match (again, first) {
            (Ok(again), Ok(first)) => assert_eq!(again.first(), first.first()),
            (again, first) => assert_eq!(again, first),
        }
    }
    assert!(matches!(again[0], Ok(Outcome::Replayed(_))), "{:?}", again[0]);
    // Entries are appended in the batch's own transaction, committed when
    // `decide` returns: nothing appended now is nothing appended at all.
    assert_eq!(app.ledger_mark().await, before + 4);

    // A purchase order in the batch: declined before anything is written
    // (the batcher then decides the batch request by request).
    let other = acknowledged_order(&app, &deal, "PO-B-1", "5000.00").await;
    let offer_other = offered(
        &app,
        &holder,
        &format!("purchase_order:{other}"),
        &first,
        "pledge",
        "100.00",
    )
    .await;
    let mixed = vec![
        job(&first, &pledge_body(&first, &offer_b, &b, "100.00", "b-8"), "b-8"),
        job(
            &first,
            &order_pledge_body(&first, &offer_other, &other, "100.00", "b-7"),
            "b-7",
        ),
    ];
    assert!(decide(&app, mixed).await.is_none());
}

/// A registration, under the app's own fingerprint key (the one its data
/// directory holds and its database is bound to).
fn registration(app: &TestApp, deal: &Deal, buyer: &Value, number: &str, amount: &str) -> RegistrationJob {
    let key = anchorfin::identity::load_fingerprint_key(&app.settings.fingerprint_key_path()).unwrap();
    RegistrationJob {
        supplier_id: Deal::id(&deal.supplier),
        receivable: NewReceivable {
            buyer_id: Uuid::parse_str(&Deal::id(buyer)).unwrap(),
            invoice_number: InvoiceNumber::parse(number).unwrap(),
            issue_date: "2026-11-01".parse().unwrap(),
            due_date: "2027-03-31".parse().unwrap(),
            amount: Money::parse(amount, Currency::parse("CNY").unwrap()).unwrap(),
            purchase_order_id: None,
            order_reference: None,
        },
        fingerprint_key: key,
        token: Some(Deal::key(&deal.supplier)),
    }
}

/// Registers the batch in one transaction, as the batcher does: per job
/// the receivable's id and its near-duplicate alert's, or the error.
async fn register_batch(app: &TestApp, jobs: Vec<RegistrationJob>) -> Option<Vec<Result<(String, bool), String>>> {
    let results = in_one_transaction(app, move |connection| register_many(connection, &jobs)).await?;
    Some(
        results
            .into_iter()
            .map(|result| {
                outcome(result).map(|registered| (registered.receivable.id, registered.near_duplicate_alert.is_some()))
            })
            .collect(),
    )
}

async fn a_batch_registers_as_its_invoices_would_one_by_one(app: TestApp) {
    let deal = deal(&app).await;
    let earlier = crate::registry::registered(&app, &deal, "INV-R-0", "700.00").await;
    // What the batch writes is counted from here.
    let before = app.ledger_mark().await;

    let jobs = vec![
        registration(&app, &deal, &deal.buyer, "INV-R-1", "100.00"),
        // The same invoice written otherwise, later in the batch.
        registration(&app, &deal, &deal.buyer, "inv r 1", "100.00"),
        // Alike the first (seller, buyer, amount, date) under another number.
        registration(&app, &deal, &deal.buyer, "INV-R-2", "100.00"),
        // Alike one registered before the batch.
        registration(&app, &deal, &deal.buyer, "INV-R-3", "700.00"),
        // Registered before the batch.
        registration(&app, &deal, &deal.buyer, "INV-R-0", "700.00"),
        // A buyer that is not a core enterprise.
        registration(&app, &deal, &deal.bank, "INV-R-4", "100.00"),
    ];
    let results = register_batch(&app, jobs.clone()).await.expect("taken set-based");
    assert!(matches!(&results[0], Ok((_, false))), "{results:?}");
    assert_eq!(results[1], Err("DuplicateRegistration".to_owned()));
    assert!(matches!(&results[2], Ok((_, true))), "{results:?}");
    assert!(matches!(&results[3], Ok((_, true))), "{results:?}");
    assert_eq!(results[4], Err("DuplicateRegistration".to_owned()));
    assert!(
        matches!(&results[5], Err(error) if error.contains("not a core_enterprise")),
        "{results:?}"
    );

    // What the batch wrote is what the API shows.
    let Ok((first, _)) = &results[0] else { unreachable!() };
    let seen: Value = app
        .get_json(&format!("/v1/receivables/{first}"), Some(&Deal::key(&deal.supplier)))
        .await;
    assert_eq!(seen["invoice_number"], "INV-R-1");
    assert_eq!(seen["status"], "registered");
    assert_ne!(seen["id"], earlier["id"]);

    // Three registrations, two duplicate and two near-duplicate alerts.
    let mut kinds = app.kinds_since(before).await;
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "alert_raised",
            "alert_raised",
            "alert_raised",
            "alert_raised",
            "receivable_registered",
            "receivable_registered",
            "receivable_registered",
        ]
    );

    // The same batch again: every invoice is now a duplicate.
    let again = register_batch(&app, jobs).await.expect("taken again");
    assert_eq!(
        again[..5],
        vec![Err("DuplicateRegistration".to_owned()); 5][..],
        "{again:?}"
    );

    // An invoice against a purchase order: registered one by one instead.
    let mut on_order = registration(&app, &deal, &deal.buyer, "INV-R-5", "100.00");
    on_order.receivable.purchase_order_id = Some(Uuid::new_v4());
    assert!(register_batch(&app, vec![on_order]).await.is_none());
}

fn confirmation(caller: &Value, receivable: &Value, signed_by: &ed25519_dalek::SigningKey) -> ConfirmationJob {
    let signature = crate::registry::sign(signed_by, &crate::registry::confirm_message(receivable));
    ConfirmationJob {
        buyer: anchorfin::registry::Viewer {
            organization_id: Deal::id(caller),
            role: caller["role"].as_str().unwrap().parse().unwrap(),
        },
        receivable_id: Uuid::parse_str(receivable["id"].as_str().unwrap()).unwrap(),
        signature: Signature::parse_hex(&signature).unwrap(),
    }
}

/// Confirms the batch in one transaction, as the batcher does: per job the
/// minted asset's id, or the error.
async fn confirm_batch(app: &TestApp, jobs: Vec<ConfirmationJob>) -> Option<Vec<Result<String, String>>> {
    let results = in_one_transaction(app, move |connection| confirm_many(connection, &jobs)).await?;
    Some(
        results
            .into_iter()
            .map(|result| outcome(result).map(|confirmed| confirmed.asset.id))
            .collect(),
    )
}

async fn a_batch_confirms_as_its_buyers_would_one_by_one(app: TestApp) {
    let deal = deal(&app).await;
    let first = crate::registry::registered(&app, &deal, "INV-C-1", "100.00").await;
    let second = crate::registry::registered(&app, &deal, "INV-C-2", "200.00").await;
    let third = crate::registry::registered(&app, &deal, "INV-C-3", "300.00").await;
    let mut unknown = first.clone();
    unknown["id"] = json!(Uuid::new_v4().to_string());
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[99; 32]);
    let before = app.ledger_mark().await;

    let jobs = vec![
        confirmation(&deal.buyer, &first, &deal.buyer_key),
        // The same confirmation again in the batch: already confirmed.
        confirmation(&deal.buyer, &first, &deal.buyer_key),
        // Signed with a key that is not the buyer's.
        confirmation(&deal.buyer, &second, &stranger),
        // The supplier is a party, not the buyer.
        confirmation(&deal.supplier, &third, &deal.buyer_key),
        confirmation(&deal.buyer, &unknown, &deal.buyer_key),
        confirmation(&deal.buyer, &third, &deal.buyer_key),
    ];
    let results = confirm_batch(&app, jobs.clone()).await.expect("taken set-based");
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(results[1], Err("AlreadyConfirmed".to_owned()));
    assert_eq!(results[2], Err("InvalidSignature".to_owned()));
    assert!(
        matches!(&results[3], Err(error) if error.contains("only the buyer")),
        "{results:?}"
    );
    assert_eq!(results[4], Err("no such resource".to_owned()));
    assert!(results[5].is_ok(), "{results:?}");

    // The minted asset is what the API shows; the badly signed second is
    // still registered.
    let asset = results[0].as_ref().unwrap();
    let seen: Value = app
        .get_json(&format!("/v1/assets/{asset}"), Some(&Deal::key(&deal.supplier)))
        .await;
    assert_eq!(seen["face_value"], "100.00");
    assert_eq!(seen["status"], "active");
    let seen: Value = app
        .get_json(
            &format!("/v1/receivables/{}", second["id"].as_str().unwrap()),
            Some(&Deal::key(&deal.supplier)),
        )
        .await;
    assert_eq!(seen["status"], "registered");
    // Two confirmations; the refused ones wrote nothing.
    assert_eq!(
        app.kinds_since(before).await,
        ["receivable_confirmed", "receivable_confirmed"]
    );

    // Again: both are confirmed already, nothing more is minted.
    let again = confirm_batch(&app, jobs).await.expect("taken again");
    assert_eq!(again[0], Err("AlreadyConfirmed".to_owned()));
    assert_eq!(again[5], Err("AlreadyConfirmed".to_owned()));
}
