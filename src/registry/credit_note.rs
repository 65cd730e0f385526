//! Credit notes and corrected invoices: documents that change what a buyer
//! owes on an invoice registered before.
//!
//! A credit note (UBL `<CreditNote>`, or an invoice of type 381) names the
//! invoice it credits (`BillingReference`). It is recorded against that
//! receivable and lowers what is outstanding on it; the database refuses a
//! credit beyond what is owed. When the buyer had confirmed the receivable
//! — its asset may be financed — the credit dilutes a bank's collateral:
//! a `dilution` alert goes to the lienholder's and the operator's risk
//! officers.
//!
//! A corrected invoice (type 384) replaces an invoice its buyer has not
//! confirmed: the correction is registered as a receivable of its own and
//! the original is marked superseded, so it can no longer be confirmed or
//! financed. Once the original is confirmed the correction is refused, with
//! a `late_correction` alert: a confirmed debt changes only by credit note.

use chrono::NaiveDate;
use serde_json::json;
use uuid::Uuid;

use super::error::{committing_refusals, Refusal, UseCaseError};
use super::parties::{self, Party};
use super::receivable::{register_receivable, NewReceivable, Registered};
use crate::alerts::{self, AlertKind, NewAlert};
use crate::domain::{Fingerprint, FingerprintKey, InvoiceNumber, Money, ReceivableStatus, Role};
use crate::store::documents::{self as documents_repository, CreditNoteRow};
use crate::store::lending as lending_repository;
use crate::store::registry::{self as repository, ReceivableRow};
use crate::store::{self, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};

/// A credit note as its supplier submits it.
#[derive(Debug, Clone)]
pub struct NewCreditNote {
    pub buyer_id: Uuid,
    pub number: InvoiceNumber,
    pub issue_date: NaiveDate,
    pub amount: Money,
    /// The number of the invoice it credits.
    pub invoice: InvoiceNumber,
}

#[derive(Debug, Clone)]
pub struct Credited {
    pub credit_note: CreditNoteRow,
    /// The plain fingerprint of the credit note.
    pub fingerprint: Fingerprint,
    /// The receivable credited, as it is now.
    pub receivable: ReceivableRow,
    /// The `dilution` alerts raised (one per lienholder, or one for the
    /// operator when no bank finances the receivable yet).
    pub dilution_alerts: usize,
}

/// Records a credit note against the supplier's invoice it names.
pub fn record_credit_note(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier_id: &str,
    new: &NewCreditNote,
) -> Result<Credited, UseCaseError> {
    committing_refusals(connection, |connection| {
        record_once(connection, key, supplier_id, new).map(Ok)
    })
}

