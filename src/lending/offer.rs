//! Offers (docs/PRODUCT.md §4, docs/FINANCING.md): the holder of an asset, or the supplier of an
//! acknowledged purchase order, offers it to one bank for a pledge or an
//! assignment, signed with its own key. At most one offer per asset (per
//! order) is open at a time — a partial unique index — and only the bank
//! it is addressed to may accept it ([`super::finance`]). The holder may
//! withdraw it until it is taken; it lapses at its expiry.
//!
//! An offer of something already financed is the double-financing attempt
//! seen from the holder's side: refused 409 `already_encumbered`, and
//! alerted to the lienholder's and the operator's risk officers in the
//! refusing transaction.
//!
//! Checks, first failure wins (docs/FINANCING.md): the Idempotency-Key;
//! the subject as the caller may see it (404); the caller is its holder
//! (403); the terms — bank, kind, currency, amount, expiry (422
//! `invalid_field`); the holder's signature (422 `invalid_signature`); the
//! state (409 `asset_not_active`, `not_confirmed`), encumbrance (409
//! `already_encumbered`, alerted), another open offer (409 `offer_open`);
//! the amount within the face value (422 `exceeds_face_value`).

use chrono::{Duration, NaiveDateTime};
use serde_json::{json, Value};
use uuid::Uuid;

use super::decide::{attempt_alert, LienKind};
use super::outcome::{decide_once, Outcome};
use crate::alerts::{self, AlertKind, NewAlert};
use crate::domain::{format_minor_units, Currency, Money, Nonce, Role, Signature, SignedAction, Subject, UtcSecond};
use crate::domain::{OfferStatus, PurchaseOrderStatus};
use crate::refusal::{Refusal, UseCaseError};
use crate::registry::{load_with_role, verify_signed, visible_asset, visible_purchase_order, Viewer};
use crate::store::lending as lending_repository;
use crate::store::offers::{self as repository, OfferFilter, OfferRow};
use crate::store::{self, format_time, write_transaction, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};

/// How far ahead an offer may expire.
pub const MAX_OFFER_DAYS: i64 = 366;

#[derive(Debug, Clone)]
pub struct OfferRequest {
    pub subject: Subject,
    pub bank_id: Uuid,
    pub kind: LienKind,
    /// Parsed with the subject's currency once it is loaded.
    pub amount: String,
    pub currency: Currency,
    pub expires_at: UtcSecond,
    pub signature: Signature,
    pub nonce: Nonce,
    pub request_hash: [u8; 32],
}

/// What `holder` signs to offer `subject` to `bank` (the portal shows it
/// before it is signed).
pub fn offer_action(
    kind: LienKind,
    subject: Subject,
    bank: Uuid,
    amount: Money,
    expires_at: UtcSecond,
    holder: Uuid,
    nonce: Nonce,
) -> SignedAction {
    match kind {
        LienKind::Pledge => SignedAction::OfferPledge {
            subject,
            bank,
            amount,
            expires_at,
            holder,
            nonce,
        },
        LienKind::Assignment => SignedAction::OfferAssignment {
            subject,
            bank,
            price: amount,
            expires_at,
            holder,
            nonce,
        },
    }
}

/// Makes the offer, once per (holder, nonce): a retry gets the first
/// answer, and the signed message cannot make a second offer.
pub fn make_offer(
    connection: &mut DbConnection,
    viewer: &Viewer,
    request: &OfferRequest,
) -> Result<Outcome, diesel::result::Error> {
    decide_once(
        connection,
        &viewer.organization_id,
        &request.nonce,
        &request.request_hash,
        |connection| Outcome::of(offer_once(connection, viewer, request)),
    )
}

/// What an offer is of, as loaded for the holder.
struct Offered {
    asset_id: Option<String>,
    purchase_order_id: Option<String>,
    fingerprint: Option<[u8; 32]>,
    currency: String,
    /// The face value (the order's amount), which no offer exceeds.
    ceiling_minor: i64,
}

