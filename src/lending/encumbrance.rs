//! `GET /v1/encumbrance/{fingerprint}`: what a bank may learn from a
//! fingerprint it computed itself from an invoice (or purchase order) in
//! front of it — registered, confirmed, encumbered — never by whom.

use crate::domain::PurchaseOrderStatus;
use crate::store::lending as repository;
use crate::store::registry as registry_repository;
use crate::store::DbConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Encumbrance {
    pub registered: bool,
    pub confirmed: bool,
    pub encumbered: bool,
}

/// What a look-up found: the answer, and what it was about (for the audit
/// record; never told to the bank).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub answer: Encumbrance,
    pub receivable_id: Option<String>,
    pub purchase_order_id: Option<String>,
}

/// Looks up a fingerprint in its stored (keyed) form.
pub fn look_up(connection: &mut DbConnection, stored: &[u8; 32]) -> diesel::QueryResult<Found> {
    if let Some((receivable, assets)) =
        registry_repository::find_receivable_with_assets_by_fingerprint(connection, stored)?
    {
        // A lien on its purchase order reserves the receivable for that bank.
        let reserved = match &receivable.purchase_order_id {
            Some(order) => repository::active_lien_on_purchase_order(connection, order)?.is_some(),
            None => false,
        };
        return Ok(Found {
            answer: Encumbrance {
                registered: true,
                confirmed: receivable.status.is_confirmed(),
                encumbered: reserved || repository::any_active_lien(connection, &assets)?,
            },
            receivable_id: Some(receivable.id),
            purchase_order_id: None,
        });
    }
    if let Some(order) = registry_repository::find_purchase_order_by_fingerprint(connection, stored)? {
        return Ok(Found {
            answer: Encumbrance {
                registered: true,
                confirmed: order.status == PurchaseOrderStatus::Acknowledged,
                encumbered: repository::active_lien_on_purchase_order(connection, &order.id)?.is_some(),
            },
            receivable_id: None,
            purchase_order_id: Some(order.id),
        });
    }
    Ok(Found {
        answer: Encumbrance {
            registered: false,
            confirmed: false,
            encumbered: false,
        },
        receivable_id: None,
        purchase_order_id: None,
    })
}
