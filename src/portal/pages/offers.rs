//! Assets and the offers that finance them (SPEC §4a), each step signed in
//! the browser:
//!
//! - `GET /assets/{id}`: an asset as `GET /v1/assets/{id}` shows it (the
//!   same `registry::visible_asset` check); to its holder, while it is
//!   active and free, a form for the terms of an offer to one bank.
//! - `GET /assets/{id}/offer?bank_id&kind&amount&days`: the terms checked
//!   and the exact `offer_pledge` / `offer_assignment` message to sign,
//!   with a fresh nonce; `POST /offers` sends the signature and decides it
//!   as `POST /v1/offers` does (`lending::make_offer`) — an attempt to
//!   offer an asset already financed is refused there and alerted.
//! - `GET /offers` and `GET /offers/{id}`: the offers the organisation made
//!   or received, as `GET /v1/offers` shows them.
//! - `GET /offers/{id}/accept?amount`: to the bank it is addressed to, the
//!   exact `pledge` / `assign` message; `POST /offers/{id}/acceptance`
//!   decides it as `POST /v1/pledges` does (`lending::finance_as`), with
//!   the session resumed in the decision's transaction, so a key revoked
//!   meanwhile decides nothing.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Duration;
use serde_json::Value;
use uuid::Uuid;

use super::signing::{sent_nonce, with_signer, Signing};
use super::{amount, field_problem, html, see_other, Fact};
use crate::api::assets::{PartRequest, SplitRequest};
use crate::api::lending::{parse_finance_with, parse_payment_with, FinanceBody, PaymentRequest};
use crate::api::offers::{parse_offer_with, OfferBody};
use crate::api::state::AppState;
use crate::domain::{AssetStatus, Currency, Money, Nonce, OfferStatus, Role, Subject, UtcSecond};
use crate::lending::{
    finance_action, finance_as, list_offers, make_offer, offer_action, pay, payment_action, show_offer, Denied,
    LienKind, Outcome, MAX_OFFER_DAYS,
};
use crate::organizations::session;
use crate::portal::caller::{field, Caller};
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::i18n::Lang;
use crate::portal::messages;
use crate::refusal::UseCaseError;
use crate::registry::{split_asset, visible_asset, Viewer};
use crate::store::organizations::{names, organizations_with_role};
use crate::store::{self, registry as repository, write_transaction};

/// Offers per page.
const PAGE: i64 = 50;

/// How long an offer stays open unless the holder says otherwise.
const DEFAULT_OFFER_DAYS: i64 = 7;

fn path_uuid(raw: &str) -> Result<Uuid, PortalError> {
    Uuid::parse_str(raw).map_err(|_| PortalError::NotFound)
}

/// A name and id, as pages show an organisation.
pub(super) fn named(names: &std::collections::HashMap<String, String>, id: &str) -> String {
    match names.get(id) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_owned(),
    }
}

/// A view's string field ("" when absent or null).
pub(super) fn text<'a>(view: &'a Value, key: &str) -> &'a str {
    view[key].as_str().unwrap_or_default()
}

/// An amount of a view ("123.45" and its currency) for the locale; as
/// stored if it does not parse.
pub(super) fn shown_amount(t: Lang, amount: &str, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(parsed) => match Money::parse(amount, parsed) {
            Ok(money) => t.format_amount(money.minor_units(), parsed),
            Err(_) => format!("{amount} {currency}"),
        },
        Err(_) => format!("{amount} {currency}"),
    }
}

/// A view's time (RFC 3339, UTC) for the locale; as written if it does
/// not parse.
pub(super) fn shown_time(t: Lang, raw: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(raw).map_or_else(|_| raw.to_owned(), |time| t.format_time(time.naive_utc()))
}

// The asset.

#[derive(Template)]
#[template(path = "asset.html")]
struct AssetPage {
    frame: Frame,
    id: String,
    facts: Vec<Fact>,
    problem: Option<String>,
    /// The terms form, to the holder of an active asset.
    offer: Option<OfferForm>,
    /// The payment form, to the buyer who owes an active asset.
    payment: Option<PaymentForm>,
    /// The split form's rows, to the holder of an active asset.
    split: Vec<SplitRow>,
}

