//! Who may see what, and how it is shown. A supplier sees its own documents
//! and the assets it holds or issued, a buyer what it owes, the operator
//! everything; a bank sees what is offered to it while the offer is open,
//! and what it finances while its lien lasts (and once the payment settled
//! it) — never before an offer. Anything else is "not found", so ids leak
//! nothing.

use serde_json::{json, Value};

use crate::domain::{format_minor_units, Currency, Fingerprint, Role};
use crate::store::lending::{self, LienRow};
use crate::store::offers;
use crate::store::registry::{self as repository, AssetRow, PurchaseOrderRow, ReceivableRow};
use crate::store::{format_time, DbConnection};

/// The calling organisation.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub organization_id: String,
    pub role: Role,
}

impl Viewer {
    fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }
}

pub fn visible_purchase_order(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> diesel::QueryResult<Option<PurchaseOrderRow>> {
    let Some(order) = repository::find_purchase_order(connection, id)? else {
        return Ok(None);
    };
    let party = viewer.is_operator()
        || order.supplier_id == viewer.organization_id
        || order.buyer_id == viewer.organization_id
        || (viewer.role == Role::Bank && bank_sees_purchase_order(connection, &order.id, &viewer.organization_id)?);
    Ok(party.then_some(order))
}

fn bank_sees_purchase_order(connection: &mut DbConnection, id: &str, bank_id: &str) -> diesel::QueryResult<bool> {
    Ok(lending::bank_has_lien_on_purchase_order(connection, id, bank_id)?
        || offers::bank_has_open_offer_on_purchase_order(connection, id, bank_id, crate::store::now())?)
}

/// Whether the bank finances (or financed until settlement) one of these
/// assets, or has an open offer of one.
fn bank_sees_assets(connection: &mut DbConnection, asset_ids: &[String], bank_id: &str) -> diesel::QueryResult<bool> {
    Ok(lending::bank_has_lien_on_assets(connection, asset_ids, bank_id)?
        || offers::bank_has_open_offer_on_assets(connection, asset_ids, bank_id, crate::store::now())?)
}

pub fn visible_receivable(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> diesel::QueryResult<Option<ReceivableRow>> {
    let Some(receivable) = repository::find_receivable(connection, id)? else {
        return Ok(None);
    };
    let party = viewer.is_operator()
        || receivable.supplier_id == viewer.organization_id
        || receivable.buyer_id == viewer.organization_id
        || repository::holds_asset_of(connection, &receivable.id, &viewer.organization_id)?
        || (viewer.role == Role::Bank && {
            let asset_ids = lending::asset_ids_of(connection, &receivable.id)?;
            bank_sees_assets(connection, &asset_ids, &viewer.organization_id)?
        });
    Ok(party.then_some(receivable))
}

/// The asset and its receivable, if the viewer may see them.
pub fn visible_asset(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> diesel::QueryResult<Option<(AssetRow, ReceivableRow)>> {
    let Some(asset) = repository::find_asset(connection, id)? else {
        return Ok(None);
    };
    let Some(receivable) = repository::find_receivable(connection, &asset.receivable_id)? else {
        return Ok(None);
    };
    let party = viewer.is_operator()
        || asset.holder_id == viewer.organization_id
        || receivable.supplier_id == viewer.organization_id
        || receivable.buyer_id == viewer.organization_id
        || (viewer.role == Role::Bank
            && bank_sees_assets(connection, std::slice::from_ref(&asset.id), &viewer.organization_id)?);
    Ok(party.then_some((asset, receivable)))
}

/// An amount in minor units written with the currency's digits; stored
/// values are checked on write, so the fallback only avoids a panic path.
pub(crate) fn amount(minor_units: i64, currency: &str) -> String {
    Currency::parse(currency).map_or_else(
        |_| minor_units.to_string(),
        |currency| format_minor_units(minor_units, currency),
    )
}

fn ledger(leaf_hash: &[u8]) -> Value {
    json!({ "leaf_hash": hex::encode(leaf_hash) })
}

/// The order as the API shows it, with its plain `fingerprint` (the row
/// keeps the keyed one).
pub fn purchase_order_view(order: &PurchaseOrderRow, fingerprint: &Fingerprint) -> Value {
    json!({
        "id": order.id,
        "fingerprint": fingerprint.to_hex(),
        "supplier_id": order.supplier_id,
        "buyer_id": order.buyer_id,
        "po_number": order.po_number,
        "issue_date": order.issue_date.to_string(),
        "currency": order.currency,
        "amount": amount(order.amount_minor, &order.currency),
        "invoiced_amount": amount(order.invoiced_minor, &order.currency),
        "status": order.status,
        "created_at": format_time(order.created_at),
        "acknowledged_at": order.acknowledged_at.map(format_time),
        "ledger": ledger(&order.leaf_hash),
    })
}

/// The receivable as the API shows it, with its plain `fingerprint` (the
/// row keeps the keyed one).
pub fn receivable_view(receivable: &ReceivableRow, fingerprint: &Fingerprint, asset_id: Option<&str>) -> Value {
    json!({
        "id": receivable.id,
        "fingerprint": fingerprint.to_hex(),
        "supplier_id": receivable.supplier_id,
        "buyer_id": receivable.buyer_id,
        "invoice_number": receivable.invoice_number,
        "purchase_order_id": receivable.purchase_order_id,
        "order_reference": receivable.order_reference,
        "issue_date": receivable.issue_date.to_string(),
        "due_date": receivable.due_date.to_string(),
        "currency": receivable.currency,
        "amount": amount(receivable.amount_minor, &receivable.currency),
        "credited": amount(receivable.credited_minor, &receivable.currency),
        "outstanding": amount(receivable.amount_minor - receivable.credited_minor, &receivable.currency),
        "status": receivable.status,
        "superseded_by": receivable.superseded_by,
        "dispute_reason": receivable.dispute_reason,
        "asset_id": asset_id,
        "created_at": format_time(receivable.created_at),
        "decided_at": receivable.decided_at.map(format_time),
        "ledger": ledger(&receivable.leaf_hash),
    })
}

/// The standing (active or settling) lien on an asset. Only its parties
/// see the asset (a bank only while an offer to it is open, while its lien
/// lasts, or once the payment settled it), so none of them learns from it
/// who else finances the asset.
fn lien_summary(lien: Option<&LienRow>) -> Value {
    match lien {
        None => Value::Null,
        Some(lien) => json!({
            "id": lien.id,
            "kind": lien.kind,
            "bank_id": lien.bank_id,
            "amount": amount(lien.amount_minor, &lien.currency),
            "status": lien.status,
        }),
    }
}

pub fn asset_view(asset: &AssetRow, children: &[AssetRow], lien: Option<&LienRow>) -> Value {
    json!({
        "id": asset.id,
        "parent_id": asset.parent_id,
        "receivable_id": asset.receivable_id,
        "holder_id": asset.holder_id,
        "face_value": amount(asset.face_value_minor, &asset.currency),
        "currency": asset.currency,
        "status": asset.status,
        "lien": lien_summary(lien),
        "children": children.iter().map(|child| child.id.clone()).collect::<Vec<_>>(),
        "created_at": format_time(asset.created_at),
        "ledger": ledger(&asset.leaf_hash),
    })
}