fn record_once(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier_id: &str,
    new: &NewCreditNote,
) -> Result<Credited, UseCaseError> {
    let now = store::now();
    let supplier = parties::load(connection, supplier_id)?.ok_or(UseCaseError::NotFound)?;
    let buyer = parties::load_with_role(connection, "buyer_id", new.buyer_id, Role::CoreEnterprise)?;
    let invoice = credited_invoice(connection, key, &supplier, &buyer, &new.invoice)?;
    if new.amount.currency().code() != invoice.currency {
        return Err(UseCaseError::field(
            "currency",
            format!(
                "the credit note is in {}, the invoice it credits in {}",
                new.amount.currency().code(),
                invoice.currency
            ),
        ));
    }
    let fingerprint = Fingerprint::credit_note(&supplier.legal_id, &buyer.legal_id, &new.number);
    let stored = key.stored(&fingerprint);
    if let Some(existing) = documents_repository::find_credit_note_by_fingerprint(connection, &stored)? {
        // Only its own supplier can name a credit note (the seller is in
        // its fingerprint): this is a resubmission, refused without alert.
        return Err(UseCaseError::Refused {
            refusal: Refusal::DuplicateRegistration,
            detail: format!(
                "credit note {} is already recorded (fingerprint {})",
                new.number.as_str(),
                fingerprint.to_hex()
            ),
            existing_id: Some(existing.id),
        });
    }

    // What the receivable was read as decides the alert; the conditional
    // update holds that decision against a racing confirmation or credit.
    let status = invoice.status;
    let confirmed = match status {
        ReceivableStatus::Registered | ReceivableStatus::Disputed => false,
        ReceivableStatus::Confirmed => true,
        ReceivableStatus::Settled | ReceivableStatus::Defaulted => {
            return Err(UseCaseError::field(
                "billing_reference",
                format!(
                    "invoice {} is {}: a credit note can no longer lower what is owed on it",
                    invoice.invoice_number,
                    status.as_str()
                ),
            ))
        }
    };
    let outstanding = invoice.amount_minor - invoice.credited_minor;
    if new.amount.minor_units() > outstanding {
        return Err(exceeds_outstanding(&invoice, &new.amount));
    }
    if !documents_repository::add_credit(connection, &invoice.id, status, new.amount.minor_units())? {
        let now_read = repository::find_receivable(connection, &invoice.id)?.ok_or(UseCaseError::NotFound)?;
        if now_read.amount_minor - now_read.credited_minor < new.amount.minor_units() {
            return Err(exceeds_outstanding(&now_read, &new.amount));
        }
        // Decided meanwhile: the caller's retry reads it again.
        return Err(UseCaseError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::SerializationFailure,
            Box::new("the receivable changed while the credit note was recorded".to_owned()),
        )));
    }

    let liens = if confirmed {
        let assets = lending_repository::asset_ids_of(connection, &invoice.id)?;
        lending_repository::active_liens_on_assets(connection, &assets)?
    } else {
        Vec::new()
    };
    let mut banks: Vec<String> = liens.iter().map(|lien| lien.bank_id.clone()).collect();
    banks.sort();
    banks.dedup();

    let id = Uuid::new_v4().to_string();
    let after = outstanding - new.amount.minor_units();
    let facts = json!({
        "credit_note_id": id,
        "credit_note_number": new.number.as_str(),
        "receivable_id": invoice.id,
        "invoice_number": invoice.invoice_number,
        "issue_date": new.issue_date.to_string(),
        "amount": new.amount.amount_string(),
        "currency": invoice.currency,
        "outstanding_before": crate::domain::format_minor_units(outstanding, new.amount.currency()),
        "outstanding_after": crate::domain::format_minor_units(after, new.amount.currency()),
    });
    let mut told = vec![supplier_id.to_owned(), buyer.id().to_owned()];
    told.extend(banks.iter().cloned());
    let appended = tlog::append(
        connection,
        NewEntry {
            kind: "credit_note_recorded",
            subjects: vec![invoice.id.clone(), id.clone()],
            fingerprint: Some(stored),
            actor: Some(supplier_id.to_owned()),
            signature: None,
            details: facts.clone(),
            visibility: Visibility::Parties(told),
        },
        now,
    )?;
    let credit_note = CreditNoteRow {
        id,
        fingerprint: stored.to_vec(),
        receivable_id: invoice.id.clone(),
        supplier_id: supplier_id.to_owned(),
        credit_note_number: new.number.as_str().to_owned(),
        issue_date: new.issue_date,
        currency: invoice.currency.clone(),
        amount_minor: new.amount.minor_units(),
        leaf_hash: appended.leaf_hash.to_vec(),
        created_at: now,
    };
    documents_repository::insert_credit_note(connection, &credit_note)?;

    let mut dilution_alerts = 0;
    if confirmed {
        // One alert per bank financing it (each told only of its own
        // lien), or one for the operator when none does yet.
        let lienholders: Vec<Option<String>> = if banks.is_empty() {
            vec![None]
        } else {
            banks.iter().cloned().map(Some).collect()
        };
        for bank in lienholders {
            let mut details = facts.clone();
            details["financed"] = json!(bank.is_some());
            details["lien_ids"] = json!(liens
                .iter()
                .filter(|lien| Some(&lien.bank_id) == bank.as_ref())
                .map(|lien| lien.id.clone())
                .collect::<Vec<_>>());
            alerts::raise(
                connection,
                NewAlert {
                    kind: AlertKind::Dilution,
                    fingerprint: invoice.fingerprint.as_slice().try_into().ok(),
                    subject_id: Some(invoice.id.clone()),
                    attempting_org_id: supplier_id.to_owned(),
                    existing_party_id: bank,
                    details,
                },
                now,
            )?;
            dilution_alerts += 1;
        }
    }
    let receivable = repository::find_receivable(connection, &invoice.id)?.ok_or(UseCaseError::NotFound)?;
    Ok(Credited {
        credit_note,
        fingerprint,
        receivable,
        dilution_alerts,
    })
}

/// A corrected invoice registered, and the receivable it replaced.
#[derive(Debug)]
pub struct Corrected {
    pub registered: Registered,
    pub replaced_id: String,
}

/// Registers a corrected invoice that replaces the supplier's invoice
/// `original`, which its buyer must not have confirmed.
pub fn register_correction(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier_id: &str,
    new: &NewReceivable,
    original: &InvoiceNumber,
) -> Result<Corrected, UseCaseError> {
    committing_refusals(connection, |connection| {
        correct_once(connection, key, supplier_id, new, original)
    })
}

