//! A bank's liens:
//!
//! - `GET /pledges`: its portfolio, newest first, a page at a time
//!   (`lending::liens_of_bank`, each lien as the API shows it).
//! - `GET /pledges/{id}`: a lien as `GET /v1/pledges/{id}` shows it to its
//!   parties, with its loan. To the lienholder: while a pledge is active, a
//!   release (`POST /pledges/{id}/release`, `lending::release` as
//!   `POST /v1/pledges/{id}/release`); once the buyer's payment left its
//!   share (`settling`), the exact `receipt` message to sign in the
//!   browser, decided by `POST /pledges/{id}/receipt`
//!   (`lending::confirm_receipt`); while it is active, money lent or
//!   repaid: `GET /pledges/{id}/loan` shows the `disbursement` /
//!   `repayment` message with a fresh nonce, `POST /pledges/{id}/loan`
//!   decides it (`lending::record_loan`, as
//!   `POST /v1/pledges/{id}/disbursements` and `…/repayments`).

use actix_web::{web, HttpResponse};
use askama::Template;
use serde_json::Value;
use uuid::Uuid;

use super::offers::{named, shown_amount, shown_time, text};
use super::signing::{sent_nonce, signature, with_signer, Signing};
use super::{field_problem, html, refusal_text, see_other, Fact};
use crate::api::lending::{parse_loan_record_with, LoanRecordBody};
use crate::api::state::AppState;
use crate::domain::{Currency, LienStatus, LoanEntry, LoanReference, Money, Nonce};
use crate::lending::{
    confirm_receipt, liens_of_bank, loan_action, receipt_action, record_loan, release, show_lien, LoanRecordKind,
};
use crate::portal::caller::Caller;
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::messages;
use crate::refusal::UseCaseError;
use crate::store::organizations::names;

/// Liens per page.
const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "pledges.html")]
struct PortfolioPage {
    frame: Frame,
    rows: Vec<PortfolioRow>,
    next: Option<String>,
    first: Option<String>,
}

struct PortfolioRow {
    id: String,
    created_at: String,
    kind: &'static str,
    subject: String,
    subject_href: Option<String>,
    amount: String,
    status: String,
}

#[derive(serde::Deserialize)]
pub struct PortfolioQuery {
    cursor: Option<String>,
}

