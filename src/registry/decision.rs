//! What a buyer signs: acknowledging a purchase order, confirming or
//! disputing a receivable. Only the buyer named on the document may act,
//! with an ed25519 signature by one of its active keys over the canonical
//! message of docs/PRODUCT.md §6. Confirmation mints the asset.
//!
//! Order of checks: the document exists and the caller is a party (else
//! 404), the caller is its buyer (403), the signature (422), the state (409).

use serde_json::json;
use uuid::Uuid;

use super::error::{corrupt, Refusal, UseCaseError};
use super::parties;
use super::rules::check_confirmation;
use super::view::{visible_purchase_order, visible_receivable, Viewer};
use crate::domain::{AssetStatus, PurchaseOrderStatus, ReceivableStatus};
use crate::domain::{Currency, Fingerprint, Money, Signature, SignedAction};
use crate::store::organizations;
use crate::store::registry::{self as repository, AssetRow, PurchaseOrderRow, ReceivableRow};
use crate::store::{self, write_transaction, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};

/// A dispute's reason: 1 to 1,000 characters, no control characters but
/// line breaks.
#[derive(Debug, Clone)]
pub struct DisputeReason(String);

impl DisputeReason {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("must not be empty");
        }
        if trimmed.chars().count() > 1000 {
            return Err("must be at most 1000 characters");
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err("must not contain control characters");
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug)]
pub struct Confirmed {
    pub receivable: ReceivableRow,
    pub asset: AssetRow,
    /// The plain fingerprint the buyer signed.
    pub fingerprint: Fingerprint,
}

fn money(minor_units: i64, currency: &str) -> Result<Money, UseCaseError> {
    let currency = Currency::parse(currency).map_err(|_| corrupt("currency"))?;
    Money::from_minor_units(minor_units, currency).map_err(|_| corrupt("amount"))
}

fn uuid(raw: &str) -> Result<Uuid, UseCaseError> {
    Uuid::parse_str(raw).map_err(|_| corrupt("id"))
}

/// A document's fingerprint as stored (keyed), for its ledger entry.
fn stored(bytes: &[u8]) -> Result<[u8; 32], UseCaseError> {
    bytes.try_into().map_err(|_| corrupt("fingerprint"))
}

/// The receivable, if `caller` may see it (404 otherwise); it must be its
/// buyer to act (403 otherwise).
fn receivable_for_buyer(
    connection: &mut DbConnection,
    id: Uuid,
    caller: &Viewer,
) -> Result<ReceivableRow, UseCaseError> {
    let receivable = visible_receivable(connection, caller, &id.to_string())?.ok_or(UseCaseError::NotFound)?;
    buyers_receivable(&receivable, &caller.organization_id)?;
    Ok(receivable)
}

/// Refuses anyone but the receivable's buyer (who may see it).
pub(super) fn buyers_receivable(receivable: &ReceivableRow, caller: &str) -> Result<(), UseCaseError> {
    if receivable.buyer_id != caller {
        return Err(UseCaseError::Forbidden(
            "only the buyer named on the receivable may do this",
        ));
    }
    Ok(())
}

pub(super) fn state_refusal(status: ReceivableStatus) -> UseCaseError {
    match status {
        ReceivableStatus::Disputed => UseCaseError::refused(Refusal::AlreadyDisputed, "the receivable was disputed"),
        _ => UseCaseError::refused(Refusal::AlreadyConfirmed, format!("the receivable is already {status}")),
    }
}

