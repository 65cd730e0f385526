//! Bulk registration: every row of a CSV or UBL upload is registered on its
//! own, in its own transaction, exactly as `POST /v1/receivables` would; a
//! bad row is reported and the others are kept. Uploading the same file
//! twice creates nothing new: every row is then a duplicate.

use serde::Serialize;
use uuid::Uuid;

use super::error::UseCaseError;
use super::import::{self, ImportError, ImportRow, ParsedRow};
use super::parties;
use super::receivable::{invoice_dates, register_receivable, NewReceivable};
use crate::domain::{
    normalize_identifier, Currency, Fingerprint, FingerprintKey, InvoiceNumber, LegalId, Money, PoNumber, Role,
};
use crate::store::organizations as organizations_repository;
use crate::store::registry as repository;
use crate::store::DbConnection;
use crate::validation::field;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Ubl,
}

/// One row's outcome, as `POST /v1/receivables/import` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct ImportResult {
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
    let rows = match format {
        ImportFormat::Csv => import::parse_csv(body)?,
        ImportFormat::Ubl => import::parse_ubl(body)?,
    };
    let supplier = parties::load(connection, supplier_id)?.ok_or(UseCaseError::NotFound)?;
    let mut results = Vec::with_capacity(rows.len());
    for ParsedRow { row, outcome } in rows {
        let result = match outcome {
            Err(rejection) => rejected(row, rejection.code.to_owned(), None, rejection.detail),
            Ok(fields) => match register_row(connection, key, &supplier, &fields) {
                Ok((id, fingerprint)) => ImportResult {
                    row,
                    status: "created",
                    id: Some(id),
                    fingerprint: Some(fingerprint),
                    code: None,
                    field: None,
                    detail: None,
                },
                Err(UseCaseError::InvalidField(error)) => {
                    rejected(row, "invalid_field".to_owned(), Some(error.field), error.detail)
                }
                Err(UseCaseError::Refused { refusal, detail }) => {
                    rejected(row, refusal.code().to_owned(), None, detail)
                }
                Err(UseCaseError::Database(error)) => return Err(ImportFailure::Registry(error.into())),
                Err(error @ (UseCaseError::NotFound | UseCaseError::Forbidden(_))) => {
                    return Err(ImportFailure::Registry(error))
                }
            },
        };
        results.push(result);
    }
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

/// Registers one row; returns the new receivable's id and fingerprint.
fn register_row(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier: &parties::Party,
    row: &ImportRow,
) -> Result<(String, String), UseCaseError> {
    if let Some(seller) = &row.seller_legal_id {
        if normalize_identifier(seller) != supplier.legal_id.normalized() {
            return Err(UseCaseError::field(
                "seller_legal_id",
                "the invoice's seller is not the organisation uploading it",
            ));
        }
    }
    let invoice_number = field("invoice_number", InvoiceNumber::parse(&row.invoice_number))?;
    let buyer_legal_id = field("buyer_legal_id", LegalId::parse(&row.buyer_legal_id))?;
    let (issue_date, due_date) = invoice_dates(&row.issue_date, &row.due_date)?;
    let currency = field("currency", Currency::parse(&row.currency))?;
    let amount = field("amount", Money::parse(&row.amount, currency))?;
    let buyer =
        organizations_repository::find_organization_by_normalized_legal_id(connection, buyer_legal_id.normalized())?
            .ok_or_else(|| UseCaseError::field("buyer_legal_id", "no onboarded organisation has this legal id"))?;
    let buyer = parties::with_role(
        Some(parties::Party::from_row(buyer)?),
        "buyer_legal_id",
        Role::CoreEnterprise,
    )?;
    let buyer_id = Uuid::parse_str(buyer.id()).map_err(|_| super::error::corrupt("organisation id"))?;
    let purchase_order_id = match &row.po_number {
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
    let registered = register_receivable(
        connection,
        key,
        supplier.id(),
        &NewReceivable {
            buyer_id,
            invoice_number,
            issue_date,
            due_date,
            amount,
            purchase_order_id,
        },
    )?;
    Ok((registered.receivable.id, registered.fingerprint.to_hex()))
}