fn offer_once(connection: &mut DbConnection, viewer: &Viewer, request: &OfferRequest) -> Result<Value, UseCaseError> {
    let now = store::now();
    let subject_id = request.subject.id().to_string();
    // May you see it, may you offer it — then lock it, so that its
    // acceptance, a split or a payment cannot run beside this decision.
    let (offered, active, state, encumbrance) = match request.subject {
        Subject::Asset(_) => {
            let (asset, receivable) = visible_asset(connection, viewer, &subject_id)?.ok_or(UseCaseError::NotFound)?;
            if asset.holder_id != viewer.organization_id {
                return Err(UseCaseError::Forbidden("only the asset's holder may offer it"));
            }
            let active = lending_repository::lock_active_asset(connection, &asset.id, now)?;
            let offered = Offered {
                asset_id: Some(asset.id.clone()),
                purchase_order_id: None,
                fingerprint: receivable.fingerprint.as_slice().try_into().ok(),
                currency: asset.currency.clone(),
                ceiling_minor: asset.face_value_minor,
            };
            let state = format!("the asset is {} and cannot be financed", asset.status);
            (
                offered,
                active,
                state,
                Encumbrance::Asset(receivable.purchase_order_id.clone()),
            )
        }
        Subject::PurchaseOrder(_) => {
            let order = visible_purchase_order(connection, viewer, &subject_id)?.ok_or(UseCaseError::NotFound)?;
            if order.supplier_id != viewer.organization_id {
                return Err(UseCaseError::Forbidden(
                    "only the purchase order's supplier may offer it",
                ));
            }
            lending_repository::lock_purchase_order(connection, &order.id)?;
            let offered = Offered {
                asset_id: None,
                purchase_order_id: Some(order.id.clone()),
                fingerprint: order.fingerprint.as_slice().try_into().ok(),
                currency: order.currency.clone(),
                ceiling_minor: order.amount_minor,
            };
            let state = format!(
                "the purchase order is {}; only an acknowledged order can be financed",
                order.status
            );
            (
                offered,
                order.status == PurchaseOrderStatus::Acknowledged,
                state,
                Encumbrance::PurchaseOrder,
            )
        }
    };

    // The terms.
    let bank = load_with_role(connection, "bank_id", request.bank_id, Role::Bank)?;
    if bank.id() == viewer.organization_id {
        return Err(UseCaseError::field("bank_id", "the holder cannot offer to itself"));
    }
    if request.kind == LienKind::Assignment && matches!(request.subject, Subject::PurchaseOrder(_)) {
        return Err(UseCaseError::field(
            "kind",
            "a purchase order can be offered for a pledge only",
        ));
    }
    if request.currency.code() != offered.currency {
        return Err(UseCaseError::field(
            "currency",
            format!("must be the currency of what is offered, {}", offered.currency),
        ));
    }
    let amount =
        Money::parse(&request.amount, request.currency).map_err(|error| UseCaseError::field("amount", error))?;
    if request.expires_at.naive() <= now {
        return Err(UseCaseError::field("expires_at", "must be in the future"));
    }
    if request.expires_at.naive() > now + Duration::days(MAX_OFFER_DAYS) {
        return Err(UseCaseError::field(
            "expires_at",
            format!("may be at most {MAX_OFFER_DAYS} days ahead"),
        ));
    }
    let holder = Uuid::parse_str(&viewer.organization_id).map_err(|_| UseCaseError::NotFound)?;
    let action = offer_action(
        request.kind,
        request.subject,
        request.bank_id,
        amount,
        request.expires_at,
        holder,
        request.nonce.clone(),
    );
    let signed = verify_signed(connection, &viewer.organization_id, &action, &request.signature)?;

    // The state, then whether it is financed already (an attempt at double
    // financing, alerted), then another open offer.
    if !active {
        let refusal = match request.subject {
            Subject::Asset(_) => Refusal::AssetNotActive,
            Subject::PurchaseOrder(_) => Refusal::NotConfirmed,
        };
        return Err(UseCaseError::refused(refusal, state));
    }
    let facts = json!({
        "attempt": "offer",
        "kind": request.kind.as_str(),
        "asset_id": offered.asset_id,
        "purchase_order_id": offered.purchase_order_id,
        "offered_to": bank.id(),
        "amount": amount.amount_string(),
        "currency": amount.currency().code(),
    });
    if let Some((alert, reason)) = encumbrance.check(connection, &subject_id, &offered, bank.id(), viewer, facts)? {
        let alert = alerts::raise(connection, alert, now)?;
        return Err(UseCaseError::refused(
            Refusal::AlreadyEncumbered,
            format!("{reason}; risk officers were alerted (alert {})", alert.id),
        ));
    }
    if let Some(open) = repository::open_offer_on(
        connection,
        offered.asset_id.as_deref(),
        offered.purchase_order_id.as_deref(),
    )? {
        if open.is_open_at(now) {
            return Err(UseCaseError::refused(
                Refusal::OfferOpen,
                format!(
                    "offer {} is open until {}; withdraw it first",
                    open.id,
                    UtcSecond::from_naive(open.expires_at)
                ),
            ));
        }
        // Its time passed; the sweep had not recorded it yet.
        lapse(connection, &open, now)?;
    }
    if amount.minor_units() > offered.ceiling_minor {
        return Err(UseCaseError::refused(
            Refusal::ExceedsFaceValue,
            format!(
                "the amount exceeds the face value of {} {}",
                amount.currency().code(),
                format_minor_units(offered.ceiling_minor, amount.currency())
            ),
        ));
    }

    let id = Uuid::new_v4().to_string();
    let appended = tlog::append(
        connection,
        NewEntry {
            kind: "offer_made",
            subjects: vec![id.clone(), subject_id.clone()],
            fingerprint: offered.fingerprint,
            actor: Some(viewer.organization_id.clone()),
            signature: Some(signed),
            details: json!({
                "message": action.canonical_message(),
                "offer_id": id,
                "subject": request.subject.to_string(),
                "holder_id": viewer.organization_id,
                "bank_id": bank.id(),
                "kind": request.kind.as_str(),
                "amount": amount.amount_string(),
                "currency": amount.currency().code(),
                "expires_at": request.expires_at.to_string(),
            }),
            visibility: Visibility::Parties(parties(&viewer.organization_id, bank.id())),
        },
        now,
    )?;
    let row = OfferRow {
        id,
        asset_id: offered.asset_id,
        purchase_order_id: offered.purchase_order_id,
        holder_id: viewer.organization_id.clone(),
        bank_id: bank.id().to_owned(),
        kind: request.kind.as_str().to_owned(),
        amount_minor: amount.minor_units(),
        currency: amount.currency().code().to_owned(),
        expires_at: request.expires_at.naive(),
        status: OfferStatus::Open,
        leaf_hash: appended.leaf_hash.to_vec(),
        created_at: now,
        ended_at: None,
    };
    repository::insert_offer(connection, &row)?;
    Ok(offer_view(&row, None, now))
}