pub async fn pledges(
    caller: Caller,
    query: web::Query<PortfolioQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let bank = caller.bank()?.organization_id.to_string();
    let t = caller.lang;
    let after = match query.cursor.as_deref().filter(|cursor| !cursor.is_empty()) {
        Some(cursor) => Some(crate::alerts::decode_cursor(cursor).ok_or(PortalError::BadRequest)?),
        None => None,
    };
    let first_page = after.is_none();
    let (items, next_cursor) = state
        .database
        .run(move |connection| liens_of_bank(connection, &bank, after, PAGE))
        .await??;
    let rows = items
        .iter()
        .map(|lien| {
            let asset = lien["asset_id"].as_str();
            PortfolioRow {
                id: text(lien, "id").to_owned(),
                created_at: shown_time(t, text(lien, "created_at")),
                kind: messages::lien_kind(t, text(lien, "kind")),
                subject: asset
                    .or(lien["purchase_order_id"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
                subject_href: asset.map(|asset| format!("/assets/{asset}")),
                amount: shown_amount(t, text(lien, "amount"), text(lien, "currency")),
                status: lien_status(caller.lang, text(lien, "status")),
            }
        })
        .collect();
    html(&PortfolioPage {
        frame: caller.frame(t.portfolio(), "/pledges"),
        rows,
        next: next_cursor.map(|cursor| format!("/pledges?cursor={}", super::offers::urlencode(&cursor))),
        first: (!first_page).then(|| "/pledges".to_owned()),
    })
}

fn lien_status(t: crate::portal::i18n::Lang, status: &str) -> String {
    LienStatus::parse(status).map_or_else(
        || status.to_owned(),
        |status| messages::lien_status(t, status).to_owned(),
    )
}

#[derive(Template)]
#[template(path = "pledge.html")]
struct LienPage {
    frame: Frame,
    id: String,
    facts: Vec<Fact>,
    records: Vec<Record>,
    problem: Option<String>,
    /// To the lienholder of an active pledge.
    can_release: bool,
    /// To the lienholder of a settling lien: its receipt to sign.
    receipt: Option<Signing>,
    /// To the lienholder of an active lien: the loan record form.
    loan: Option<LoanForm>,
}

struct LoanForm {
    currency: String,
    today: String,
}

struct Record {
    kind: String,
    amount: String,
    value_date: String,
    reference: String,
}

pub async fn pledge(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    lien_page(&caller, &state, &path, None).await
}

async fn load(state: &AppState, caller: &Caller, id: Uuid) -> Result<(Value, Names), PortalError> {
    let viewer = caller.viewer()?;
    Ok(state
        .database
        .run(move |connection| -> Result<_, UseCaseError> {
            let lien = show_lien(connection, &viewer, id)?;
            let names = names(connection, &[text(&lien, "bank_id").to_owned()])?;
            Ok((lien, names))
        })
        .await??)
}

type Names = std::collections::HashMap<String, String>;

async fn lien_page(
    caller: &Caller,
    state: &AppState,
    id: &str,
    problem: Option<String>,
) -> Result<HttpResponse, PortalError> {
    let t = caller.lang;
    let id = Uuid::parse_str(id).map_err(|_| PortalError::NotFound)?;
    let (lien, names) = load(state, caller, id).await?;
    let currency = text(&lien, "currency");
    let mut facts = vec![
        Fact::code(t.lien(), text(&lien, "id").to_owned()),
        Fact::text(t.kind(), messages::lien_kind(t, text(&lien, "kind")).to_owned()),
        Fact::text(t.status(), lien_status(t, text(&lien, "status"))),
    ];
    if let Some(asset) = lien["asset_id"].as_str() {
        facts.push(Fact::link(t.asset(), asset.to_owned(), format!("/assets/{asset}")));
    }
    if let Some(order) = lien["purchase_order_id"].as_str() {
        facts.push(Fact::code(t.purchase_order(), order.to_owned()));
    }
    if let Some(offer) = lien["offer_id"].as_str() {
        facts.push(Fact::link(t.offer(), offer.to_owned(), format!("/offers/{offer}")));
    }
    facts.push(Fact::text(t.bank(), named(&names, text(&lien, "bank_id"))));
    facts.push(Fact::text(t.amount(), shown_amount(t, text(&lien, "amount"), currency)));
    if let Some(share) = lien["share"].as_str() {
        facts.push(Fact::text(t.share_paid(), shown_amount(t, share, currency)));
    }
    let loan = &lien["loan"];
    facts.extend([
        Fact::text(t.disbursed(), shown_amount(t, text(loan, "disbursed"), currency)),
        Fact::text(t.repaid(), shown_amount(t, text(loan, "repaid"), currency)),
        Fact::text(
            t.loan_outstanding(),
            shown_amount(t, text(loan, "outstanding"), currency),
        ),
        Fact::text(t.created_at(), shown_time(t, text(&lien, "created_at"))),
    ]);
    if let Some(ended) = lien["ended_at"].as_str() {
        facts.push(Fact::text(t.ended_at(), shown_time(t, ended)));
    }
    facts.push(Fact::code(
        t.ledger_leaf(),
        text(&lien["ledger"], "leaf_hash").to_owned(),
    ));
    let records = loan["records"]
        .as_array()
        .map(|records| {
            records
                .iter()
                .map(|record| Record {
                    kind: text(record, "kind").to_owned(),
                    amount: shown_amount(t, text(record, "amount"), text(record, "currency")),
                    value_date: text(record, "value_date").to_owned(),
                    reference: text(record, "reference").to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let lienholder = caller
        .bank()
        .is_ok_and(|bank| bank.organization_id.to_string() == text(&lien, "bank_id"));
    let status = LienStatus::parse(text(&lien, "status"));
    let receipt = match (lienholder, status, lien["share"].as_str()) {
        (true, Some(LienStatus::Settling), Some(share)) => {
            let currency = Currency::parse(currency).map_err(|_| PortalError::NotFound)?;
            let amount = Money::parse(share, currency).map_err(|_| PortalError::NotFound)?;
            Some(Signing {
                id: "receipt",
                action: format!("/pledges/{id}/receipt"),
                message: receipt_action(id, amount, caller.principal.organization_id).canonical_message(),
                fields: vec![("amount".to_owned(), amount.amount_string())],
                reason: false,
                submit: t.confirm_receipt(),
            })
        }
        _ => None,
    };
    let frame = caller.frame(t.lien(), "/pledges");
    html(&LienPage {
        frame: if receipt.is_some() { with_signer(frame) } else { frame },
        id: id.to_string(),
        facts,
        records,
        problem,
        can_release: lienholder && status == Some(LienStatus::Active) && text(&lien, "kind") == "pledge",
        receipt,
        loan: (lienholder && status == Some(LienStatus::Active)).then(|| LoanForm {
            currency: currency.to_owned(),
            today: crate::store::now().date().to_string(),
        }),
    })
}

/// `POST /pledges/{id}/release`: the lienholder releases its pledge.
pub async fn release_pledge(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let id = Uuid::parse_str(&path).map_err(|_| PortalError::NotFound)?;
    let decided = state
        .database
        .run(move |connection| Ok::<_, diesel::result::Error>(release(connection, &viewer, id)))
        .await??;
    state.sequencer.wake();
    answer(&caller, &state, &path, decided.map(|_| ())).await
}

/// `POST /pledges/{id}/receipt`: the lienholder's signed receipt of its
/// share.
pub async fn receipt(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let id = Uuid::parse_str(&path).map_err(|_| PortalError::NotFound)?;
    let signature = match signature(&caller) {
        Ok(signature) => signature,
        Err(problem) => {
            let problem = field_problem(caller.lang, "signature", &problem);
            return lien_page(&caller, &state, &path, Some(problem)).await;
        }
    };
    let amount = crate::portal::caller::field(&caller.form, "amount")
        .unwrap_or_default()
        .to_owned();
    let decided = state
        .database
        .run(move |connection| {
            Ok::<_, diesel::result::Error>(confirm_receipt(connection, &viewer, id, &amount, &signature))
        })
        .await??;
    state.sequencer.wake();
    answer(&caller, &state, &path, decided.map(|_| ())).await
}

/// 303 back to the lien, or its page with the refusal.
async fn answer(
    caller: &Caller,
    state: &AppState,
    id: &str,
    decided: Result<(), UseCaseError>,
) -> Result<HttpResponse, PortalError> {
    match decided {
        Ok(()) => Ok(see_other(&format!("/pledges/{id}"))),
        Err(error) => match refusal_text(caller.lang, &error) {
            Some(problem) => lien_page(caller, state, id, Some(problem)).await,
            None => Err(error.into()),
        },
    }
}

#[derive(serde::Deserialize)]
pub struct LoanQuery {
    kind: Option<String>,
    amount: Option<String>,
    value_date: Option<String>,
    reference: Option<String>,
}

fn loan_kind(raw: &str) -> Option<LoanRecordKind> {
    [LoanRecordKind::Disbursement, LoanRecordKind::Repayment]
        .into_iter()
        .find(|kind| kind.as_str() == raw)
}

/// `GET /pledges/{id}/loan`: the loan record's terms checked, and its
/// message to sign.
pub async fn loan_terms(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<LoanQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let bank = caller.bank()?.organization_id;
    let t = caller.lang;
    let id = Uuid::parse_str(&path).map_err(|_| PortalError::NotFound)?;
    let (lien, _) = load(&state, &caller, id).await?;
    if text(&lien, "bank_id") != bank.to_string() {
        return Err(PortalError::Forbidden);
    }
    let parsed = loan_kind(query.kind.as_deref().unwrap_or_default())
        .ok_or_else(|| field_problem(t, "kind", "must be disbursement or repayment"))
        .and_then(|kind| {
            let currency = Currency::parse(text(&lien, "currency"))
                .map_err(|error| field_problem(t, "currency", &error.to_string()))?;
            let amount = Money::parse(query.amount.as_deref().unwrap_or_default().trim(), currency)
                .map_err(|error| field_problem(t, "amount", &error.to_string()))?;
            let value_date =
                chrono::NaiveDate::parse_from_str(query.value_date.as_deref().unwrap_or_default().trim(), "%Y-%m-%d")
                    .map_err(|_| field_problem(t, "value_date", "must be a date, YYYY-MM-DD"))?;
            let reference = LoanReference::parse(query.reference.as_deref().unwrap_or_default())
                .map_err(|error| field_problem(t, "reference", &error.to_string()))?;
            Ok((kind, amount, value_date, reference))
        });
    let (kind, amount, value_date, reference) = match parsed {
        Ok(parsed) => parsed,
        Err(problem) => return lien_page(&caller, &state, &path, Some(problem)).await,
    };
    let nonce = Nonce::fresh();
    let message = loan_action(
        kind,
        LoanEntry {
            lien: id,
            amount,
            value_date,
            reference: reference.clone(),
            bank,
            nonce: nonce.clone(),
        },
    )
    .canonical_message();
    let heading = match kind {
        LoanRecordKind::Disbursement => t.record_disbursement(),
        LoanRecordKind::Repayment => t.record_repayment(),
    };
    html(&super::offers::SignPage {
        frame: with_signer(caller.frame(heading, "/pledges")),
        heading,
        facts: vec![
            Fact::link(t.lien(), id.to_string(), format!("/pledges/{id}")),
            Fact::text(t.amount(), t.format_amount(amount.minor_units(), amount.currency())),
            Fact::text(t.value_date(), t.format_date(value_date)),
            Fact::text(t.reference(), reference.as_str().to_owned()),
        ],
        signing: Signing {
            id: "loan",
            action: format!("/pledges/{id}/loan"),
            message,
            fields: vec![
                ("kind".to_owned(), kind.as_str().to_owned()),
                ("amount".to_owned(), amount.amount_string()),
                ("value_date".to_owned(), value_date.to_string()),
                ("reference".to_owned(), reference.as_str().to_owned()),
                ("nonce".to_owned(), nonce.as_str().to_owned()),
            ],
            reason: false,
            submit: heading,
        },
        back: format!("/pledges/{id}"),
        back_label: t.back_to_lien(),
    })
}

/// `POST /pledges/{id}/loan`: the lienholder's signed loan record.
pub async fn record_loan_entry(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let id = Uuid::parse_str(&path).map_err(|_| PortalError::NotFound)?;
    let form = |name: &str| {
        crate::portal::caller::field(&caller.form, name)
            .unwrap_or_default()
            .to_owned()
    };
    let (Some(kind), Some(nonce)) = (loan_kind(&form("kind")), sent_nonce(&caller)) else {
        return Err(PortalError::BadRequest);
    };
    let body = LoanRecordBody {
        amount: form("amount"),
        value_date: form("value_date"),
        reference: form("reference"),
        signature: form("signature").trim().to_owned(),
    };
    let request = match parse_loan_record_with(nonce, id, &body, kind) {
        Ok(request) => request,
        Err(error) => {
            let problem = field_problem(t, &error.field, &error.to_string());
            return lien_page(&caller, &state, &path, Some(problem)).await;
        }
    };
    let outcome = state
        .database
        .run(move |connection| record_loan(connection, &viewer, id, &request))
        .await??;
    state.sequencer.wake();
    match super::offers::decided(t, outcome)? {
        Ok(_) => Ok(see_other(&format!("/pledges/{id}"))),
        Err(problem) => lien_page(&caller, &state, &path, Some(problem)).await,
    }
}
