//! Bulk registration: every row of a CSV, XLSX or UBL upload is registered by the
//! same rules as `POST /v1/receivables` (set-based, many rows per
//! statement, where the batch allows it); a bad row is reported and the
//! others are kept. The whole upload is decided in the caller's
//! transaction, which commits it with its report. Uploading the same file
//! twice creates nothing new: every row is then a duplicate.

use serde::Serialize;
use uuid::Uuid;

use super::batcher::RegistrationJob;
use super::error::UseCaseError;
use super::import::{self, DocumentKind, ImportError, ImportFormat, ImportRow, ParsedRow};
use super::parties;
use super::receivable::{invoice_dates, register_receivable, NewReceivable, Registered};
use super::set_based::register_many;
use crate::domain::{
    normalize_identifier, Currency, Fingerprint, FingerprintKey, InvoiceNumber, LegalId, Money, PoNumber, Role,
};
use crate::store::batcher::Bulk;
use crate::store::organizations as organizations_repository;
use crate::store::registry as repository;
use crate::store::{write_transaction, DbConnection};
use crate::validation::{field, FieldError};

/// One row's outcome, as `POST /v1/receivables/import` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct ImportResult {
    /// The line (CSV, XLSX: as a spreadsheet shows it, the header being
    /// line 1) or the 1-based index of the XML document.
    pub row: usize,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub rejected: usize,
    pub results: Vec<ImportResult>,
}