pub fn confirm_receivable(
    connection: &mut DbConnection,
    caller: &Viewer,
    id: Uuid,
    signature: &Signature,
) -> Result<Confirmed, UseCaseError> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let receivable = visible_receivable(connection, caller, &id.to_string())?.ok_or(UseCaseError::NotFound)?;
        let caller = caller.organization_id.as_str();
        let fingerprint = super::fingerprints::of_receivable(connection, &receivable)?;
        let keys = parties::parse_keys(&organizations::active_public_keys(connection, caller)?)?;
        let (action, amount, signed) =
            check_confirmation(&receivable, receivable.status, &fingerprint, caller, &keys, signature)?;
        // The state as read passed; the conditional update is the check
        // against a racing decision.
        if !repository::decide_receivable(connection, &receivable.id, ReceivableStatus::Confirmed, None, now)? {
            let now_status = repository::find_receivable(connection, &receivable.id)?
                .map_or(receivable.status, |current| current.status);
            return Err(state_refusal(now_status));
        }
        if !super::credit_note::credits_unchanged(
            connection,
            &std::collections::HashMap::from([(receivable.id.clone(), receivable.clone())]),
        )? {
            return Err(UseCaseError::refused(
                Refusal::InvalidSignature,
                "a credit note changed what is owed while this confirmation was decided: fetch the confirmation message again and sign it",
            ));
        }
        let (entry, mut confirmed) = mint(receivable, fingerprint, caller, &action, amount, signed, now)?;
        confirmed.asset.leaf_hash = tlog::append(connection, entry, now)?.leaf_hash.to_vec();
        repository::insert_asset(connection, &confirmed.asset)?;
        Ok(confirmed)
    })
}

/// What the buyer signs to confirm `receivable` (whose plain fingerprint
/// is `fingerprint`), and its face value.
pub(super) fn confirmation(
    receivable: &ReceivableRow,
    fingerprint: &Fingerprint,
) -> Result<(SignedAction, Money), UseCaseError> {
    // What the buyer owes: the invoice less its credit notes.
    let amount = money(
        receivable.amount_minor - receivable.credited_minor,
        &receivable.currency,
    )?;
    let action = SignedAction::Confirm {
        receivable: uuid(&receivable.id)?,
        fingerprint: *fingerprint,
        amount,
        due_date: receivable.due_date,
        supplier: uuid(&receivable.supplier_id)?,
        buyer: uuid(&receivable.buyer_id)?,
    };
    Ok((action, amount))
}

/// The confirmation's ledger entry, the asset it mints (its leaf hash set
/// once the entry is queued) and the receivable as confirmed.
pub(super) fn mint(
    receivable: ReceivableRow,
    fingerprint: Fingerprint,
    caller: &str,
    action: &SignedAction,
    amount: Money,
    signed: ([u8; 32], [u8; 64]),
    now: chrono::NaiveDateTime,
) -> Result<(NewEntry, Confirmed), UseCaseError> {
    let asset_id = Uuid::new_v4().to_string();
    let entry = NewEntry {
        kind: "receivable_confirmed",
        subjects: vec![receivable.id.clone(), asset_id.clone()],
        fingerprint: Some(stored(&receivable.fingerprint)?),
        actor: Some(caller.to_owned()),
        signature: Some(signed),
        details: json!({
            "message": action.canonical_message(),
            "asset_id": asset_id,
            "holder_id": receivable.supplier_id,
            "face_value": amount.amount_string(),
            "currency": receivable.currency,
        }),
        visibility: Visibility::Parties(vec![receivable.supplier_id.clone(), receivable.buyer_id.clone()]),
    };
    let asset = AssetRow {
        id: asset_id,
        receivable_id: receivable.id.clone(),
        parent_id: None,
        position: 0,
        holder_id: receivable.supplier_id.clone(),
        face_value_minor: amount.minor_units(),
        currency: receivable.currency.clone(),
        status: AssetStatus::Active,
        leaf_hash: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    let receivable = ReceivableRow {
        status: ReceivableStatus::Confirmed,
        decided_at: Some(now),
        ..receivable
    };
    Ok((
        entry,
        Confirmed {
            receivable,
            asset,
            fingerprint,
        },
    ))
}

/// The messages the buyer of `receivable` may sign now (the portal shows
/// them to be signed in the browser): to confirm it, and to dispute it.
pub fn buyer_messages(receivable: &ReceivableRow, fingerprint: &Fingerprint) -> Result<(String, String), UseCaseError> {
    let (confirm, _) = confirmation(receivable, fingerprint)?;
    let dispute = dispute_action(receivable, fingerprint)?;
    Ok((confirm.canonical_message(), dispute.canonical_message()))
}

fn dispute_action(receivable: &ReceivableRow, fingerprint: &Fingerprint) -> Result<SignedAction, UseCaseError> {
    Ok(SignedAction::Dispute {
        receivable: uuid(&receivable.id)?,
        fingerprint: *fingerprint,
        buyer: uuid(&receivable.buyer_id)?,
    })
}

/// The buyer disputes the receivable; returns it as disputed, the leaf of
/// the dispute, and the plain fingerprint.
pub fn dispute_receivable(
    connection: &mut DbConnection,
    caller: &Viewer,
    id: Uuid,
    reason: &DisputeReason,
    signature: &Signature,
) -> Result<(ReceivableRow, [u8; 32], Fingerprint), UseCaseError> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let receivable = receivable_for_buyer(connection, id, caller)?;
        let caller = caller.organization_id.as_str();
        let fingerprint = super::fingerprints::of_receivable(connection, &receivable)?;
        let action = dispute_action(&receivable, &fingerprint)?;
        let signed = parties::verify_signed(connection, caller, &action, signature)?;
        if !repository::decide_receivable(
            connection,
            &receivable.id,
            ReceivableStatus::Disputed,
            Some(reason.as_str()),
            now,
        )? {
            return Err(state_refusal(receivable.status));
        }
        let appended = tlog::append(
            connection,
            NewEntry {
                kind: "receivable_disputed",
                subjects: vec![receivable.id.clone()],
                fingerprint: Some(stored(&receivable.fingerprint)?),
                actor: Some(caller.to_owned()),
                signature: Some(signed),
                details: json!({ "message": action.canonical_message(), "reason": reason.as_str() }),
                visibility: Visibility::Parties(vec![receivable.supplier_id.clone(), receivable.buyer_id.clone()]),
            },
            now,
        )?;
        let receivable = ReceivableRow {
            status: ReceivableStatus::Disputed,
            dispute_reason: Some(reason.as_str().to_owned()),
            decided_at: Some(now),
            ..receivable
        };
        Ok((receivable, appended.leaf_hash, fingerprint))
    })
}

