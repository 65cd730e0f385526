//! Pledges and assignments: a bank accepts its holder's open offer with a
//! signed request for a lien (or a true sale) on an asset or a purchase
//! order, decided in one transaction with its ledger entry, its alert when
//! refused, and its idempotency record.
//!
//! Checks, first failure wins (docs/FINANCING.md, "Which refusal wins"):
//! the Idempotency-Key (a replay answers the first answer; another body
//! under the key is 422 `idempotency_mismatch`); an open offer to this bank,
//! of this subject and of this kind (404 otherwise, before anything else is
//! looked at, so a bank without an offer learns nothing); the amount in the
//! subject's currency (422 `invalid_field`); the signature (422
//! `invalid_signature`); the subject's state (409 `asset_not_active`,
//! `not_confirmed`); encumbrance (403 `po_financed_elsewhere` alerted as
//! `po_double_financing`, 409 `already_encumbered` alerted as
//! `duplicate_pledge`); and last the amounts (422 `exceeds_offer`,
//! `price_mismatch`, `exceeds_face_value`).

use chrono::NaiveDateTime;
use serde_json::json;
use uuid::Uuid;

use super::outcome::{decide_once, Outcome};
use crate::alerts::{self, AlertKind, NewAlert};
use crate::domain::{
    format_minor_units, verify_with_any, Currency, Money, Nonce, PublicKey, Role, Signature, SignedAction, Subject,
};
use crate::domain::{LienStatus, PurchaseOrderStatus};
use crate::organizations::{authenticate, Principal};
use crate::refusal::Refusal;
use crate::store::lending::{self as repository, LienRow};
use crate::store::offers::{self as offers_repository, OfferRow};
use crate::store::organizations::{self as organizations_repository, OrganizationKeyRow};
use crate::store::registry::{self as registry_repository, AssetRow, ReceivableRow};
use crate::store::{self, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LienKind {
    /// A lien; the holder keeps the asset.
    Pledge,
    /// A true sale; the bank becomes the holder.
    Assignment,
}

impl LienKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LienKind::Pledge => "pledge",
            LienKind::Assignment => "assignment",
        }
    }

    pub fn parse(raw: &str) -> Option<LienKind> {
        match raw {
            "pledge" => Some(LienKind::Pledge),
            "assignment" => Some(LienKind::Assignment),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FinanceRequest {
    pub kind: LienKind,
    /// The holder's offer this request accepts.
    pub offer: Uuid,
    pub subject: Subject,
    /// Parsed with the subject's currency once it is loaded.
    pub amount: String,
    pub signature: Signature,
    pub nonce: Nonce,
    pub request_hash: [u8; 32],
}

/// Why a financing request was not considered at all (answered 401, or 404
/// or 403, and not stored under its Idempotency-Key: it was nobody's
/// request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// An unknown, revoked or malformed API key.
    Unauthenticated,
    /// The key is not a bank's own (another role, or a risk officer's):
    /// 403 if the caller may see the offer it names, else 404.
    NotABank(Principal),
}

/// A financing request's answer: a decision, or why there was none.
pub type Decision = Result<Outcome, Denied>;

/// The bank that may finance, behind an authenticated caller.
pub(super) fn bank_of(caller: Option<Principal>) -> Result<String, Denied> {
    let caller = caller.ok_or(Denied::Unauthenticated)?;
    if caller.role != Role::Bank || caller.risk_officer_id.is_some() {
        return Err(Denied::NotABank(caller));
    }
    Ok(caller.organization_id.to_string())
}

/// Authenticates `token` and decides `request` for its bank, in the
/// caller's transaction. Errors are database failures only; every decision,
/// refusals included, is an [`Outcome`].
pub fn finance(
    connection: &mut DbConnection,
    token: &str,
    request: &FinanceRequest,
) -> Result<Decision, diesel::result::Error> {
    let caller = authenticate(connection, token)?;
    finance_as(connection, caller, request)
}

/// [`finance`] for a caller authenticated in the caller's transaction
/// otherwise (a portal session, resumed in it, so that a key revoked
/// meanwhile decides nothing).
pub fn finance_as(
    connection: &mut DbConnection,
    caller: Option<Principal>,
    request: &FinanceRequest,
) -> Result<Decision, diesel::result::Error> {
    let bank_id = match bank_of(caller) {
        Ok(bank_id) => bank_id,
        Err(denied) => return Ok(Err(denied)),
    };
    decide_once(
        connection,
        &bank_id,
        &request.nonce,
        &request.request_hash,
        |connection| decide(connection, &bank_id, request),
    )
    .map(Ok)
}

/// A stored value that does not parse: corruption, an error (rolled back,
/// answered 500), never an answer stored under the Idempotency-Key.
fn corrupt(what: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("stored {what} is invalid").into())
}

