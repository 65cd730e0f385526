//! A supplier's dashboard figures: its receivables and purchase orders
//! counted and summed by status and currency. A supplier sees every
//! document it registered (`view::visible_receivable`), so these are
//! figures of what the API shows it, one by one.

use crate::domain::{Currency, PurchaseOrderStatus, ReceivableStatus};
use crate::refusal::UseCaseError;
use crate::store::registry as repository;
use crate::store::DbConnection;

/// Documents in one status and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusTotal<Status> {
    pub status: Status,
    pub currency: Currency,
    pub count: i64,
    /// The sum of their amounts, in the currency's minor units.
    pub total_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierSummary {
    pub receivables: Vec<StatusTotal<ReceivableStatus>>,
    pub purchase_orders: Vec<StatusTotal<PurchaseOrderStatus>>,
}

pub fn supplier_summary(connection: &mut DbConnection, supplier_id: &str) -> Result<SupplierSummary, UseCaseError> {
    Ok(SupplierSummary {
        receivables: totals(repository::receivable_totals_of_supplier(connection, supplier_id)?)?,
        purchase_orders: totals(repository::purchase_order_totals_of_supplier(connection, supplier_id)?)?,
    })
}

fn totals<Status>(rows: Vec<(Status, String, i64, i64)>) -> Result<Vec<StatusTotal<Status>>, UseCaseError> {
    rows.into_iter()
        .map(|(status, currency, count, total_minor)| {
            // A stored currency that does not parse is corruption: an error, never an answer.
            let currency = Currency::parse(&currency).map_err(|error| {
                UseCaseError::Database(diesel::result::Error::DeserializationError(Box::new(error)))
            })?;
            Ok(StatusTotal {
                status,
                currency,
                count,
                total_minor,
            })
        })
        .collect()
}