/// Where a lien that makes an offer a second financing would be.
enum Encumbrance {
    /// An asset: its own lien, or a lien of another bank on its receivable's
    /// purchase order (invariant 4).
    Asset(Option<String>),
    /// A purchase order: its own lien, or liens of other banks on its
    /// receivables' assets.
    PurchaseOrder,
}

impl Encumbrance {
    /// The alert and reason when the subject is financed already (by
    /// anyone, or for invariant 4 by a bank other than `bank_id`).
    fn check(
        &self,
        connection: &mut DbConnection,
        subject_id: &str,
        offered: &Offered,
        bank_id: &str,
        viewer: &Viewer,
        facts: Value,
    ) -> Result<Option<(NewAlert, &'static str)>, diesel::result::Error> {
        let holder = viewer.organization_id.as_str();
        let alert = |kind, lienholder: &str, facts| {
            attempt_alert(kind, offered.fingerprint, subject_id, holder, lienholder, facts)
        };
        Ok(match self {
            Encumbrance::Asset(purchase_order_id) => {
                if let Some(lien) = lending_repository::active_lien_on_asset(connection, subject_id)? {
                    Some((
                        alert(AlertKind::DuplicatePledge, &lien.bank_id, facts),
                        "the asset is already encumbered",
                    ))
                } else if let Some(order) = purchase_order_id {
                    lending_repository::share_purchase_orders(connection, std::slice::from_ref(order))?;
                    lending_repository::active_lien_on_purchase_order(connection, order)?
                        .filter(|lien| lien.bank_id != bank_id)
                        .map(|lien| {
                            (
                                alert(AlertKind::PoDoubleFinancing, &lien.bank_id, facts),
                                "the receivable's purchase order is financed by another bank, the only one that may finance it",
                            )
                        })
                } else {
                    None
                }
            }
            Encumbrance::PurchaseOrder => {
                if let Some(lien) = lending_repository::active_lien_on_purchase_order(connection, subject_id)? {
                    Some((
                        alert(AlertKind::DuplicatePledge, &lien.bank_id, facts),
                        "the purchase order is already encumbered",
                    ))
                } else {
                    lending_repository::lienholders_under_purchase_order(connection, subject_id)?
                        .into_iter()
                        .find(|lienholder| lienholder != bank_id)
                        .map(|lienholder| {
                            (
                                alert(AlertKind::PoDoubleFinancing, &lienholder, facts),
                                "receivables of the purchase order are already financed by another bank",
                            )
                        })
                }
            }
        })
    }
}