/// The message the buyer of `order` signs to acknowledge it (the portal
/// shows it to be signed in the browser).
pub fn acknowledgement_message(order: &PurchaseOrderRow, fingerprint: &Fingerprint) -> Result<String, UseCaseError> {
    Ok(acknowledgement(order, fingerprint)?.canonical_message())
}

fn acknowledgement(order: &PurchaseOrderRow, fingerprint: &Fingerprint) -> Result<SignedAction, UseCaseError> {
    Ok(SignedAction::AcknowledgePo {
        purchase_order: uuid(&order.id)?,
        fingerprint: *fingerprint,
        amount: money(order.amount_minor, &order.currency)?,
        buyer: uuid(&order.buyer_id)?,
    })
}

/// The buyer acknowledges the purchase order; returns it as acknowledged,
/// the leaf of the acknowledgement, and the plain fingerprint.
pub fn acknowledge_purchase_order(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: Uuid,
    signature: &Signature,
) -> Result<(PurchaseOrderRow, [u8; 32], Fingerprint), UseCaseError> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let order = visible_purchase_order(connection, viewer, &id.to_string())?.ok_or(UseCaseError::NotFound)?;
        let caller = viewer.organization_id.as_str();
        if order.buyer_id != caller {
            return Err(UseCaseError::Forbidden(
                "only the buyer named on the purchase order may acknowledge it",
            ));
        }
        let fingerprint = super::fingerprints::of_purchase_order(connection, &order)?;
        let action = acknowledgement(&order, &fingerprint)?;
        let signed = parties::verify_signed(connection, caller, &action, signature)?;
        if !repository::acknowledge_purchase_order(connection, &order.id, now)? {
            return Err(UseCaseError::refused(
                Refusal::AlreadyAcknowledged,
                format!("the purchase order is {}", order.status),
            ));
        }
        let appended = tlog::append(
            connection,
            NewEntry {
                kind: "purchase_order_acknowledged",
                subjects: vec![order.id.clone()],
                fingerprint: Some(stored(&order.fingerprint)?),
                actor: Some(caller.to_owned()),
                signature: Some(signed),
                details: json!({ "message": action.canonical_message() }),
                visibility: Visibility::Parties(vec![order.supplier_id.clone(), order.buyer_id.clone()]),
            },
            now,
        )?;
        let order = PurchaseOrderRow {
            status: PurchaseOrderStatus::Acknowledged,
            acknowledged_at: Some(now),
            ..order
        };
        Ok((order, appended.leaf_hash, fingerprint))
    })
}
