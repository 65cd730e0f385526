//! Pledges and assignments: a bank's signed request to take a lien on an
//! asset (or on a purchase order), decided in one transaction with its
//! ledger entry, its alert when refused, and its idempotency record.
//!
//! Checks, first failure wins: the Idempotency-Key (a replay answers the
//! first answer; another body under the key is 422 `idempotency_mismatch`),
//! the target exists (404), the amount is well-formed in the target's
//! currency (422 `invalid_field`), the signature (422 `invalid_signature`),
//! the target is confirmed (409 `not_confirmed`) and active (409
//! `asset_not_active`), the amount is within the face value (422
//! `exceeds_face_value`), a purchase-order lien of another bank (403
//! `po_financed_elsewhere`, alerted as `po_double_financing`), and an active
//! lien (409 `already_encumbered`, alerted as `duplicate_pledge`).

use chrono::NaiveDateTime;
use serde_json::json;
use uuid::Uuid;

use super::outcome::Outcome;
use crate::alerts::{self, AlertKind, NewAlert};
use crate::domain::{
    format_minor_units, verify_with_any, Currency, Money, Nonce, PublicKey, Role, Signature, SignedAction,
};
use crate::organizations::{authenticate, Principal};
use crate::store::lending::{self as repository, IdempotencyRow, LienRow};
use crate::store::organizations::{self as organizations_repository, OrganizationKeyRow};
use crate::store::registry::{self as registry_repository, AssetRow, ReceivableRow};
use crate::store::{self, write_transaction, DbConnection};
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
}

#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// An asset, or a receivable's id (refused while it is not confirmed).
    Asset(Uuid),
    /// A purchase order (pledges only).
    PurchaseOrder(Uuid),
}

impl Target {
    pub fn id(self) -> Uuid {
        match self {
            Target::Asset(id) | Target::PurchaseOrder(id) => id,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FinanceRequest {
    pub kind: LienKind,
    pub target: Target,
    /// Parsed with the target's currency once it is loaded.
    pub amount: String,
    pub signature: Signature,
    pub nonce: Nonce,
    pub request_hash: [u8; 32],
}

/// Why a financing request was not considered at all (answered 401 or 403,
/// and not stored under its Idempotency-Key: it was nobody's request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// An unknown, revoked or malformed API key.
    Unauthenticated,
    /// The key is not a bank's own (another role, or a risk officer's).
    NotABank,
}

/// A financing request's answer: a decision, or why there was none.
pub type Decision = Result<Outcome, Denied>;

/// The bank that may finance, behind an authenticated caller.
pub(super) fn bank_of(caller: Option<Principal>) -> Result<String, Denied> {
    let caller = caller.ok_or(Denied::Unauthenticated)?;
    if caller.role != Role::Bank || caller.risk_officer_id.is_some() {
        return Err(Denied::NotABank);
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
    let bank_id = match bank_of(authenticate(connection, token)?) {
        Ok(bank_id) => bank_id,
        Err(denied) => return Ok(Err(denied)),
    };
    let bank_id = bank_id.as_str();
    // A racing twin may win at a unique index (the lien, or the
    // idempotency key); run once more to see it and answer accordingly.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = write_transaction(connection, |connection| -> Result<Outcome, diesel::result::Error> {
            if let Some(stored) = repository::find_idempotency(connection, bank_id, request.nonce.as_str())? {
                return Ok(replay(&stored, &request.request_hash));
            }
            let outcome = decide(connection, bank_id, request)?;
            repository::insert_idempotency(connection, &record(bank_id, request, &outcome, store::now())?)?;
            Ok(outcome)
        });
        match result {
            Err(error) if attempt < 3 && store::is_retryable_conflict(&error) => continue,
            other => return other.map(Ok),
        }
    }
}

/// The stored answer to `request`, for its retries.
pub(super) fn record(
    bank_id: &str,
    request: &FinanceRequest,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> Result<IdempotencyRow, diesel::result::Error> {
    Ok(IdempotencyRow {
        organization_id: bank_id.to_owned(),
        idempotency_key: request.nonce.as_str().to_owned(),
        request_sha256: request.request_hash.to_vec(),
        response_status: i32::from(outcome.status()),
        response_body: serde_json::to_string(outcome)
            .map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))?,
        created_at: now,
    })
}

