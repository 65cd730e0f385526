//! A lien after it is granted: the loan its bank records against it
//! (disbursements and repayments, each signed and on the ledger, so every
//! operation of the loan is evidence the holder can read), and the bank's
//! signed receipt of its share of the buyer's payment, which is what ends
//! a settling lien.

use chrono::NaiveDate;
use serde_json::{json, Value};
use uuid::Uuid;

use super::decide::lien_view;
use super::outcome::{decide_once, Outcome};
use crate::domain::LienStatus;
use crate::domain::{
    format_minor_units, Currency, LoanEntry, LoanReference, Money, Nonce, Role, Signature, SignedAction,
};
use crate::refusal::{corrupt, Refusal, UseCaseError};
use crate::registry::{verify_signed, Viewer};
use crate::store::lending::{self as repository, LienRow, LoanRecordRow};
use crate::store::registry as registry_repository;
use crate::store::{self, format_time, write_transaction, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};

/// A lien with the organisations that may read it: its bank, the holder of
/// its asset and the supplier of its receivable (or purchase order).
struct Seen {
    lien: LienRow,
    parties: Vec<String>,
    fingerprint: Option<[u8; 32]>,
}

/// The lien if `viewer` may read it (the operator may read every lien).
fn visible_lien(connection: &mut DbConnection, viewer: &Viewer, id: Uuid) -> Result<Seen, UseCaseError> {
    let lien = repository::find_lien(connection, &id.to_string())?.ok_or(UseCaseError::NotFound)?;
    let mut parties = vec![lien.bank_id.clone()];
    let mut fingerprint = None;
    if let Some(asset) = match &lien.asset_id {
        Some(asset_id) => registry_repository::find_asset(connection, asset_id)?,
        None => None,
    } {
        parties.push(asset.holder_id.clone());
        if let Some(receivable) = registry_repository::find_receivable(connection, &asset.receivable_id)? {
            parties.push(receivable.supplier_id);
            fingerprint = receivable.fingerprint.as_slice().try_into().ok();
        }
    }
    if let Some(order) = match &lien.purchase_order_id {
        Some(order_id) => registry_repository::find_purchase_order(connection, order_id)?,
        None => None,
    } {
        parties.push(order.supplier_id);
        fingerprint = order.fingerprint.as_slice().try_into().ok();
    }
    parties.sort();
    parties.dedup();
    if viewer.role != Role::Operator && !parties.contains(&viewer.organization_id) {
        return Err(UseCaseError::NotFound);
    }
    Ok(Seen {
        lien,
        parties,
        fingerprint,
    })
}

/// The lien as its bank, its holder and the operator see it, with its loan.
fn lien_with_loan(lien: &LienRow, records: &[LoanRecordRow]) -> Value {
    let amount = |minor_units: i64| crate::registry::amount(minor_units, &lien.currency);
    let mut view = lien_view(lien);
    view["loan"] = json!({
        "currency": lien.currency,
        "disbursed": amount(lien.disbursed_minor),
        "repaid": amount(lien.repaid_minor),
        "outstanding": amount(lien.disbursed_minor - lien.repaid_minor),
        "records": records.iter().map(loan_record_view).collect::<Vec<_>>(),
    });
    view
}

fn loan_record_view(record: &LoanRecordRow) -> Value {
    json!({
        "id": record.id,
        "lien_id": record.lien_id,
        "kind": record.kind,
        "amount": crate::registry::amount(record.amount_minor, &record.currency),
        "currency": record.currency,
        "value_date": record.value_date.to_string(),
        "reference": record.reference,
        "created_at": format_time(record.created_at),
        "ledger": { "leaf_hash": hex::encode(&record.leaf_hash) },
    })
}

/// What the lienholder signs to confirm it received `amount` (the portal
/// shows it before it is signed).
pub fn receipt_action(lien: Uuid, amount: Money, bank: Uuid) -> SignedAction {
    SignedAction::Receipt { lien, amount, bank }
}