/// A row of the split form: a part's amount and, optionally, the supplier
/// it is transferred to.
#[derive(Default)]
struct SplitRow {
    index: usize,
    amount: String,
    transfer_to: String,
}

/// Rows the split form offers.
const SPLIT_ROWS: usize = 4;

struct PaymentForm {
    amount: String,
    currency: String,
    paid_on: String,
}

struct OfferForm {
    banks: Vec<Choice>,
    kinds: Vec<Choice>,
    amount: String,
    currency: String,
    days: String,
    max_days: i64,
    /// A lien stands on the asset: another offer will be refused.
    financed: bool,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The terms an offer form sent (kept to fill the form again), and a
/// split form's rows.
#[derive(Default, serde::Deserialize)]
pub struct Terms {
    bank_id: Option<String>,
    kind: Option<String>,
    amount: Option<String>,
    days: Option<String>,
    #[serde(skip)]
    split: Vec<(String, String)>,
}

/// What an asset page shows, loaded for `viewer`.
struct LoadedAsset {
    asset: repository::AssetRow,
    receivable: repository::ReceivableRow,
    children: Vec<repository::AssetRow>,
    lien: Option<store::lending::LienRow>,
    names: std::collections::HashMap<String, String>,
    banks: Vec<(String, String)>,
}

async fn load_asset(state: &AppState, viewer: Viewer, id: String) -> Result<LoadedAsset, PortalError> {
    state
        .database
        .run(move |connection| -> diesel::QueryResult<_> {
            let Some((asset, receivable)) = visible_asset(connection, &viewer, &id)? else {
                return Ok(None);
            };
            let children = repository::children_of(connection, &asset.id)?;
            let lien = store::lending::standing_lien_on_asset(connection, &asset.id)?;
            let mut ids = vec![
                asset.holder_id.clone(),
                receivable.supplier_id.clone(),
                receivable.buyer_id.clone(),
            ];
            ids.extend(lien.iter().map(|lien| lien.bank_id.clone()));
            let bank_ids = if asset.holder_id == viewer.organization_id {
                organizations_with_role(connection, Role::Bank.as_str())?
            } else {
                Vec::new()
            };
            ids.extend(bank_ids.iter().cloned());
            let names = names(connection, &ids)?;
            let mut banks: Vec<(String, String)> = bank_ids
                .into_iter()
                .map(|id| {
                    let name = names.get(&id).cloned().unwrap_or_else(|| id.clone());
                    (id, name)
                })
                .collect();
            banks.sort_by(|a, b| a.1.cmp(&b.1));
            Ok(Some(LoadedAsset {
                asset,
                receivable,
                children,
                lien,
                names,
                banks,
            }))
        })
        .await??
        .ok_or(PortalError::NotFound)
}

pub async fn asset(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    asset_page(&caller, &state, &path, None, &Terms::default()).await
}

async fn asset_page(
    caller: &Caller,
    state: &AppState,
    id: &str,
    problem: Option<String>,
    terms: &Terms,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let id = path_uuid(id)?.to_string();
    let holder = viewer.organization_id.clone();
    let loaded = load_asset(state, viewer, id).await?;
    let asset = &loaded.asset;
    let mut facts = vec![
        Fact::link(
            t.receivable(),
            loaded.receivable.invoice_number.clone(),
            format!("/receivables/{}", loaded.receivable.id),
        ),
        Fact::text(t.holder(), named(&loaded.names, &asset.holder_id)),
        Fact::text(t.buyer(), named(&loaded.names, &loaded.receivable.buyer_id)),
        Fact::text(t.due_date(), t.format_date(loaded.receivable.due_date)),
        Fact::text(t.face_value(), amount(t, asset.face_value_minor, &asset.currency)),
        Fact::text(t.status(), messages::asset_status(t, asset.status).to_owned()),
    ];
    if let Some(parent) = &asset.parent_id {
        facts.push(Fact::link(t.split_from(), parent.clone(), format!("/assets/{parent}")));
    }
    for child in &loaded.children {
        facts.push(Fact::link(
            t.split_into(),
            child.id.clone(),
            format!("/assets/{}", child.id),
        ));
    }
    if let Some(lien) = &loaded.lien {
        facts.push(Fact::text(
            t.lien(),
            format!(
                "{} · {} · {}",
                messages::lien_kind(t, &lien.kind),
                named(&loaded.names, &lien.bank_id),
                amount(t, lien.amount_minor, &lien.currency)
            ),
        ));
    }
    facts.push(Fact::code(t.ledger_leaf(), hex::encode(&asset.leaf_hash)));
    // Offered while a lien stands, it is refused and reported (the form
    // says so): the page does not hide what the rules decide.
    let offer = (asset.holder_id == holder && asset.status == AssetStatus::Active).then(|| {
        let face_value = crate::registry::amount(asset.face_value_minor, &asset.currency);
        OfferForm {
            banks: loaded
                .banks
                .iter()
                .map(|(id, name)| Choice {
                    value: id.clone(),
                    label: name.clone(),
                    selected: terms.bank_id.as_deref() == Some(id.as_str()),
                })
                .collect(),
            kinds: [LienKind::Pledge, LienKind::Assignment]
                .into_iter()
                .map(|kind| Choice {
                    value: kind.as_str().to_owned(),
                    label: messages::lien_kind(t, kind.as_str()).to_owned(),
                    selected: terms.kind.as_deref() == Some(kind.as_str()),
                })
                .collect(),
            amount: terms.amount.clone().unwrap_or(face_value),
            currency: asset.currency.clone(),
            days: terms.days.clone().unwrap_or_else(|| DEFAULT_OFFER_DAYS.to_string()),
            max_days: MAX_OFFER_DAYS,
            financed: loaded.lien.is_some(),
        }
    });
    let payment = (loaded.receivable.buyer_id == holder && asset.status == AssetStatus::Active).then(|| PaymentForm {
        amount: crate::registry::amount(asset.face_value_minor, &asset.currency),
        currency: asset.currency.clone(),
        paid_on: store::now().date().to_string(),
    });
    let split = if offer.is_some() {
        (0..SPLIT_ROWS)
            .map(|index| SplitRow {
                index,
                ..terms
                    .split
                    .get(index)
                    .cloned()
                    .map(|(amount, transfer_to)| SplitRow {
                        index,
                        amount,
                        transfer_to,
                    })
                    .unwrap_or_default()
            })
            .collect()
    } else {
        Vec::new()
    };
    html(&AssetPage {
        frame: caller.frame(t.asset(), ""),
        id: asset.id.clone(),
        facts,
        problem,
        offer,
        payment,
        split,
    })
}

// The offer's terms, then its message to sign.

/// A page that shows terms and the message to sign for them.
#[derive(Template)]
#[template(path = "sign_page.html")]
pub(super) struct SignPage {
    pub(super) frame: Frame,
    pub(super) heading: &'static str,
    pub(super) facts: Vec<Fact>,
    pub(super) signing: Signing,
    pub(super) back: String,
    pub(super) back_label: &'static str,
}

/// What the holder offers, parsed from the terms form.
struct OfferTerms {
    bank: Uuid,
    kind: LienKind,
    amount: Money,
    expires_at: UtcSecond,
}

fn parse_terms(t: Lang, terms: &Terms, currency: &str) -> Result<OfferTerms, String> {
    let bank = Uuid::parse_str(terms.bank_id.as_deref().unwrap_or_default())
        .map_err(|_| field_problem(t, "bank_id", "choose a bank"))?;
    let kind = LienKind::parse(terms.kind.as_deref().unwrap_or_default())
        .ok_or_else(|| field_problem(t, "kind", "must be pledge or assignment"))?;
    let currency = Currency::parse(currency).map_err(|error| field_problem(t, "currency", &error.to_string()))?;
    let amount = Money::parse(terms.amount.as_deref().unwrap_or_default().trim(), currency)
        .map_err(|error| field_problem(t, "amount", &error.to_string()))?;
    let days = terms
        .days
        .as_deref()
        .unwrap_or_default()
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|days| (1..=MAX_OFFER_DAYS).contains(days))
        .ok_or_else(|| {
            field_problem(
                t,
                "days",
                &format!("must be a whole number of days, 1 to {MAX_OFFER_DAYS}"),
            )
        })?;
    let expires_at = UtcSecond::from_naive(store::now() + Duration::days(days));
    Ok(OfferTerms {
        bank,
        kind,
        amount,
        expires_at,
    })
}

