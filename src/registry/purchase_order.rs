//! Registering a purchase order: a supplier records an order a core
//! enterprise placed with it. Unique by fingerprint (buyer, supplier, PO
//! number, all normalised), like receivables.

use chrono::NaiveDate;
use serde_json::json;
use uuid::Uuid;

use super::error::{committing_refusals, UseCaseError};
use super::parties;
use super::receivable::refuse_duplicate;
use crate::domain::PurchaseOrderStatus;
use crate::domain::{Fingerprint, FingerprintKey, Money, PoNumber, Role};
use crate::store::registry::{self as repository, PurchaseOrderRow};
use crate::store::{self, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};

#[derive(Debug, Clone)]
pub struct NewPurchaseOrder {
    pub buyer_id: Uuid,
    pub po_number: PoNumber,
    pub issue_date: NaiveDate,
    pub amount: Money,
}

/// Registers the order; returns it with its plain fingerprint (the row
/// keeps only its keyed form).
pub fn register_purchase_order(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier_id: &str,
    new: NewPurchaseOrder,
) -> Result<(PurchaseOrderRow, Fingerprint), UseCaseError> {
    committing_refusals(connection, |connection| {
        register_once(connection, key, supplier_id, &new)
    })
}

/// `Ok(Err(_))` is a refusal whose alert must commit.
fn register_once(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier_id: &str,
    new: &NewPurchaseOrder,
) -> Result<Result<(PurchaseOrderRow, Fingerprint), UseCaseError>, UseCaseError> {
    let now = store::now();
    let supplier = parties::load(connection, supplier_id)?.ok_or(UseCaseError::NotFound)?;
    let buyer = parties::load_with_role(connection, "buyer_id", new.buyer_id, Role::CoreEnterprise)?;
    let fingerprint = Fingerprint::purchase_order(&buyer.legal_id, &supplier.legal_id, &new.po_number);
    let stored = key.stored(&fingerprint);

    if let Some(existing) = repository::find_purchase_order_by_fingerprint(connection, &stored)? {
        let facts = json!({
            "document": "purchase_order",
            "po_number": new.po_number.as_str(),
            "buyer_id": buyer.id(),
            "amount": new.amount.amount_string(),
            "currency": new.amount.currency().code(),
        });
        let detail = format!("purchase order {} is already registered", fingerprint.to_hex());
        return refuse_duplicate(
            connection,
            &stored,
            (&existing.id, &existing.supplier_id),
            supplier_id,
            facts,
            detail,
        )
        .map(Err);
    }

    let id = Uuid::new_v4().to_string();
    let appended = tlog::append(
        connection,
        NewEntry {
            kind: "purchase_order_registered",
            subjects: vec![id.clone()],
            fingerprint: Some(stored),
            actor: Some(supplier_id.to_owned()),
            signature: None,
            details: json!({
                "supplier_id": supplier_id,
                "buyer_id": buyer.id(),
                "po_number": new.po_number.as_str(),
                "issue_date": new.issue_date.to_string(),
                "amount": new.amount.amount_string(),
                "currency": new.amount.currency().code(),
            }),
            visibility: Visibility::Parties(vec![supplier_id.to_owned(), buyer.id().to_owned()]),
        },
        now,
    )?;
    let row = PurchaseOrderRow {
        id,
        fingerprint: stored.to_vec(),
        supplier_id: supplier_id.to_owned(),
        buyer_id: buyer.id().to_owned(),
        po_number: new.po_number.as_str().to_owned(),
        issue_date: new.issue_date,
        currency: new.amount.currency().code().to_owned(),
        amount_minor: new.amount.minor_units(),
        invoiced_minor: 0,
        status: PurchaseOrderStatus::Registered,
        leaf_hash: appended.leaf_hash.to_vec(),
        created_at: now,
        acknowledged_at: None,
    };
    repository::insert_purchase_order(connection, &row)?;
    Ok(Ok((row, fingerprint)))
}