pub(super) fn replay(stored: &IdempotencyRow, request_hash: &[u8; 32]) -> Outcome {
    if stored.request_sha256 != request_hash {
        return Outcome::refused(
            422,
            "idempotency_mismatch",
            "this Idempotency-Key was used with another request body; use a new key for a new request",
        );
    }
    serde_json::from_str(&stored.response_body).unwrap_or_else(|_| {
        tracing::error!("a stored idempotent answer does not parse");
        Outcome::refused(500, "internal_error", "internal error")
    })
}

fn money(raw: &str, currency: &str) -> Result<Money, Outcome> {
    let currency = Currency::parse(currency).map_err(|_| Outcome::refused(500, "internal_error", "internal error"))?;
    Money::parse(raw, currency).map_err(|error| Outcome::invalid_field("amount", error))
}

/// The key that verified a signature, and the signature, for the ledger.
type SignedBy = ([u8; 32], [u8; 64]);

fn verify(
    connection: &mut DbConnection,
    bank_id: &str,
    action: &SignedAction,
    signature: &Signature,
) -> Result<Result<SignedBy, Outcome>, diesel::result::Error> {
    let keys = active_keys(organizations_repository::active_public_keys(connection, bank_id)?);
    Ok(check_signature(&keys, action, signature))
}

fn check_signature(keys: &[PublicKey], action: &SignedAction, signature: &Signature) -> Result<SignedBy, Outcome> {
    match verify_with_any(keys, action.canonical_message().as_bytes(), signature) {
        Ok(key) => Ok((*key.as_bytes(), signature.to_bytes())),
        Err(error) => Err(Outcome::refused(
            422,
            "invalid_signature",
            format!(
                "the signature is not valid for the canonical {} message by one of the bank's active keys: {error}",
                action.action_name()
            ),
        )),
    }
}

/// Short-circuits a decision with its outcome.
macro_rules! decided {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(outcome) => return Ok(outcome),
        }
    };
}

fn decide(
    connection: &mut DbConnection,
    bank_id: &str,
    request: &FinanceRequest,
) -> Result<Outcome, diesel::result::Error> {
    let bank =
        decided!(Uuid::parse_str(bank_id).map_err(|_| Outcome::refused(500, "internal_error", "internal error")));
    match request.target {
        Target::Asset(id) => decide_asset(connection, bank_id, bank, id, request),
        Target::PurchaseOrder(id) => decide_purchase_order(connection, bank_id, bank, id, request),
    }
}

fn action(request: &FinanceRequest, bank: Uuid, amount: Money) -> SignedAction {
    match request.kind {
        LienKind::Pledge => SignedAction::Pledge {
            asset: request.target.id(),
            amount,
            bank,
            nonce: request.nonce.clone(),
        },
        LienKind::Assignment => SignedAction::Assign {
            asset: request.target.id(),
            price: amount,
            bank,
            nonce: request.nonce.clone(),
        },
    }
}

fn not_found() -> Outcome {
    Outcome::refused(404, "not_found", "no such resource")
}

/// What an asset (or receivable) target's decision rests on, read with the
/// asset's row lock held.
pub(super) struct AssetFacts<'a> {
    /// None while the receivable is not confirmed (no asset minted yet).
    pub asset: Option<&'a AssetRow>,
    pub receivable: &'a ReceivableRow,
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
        refusal: (u16, &'static str),
        reason: &'static str,
    },
    /// Granted: the ledger entry and the lien (its leaf hash set once the
    /// entry is prepared); an assignment also makes the bank the holder.
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
    // The id may name the asset, or the receivable it is (to be) minted from.
    let (asset, receivable): (Option<AssetRow>, ReceivableRow) = match registry_repository::find_asset(connection, &id)?
    {
        Some(asset) => {
            let receivable =
                decided!(registry_repository::find_receivable(connection, &asset.receivable_id)?.ok_or_else(not_found));
            (Some(asset), receivable)
        }
        None => {
            let receivable = decided!(registry_repository::find_receivable(connection, &id)?.ok_or_else(not_found));
            let asset = registry_repository::root_asset_of(connection, &receivable.id)?;
            (asset, receivable)
        }
    };
    let active = match &asset {
        Some(asset) => repository::lock_active_asset(connection, &asset.id, now)?,
        None => false,
    };
    let keys = active_keys(organizations_repository::active_public_keys(connection, bank_id)?);
    let purchase_order_lien = match &receivable.purchase_order_id {
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
            asset: asset.as_ref(),
            receivable: &receivable,
            active,
            keys: &keys,
            purchase_order_lienholder: purchase_order_lien.as_ref().map(|lien| lien.bank_id.as_str()),
            lienholder: lien.as_ref().map(|lien| lien.bank_id.as_str()),
        },
    );
    match plan {
        Plan::Answer(outcome) => Ok(outcome),
        Plan::Alert { alert, refusal, reason } => refuse_with_alert(connection, alert, refusal, reason),
        Plan::Lien { entry, mut lien } => {
            lien.leaf_hash = tlog::append(connection, *entry, now)?.leaf_hash.to_vec();
            repository::insert_lien(connection, &lien)?;
            if let (LienKind::Assignment, Some(asset_id)) = (request.kind, &lien.asset_id) {
                repository::set_holder(connection, asset_id, bank_id, now)?;
            }
            Ok(Outcome::Created { body: lien_view(&lien) })
        }
    }
}