/// What the lienholder signs to record money lent or repaid (the portal
/// shows it before it is signed).
pub fn loan_action(kind: LoanRecordKind, entry: LoanEntry) -> SignedAction {
    match kind {
        LoanRecordKind::Disbursement => SignedAction::Disbursement(entry),
        LoanRecordKind::Repayment => SignedAction::Repayment(entry),
    }
}

/// The largest page of a bank's liens.
pub const MAX_LIEN_PAGE: i64 = 100;

/// A bank's liens as `GET /v1/pledges/{id}` shows each (without its loan
/// records), newest first, and the cursor of the next page.
pub fn liens_of_bank(
    connection: &mut DbConnection,
    bank_id: &str,
    after: Option<(chrono::NaiveDateTime, String)>,
    limit: i64,
) -> diesel::QueryResult<(Vec<Value>, Option<String>)> {
    let limit = limit.clamp(1, MAX_LIEN_PAGE);
    let mut rows = repository::liens_of_bank(connection, bank_id, after, limit + 1)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| {
            rows.last()
                .map(|lien| crate::alerts::encode_cursor(lien.created_at, &lien.id))
        })
        .flatten();
    Ok((rows.iter().map(lien_view).collect(), next_cursor))
}

/// `GET /v1/pledges/{id}`.
pub fn show_lien(connection: &mut DbConnection, viewer: &Viewer, id: Uuid) -> Result<Value, UseCaseError> {
    let seen = visible_lien(connection, viewer, id)?;
    let records = repository::loan_records_of(connection, &seen.lien.id)?;
    Ok(lien_with_loan(&seen.lien, &records))
}

/// The lien `viewer` acts on as its bank: 404 if it may not see it, 403
/// if it sees it but is not the lienholder.
fn own_lien(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: Uuid,
    action: &'static str,
) -> Result<Seen, UseCaseError> {
    let seen = visible_lien(connection, viewer, id)?;
    if seen.lien.bank_id != viewer.organization_id {
        return Err(UseCaseError::Forbidden(action));
    }
    Ok(seen)
}

fn lien_amount(lien: &LienRow, raw: &str) -> Result<Money, UseCaseError> {
    let currency = Currency::parse(&lien.currency).map_err(|_| corrupt("currency"))?;
    Money::parse(raw, currency).map_err(|error| UseCaseError::field("amount", error))
}

fn uuid_of(id: &str) -> Result<Uuid, UseCaseError> {
    Uuid::parse_str(id).map_err(|_| corrupt("id"))
}

/// `POST /v1/pledges/{id}/receipt`: the lienholder confirms it received
/// exactly its share of the buyer's payment; the lien is settled.
pub fn confirm_receipt(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: Uuid,
    amount: &str,
    signature: &Signature,
) -> Result<Value, UseCaseError> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let Seen {
            lien,
            parties,
            fingerprint,
        } = own_lien(
            connection,
            viewer,
            id,
            "only the lienholder confirms the receipt of its share",
        )?;
        let amount = lien_amount(&lien, amount)?;
        let action = receipt_action(id, amount, uuid_of(&lien.bank_id)?);
        let signed = verify_signed(connection, &lien.bank_id, &action, signature)?;
        if lien.status != LienStatus::Settling {
            return Err(UseCaseError::refused(
                Refusal::LienNotSettling,
                format!("the lien is {}; a receipt follows the buyer's payment", lien.status),
            ));
        }
        let share = lien.share_minor.unwrap_or(0);
        if amount.minor_units() != share {
            return Err(UseCaseError::refused(
                Refusal::ReceiptMismatch,
                format!(
                    "the payment paid this lien's bank {} {}",
                    amount.currency().code(),
                    format_minor_units(share, amount.currency())
                ),
            ));
        }
        if !repository::close_lien(connection, &lien.id, now)? {
            return Err(UseCaseError::refused(
                Refusal::LienNotSettling,
                "the lien was settled meanwhile",
            ));
        }
        let subject = lien
            .asset_id
            .clone()
            .or(lien.purchase_order_id.clone())
            .unwrap_or_default();
        tlog::append(
            connection,
            NewEntry {
                kind: "lien_settled",
                subjects: vec![lien.id.clone(), subject],
                fingerprint,
                actor: Some(lien.bank_id.clone()),
                signature: Some(signed),
                details: json!({
                    "message": action.canonical_message(),
                    "lien_id": lien.id,
                    "bank_id": lien.bank_id,
                    "amount": amount.amount_string(),
                    "currency": amount.currency().code(),
                }),
                visibility: Visibility::Parties(parties),
            },
            now,
        )?;
        let settled = LienRow {
            status: LienStatus::Settled,
            ended_at: Some(now),
            ..lien
        };
        let records = repository::loan_records_of(connection, &settled.id)?;
        Ok(lien_with_loan(&settled, &records))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoanRecordKind {
    Disbursement,
    Repayment,
}