/// Parses the whole upload first (a malformed file imports nothing), then
/// registers row by row.
pub fn import_receivables(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier_id: &str,
    format: ImportFormat,
    body: &[u8],
) -> Result<ImportReport, ImportFailure> {
    let rows = import::parse(format, body)?;
    let supplier = parties::load(connection, supplier_id)?.ok_or(UseCaseError::NotFound)?;
    // Each row resolved to a registration (or rejected), then registered
    // in chunks.
    let mut results: Vec<Option<ImportResult>> = Vec::with_capacity(rows.len());
    let mut pending: Vec<(usize, usize, RegistrationJob)> = Vec::new();
    for ParsedRow { location, outcome, .. } in rows {
        let row = location.number();
        let resolved = match outcome {
            Err(rejection) => Err(Ok(rejected(
                row,
                rejection.code.to_owned(),
                rejection.field,
                rejection.detail,
            ))),
            // Credit notes, corrected invoices and orders are read but not
            // registered by this upload yet.
            Ok(fields) if fields.kind != DocumentKind::Invoice => Err(Ok(rejected(
                row,
                "unsupported_document".to_owned(),
                None,
                format!(
                    "a {} is not registered as a receivable: only invoices are",
                    fields.kind.as_str().replace('_', " ")
                ),
            ))),
            Ok(fields) => resolve_row(connection, key, &supplier, &fields).map_err(|error| rejection(row, error)),
        };
        match resolved {
            Ok(receivable) => {
                pending.push((
                    results.len(),
                    row,
                    RegistrationJob {
                        supplier_id: supplier.id().to_owned(),
                        receivable,
                        fingerprint_key: *key,
                    },
                ));
                results.push(None);
            }
            Err(rejected) => results.push(Some(rejected?)),
        }
    }
    for chunk in pending.chunks(CHUNK) {
        let jobs: Vec<RegistrationJob> = chunk.iter().map(|(_, _, job)| job.clone()).collect();
        for ((index, row, _), registered) in chunk.iter().zip(register_chunk(connection, &jobs)?) {
            results[*index] = Some(match registered {
                Ok(registered) => ImportResult {
                    row: *row,
                    status: "created",
                    id: Some(registered.receivable.id),
                    fingerprint: Some(registered.fingerprint.to_hex()),
                    code: None,
                    field: None,
                    detail: None,
                },
                Err(error) => rejection(*row, error)?,
            });
        }
    }
    let results: Vec<ImportResult> = results.into_iter().flatten().collect();
    let created = results.iter().filter(|result| result.status == "created").count();
    Ok(ImportReport {
        created,
        rejected: results.len() - created,
        results,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error(transparent)]
    Upload(#[from] ImportError),
    #[error(transparent)]
    Registry(#[from] UseCaseError),
}

impl From<diesel::result::Error> for ImportFailure {
    fn from(error: diesel::result::Error) -> Self {
        ImportFailure::Registry(error.into())
    }
}

fn rejected(row: usize, code: String, field: Option<String>, detail: String) -> ImportResult {
    ImportResult {
        row,
        status: "rejected",
        id: None,
        fingerprint: None,
        code: Some(code),
        field,
        detail: Some(detail),
    }
}

/// How many rows are registered set-based at a time.
const CHUNK: usize = 500;

/// A row's refusal as reported; a failure of the database or of the
/// caller (not found, forbidden) fails the whole upload.
fn rejection(row: usize, error: UseCaseError) -> Result<ImportResult, ImportFailure> {
    match error {
        UseCaseError::InvalidField(error) => Ok(rejected(
            row,
            "invalid_field".to_owned(),
            Some(error.field),
            error.detail,
        )),
        UseCaseError::Refused {
            refusal,
            detail,
            existing_id,
        } => Ok(ImportResult {
            // The supplier's own receivable, when it registered the
            // invoice before.
            id: existing_id,
            ..rejected(row, refusal.code().to_owned(), None, detail)
        }),
        error @ (UseCaseError::Database(_) | UseCaseError::NotFound | UseCaseError::Forbidden(_)) => {
            Err(ImportFailure::Registry(error))
        }
    }
}

/// Registers a chunk of rows: set-based in a savepoint, or — when that
/// path declines the chunk or fails — one by one, as the batcher does.
fn register_chunk(
    connection: &mut DbConnection,
    jobs: &[RegistrationJob],
) -> Result<Vec<Result<Registered, UseCaseError>>, diesel::result::Error> {
    match write_transaction(connection, |connection| -> Result<_, Bulk> {
        register_many(connection, jobs)?.ok_or(Bulk::Declined)
    }) {
        Ok(results) => Ok(results),
        Err(Bulk::Failed(error)) if crate::store::is_connection_lost(&error) => Err(error),
        Err(_) => Ok(jobs
            .iter()
            .map(|job| register_receivable(connection, &job.fingerprint_key, &job.supplier_id, &job.receivable))
            .collect()),
    }
}

/// Reads one row into a registration: its buyer and purchase order looked
/// up by the identifiers a spreadsheet carries.
fn resolve_row(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier: &parties::Party,
    row: &ImportRow,
) -> Result<NewReceivable, UseCaseError> {
    // A document that names its seller must name the uploader (by any of
    // the identifiers it gives).
    if !row.seller.is_empty()
        && !row
            .seller
            .iter()
            .any(|seller| normalize_identifier(&seller.value) == supplier.legal_id.normalized())
    {
        return Err(UseCaseError::field(
            "seller_legal_id",
            "the invoice's seller is not the organisation uploading it",
        ));
    }
    let invoice_number = field("invoice_number", InvoiceNumber::parse(&row.invoice_number))?;
    let due_date = row
        .due_date
        .as_deref()
        .ok_or_else(|| UseCaseError::field("due_date", "the invoice gives no due date"))?;
    let (issue_date, due_date) = invoice_dates(&row.issue_date, due_date)?;
    let currency = field("currency", Currency::parse(&row.currency))?;
    let amount = field("amount", Money::parse(&row.amount, currency))?;
    // The buyer: the first of the document's identifiers for it that is an
    // onboarded organisation's legal id.
    let mut found = None;
    let mut first_error = None;
    for reference in &row.buyer {
        match LegalId::parse(&reference.value) {
            Ok(legal_id) => {
                if let Some(organization) = organizations_repository::find_organization_by_normalized_legal_id(
                    connection,
                    legal_id.normalized(),
                )? {
                    found = Some((legal_id, organization));
                    break;
                }
            }
            Err(error) => {
                first_error.get_or_insert(FieldError::new("buyer_legal_id", error));
            }
        }
    }
    let (buyer_legal_id, buyer) = match (found, first_error) {
        (Some(found), _) => found,
        // A lone identifier that is no legal id at all is reported as such.
        (None, Some(error)) if row.buyer.len() == 1 => return Err(error.into()),
        (None, _) => {
            return Err(UseCaseError::field(
                "buyer_legal_id",
                "no onboarded organisation has this legal id",
            ))
        }
    };
    let buyer = parties::with_role(
        Some(parties::Party::from_row(buyer)?),
        "buyer_legal_id",
        Role::CoreEnterprise,
    )?;
    let buyer_id = Uuid::parse_str(buyer.id()).map_err(|_| super::error::corrupt("organisation id"))?;
    let purchase_order_id = match &row.order_reference {
        None => None,
        Some(raw) => {
            let po_number = field("po_number", PoNumber::parse(raw))?;
            let fingerprint = Fingerprint::purchase_order(&buyer_legal_id, &supplier.legal_id, &po_number);
            let order = repository::find_purchase_order_by_fingerprint(connection, &key.stored(&fingerprint))?
                .ok_or_else(|| {
                    UseCaseError::field(
                        "po_number",
                        "no purchase order of yours with this buyer has this number",
                    )
                })?;
            Some(Uuid::parse_str(&order.id).map_err(|_| super::error::corrupt("purchase order id"))?)
        }
    };
    Ok(NewReceivable {
        buyer_id,
        invoice_number,
        issue_date,
        due_date,
        amount,
        purchase_order_id,
        order_reference: None,
    })
}