/// The parsable keys among stored key rows.
pub(super) fn active_keys(rows: Vec<OrganizationKeyRow>) -> Vec<PublicKey> {
    rows.iter()
        .filter_map(|row| PublicKey::parse_hex(&row.public_key).ok())
        .collect()
}

/// The rules of an asset pledge or assignment, first failure wins; pure, so
/// one request and a batch of them decide alike.
pub(super) fn plan_asset(
    bank_id: &str,
    bank: Uuid,
    request: &FinanceRequest,
    now: NaiveDateTime,
    facts: AssetFacts<'_>,
) -> Plan {
    let AssetFacts {
        asset,
        receivable,
        active,
        keys,
        purchase_order_lienholder,
        lienholder,
    } = facts;
    let currency = asset.map_or(receivable.currency.as_str(), |asset| asset.currency.as_str());
    let amount = match money(&request.amount, currency) {
        Ok(amount) => amount,
        Err(outcome) => return Plan::Answer(outcome),
    };
    let action = action(request, bank, amount);
    let signed = match check_signature(keys, &action, &request.signature) {
        Ok(signed) => signed,
        Err(outcome) => return Plan::Answer(outcome),
    };
    let Some(asset) = asset else {
        return Plan::Answer(Outcome::refused(
            409,
            "not_confirmed",
            format!(
                "the receivable is {}; only a confirmed receivable can be financed",
                receivable.status
            ),
        ));
    };
    if !active {
        return Plan::Answer(Outcome::refused(
            409,
            "asset_not_active",
            format!("the asset is {} and cannot be financed", asset.status),
        ));
    }
    if amount.minor_units() > asset.face_value_minor {
        return Plan::Answer(Outcome::refused(
            422,
            "exceeds_face_value",
            format!(
                "the amount exceeds the asset's face value of {} {}",
                amount.currency().code(),
                format_minor_units(asset.face_value_minor, amount.currency()),
            ),
        ));
    }
    let fingerprint: Option<[u8; 32]> = receivable.fingerprint.as_slice().try_into().ok();
    let facts = json!({
        "kind": request.kind.as_str(),
        "asset_id": asset.id,
        "receivable_id": receivable.id,
        "amount": amount.amount_string(),
        "currency": amount.currency().code(),
    });

    // Invariant 4: a purchase-order lien's bank is the only one that may
    // finance the order's receivables.
    if let Some(po_bank) = purchase_order_lienholder.filter(|po_bank| *po_bank != bank_id) {
        return Plan::Alert {
            alert: attempt_alert(
                AlertKind::PoDoubleFinancing,
                fingerprint,
                &asset.id,
                bank_id,
                po_bank,
                facts,
            ),
            refusal: (403, "po_financed_elsewhere"),
            reason: "the receivable's purchase order is financed by another bank, the only one that may finance it",
        };
    }

    if let Some(existing) = lienholder {
        return Plan::Alert {
            alert: attempt_alert(
                AlertKind::DuplicatePledge,
                fingerprint,
                &asset.id,
                bank_id,
                existing,
                facts,
            ),
            refusal: (409, "already_encumbered"),
            reason: "the asset is already encumbered",
        };
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
    Plan::Lien {
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
                "holder_id": asset.holder_id,
                "bank_id": bank_id,
                "amount": amount.amount_string(),
                "currency": amount.currency().code(),
            }),
            visibility: Visibility::Parties(parties),
        }),
        lien: LienRow {
            id: lien_id,
            asset_id: Some(asset.id.clone()),
            purchase_order_id: None,
            bank_id: bank_id.to_owned(),
            kind: request.kind.as_str().to_owned(),
            amount_minor: amount.minor_units(),
            currency: amount.currency().code().to_owned(),
            status: "active".to_owned(),
            leaf_hash: Vec::new(),
            created_at: now,
            ended_at: None,
        },
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
    let order = decided!(registry_repository::find_purchase_order(connection, &id)?.ok_or_else(not_found));
    if request.kind == LienKind::Assignment {
        return Ok(Outcome::invalid_field(
            "purchase_order_id",
            "a purchase order can be pledged, not assigned",
        ));
    }
    let amount = decided!(money(&request.amount, &order.currency));
    let action = action(request, bank, amount);
    let signed = decided!(verify(connection, bank_id, &action, &request.signature)?);
    if order.status != "acknowledged" {
        return Ok(Outcome::refused(
            409,
            "not_confirmed",
            format!(
                "the purchase order is {}; only an acknowledged order can be financed",
                order.status
            ),
        ));
    }
    if amount.minor_units() > order.amount_minor {
        return Ok(Outcome::refused(
            422,
            "exceeds_face_value",
            "the amount exceeds the purchase order's amount",
        ));
    }
    let fingerprint: Option<[u8; 32]> = order.fingerprint.as_slice().try_into().ok();
    let facts = json!({"kind": "pledge", "purchase_order_id": order.id, "amount": amount.amount_string(),
                       "currency": amount.currency().code()});
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
            (409, "already_encumbered"),
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
            (409, "already_encumbered"),
            "receivables of the purchase order are already financed by another bank",
        );
    }
    let lien_id = Uuid::new_v4().to_string();
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
    let lien = LienRow {
        id: lien_id,
        asset_id: None,
        purchase_order_id: Some(order.id.clone()),
        bank_id: bank_id.to_owned(),
        kind: "pledge".to_owned(),
        amount_minor: amount.minor_units(),
        currency: amount.currency().code().to_owned(),
        status: "active".to_owned(),
        leaf_hash: appended.leaf_hash.to_vec(),
        created_at: now,
        ended_at: None,
    };
    repository::insert_lien(connection, &lien)?;
    Ok(Outcome::Created { body: lien_view(&lien) })
}