impl LoanRecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LoanRecordKind::Disbursement => "disbursement",
            LoanRecordKind::Repayment => "repayment",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoanRecordRequest {
    pub kind: LoanRecordKind,
    /// Parsed with the lien's currency once it is loaded.
    pub amount: String,
    pub value_date: NaiveDate,
    pub reference: LoanReference,
    pub signature: Signature,
    pub nonce: Nonce,
    pub request_hash: [u8; 32],
}

/// `POST /v1/pledges/{id}/disbursements` and `…/repayments`, once per
/// (bank, nonce).
pub fn record_loan(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: Uuid,
    request: &LoanRecordRequest,
) -> Result<Outcome, diesel::result::Error> {
    decide_once(
        connection,
        &viewer.organization_id,
        &request.nonce,
        &request.request_hash,
        |connection| Outcome::of(record_once(connection, viewer, id, request)),
    )
}

fn record_once(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: Uuid,
    request: &LoanRecordRequest,
) -> Result<Value, UseCaseError> {
    let now = store::now();
    let Seen {
        lien,
        parties,
        fingerprint,
    } = own_lien(connection, viewer, id, "only the lienholder records its loan")?;
    let amount = lien_amount(&lien, &request.amount)?;
    let entry = LoanEntry {
        lien: id,
        amount,
        value_date: request.value_date,
        reference: request.reference.clone(),
        bank: uuid_of(&lien.bank_id)?,
        nonce: request.nonce.clone(),
    };
    let action = loan_action(request.kind, entry);
    let signed = verify_signed(connection, &lien.bank_id, &action, &request.signature)?;
    let state = |lien: &LienRow| -> Option<UseCaseError> {
        let open = match request.kind {
            LoanRecordKind::Disbursement => lien.status == LienStatus::Active,
            LoanRecordKind::Repayment => LienStatus::STANDING.contains(&lien.status),
        };
        if request.kind == LoanRecordKind::Repayment && lien.kind != "pledge" {
            Some(UseCaseError::refused(
                Refusal::NotAPledge,
                "an assignment is a sale; it takes no repayments",
            ))
        } else if !open {
            Some(UseCaseError::refused(
                Refusal::LienNotActive,
                format!(
                    "the lien is {}; it takes no more {}s",
                    lien.status,
                    request.kind.as_str()
                ),
            ))
        } else {
            None
        }
    };
    if let Some(refused) = state(&lien) {
        return Err(refused);
    }
    // The conditional update is the check: racing records cannot exceed
    // the lien's amount (or what was disbursed) together.
    let added = match request.kind {
        LoanRecordKind::Disbursement => repository::add_disbursement(connection, &lien.id, amount.minor_units())?,
        LoanRecordKind::Repayment => repository::add_repayment(connection, &lien.id, amount.minor_units())?,
    };
    if !added {
        let now_seen = repository::find_lien(connection, &lien.id)?.ok_or(UseCaseError::NotFound)?;
        if let Some(refused) = state(&now_seen) {
            return Err(refused);
        }
        let code = amount.currency().code();
        return Err(match request.kind {
            LoanRecordKind::Disbursement => UseCaseError::refused(
                Refusal::ExceedsLienAmount,
                format!(
                    "{code} {} of the lien's {code} {} is disbursed already",
                    format_minor_units(now_seen.disbursed_minor, amount.currency()),
                    format_minor_units(now_seen.amount_minor, amount.currency())
                ),
            ),
            LoanRecordKind::Repayment => UseCaseError::refused(
                Refusal::ExceedsDisbursed,
                format!(
                    "{code} {} of the {code} {} disbursed is repaid already",
                    format_minor_units(now_seen.repaid_minor, amount.currency()),
                    format_minor_units(now_seen.disbursed_minor, amount.currency())
                ),
            ),
        });
    }
    let record_id = Uuid::new_v4().to_string();
    let appended = tlog::append(
        connection,
        NewEntry {
            kind: match request.kind {
                LoanRecordKind::Disbursement => "loan_disbursed",
                LoanRecordKind::Repayment => "loan_repaid",
            },
            subjects: vec![record_id.clone(), lien.id.clone()],
            fingerprint,
            actor: Some(lien.bank_id.clone()),
            signature: Some(signed),
            details: json!({
                "message": action.canonical_message(),
                "record_id": record_id,
                "lien_id": lien.id,
                "amount": amount.amount_string(),
                "currency": amount.currency().code(),
                "value_date": request.value_date.to_string(),
                "reference": request.reference.as_str(),
            }),
            visibility: Visibility::Parties(parties),
        },
        now,
    )?;
    let record = LoanRecordRow {
        id: record_id,
        lien_id: lien.id.clone(),
        bank_id: lien.bank_id.clone(),
        kind: request.kind.as_str().to_owned(),
        amount_minor: amount.minor_units(),
        currency: amount.currency().code().to_owned(),
        value_date: request.value_date,
        reference: request.reference.as_str().to_owned(),
        leaf_hash: appended.leaf_hash.to_vec(),
        created_at: now,
    };
    repository::insert_loan_record(connection, &record)?;
    Ok(loan_record_view(&record))
}