pub async fn offer_terms(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<Terms>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let holder = path_uuid(&viewer.organization_id).map_err(|_| PortalError::Forbidden)?;
    let id = path_uuid(&path)?;
    let loaded = load_asset(&state, viewer, id.to_string()).await?;
    if loaded.asset.holder_id != holder.to_string() {
        return Err(PortalError::Forbidden);
    }
    let terms = match parse_terms(t, &query, &loaded.asset.currency) {
        Ok(terms) => terms,
        Err(problem) => return asset_page(&caller, &state, &path, Some(problem), &query).await,
    };
    if !loaded.banks.iter().any(|(bank, _)| *bank == terms.bank.to_string()) {
        return asset_page(
            &caller,
            &state,
            &path,
            Some(field_problem(t, "bank_id", "choose a bank")),
            &query,
        )
        .await;
    }
    let nonce = Nonce::fresh();
    let message = offer_action(
        terms.kind,
        Subject::Asset(id),
        terms.bank,
        terms.amount,
        terms.expires_at,
        holder,
        nonce.clone(),
    )
    .canonical_message();
    let bank_name = loaded
        .banks
        .iter()
        .find(|(bank, _)| *bank == terms.bank.to_string())
        .map(|(_, name)| name.clone())
        .unwrap_or_default();
    let facts = vec![
        Fact::link(t.asset(), id.to_string(), format!("/assets/{id}")),
        Fact::text(t.bank(), format!("{bank_name} ({})", terms.bank)),
        Fact::text(t.kind(), messages::lien_kind(t, terms.kind.as_str()).to_owned()),
        Fact::text(
            t.amount(),
            t.format_amount(terms.amount.minor_units(), terms.amount.currency()),
        ),
        Fact::text(t.expires_at(), t.format_time(terms.expires_at.naive())),
    ];
    let signing = Signing {
        id: "offer",
        action: "/offers".to_owned(),
        message,
        fields: vec![
            ("asset_id".to_owned(), id.to_string()),
            ("bank_id".to_owned(), terms.bank.to_string()),
            ("kind".to_owned(), terms.kind.as_str().to_owned()),
            ("amount".to_owned(), terms.amount.amount_string()),
            ("currency".to_owned(), terms.amount.currency().code().to_owned()),
            ("expires_at".to_owned(), terms.expires_at.to_string()),
            ("nonce".to_owned(), nonce.as_str().to_owned()),
        ],
        reason: false,
        submit: t.sign_and_offer(),
    };
    html(&SignPage {
        frame: with_signer(caller.frame(t.make_offer(), "")),
        heading: t.make_offer(),
        facts,
        signing,
        back: format!("/assets/{id}"),
        back_label: t.back_to_asset(),
    })
}