/// The request's amount in the subject's (stored) currency: the amount, or
/// the refusal naming the field.
fn money(raw: &str, currency: &str) -> Result<Result<Money, Outcome>, diesel::result::Error> {
    let currency = Currency::parse(currency).map_err(|_| corrupt("currency"))?;
    Ok(Money::parse(raw, currency).map_err(|error| Outcome::invalid_field("amount", error)))
}

/// The key that verified a signature, and the signature, for the ledger.
type SignedBy = ([u8; 32], [u8; 64]);

fn check_signature(keys: &[PublicKey], action: &SignedAction, signature: &Signature) -> Result<SignedBy, Outcome> {
    match verify_with_any(keys, action.canonical_message().as_bytes(), signature) {
        Ok(key) => Ok((*key.as_bytes(), signature.to_bytes())),
        Err(error) => Err(Outcome::refused(
            Refusal::InvalidSignature,
            format!(
                "the signature is not valid for the canonical {} message by one of the bank's active keys: {error}",
                action.action_name()
            ),
        )),
    }
}

fn refusal(refusal: Refusal, detail: impl Into<String>) -> Outcome {
    Outcome::refused(refusal, detail)
}

fn decide(
    connection: &mut DbConnection,
    bank_id: &str,
    request: &FinanceRequest,
) -> Result<Outcome, diesel::result::Error> {
    let bank = Uuid::parse_str(bank_id).map_err(|_| corrupt("organisation id"))?;
    match request.subject {
        Subject::Asset(id) => decide_asset(connection, bank_id, bank, id, request),
        Subject::PurchaseOrder(id) => decide_purchase_order(connection, bank_id, bank, id, request),
    }
}

fn action(request: &FinanceRequest, bank: Uuid, amount: Money) -> SignedAction {
    finance_action(
        request.kind,
        request.offer,
        request.subject,
        amount,
        bank,
        request.nonce.clone(),
    )
}

/// What `bank` signs to accept `offer` (the portal shows it before it is
/// signed).
pub fn finance_action(
    kind: LienKind,
    offer: Uuid,
    subject: Subject,
    amount: Money,
    bank: Uuid,
    nonce: Nonce,
) -> SignedAction {
    match kind {
        LienKind::Pledge => SignedAction::Pledge {
            offer,
            subject,
            amount,
            bank,
            nonce,
        },
        LienKind::Assignment => SignedAction::Assign {
            offer,
            subject,
            price: amount,
            bank,
            nonce,
        },
    }
}

fn not_found() -> Outcome {
    Outcome::not_found()
}

/// Whether `offer` is one this request may accept: open at `now`,
/// addressed to `bank_id`, of the request's subject and kind.
pub(super) fn accepts(offer: &OfferRow, bank_id: &str, request: &FinanceRequest, now: NaiveDateTime) -> bool {
    let subject = request.subject.id().to_string();
    let same_subject = match request.subject {
        Subject::Asset(_) => offer.asset_id.as_deref() == Some(subject.as_str()),
        Subject::PurchaseOrder(_) => offer.purchase_order_id.as_deref() == Some(subject.as_str()),
    };
    offer.id == request.offer.to_string()
        && offer.is_open_at(now)
        && offer.bank_id == bank_id
        && offer.kind == request.kind.as_str()
        && same_subject
}

/// What an asset acceptance's decision rests on, read with the asset's row
/// lock held.
pub(super) struct AssetFacts<'a> {
    /// The offer the request names, if it exists.
    pub offer: Option<&'a OfferRow>,
    pub asset: Option<&'a AssetRow>,
    pub receivable: Option<&'a ReceivableRow>,
    /// The asset is active, as seen under its lock.
    pub active: bool,
    /// The bank's active signing keys.
    pub keys: &'a [PublicKey],
    /// The bank holding an active lien on the receivable's purchase order.
    pub purchase_order_lienholder: Option<&'a str>,
    /// The bank holding an active lien on the asset.
    pub lienholder: Option<&'a str>,
}

