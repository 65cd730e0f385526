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
//!   (`lending::confirm_receipt`).

use actix_web::{web, HttpResponse};
use askama::Template;
use serde_json::Value;
use uuid::Uuid;

use super::offers::{named, shown_amount, shown_time, text};
use super::signing::{signature, with_signer, Signing};
use super::{field_problem, html, refusal_text, see_other, Fact};
use crate::api::state::AppState;
use crate::domain::{Currency, LienStatus, Money};
use crate::lending::{confirm_receipt, liens_of_bank, receipt_action, release, show_lien};
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