/// `POST /v1/pledges/{id}/release`: the lienholder lets go of its pledge;
/// the asset (or purchase order) is free to be offered again.
pub fn release(connection: &mut DbConnection, viewer: &Viewer, id: Uuid) -> Result<Value, UseCaseError> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let Seen {
            lien,
            parties,
            fingerprint,
        } = own_lien(connection, viewer, id, "only the lienholder may release its pledge")?;
        if lien.kind != "pledge" {
            return Err(UseCaseError::refused(
                Refusal::NotAPledge,
                "an assignment is a sale; it cannot be released",
            ));
        }
        // The subject's row lock first, as a payment (which settles the
        // lien) and an acceptance take it: a payment that read this lien as
        // active pays the bank its share, so it must not be released
        // between that read and the settlement.
        match (&lien.asset_id, &lien.purchase_order_id) {
            (Some(asset_id), _) => {
                repository::lock_assets(connection, std::slice::from_ref(asset_id))?;
            }
            (None, Some(order_id)) => repository::lock_purchase_order(connection, order_id)?,
            (None, None) => return Err(corrupt("lien subject")),
        }
        if !repository::release_lien(connection, &lien.id, now)? {
            return Err(UseCaseError::refused(
                Refusal::LienNotActive,
                format!("the pledge is {}", lien.status),
            ));
        }
        let subject = lien
            .asset_id
            .clone()
            .or(lien.purchase_order_id.clone())
            .unwrap_or_default();
        let appended = tlog::append(
            connection,
            NewEntry {
                kind: "lien_released",
                subjects: vec![lien.id.clone(), subject],
                fingerprint,
                actor: Some(lien.bank_id.clone()),
                signature: None,
                details: json!({ "lien_id": lien.id, "bank_id": lien.bank_id }),
                visibility: Visibility::Parties(parties),
            },
            now,
        )?;
        let mut view = lien_view(&LienRow {
            status: LienStatus::Released,
            ended_at: Some(now),
            ..lien
        });
        view["ledger"]["leaf_hash"] = json!(hex::encode(appended.leaf_hash));
        Ok(view)
    })
}