/// A decision before it is written.
pub(super) enum Plan {
    /// Answered without writing anything but the idempotency record.
    Answer(Outcome),
    /// Refused, with an alert for the risk officers.
    Alert {
        alert: NewAlert,
        refusal: Refusal,
        reason: &'static str,
    },
    /// Granted: the offer is taken, and the ledger entry and the lien (its
    /// leaf hash set once the entry is prepared) written; an assignment
    /// also makes the bank the holder.
    Lien { entry: Box<NewEntry>, lien: LienRow },
}

fn decide_asset(
    connection: &mut DbConnection,
    bank_id: &str,
    bank: Uuid,
    id: Uuid,
    request: &FinanceRequest,
) -> Result<Outcome, diesel::result::Error> {
    let now = store::now();
    let id = id.to_string();
    let asset = registry_repository::find_asset(connection, &id)?;
    // The asset's row lock comes first: a withdrawal of its offer, a split,
    // a payment or another decision on it waits for this one, and what is
    // read below is the latest.
    let active = match &asset {
        Some(asset) => repository::lock_active_asset(connection, &asset.id, now)?,
        None => false,
    };
    let offer = offers_repository::find_offer(connection, &request.offer.to_string())?;
    // Nothing more is read for a bank without an offer.
    if !offer
        .as_ref()
        .is_some_and(|offer| accepts(offer, bank_id, request, now))
    {
        return Ok(not_found());
    }
    let receivable = match &asset {
        Some(asset) => registry_repository::find_receivable(connection, &asset.receivable_id)?,
        None => None,
    };
    let keys = active_keys(organizations_repository::active_public_keys(connection, bank_id)?);
    let purchase_order_lien = match receivable
        .as_ref()
        .and_then(|receivable| receivable.purchase_order_id.as_ref())
    {
        Some(purchase_order_id) => {
            repository::share_purchase_orders(connection, std::slice::from_ref(purchase_order_id))?;
            repository::active_lien_on_purchase_order(connection, purchase_order_id)?
        }
        None => None,
    };
    let lien = match (&asset, active) {
        (Some(asset), true) => repository::active_lien_on_asset(connection, &asset.id)?,
        _ => None,
    };
    let plan = plan_asset(
        bank_id,
        bank,
        request,
        now,
        AssetFacts {
            offer: offer.as_ref(),
            asset: asset.as_ref(),
            receivable: receivable.as_ref(),
            active,
            keys: &keys,
            purchase_order_lienholder: purchase_order_lien.as_ref().map(|lien| lien.bank_id.as_str()),
            lienholder: lien.as_ref().map(|lien| lien.bank_id.as_str()),
        },
    )?;
    match plan {
        Plan::Answer(outcome) => Ok(outcome),
        Plan::Alert { alert, refusal, reason } => refuse_with_alert(connection, alert, refusal, reason),
        Plan::Lien { entry, mut lien } => {
            if !take_offer(connection, &lien, now)? {
                return Ok(not_found());
            }
            lien.leaf_hash = tlog::append(connection, *entry, now)?.leaf_hash.to_vec();
            repository::insert_lien(connection, &lien)?;
            if let (LienKind::Assignment, Some(asset_id)) = (request.kind, &lien.asset_id) {
                repository::set_holder(connection, asset_id, bank_id, now)?;
            }
            Ok(Outcome::Created { body: lien_view(&lien) })
        }
    }
}

/// Marks the lien's offer taken; false if it is no longer open (it lapsed
/// meanwhile), in which case nothing may be granted.
fn take_offer(
    connection: &mut DbConnection,
    lien: &LienRow,
    now: NaiveDateTime,
) -> Result<bool, diesel::result::Error> {
    let Some(offer_id) = &lien.offer_id else {
        return Ok(false);
    };
    Ok(offers_repository::take_offers(connection, std::slice::from_ref(offer_id), now)? == 1)
}

/// The parsable keys among stored key rows.
pub(super) fn active_keys(rows: Vec<OrganizationKeyRow>) -> Vec<PublicKey> {
    rows.iter().filter_map(|row| parsed_key(&row.public_key)).collect()
}