/// Who reads an offer's ledger details besides the operator.
fn parties(holder_id: &str, bank_id: &str) -> Vec<String> {
    let mut parties = vec![holder_id.to_owned(), bank_id.to_owned()];
    parties.sort();
    parties.dedup();
    parties
}

/// Records that an open offer's time passed, with its ledger entry.
fn lapse(connection: &mut DbConnection, offer: &OfferRow, now: NaiveDateTime) -> Result<bool, diesel::result::Error> {
    if !repository::end_offer(connection, &offer.id, OfferStatus::Lapsed, now)? {
        return Ok(false);
    }
    tlog::append(
        connection,
        NewEntry {
            kind: "offer_lapsed",
            subjects: vec![offer.id.clone()],
            fingerprint: None,
            actor: None,
            signature: None,
            details: json!({
                "offer_id": offer.id,
                "expires_at": UtcSecond::from_naive(offer.expires_at).to_string(),
            }),
            visibility: Visibility::Parties(parties(&offer.holder_id, &offer.bank_id)),
        },
        now,
    )?;
    Ok(true)
}

/// Records the lapse of up to `limit` open offers whose time passed;
/// returns how many. Any process may sweep: the conditional update makes a
/// second sweeper's work a no-op.
pub fn lapse_expired_offers(connection: &mut DbConnection, limit: i64) -> Result<usize, diesel::result::Error> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let mut lapsed = 0;
        for offer in repository::expired_open_offers(connection, now, limit)? {
            if lapse(connection, &offer, now)? {
                lapsed += 1;
            }
        }
        Ok(lapsed)
    })
}

/// Whether `viewer` may read the offer: its holder, the bank it is
/// addressed to, the operator.
fn may_see(offer: &OfferRow, viewer: &Viewer) -> bool {
    viewer.role == Role::Operator
        || offer.holder_id == viewer.organization_id
        || offer.bank_id == viewer.organization_id
}

/// Whether the offer exists and `viewer` may read it.
pub fn offer_visible_to(connection: &mut DbConnection, id: Uuid, viewer: &Viewer) -> diesel::QueryResult<bool> {
    Ok(repository::find_offer(connection, &id.to_string())?.is_some_and(|offer| may_see(&offer, viewer)))
}