/// `POST /offers`: the signed offer, decided as `POST /v1/offers` is.
pub async fn create_offer(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let form = |name: &str| field(&caller.form, name).unwrap_or_default().to_owned();
    let asset_id = form("asset_id");
    path_uuid(&asset_id)?;
    let terms = Terms {
        bank_id: Some(form("bank_id")),
        kind: Some(form("kind")),
        amount: Some(form("amount")),
        ..Terms::default()
    };
    let Some(nonce) = sent_nonce(&caller) else {
        return Err(PortalError::BadRequest);
    };
    let body = OfferBody {
        asset_id: Some(asset_id.clone()),
        purchase_order_id: None,
        bank_id: form("bank_id"),
        kind: form("kind"),
        amount: form("amount"),
        currency: form("currency"),
        expires_at: form("expires_at"),
        signature: form("signature").trim().to_owned(),
    };
    let request = match parse_offer_with(nonce, &body) {
        Ok(request) => request,
        Err(error) => {
            let problem = field_problem(t, &error.field, &error.to_string());
            return asset_page(&caller, &state, &asset_id, Some(problem), &terms).await;
        }
    };
    let outcome = state
        .database
        .run(move |connection| make_offer(connection, &viewer, &request))
        .await??;
    state.sequencer.wake();
    match decided(t, outcome)? {
        Ok(body) => Ok(see_other(&format!("/offers/{}", text(&body, "id")))),
        Err(problem) => asset_page(&caller, &state, &asset_id, Some(problem), &terms).await,
    }
}