/// A stored public key, parsed: decompressing the curve point and checking
/// it is canonical and not weak cost a pledge about 70 k instructions, so
/// each process remembers the keys it parsed. Only the parsing is
/// remembered: which keys are active is read from the database with every
/// decision, so a revoked key is refused at once.
fn parsed_key(hex: &str) -> Option<PublicKey> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    /// Beyond this many, the memory starts afresh (keys are few).
    const REMEMBERED: usize = 10_000;
    static PARSED: OnceLock<Mutex<HashMap<String, PublicKey>>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(key) = parsed.lock().ok().and_then(|keys| keys.get(hex).copied()) {
        return Some(key);
    }
    let key = PublicKey::parse_hex(hex).ok()?;
    if let Ok(mut keys) = parsed.lock() {
        if keys.len() >= REMEMBERED {
            keys.clear();
        }
        keys.insert(hex.to_owned(), key);
    }
    Some(key)
}

/// The rules of an asset pledge or assignment, first failure wins; pure, so
/// one request and a batch of them decide alike.
pub(super) fn plan_asset(
    bank_id: &str,
    bank: Uuid,
    request: &FinanceRequest,
    now: NaiveDateTime,
    facts: AssetFacts<'_>,
) -> Result<Plan, diesel::result::Error> {
    let AssetFacts {
        offer,
        asset,
        receivable,
        active,
        keys,
        purchase_order_lienholder,
        lienholder,
    } = facts;
    // May you see it: an open offer to this bank, of this asset and kind.
    let offer = offer.filter(|offer| accepts(offer, bank_id, request, now));
    let (Some(offer), Some(asset), Some(receivable)) = (offer, asset, receivable) else {
        return Ok(Plan::Answer(not_found()));
    };
    let amount = match money(&request.amount, &asset.currency)? {
        Ok(amount) => amount,
        Err(outcome) => return Ok(Plan::Answer(outcome)),
    };
    let action = action(request, bank, amount);
    let signed = match check_signature(keys, &action, &request.signature) {
        Ok(signed) => signed,
        Err(outcome) => return Ok(Plan::Answer(outcome)),
    };
    if !active {
        return Ok(Plan::Answer(refusal(
            Refusal::AssetNotActive,
            format!("the asset is {} and cannot be financed", asset.status),
        )));
    }
    let fingerprint: Option<[u8; 32]> = receivable.fingerprint.as_slice().try_into().ok();
    let facts = json!({
        "attempt": "acceptance",
        "offer_id": offer.id,
        "kind": request.kind.as_str(),
        "asset_id": asset.id,
        "receivable_id": receivable.id,
        "amount": amount.amount_string(),
        "currency": amount.currency().code(),
    });
    // Invariant 4: a purchase-order lien's bank is the only one that may
    // finance the order's receivables.
    if let Some(po_bank) = purchase_order_lienholder.filter(|po_bank| *po_bank != bank_id) {
        return Ok(Plan::Alert {
            alert: attempt_alert(
                AlertKind::PoDoubleFinancing,
                fingerprint,
                &asset.id,
                bank_id,
                po_bank,
                facts,
            ),
            refusal: Refusal::PoFinancedElsewhere,
            reason: "the receivable's purchase order is financed by another bank, the only one that may finance it",
        });
    }
    if let Some(existing) = lienholder {
        return Ok(Plan::Alert {
            alert: attempt_alert(
                AlertKind::DuplicatePledge,
                fingerprint,
                &asset.id,
                bank_id,
                existing,
                facts,
            ),
            refusal: Refusal::AlreadyEncumbered,
            reason: "the asset is already encumbered",
        });
    }
    if let Some(outcome) = beyond_offer(request.kind, amount, offer) {
        return Ok(Plan::Answer(outcome));
    }
    if amount.minor_units() > asset.face_value_minor {
        return Ok(Plan::Answer(refusal(
            Refusal::ExceedsFaceValue,
            format!(
                "the amount exceeds the asset's face value of {} {}",
                amount.currency().code(),
                format_minor_units(asset.face_value_minor, amount.currency()),
            ),
        )));
    }

    let lien_id = Uuid::new_v4().to_string();
    let mut parties = vec![
        asset.holder_id.clone(),
        bank_id.to_owned(),
        receivable.supplier_id.clone(),
        receivable.buyer_id.clone(),
    ];
    parties.sort();
    parties.dedup();
    Ok(Plan::Lien {
        entry: Box::new(NewEntry {
            kind: match request.kind {
                LienKind::Pledge => "asset_pledged",
                LienKind::Assignment => "asset_assigned",
            },
            subjects: vec![lien_id.clone(), asset.id.clone()],
            fingerprint,
            actor: Some(bank_id.to_owned()),
            signature: Some(signed),
            details: json!({
                "message": action.canonical_message(),
                "lien_id": lien_id,
                "offer_id": offer.id,
                "holder_id": asset.holder_id,
                "bank_id": bank_id,
                "amount": amount.amount_string(),
                "currency": amount.currency().code(),
            }),
            visibility: Visibility::Parties(parties),
        }),
        lien: new_lien(
            lien_id,
            Some(asset.id.clone()),
            None,
            bank_id,
            request.kind,
            amount,
            &offer.id,
            now,
        ),
    })
}

