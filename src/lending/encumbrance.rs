//! `GET /v1/encumbrance/{fingerprint}`: what a bank may learn from a
//! fingerprint it computed itself from an invoice (or purchase order) in
//! front of it — registered, confirmed, encumbered — never by whom.

use crate::domain::Fingerprint;
use crate::store::lending as repository;
use crate::store::registry as registry_repository;
use crate::store::DbConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Encumbrance {
    pub registered: bool,
    pub confirmed: bool,
    pub encumbered: bool,
}

pub fn encumbrance(connection: &mut DbConnection, fingerprint: &Fingerprint) -> diesel::QueryResult<Encumbrance> {
    if let Some(receivable) = registry_repository::find_receivable_by_fingerprint(connection, fingerprint.as_bytes())? {
        return Ok(Encumbrance {
            registered: true,
            confirmed: matches!(receivable.status.as_str(), "confirmed" | "settled" | "defaulted"),
            encumbered: repository::receivable_encumbered(connection, &receivable.id)?,
        });
    }
    if let Some(order) = registry_repository::find_purchase_order_by_fingerprint(connection, fingerprint.as_bytes())? {
        return Ok(Encumbrance {
            registered: true,
            confirmed: order.status != "registered",
            encumbered: repository::active_lien_on_purchase_order(connection, &order.id)?.is_some(),
        });
    }
    Ok(Encumbrance {
        registered: false,
        confirmed: false,
        encumbered: false,
    })
}