/// A decision's created body, or its refusal as the page shows it (a
/// retry's first answer alike); "not found" is the error page.
pub(super) fn decided(t: Lang, outcome: Outcome) -> Result<Result<Value, String>, PortalError> {
    match outcome {
        Outcome::Created { body } => Ok(Ok(body)),
        Outcome::Refused { code, detail, field } => {
            if code == crate::refusal::Refusal::NotFound {
                return Err(PortalError::NotFound);
            }
            Ok(Err(super::refusal_line(t, code, field.as_deref(), &detail)))
        }
        Outcome::Replayed(first) => decided(t, *first),
    }
}

// The offers.

#[derive(Template)]
#[template(path = "offers.html")]
struct OffersPage {
    frame: Frame,
    rows: Vec<OfferRow>,
    next: Option<String>,
    first: Option<String>,
}

struct OfferRow {
    id: String,
    created_at: String,
    kind: &'static str,
    subject: String,
    counterparty: String,
    amount: String,
    expires_at: String,
    status: &'static str,
}

#[derive(serde::Deserialize)]
pub struct OffersQuery {
    cursor: Option<String>,
}

pub async fn offers(
    caller: Caller,
    query: web::Query<OffersQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let after = match query.cursor.as_deref().filter(|cursor| !cursor.is_empty()) {
        Some(cursor) => Some(crate::alerts::decode_cursor(cursor).ok_or(PortalError::BadRequest)?),
        None => None,
    };
    let first_page = after.is_none();
    let me = viewer.organization_id.clone();
    let ((items, next_cursor), names) = state
        .database
        .run(move |connection| -> diesel::QueryResult<_> {
            let page = list_offers(connection, &viewer, None, after, PAGE)?;
            let mut ids: Vec<String> = page
                .0
                .iter()
                .flat_map(|offer| [text(offer, "holder_id").to_owned(), text(offer, "bank_id").to_owned()])
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let names = names(connection, &ids)?;
            Ok((page, names))
        })
        .await??;
    let rows = items
        .iter()
        .map(|offer| {
            let other = if text(offer, "holder_id") == me {
                text(offer, "bank_id")
            } else {
                text(offer, "holder_id")
            };
            OfferRow {
                id: text(offer, "id").to_owned(),
                created_at: shown_time(t, text(offer, "created_at")),
                kind: messages::lien_kind(t, text(offer, "kind")),
                subject: offer["asset_id"]
                    .as_str()
                    .or(offer["purchase_order_id"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
                counterparty: names.get(other).cloned().unwrap_or_else(|| other.to_owned()),
                amount: shown_amount(t, text(offer, "amount"), text(offer, "currency")),
                expires_at: shown_time(t, text(offer, "expires_at")),
                status: messages::offer_status(t, text(offer, "status")),
            }
        })
        .collect();
    html(&OffersPage {
        frame: caller.frame(t.offers(), "/offers"),
        rows,
        next: next_cursor.map(|cursor| format!("/offers?cursor={}", urlencode(&cursor))),
        first: (!first_page).then(|| "/offers".to_owned()),
    })
}

pub(super) fn urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|encoded| encoded.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferPage {
    frame: Frame,
    facts: Vec<Fact>,
    problem: Option<String>,
    /// To the bank an open offer is addressed to: the amount to accept.
    accept: Option<AcceptForm>,
}

struct AcceptForm {
    id: String,
    amount: String,
    currency: String,
    label: &'static str,
}

/// An offer as `GET /v1/offers/{id}` shows it to `viewer`, with names.
async fn load_offer(
    state: &AppState,
    viewer: Viewer,
    id: Uuid,
) -> Result<(Value, std::collections::HashMap<String, String>), PortalError> {
    let loaded = state
        .database
        .run(move |connection| -> Result<_, UseCaseError> {
            let offer = show_offer(connection, &viewer, id)?;
            let names = names(
                connection,
                &[text(&offer, "holder_id").to_owned(), text(&offer, "bank_id").to_owned()],
            )?;
            Ok((offer, names))
        })
        .await??;
    Ok(loaded)
}

pub async fn offer(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    offer_page(&caller, &state, &path, None).await
}

async fn offer_page(
    caller: &Caller,
    state: &AppState,
    id: &str,
    problem: Option<String>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let me = viewer.organization_id.clone();
    let id = path_uuid(id)?;
    let (offer, names) = load_offer(state, viewer, id).await?;
    let mut facts = vec![
        Fact::code(t.offer(), text(&offer, "id").to_owned()),
        Fact::text(t.kind(), messages::lien_kind(t, text(&offer, "kind")).to_owned()),
        Fact::text(t.status(), messages::offer_status(t, text(&offer, "status")).to_owned()),
    ];
    if let Some(asset) = offer["asset_id"].as_str() {
        facts.push(Fact::link(t.asset(), asset.to_owned(), format!("/assets/{asset}")));
    }
    if let Some(order) = offer["purchase_order_id"].as_str() {
        facts.push(Fact::code(t.purchase_order(), order.to_owned()));
    }
    facts.extend([
        Fact::text(t.holder(), named(&names, text(&offer, "holder_id"))),
        Fact::text(t.bank(), named(&names, text(&offer, "bank_id"))),
        Fact::text(
            t.amount(),
            shown_amount(t, text(&offer, "amount"), text(&offer, "currency")),
        ),
        Fact::text(t.expires_at(), shown_time(t, text(&offer, "expires_at"))),
        Fact::text(t.created_at(), shown_time(t, text(&offer, "created_at"))),
    ]);
    if let Some(lien) = offer["lien_id"].as_str() {
        facts.push(Fact::link(t.lien(), lien.to_owned(), format!("/pledges/{lien}")));
    }
    facts.push(Fact::code(
        t.ledger_leaf(),
        offer["ledger"]["leaf_hash"].as_str().unwrap_or_default().to_owned(),
    ));
    let accept =
        (text(&offer, "bank_id") == me && text(&offer, "status") == OfferStatus::Open.as_str()).then(|| AcceptForm {
            id: text(&offer, "id").to_owned(),
            amount: text(&offer, "amount").to_owned(),
            currency: text(&offer, "currency").to_owned(),
            label: if text(&offer, "kind") == LienKind::Assignment.as_str() {
                t.accept_assignment()
            } else {
                t.accept_pledge()
            },
        });
    html(&OfferPage {
        frame: caller.frame(t.offer(), "/offers"),
        facts,
        problem,
        accept,
    })
}

#[derive(serde::Deserialize)]
pub struct AcceptQuery {
    amount: Option<String>,
}

/// The offer's kind and subject, as its view names them.
fn kind_and_subject(offer: &Value) -> Result<(LienKind, Subject), PortalError> {
    let kind = LienKind::parse(text(offer, "kind")).ok_or(PortalError::NotFound)?;
    let subject = match (offer["asset_id"].as_str(), offer["purchase_order_id"].as_str()) {
        (Some(asset), _) => Subject::Asset(path_uuid(asset)?),
        (None, Some(order)) => Subject::PurchaseOrder(path_uuid(order)?),
        (None, None) => return Err(PortalError::NotFound),
    };
    Ok((kind, subject))
}

pub async fn accept_terms(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<AcceptQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let bank = caller.bank()?.organization_id;
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let id = path_uuid(&path)?;
    let (offer, names) = load_offer(&state, viewer, id).await?;
    if text(&offer, "bank_id") != bank.to_string() {
        return Err(PortalError::Forbidden);
    }
    let (kind, subject) = kind_and_subject(&offer)?;
    let currency = Currency::parse(text(&offer, "currency")).map_err(|_| PortalError::NotFound)?;
    let amount = match Money::parse(query.amount.as_deref().unwrap_or_default().trim(), currency) {
        Ok(amount) => amount,
        Err(error) => {
            return offer_page(
                &caller,
                &state,
                &path,
                Some(field_problem(t, "amount", &error.to_string())),
            )
            .await
        }
    };
    let nonce = Nonce::fresh();
    let message = finance_action(kind, id, subject, amount, bank, nonce.clone()).canonical_message();
    let facts = vec![
        Fact::link(t.offer(), id.to_string(), format!("/offers/{id}")),
        Fact::text(t.holder(), named(&names, text(&offer, "holder_id"))),
        Fact::text(t.kind(), messages::lien_kind(t, kind.as_str()).to_owned()),
        Fact::text(t.amount(), t.format_amount(amount.minor_units(), currency)),
    ];
    let submit = if kind == LienKind::Assignment {
        t.accept_assignment()
    } else {
        t.accept_pledge()
    };
    html(&SignPage {
        frame: with_signer(caller.frame(submit, "/offers")),
        heading: submit,
        facts,
        signing: Signing {
            id: "accept",
            action: format!("/offers/{id}/acceptance"),
            message,
            fields: vec![
                ("amount".to_owned(), amount.amount_string()),
                ("nonce".to_owned(), nonce.as_str().to_owned()),
            ],
            reason: false,
            submit,
        },
        back: format!("/offers/{id}"),
        back_label: t.back_to_offer(),
    })
}

/// `POST /offers/{id}/acceptance`: the bank's signed pledge or assignment,
/// decided as `POST /v1/pledges` is, in a transaction that first resumes
/// the session (a key revoked meanwhile decides nothing).
pub async fn accept(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    caller.bank()?;
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let id = path_uuid(&path)?;
    let (offer, _) = load_offer(&state, viewer, id).await?;
    let (kind, subject) = kind_and_subject(&offer)?;
    let Some(nonce) = sent_nonce(&caller) else {
        return Err(PortalError::BadRequest);
    };
    let (asset_id, purchase_order_id) = match subject {
        Subject::Asset(asset) => (Some(asset.to_string()), None),
        Subject::PurchaseOrder(order) => (None, Some(order.to_string())),
    };
    let body = FinanceBody {
        offer_id: id.to_string(),
        asset_id,
        purchase_order_id,
        amount: field(&caller.form, "amount").unwrap_or_default().to_owned(),
        signature: field(&caller.form, "signature").unwrap_or_default().trim().to_owned(),
    };
    let request = match parse_finance_with(nonce, &body, kind) {
        Ok(request) => request,
        Err(error) => {
            let problem = field_problem(t, &error.field, &error.to_string());
            return offer_page(&caller, &state, &path, Some(problem)).await;
        }
    };
    let session_id = caller.session().clone();
    let limits = crate::portal::session_limits(&state.settings);
    let decision = state
        .database
        .run(move |connection| {
            write_transaction(connection, |connection| {
                let caller = session::resume(connection, &session_id, limits)?.map(|holder| holder.principal);
                finance_as(connection, caller, &request)
            })
        })
        .await??;
    state.sequencer.wake();
    let outcome = match decision {
        Ok(outcome) => outcome,
        Err(Denied::Unauthenticated) => return Err(PortalError::SignInRequired),
        Err(Denied::NotABank(_)) => return Err(PortalError::Forbidden),
    };
    match decided(t, outcome)? {
        Ok(_) => Ok(see_other(&format!("/offers/{id}"))),
        Err(problem) => offer_page(&caller, &state, &path, Some(problem)).await,
    }
}

// The buyer's payment.

#[derive(serde::Deserialize)]
pub struct PaymentQuery {
    amount: Option<String>,
    paid_on: Option<String>,
}

pub async fn payment_terms(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<PaymentQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let buyer = path_uuid(&viewer.organization_id).map_err(|_| PortalError::Forbidden)?;
    let id = path_uuid(&path)?;
    let loaded = load_asset(&state, viewer, id.to_string()).await?;
    if loaded.receivable.buyer_id != buyer.to_string() {
        return Err(PortalError::Forbidden);
    }
    let terms = Currency::parse(&loaded.asset.currency)
        .map_err(|error| field_problem(t, "currency", &error.to_string()))
        .and_then(|currency| {
            Money::parse(query.amount.as_deref().unwrap_or_default().trim(), currency)
                .map_err(|error| field_problem(t, "amount", &error.to_string()))
        })
        .and_then(|amount| {
            chrono::NaiveDate::parse_from_str(query.paid_on.as_deref().unwrap_or_default().trim(), "%Y-%m-%d")
                .map(|paid_on| (amount, paid_on))
                .map_err(|_| field_problem(t, "paid_on", "must be a date, YYYY-MM-DD"))
        });
    let (amount, paid_on) = match terms {
        Ok(terms) => terms,
        Err(problem) => return asset_page(&caller, &state, &path, Some(problem), &Terms::default()).await,
    };
    let nonce = Nonce::fresh();
    let message = payment_action(id, amount, paid_on, buyer, nonce.clone()).canonical_message();
    let facts = vec![
        Fact::link(t.asset(), id.to_string(), format!("/assets/{id}")),
        Fact::text(t.amount(), t.format_amount(amount.minor_units(), amount.currency())),
        Fact::text(t.paid_on(), t.format_date(paid_on)),
    ];
    html(&SignPage {
        frame: with_signer(caller.frame(t.record_payment(), "")),
        heading: t.record_payment(),
        facts,
        signing: Signing {
            id: "payment",
            action: format!("/assets/{id}/payments"),
            message,
            fields: vec![
                ("amount".to_owned(), amount.amount_string()),
                ("paid_on".to_owned(), paid_on.to_string()),
                ("nonce".to_owned(), nonce.as_str().to_owned()),
            ],
            reason: false,
            submit: t.record_payment(),
        },
        back: format!("/assets/{id}"),
        back_label: t.back_to_asset(),
    })
}

/// `POST /assets/{id}/payments`: the buyer's signed payment, decided as
/// `POST /v1/assets/{id}/payments` is (`lending::pay`, through the
/// waterfall).
pub async fn record_payment(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let id = path_uuid(&path)?;
    let Some(nonce) = sent_nonce(&caller) else {
        return Err(PortalError::BadRequest);
    };
    let body = PaymentRequest {
        amount: field(&caller.form, "amount").unwrap_or_default().to_owned(),
        paid_on: field(&caller.form, "paid_on").unwrap_or_default().to_owned(),
        signature: field(&caller.form, "signature").unwrap_or_default().trim().to_owned(),
    };
    let payment = match parse_payment_with(nonce, id, &body) {
        Ok(payment) => payment,
        Err(error) => {
            let problem = field_problem(t, &error.field, &error.to_string());
            return asset_page(&caller, &state, &path, Some(problem), &Terms::default()).await;
        }
    };
    let outcome = state
        .database
        .run(move |connection| pay(connection, &viewer, id, &payment))
        .await??;
    state.sequencer.wake();
    match decided(t, outcome)? {
        Ok(_) => Ok(see_other(&format!("/assets/{id}"))),
        Err(problem) => asset_page(&caller, &state, &path, Some(problem), &Terms::default()).await,
    }
}

// The holder's split (and transfers).

/// `POST /assets/{id}/split`: the holder divides an asset into parts that
/// sum to its face value, some perhaps transferred to other suppliers
/// (named by their organisation id), as `POST /v1/assets/{id}/split`
/// does (`registry::split_asset`; the API's own parser). Rows left empty
/// are not parts.
pub async fn split(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let id = path_uuid(&path)?;
    let rows: Vec<(String, String)> = (0..SPLIT_ROWS)
        .map(|index| {
            let value = |name: &str| {
                field(&caller.form, &format!("{name}_{index}"))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            (value("amount"), value("transfer_to"))
        })
        .collect();
    let terms = Terms {
        split: rows.clone(),
        ..Terms::default()
    };
    let request = SplitRequest {
        parts: rows
            .into_iter()
            .filter(|(amount, transfer_to)| !amount.is_empty() || !transfer_to.is_empty())
            .map(|(amount, transfer_to)| PartRequest {
                amount,
                transfer_to: (!transfer_to.is_empty()).then_some(transfer_to),
            })
            .collect(),
    };
    let parts = match request.parse() {
        Ok(parts) => parts,
        Err(error) => {
            let problem = field_problem(t, &error.field, &error.to_string());
            return asset_page(&caller, &state, &path, Some(problem), &terms).await;
        }
    };
    let decided = state
        .database
        .run(move |connection| Ok::<_, diesel::result::Error>(split_asset(connection, &viewer, id, &parts)))
        .await??;
    state.sequencer.wake();
    match decided {
        Ok(_) => Ok(see_other(&format!("/assets/{id}"))),
        Err(error) => match super::refusal_text(t, &error) {
            Some(problem) => asset_page(&caller, &state, &path, Some(problem), &terms).await,
            None => Err(error.into()),
        },
    }
}