/// `POST /v1/offers/{id}/withdrawal`: the holder takes its open offer back.
pub fn withdraw_offer(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: Uuid,
    signature: &Signature,
) -> Result<Value, UseCaseError> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let offer = repository::find_offer(connection, &id.to_string())?
            .filter(|offer| may_see(offer, viewer))
            .ok_or(UseCaseError::NotFound)?;
        if offer.holder_id != viewer.organization_id {
            return Err(UseCaseError::Forbidden(
                "only the holder who made an offer may withdraw it",
            ));
        }
        // The subject's row lock, which an acceptance takes too: the two
        // serialise, and exactly one of them wins.
        match (&offer.asset_id, &offer.purchase_order_id) {
            (Some(asset_id), _) => {
                lending_repository::lock_assets(connection, std::slice::from_ref(asset_id))?;
            }
            (None, Some(order_id)) => lending_repository::lock_purchase_order(connection, order_id)?,
            (None, None) => {}
        }
        let offer = repository::find_offer(connection, &offer.id)?.ok_or(UseCaseError::NotFound)?;
        let action = SignedAction::WithdrawOffer {
            offer: id,
            holder: Uuid::parse_str(&viewer.organization_id).map_err(|_| UseCaseError::NotFound)?,
        };
        let signed = verify_signed(connection, &viewer.organization_id, &action, signature)?;
        if !offer.is_open_at(now) || !repository::end_offer(connection, &offer.id, OfferStatus::Withdrawn, now)? {
            return Err(UseCaseError::refused(
                Refusal::OfferNotOpen,
                format!(
                    "the offer is {}; only an open offer can be withdrawn",
                    offer.status_at(now)
                ),
            ));
        }
        tlog::append(
            connection,
            NewEntry {
                kind: "offer_withdrawn",
                subjects: vec![offer.id.clone()],
                fingerprint: None,
                actor: Some(viewer.organization_id.clone()),
                signature: Some(signed),
                details: json!({ "message": action.canonical_message(), "offer_id": offer.id }),
                visibility: Visibility::Parties(parties(&offer.holder_id, &offer.bank_id)),
            },
            now,
        )?;
        let withdrawn = OfferRow {
            status: OfferStatus::Withdrawn,
            ended_at: Some(now),
            ..offer
        };
        Ok(offer_view(&withdrawn, None, now))
    })
}

/// `GET /v1/offers/{id}`.
pub fn show_offer(connection: &mut DbConnection, viewer: &Viewer, id: Uuid) -> Result<Value, UseCaseError> {
    let now = store::now();
    let offer = repository::find_offer(connection, &id.to_string())?
        .filter(|offer| may_see(offer, viewer))
        .ok_or(UseCaseError::NotFound)?;
    let lien = lending_repository::liens_of_offers(connection, std::slice::from_ref(&offer.id))?
        .into_iter()
        .next()
        .map(|(_, lien)| lien);
    Ok(offer_view(&offer, lien.as_deref(), now))
}

/// The largest page of offers.
pub const MAX_OFFER_PAGE: i64 = 100;

/// `GET /v1/offers`: the offers the caller made or received (the operator:
/// all), newest first, and the cursor of the next page.
pub fn list_offers(
    connection: &mut DbConnection,
    viewer: &Viewer,
    status: Option<OfferStatus>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> diesel::QueryResult<(Vec<Value>, Option<String>)> {
    let now = store::now();
    let limit = limit.clamp(1, MAX_OFFER_PAGE);
    let filter = OfferFilter {
        party: (viewer.role != Role::Operator).then(|| viewer.organization_id.clone()),
        status,
        after,
        limit: limit + 1,
    };
    let mut rows = repository::offers_for(connection, &filter, now)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last()
            .map(|offer| crate::alerts::encode_cursor(offer.created_at, &offer.id))
    } else {
        None
    };
    let ids: Vec<String> = rows.iter().map(|offer| offer.id.clone()).collect();
    let liens: std::collections::HashMap<String, String> = lending_repository::liens_of_offers(connection, &ids)?
        .into_iter()
        .collect();
    let items = rows
        .iter()
        .map(|offer| offer_view(offer, liens.get(&offer.id).map(String::as_str), now))
        .collect();
    Ok((items, next_cursor))
}

/// An offer as the API shows it to its parties.
pub fn offer_view(offer: &OfferRow, lien_id: Option<&str>, now: NaiveDateTime) -> Value {
    json!({
        "id": offer.id,
        "kind": offer.kind,
        "status": offer.status_at(now),
        "asset_id": offer.asset_id,
        "purchase_order_id": offer.purchase_order_id,
        "holder_id": offer.holder_id,
        "bank_id": offer.bank_id,
        "amount": crate::registry::amount(offer.amount_minor, &offer.currency),
        "currency": offer.currency,
        "expires_at": UtcSecond::from_naive(offer.expires_at).to_string(),
        "created_at": format_time(offer.created_at),
        "ended_at": offer.ended_at.map(format_time),
        "lien_id": lien_id,
        "ledger": { "leaf_hash": hex::encode(&offer.leaf_hash) },
    })
}