/// `Ok(Err(_))` is a refusal whose alert must commit.
fn correct_once(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier_id: &str,
    new: &NewReceivable,
    original: &InvoiceNumber,
) -> Result<Result<Corrected, UseCaseError>, UseCaseError> {
    let now = store::now();
    let supplier = parties::load(connection, supplier_id)?.ok_or(UseCaseError::NotFound)?;
    let buyer = parties::load_with_role(connection, "buyer_id", new.buyer_id, Role::CoreEnterprise)?;
    if original.normalized() == new.invoice_number.normalized() {
        return Err(UseCaseError::field(
            "invoice_number",
            "a corrected invoice carries a number of its own; this is the number of the invoice it corrects",
        ));
    }
    let replaced = credited_invoice(connection, key, &supplier, &buyer, original)?;
    if let Some(correction) = &replaced.superseded_by {
        return Err(UseCaseError::refused(
            Refusal::Superseded,
            format!(
                "invoice {} was already replaced by corrected invoice {correction}",
                replaced.invoice_number
            ),
        ));
    }
    if !matches!(
        replaced.status,
        ReceivableStatus::Registered | ReceivableStatus::Disputed
    ) {
        return late_correction(connection, &replaced, new, now).map(Err);
    }
    let registered = register_receivable(connection, key, supplier_id, new)?;
    if !documents_repository::supersede(connection, &replaced.id, &registered.receivable.id)? {
        // Confirmed (or replaced) meanwhile: undo this registration and
        // decide again on what is there now.
        return Err(UseCaseError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::SerializationFailure,
            Box::new("the corrected invoice's original changed meanwhile".to_owned()),
        )));
    }
    tlog::append(
        connection,
        NewEntry {
            kind: "receivable_superseded",
            subjects: vec![replaced.id.clone(), registered.receivable.id.clone()],
            fingerprint: replaced.fingerprint.as_slice().try_into().ok(),
            actor: Some(supplier_id.to_owned()),
            signature: None,
            details: json!({
                "receivable_id": replaced.id,
                "invoice_number": replaced.invoice_number,
                "superseded_by": registered.receivable.id,
                "corrected_invoice_number": new.invoice_number.as_str(),
            }),
            visibility: Visibility::Parties(vec![supplier_id.to_owned(), buyer.id().to_owned()]),
        },
        now,
    )?;
    Ok(Ok(Corrected {
        registered,
        replaced_id: replaced.id,
    }))
}

/// The `late_correction` alert of a correction of a confirmed invoice, and
/// the refusal to answer once it has committed.
fn late_correction(
    connection: &mut DbConnection,
    original: &ReceivableRow,
    new: &NewReceivable,
    now: chrono::NaiveDateTime,
) -> Result<UseCaseError, UseCaseError> {
    let assets = lending_repository::asset_ids_of(connection, &original.id)?;
    let liens = lending_repository::active_liens_on_assets(connection, &assets)?;
    let mut banks: Vec<Option<String>> = liens.iter().map(|lien| Some(lien.bank_id.clone())).collect();
    banks.sort();
    banks.dedup();
    if banks.is_empty() {
        banks.push(None);
    }
    for bank in banks {
        alerts::raise(
            connection,
            NewAlert {
                kind: AlertKind::LateCorrection,
                fingerprint: original.fingerprint.as_slice().try_into().ok(),
                subject_id: Some(original.id.clone()),
                attempting_org_id: original.supplier_id.clone(),
                existing_party_id: bank.clone(),
                details: json!({
                    "invoice_number": original.invoice_number,
                    "status": original.status.as_str(),
                    "financed": bank.is_some(),
                    "corrected_invoice_number": new.invoice_number.as_str(),
                    "corrected_amount": new.amount.amount_string(),
                    "amount": crate::registry::amount(original.amount_minor, &original.currency),
                    "currency": original.currency,
                }),
            },
            now,
        )?;
    }
    Ok(UseCaseError::refused(
        Refusal::OriginalConfirmed,
        format!(
            "invoice {} is {}: a confirmed invoice is changed only by a credit note, not replaced",
            original.invoice_number,
            original.status.as_str()
        ),
    ))
}

/// The supplier's invoice to `buyer` numbered `number`, which a credit
/// note or correction names.
fn credited_invoice(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier: &Party,
    buyer: &Party,
    number: &InvoiceNumber,
) -> Result<ReceivableRow, UseCaseError> {
    let fingerprint = Fingerprint::receivable(&supplier.legal_id, &buyer.legal_id, number);
    repository::find_receivable_by_fingerprint(connection, &key.stored(&fingerprint))?
        .filter(|receivable| receivable.supplier_id == supplier.id())
        .ok_or_else(|| {
            UseCaseError::field(
                "billing_reference",
                format!(
                    "no invoice of yours to this buyer is registered under number {}",
                    number.as_str()
                ),
            )
        })
}

fn exceeds_outstanding(invoice: &ReceivableRow, amount: &Money) -> UseCaseError {
    UseCaseError::refused(
        Refusal::ExceedsOutstanding,
        format!(
            "the credit note of {} {} exceeds the {} {} still owed on invoice {}",
            amount.amount_string(),
            invoice.currency,
            crate::registry::amount(invoice.amount_minor - invoice.credited_minor, &invoice.currency),
            invoice.currency,
            invoice.invoice_number
        ),
    )
}

/// Whether what is credited on each of `read` is still what was read: a
/// confirmation asks this after its conditional update, which waited for
/// any racing credit note to commit, so the face value it minted is what
/// is owed.
pub(super) fn credits_unchanged(
    connection: &mut DbConnection,
    read: &std::collections::HashMap<String, ReceivableRow>,
) -> Result<bool, diesel::result::Error> {
    let ids: Vec<String> = read.keys().cloned().collect();
    Ok(documents_repository::credited(connection, &ids)?
        .into_iter()
        .all(|(id, credited)| {
            read.get(&id)
                .is_some_and(|receivable| receivable.credited_minor == credited)
        }))
}