/// The alert of `bank_id`'s refused attempt on `subject_id`, which
/// `holder` already finances.
fn attempt_alert(
    kind: AlertKind,
    fingerprint: Option<[u8; 32]>,
    subject_id: &str,
    bank_id: &str,
    holder: &str,
    facts: serde_json::Value,
) -> NewAlert {
    NewAlert {
        kind,
        fingerprint,
        subject_id: Some(subject_id.to_owned()),
        attempting_org_id: bank_id.to_owned(),
        existing_party_id: Some(holder.to_owned()),
        details: facts,
    }
}

/// Records the alert (in the refusing transaction) and answers the refusal.
fn refuse_with_alert(
    connection: &mut DbConnection,
    alert: NewAlert,
    refusal: (u16, &str),
    reason: &str,
) -> Result<Outcome, diesel::result::Error> {
    let alert = alerts::raise(connection, alert, store::now())?;
    Ok(alerted(&alert.id, refusal, reason))
}

/// The refusal, naming its alert so the bank can quote it.
pub(super) fn alerted(alert_id: &str, (status, code): (u16, &str), reason: &str) -> Outcome {
    Outcome::refused(
        status,
        code,
        format!("{reason}; risk officers were alerted (alert {alert_id})"),
    )
}

/// A lien as the API shows it to its bank.
pub(crate) fn lien_view(lien: &LienRow) -> serde_json::Value {
    let amount = crate::registry::amount(lien.amount_minor, &lien.currency);
    json!({
        "id": lien.id,
        "kind": lien.kind,
        "status": lien.status,
        "asset_id": lien.asset_id,
        "purchase_order_id": lien.purchase_order_id,
        "bank_id": lien.bank_id,
        "amount": amount,
        "currency": lien.currency,
        "created_at": store::format_time(lien.created_at),
        "ended_at": lien.ended_at.map(store::format_time),
        "ledger": { "leaf_hash": hex::encode(&lien.leaf_hash) },
    })
}