/// The refusal of terms the offer does not allow: a pledge for more than
/// offered, an assignment at another price than asked.
fn beyond_offer(kind: LienKind, amount: Money, offer: &OfferRow) -> Option<Outcome> {
    let offered = format_minor_units(offer.amount_minor, amount.currency());
    let code = amount.currency().code();
    match kind {
        LienKind::Pledge if amount.minor_units() > offer.amount_minor => Some(refusal(
            Refusal::ExceedsOffer,
            format!("the offer allows a pledge of at most {code} {offered}"),
        )),
        LienKind::Assignment if amount.minor_units() != offer.amount_minor => Some(refusal(
            Refusal::PriceMismatch,
            format!("the holder asked {code} {offered} for the asset"),
        )),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn new_lien(
    id: String,
    asset_id: Option<String>,
    purchase_order_id: Option<String>,
    bank_id: &str,
    kind: LienKind,
    amount: Money,
    offer_id: &str,
    now: NaiveDateTime,
) -> LienRow {
    LienRow {
        id,
        asset_id,
        purchase_order_id,
        bank_id: bank_id.to_owned(),
        kind: kind.as_str().to_owned(),
        amount_minor: amount.minor_units(),
        currency: amount.currency().code().to_owned(),
        status: LienStatus::Active,
        leaf_hash: Vec::new(),
        created_at: now,
        ended_at: None,
        offer_id: Some(offer_id.to_owned()),
        share_minor: None,
        disbursed_minor: 0,
        repaid_minor: 0,
    }
}

fn decide_purchase_order(
    connection: &mut DbConnection,
    bank_id: &str,
    bank: Uuid,
    id: Uuid,
    request: &FinanceRequest,
) -> Result<Outcome, diesel::result::Error> {
    let now = store::now();
    let id = id.to_string();
    repository::lock_purchase_order(connection, &id)?;
    let offer = offers_repository::find_offer(connection, &request.offer.to_string())?;
    let Some(offer) = offer.filter(|offer| accepts(offer, bank_id, request, now)) else {
        return Ok(not_found());
    };
    let Some(order) = registry_repository::find_purchase_order(connection, &id)? else {
        return Ok(not_found());
    };
    let amount = match money(&request.amount, &order.currency)? {
        Ok(amount) => amount,
        Err(outcome) => return Ok(outcome),
    };
    let action = action(request, bank, amount);
    let keys = active_keys(organizations_repository::active_public_keys(connection, bank_id)?);
    let signed = match check_signature(&keys, &action, &request.signature) {
        Ok(signed) => signed,
        Err(outcome) => return Ok(outcome),
    };
    if order.status != PurchaseOrderStatus::Acknowledged {
        return Ok(refusal(
            Refusal::NotConfirmed,
            format!(
                "the purchase order is {}; only an acknowledged order can be financed",
                order.status
            ),
        ));
    }
    let fingerprint: Option<[u8; 32]> = order.fingerprint.as_slice().try_into().ok();
    let facts = json!({"attempt": "acceptance", "offer_id": offer.id, "kind": "pledge", "purchase_order_id": order.id,
                       "amount": amount.amount_string(), "currency": amount.currency().code()});
    if let Some(existing) = repository::active_lien_on_purchase_order(connection, &order.id)? {
        return refuse_with_alert(
            connection,
            attempt_alert(
                AlertKind::DuplicatePledge,
                fingerprint,
                &order.id,
                bank_id,
                &existing.bank_id,
                facts,
            ),
            Refusal::AlreadyEncumbered,
            "the purchase order is already encumbered",
        );
    }
    // Invariant 4 seen from the order: a lien on it would make its bank the
    // only one that may finance receivables another bank already finances.
    if let Some(other) = repository::lienholders_under_purchase_order(connection, &order.id)?
        .into_iter()
        .find(|holder| holder != bank_id)
    {
        return refuse_with_alert(
            connection,
            attempt_alert(
                AlertKind::PoDoubleFinancing,
                fingerprint,
                &order.id,
                bank_id,
                &other,
                facts,
            ),
            Refusal::AlreadyEncumbered,
            "receivables of the purchase order are already financed by another bank",
        );
    }
    if let Some(outcome) = beyond_offer(request.kind, amount, &offer) {
        return Ok(outcome);
    }
    if amount.minor_units() > order.amount_minor {
        return Ok(refusal(
            Refusal::ExceedsFaceValue,
            "the amount exceeds the purchase order's amount",
        ));
    }
    let lien_id = Uuid::new_v4().to_string();
    let mut lien = new_lien(
        lien_id.clone(),
        None,
        Some(order.id.clone()),
        bank_id,
        request.kind,
        amount,
        &offer.id,
        now,
    );
    if !take_offer(connection, &lien, now)? {
        return Ok(not_found());
    }
    let appended = tlog::append(
        connection,
        NewEntry {
            kind: "purchase_order_pledged",
            subjects: vec![lien_id.clone(), order.id.clone()],
            fingerprint,
            actor: Some(bank_id.to_owned()),
            signature: Some(signed),
            details: json!({
                "message": action.canonical_message(),
                "lien_id": lien_id,
                "offer_id": offer.id,
                "bank_id": bank_id,
                "amount": amount.amount_string(),
                "currency": amount.currency().code(),
            }),
            visibility: Visibility::Parties(vec![
                bank_id.to_owned(),
                order.supplier_id.clone(),
                order.buyer_id.clone(),
            ]),
        },
        now,
    )?;
    lien.leaf_hash = appended.leaf_hash.to_vec();
    repository::insert_lien(connection, &lien)?;
    Ok(Outcome::Created { body: lien_view(&lien) })
}

/// The alert of `attempting`'s refused attempt on `subject_id`, which
/// `holder` already finances.
pub(super) fn attempt_alert(
    kind: AlertKind,
    fingerprint: Option<[u8; 32]>,
    subject_id: &str,
    attempting: &str,
    holder: &str,
    facts: serde_json::Value,
) -> NewAlert {
    NewAlert {
        kind,
        fingerprint,
        subject_id: Some(subject_id.to_owned()),
        attempting_org_id: attempting.to_owned(),
        existing_party_id: Some(holder.to_owned()),
        details: facts,
    }
}

/// Records the alert (in the refusing transaction) and answers the refusal.
fn refuse_with_alert(
    connection: &mut DbConnection,
    alert: NewAlert,
    refused: Refusal,
    reason: &str,
) -> Result<Outcome, diesel::result::Error> {
    let alert = alerts::raise(connection, alert, store::now())?;
    Ok(alerted(&alert.id, refused, reason))
}

/// The refusal, naming its alert so the caller can quote it.
pub(super) fn alerted(alert_id: &str, refused: Refusal, reason: &str) -> Outcome {
    refusal(
        refused,
        format!("{reason}; risk officers were alerted (alert {alert_id})"),
    )
}

/// A lien as the API shows it to its parties.
pub(crate) fn lien_view(lien: &LienRow) -> serde_json::Value {
    let amount = |minor_units: i64| crate::registry::amount(minor_units, &lien.currency);
    json!({
        "id": lien.id,
        "kind": lien.kind,
        "status": lien.status,
        "offer_id": lien.offer_id,
        "asset_id": lien.asset_id,
        "purchase_order_id": lien.purchase_order_id,
        "bank_id": lien.bank_id,
        "amount": amount(lien.amount_minor),
        "currency": lien.currency,
        "share": lien.share_minor.map(amount),
        "created_at": store::format_time(lien.created_at),
        "ended_at": lien.ended_at.map(store::format_time),
        "ledger": { "leaf_hash": hex::encode(&lien.leaf_hash) },
    })
}

#[cfg(test)]
mod tests {
    //! The acceptance rules as a pure function: one case per refusal, in
    //! the order they win (docs/FINANCING.md), each with every later fault
    //! present too, so that a case passes only if its refusal comes first.

    use chrono::NaiveDate;
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;
    use crate::domain::{AssetStatus, OfferStatus, ReceivableStatus};

    const BANK: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
    const OTHER_BANK: &str = "0ddba11a-1234-4abc-8def-0123456789ab";
    const ASSET: &str = "0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90";
    const OFFER: &str = "5e0f6a7b-8c9d-4e1f-a2b3-c4d5e6f7a8b9";

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|date| date.and_hms_opt(12, 0, 0))
            .unwrap()
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn offer() -> OfferRow {
        OfferRow {
            id: OFFER.to_owned(),
            asset_id: Some(ASSET.to_owned()),
            purchase_order_id: None,
            holder_id: "supplier".to_owned(),
            bank_id: BANK.to_owned(),
            kind: "pledge".to_owned(),
            amount_minor: 80_000,
            currency: "CNY".to_owned(),
            expires_at: now() + chrono::Duration::hours(1),
            status: OfferStatus::Open,
            leaf_hash: vec![0; 32],
            created_at: now(),
            ended_at: None,
        }
    }

    fn asset() -> AssetRow {
        AssetRow {
            id: ASSET.to_owned(),
            receivable_id: "receivable".to_owned(),
            parent_id: None,
            position: 0,
            holder_id: "supplier".to_owned(),
            face_value_minor: 100_000,
            currency: "CNY".to_owned(),
            status: AssetStatus::Active,
            leaf_hash: vec![0; 32],
            created_at: now(),
            updated_at: now(),
        }
    }

    fn receivable() -> ReceivableRow {
        ReceivableRow {
            id: "receivable".to_owned(),
            fingerprint: vec![1; 32],
            supplier_id: "supplier".to_owned(),
            buyer_id: "buyer".to_owned(),
            invoice_number: "INV-1".to_owned(),
            purchase_order_id: Some("order".to_owned()),
            issue_date: now().date(),
            due_date: now().date(),
            currency: "CNY".to_owned(),
            amount_minor: 100_000,
            status: ReceivableStatus::Confirmed,
            dispute_reason: None,
            leaf_hash: vec![0; 32],
            created_at: now(),
            decided_at: None,
            credited_minor: 0,
            superseded_by: None,
            order_reference: None,
        }
    }

    /// A pledge request for `amount`, signed by `signer` over the lines the
    /// bank signs (written out here, not by the server's message builder).
    fn request(amount: &str, signer: &SigningKey) -> FinanceRequest {
        request_for(LienKind::Pledge, amount, signer)
    }

    fn request_for(kind: LienKind, amount: &str, signer: &SigningKey) -> FinanceRequest {
        let action = match kind {
            LienKind::Pledge => "pledge",
            LienKind::Assignment => "assign",
        };
        let message = format!(
            "anchorfin/v1/{action}\noffer={OFFER}\nsubject=asset:{ASSET}\namount={amount}\ncurrency=CNY\nbank={BANK}\nnonce=n-1"
        );
        FinanceRequest {
            kind,
            offer: Uuid::parse_str(OFFER).unwrap(),
            subject: Subject::Asset(Uuid::parse_str(ASSET).unwrap()),
            amount: amount.to_owned(),
            signature: Signature::parse_hex(&hex::encode(signer.sign(message.as_bytes()).to_bytes())).unwrap(),
            nonce: Nonce::parse("n-1").unwrap(),
            request_hash: [0; 32],
        }
    }

    /// What `plan_asset` answers: the code, with `alert` when it alerts.
    fn answer(
        request: &FinanceRequest,
        offer: Option<&OfferRow>,
        active: bool,
        lienholders: (Option<&str>, Option<&str>),
    ) -> String {
        let (asset, receivable) = (asset(), receivable());
        let keys = [PublicKey::parse_hex(&hex::encode(key().verifying_key().to_bytes())).unwrap()];
        let plan = plan_asset(
            BANK,
            Uuid::parse_str(BANK).unwrap(),
            request,
            now(),
            AssetFacts {
                offer,
                asset: Some(&asset),
                receivable: Some(&receivable),
                active,
                keys: &keys,
                purchase_order_lienholder: lienholders.0,
                lienholder: lienholders.1,
            },
        );
        match plan.expect("a plan, not a corrupt row") {
            Plan::Answer(Outcome::Refused { code, .. }) => code.code().to_owned(),
            Plan::Answer(other) => format!("an answer without a lien: {other:?}"),
            Plan::Alert { alert, refusal, .. } => format!("{} alert {}", refusal.code(), alert.kind.as_str()),
            Plan::Lien { lien, .. } => format!("lien of {} on offer {:?}", lien.amount_minor, lien.offer_id),
        }
    }

    #[test]
    fn refusals_win_in_precedence_order() {
        let (good, forger) = (key(), SigningKey::from_bytes(&[8; 32]));
        let other_bank = Some(OTHER_BANK);
        let lapsed = OfferRow {
            expires_at: now(),
            ..offer()
        };
        let to_another = OfferRow {
            bank_id: OTHER_BANK.to_owned(),
            ..offer()
        };
        let taken = OfferRow {
            status: OfferStatus::Taken,
            ..offer()
        };
        let of_assignment = OfferRow {
            kind: "assignment".to_owned(),
            ..offer()
        };
        let worst = request("1000.001", &forger);
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "no offer",
                answer(&worst, None, false, (other_bank, other_bank)),
                "not_found",
            ),
            (
                "lapsed",
                answer(&worst, Some(&lapsed), false, (other_bank, other_bank)),
                "not_found",
            ),
            (
                "to another bank",
                answer(&worst, Some(&to_another), false, (other_bank, other_bank)),
                "not_found",
            ),
            (
                "taken",
                answer(&worst, Some(&taken), false, (other_bank, other_bank)),
                "not_found",
            ),
            (
                "of another kind",
                answer(&worst, Some(&of_assignment), false, (other_bank, other_bank)),
                "not_found",
            ),
            (
                "amount's digits",
                answer(&worst, Some(&offer()), false, (other_bank, other_bank)),
                "invalid_field",
            ),
            (
                "signature",
                answer(
                    &request("1000.01", &forger),
                    Some(&offer()),
                    false,
                    (other_bank, other_bank),
                ),
                "invalid_signature",
            ),
            (
                "state",
                answer(
                    &request("1000.01", &good),
                    Some(&offer()),
                    false,
                    (other_bank, other_bank),
                ),
                "asset_not_active",
            ),
            (
                "order financed elsewhere",
                answer(
                    &request("1000.01", &good),
                    Some(&offer()),
                    true,
                    (other_bank, other_bank),
                ),
                "po_financed_elsewhere alert po_double_financing",
            ),
            (
                "somehow encumbered",
                answer(
                    &request("1000.01", &good),
                    Some(&offer()),
                    true,
                    (Some(BANK), other_bank),
                ),
                "already_encumbered alert duplicate_pledge",
            ),
            (
                "beyond the offer",
                answer(&request("1000.01", &good), Some(&offer()), true, (Some(BANK), None)),
                "exceeds_offer",
            ),
            (
                "granted",
                answer(&request("800.00", &good), Some(&offer()), true, (Some(BANK), None)),
                "lien of 80000 on offer Some(\"5e0f6a7b-8c9d-4e1f-a2b3-c4d5e6f7a8b9\")",
            ),
        ];
        for (case, got, expected) in cases {
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn an_assignment_pays_exactly_the_price_asked() {
        let sale = OfferRow {
            kind: "assignment".to_owned(),
            ..offer()
        };
        let assign = |amount: &str| request_for(LienKind::Assignment, amount, &key());
        assert_eq!(
            answer(&assign("799.99"), Some(&sale), true, (None, None)),
            "price_mismatch"
        );
        assert_eq!(
            answer(&assign("800.01"), Some(&sale), true, (None, None)),
            "price_mismatch"
        );
        assert!(answer(&assign("800.00"), Some(&sale), true, (None, None)).starts_with("lien of 80000"));
        // Signed as a pledge, it is not the bank's assignment.
        let mislabelled = FinanceRequest {
            kind: LienKind::Assignment,
            ..request("800.00", &key())
        };
        assert_eq!(
            answer(&mislabelled, Some(&sale), true, (None, None)),
            "invalid_signature"
        );
    }
}
