//! Plain fingerprints of stored documents. The database keeps only the
//! keyed form (`FingerprintKey::stored`); the API and the signed messages
//! speak the plain one, which is recomputed here from what it hashes — the
//! parties' legal ids and the document's number — exactly as it was when
//! the document was registered.

use std::collections::HashMap;

use super::error::{corrupt, UseCaseError};
use crate::domain::{Fingerprint, InvoiceNumber, LegalId, PoNumber};
use crate::store::organizations as organizations_repository;
use crate::store::registry::{PurchaseOrderRow, ReceivableRow};
use crate::store::DbConnection;

/// The legal ids of these organisations.
fn legal_ids(connection: &mut DbConnection, ids: &[String]) -> Result<HashMap<String, LegalId>, UseCaseError> {
    organizations_repository::find_organizations(connection, ids)?
        .into_iter()
        .map(|row| {
            let legal_id = LegalId::parse(&row.legal_id).map_err(|_| corrupt("legal id"))?;
            Ok((row.id, legal_id))
        })
        .collect()
}

fn receivable_with(legal: &HashMap<String, LegalId>, receivable: &ReceivableRow) -> Result<Fingerprint, UseCaseError> {
    let (Some(seller), Some(buyer)) = (legal.get(&receivable.supplier_id), legal.get(&receivable.buyer_id)) else {
        return Err(corrupt("receivable's parties"));
    };
    let number = InvoiceNumber::parse(&receivable.invoice_number).map_err(|_| corrupt("invoice number"))?;
    Ok(Fingerprint::receivable(seller, buyer, &number))
}

/// A receivable's plain fingerprint.
pub fn of_receivable(connection: &mut DbConnection, receivable: &ReceivableRow) -> Result<Fingerprint, UseCaseError> {
    let legal = legal_ids(
        connection,
        &[receivable.supplier_id.clone(), receivable.buyer_id.clone()],
    )?;
    receivable_with(&legal, receivable)
}

/// Many receivables' plain fingerprints, by receivable id, in one query.
pub fn of_receivables<'a>(
    connection: &mut DbConnection,
    receivables: impl IntoIterator<Item = &'a ReceivableRow>,
) -> Result<HashMap<String, Fingerprint>, UseCaseError> {
    let receivables: Vec<&ReceivableRow> = receivables.into_iter().collect();
    let mut ids: Vec<String> = receivables
        .iter()
        .flat_map(|receivable| [receivable.supplier_id.clone(), receivable.buyer_id.clone()])
        .collect();
    ids.sort();
    ids.dedup();
    let legal = legal_ids(connection, &ids)?;
    receivables
        .into_iter()
        .map(|receivable| Ok((receivable.id.clone(), receivable_with(&legal, receivable)?)))
        .collect()
}

/// A purchase order's plain fingerprint.
pub fn of_purchase_order(connection: &mut DbConnection, order: &PurchaseOrderRow) -> Result<Fingerprint, UseCaseError> {
    let legal = legal_ids(connection, &[order.buyer_id.clone(), order.supplier_id.clone()])?;
    let (Some(buyer), Some(supplier)) = (legal.get(&order.buyer_id), legal.get(&order.supplier_id)) else {
        return Err(corrupt("purchase order's parties"));
    };
    let number = PoNumber::parse(&order.po_number).map_err(|_| corrupt("purchase order number"))?;
    Ok(Fingerprint::purchase_order(buyer, supplier, &number))
}
