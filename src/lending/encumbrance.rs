//! `GET /v1/encumbrance/{fingerprint}`: what a bank may learn from a
//! fingerprint it computed itself from an invoice (or purchase order) in
//! front of it — registered, confirmed, encumbered — never by whom.

use std::collections::{HashMap, HashSet};

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
    let mut found = look_up_many(connection, std::slice::from_ref(stored))?;
    Ok(found.remove(0))
}

/// Looks up many fingerprints (stored form) with a fixed number of
/// statements, whatever their number: the receivables, their assets, the
/// purchase orders among the rest, and the active liens on any of them.
/// The answers are in `stored`'s order.
pub fn look_up_many(connection: &mut DbConnection, stored: &[[u8; 32]]) -> diesel::QueryResult<Vec<Found>> {
    let fingerprints: Vec<&[u8]> = stored.iter().map(|fingerprint| fingerprint.as_slice()).collect();
    let mut receivables: HashMap<Vec<u8>, Receivable> = HashMap::new();
    for (fingerprint, id, status, purchase_order_id) in
        registry_repository::receivables_for_lookup(connection, &fingerprints)?
    {
        receivables.insert(
            fingerprint,
            Receivable {
                id,
                confirmed: status.is_confirmed(),
                purchase_order_id,
                assets: Vec::new(),
            },
        );
    }
    if !receivables.is_empty() {
        let ids: Vec<&str> = receivables.values().map(|receivable| receivable.id.as_str()).collect();
        let mut assets: HashMap<String, Vec<String>> = HashMap::new();
        for (receivable_id, asset_id) in registry_repository::assets_of_receivables(connection, &ids)? {
            assets.entry(receivable_id).or_default().push(asset_id);
        }
        for receivable in receivables.values_mut() {
            receivable.assets = assets.remove(&receivable.id).unwrap_or_default();
        }
    }
    let unknown: Vec<&[u8]> = fingerprints
        .iter()
        .copied()
        .filter(|fingerprint| !receivables.contains_key(*fingerprint))
        .collect();
    let orders: HashMap<Vec<u8>, (String, bool)> = if unknown.is_empty() {
        HashMap::new()
    } else {
        registry_repository::purchase_orders_for_lookup(connection, &unknown)?
            .into_iter()
            .map(|(fingerprint, id, status)| (fingerprint, (id, status == PurchaseOrderStatus::Acknowledged)))
            .collect()
    };
    // A lien on a receivable's purchase order reserves the receivable for
    // that bank: it counts as encumbered too.
    let asset_ids: Vec<&str> = receivables
        .values()
        .flat_map(|receivable| receivable.assets.iter().map(String::as_str))
        .collect();
    let order_ids: Vec<&str> = receivables
        .values()
        .filter_map(|receivable| receivable.purchase_order_id.as_deref())
        .chain(orders.values().map(|(id, _)| id.as_str()))
        .collect();
    let (liened_assets, liened_orders) = repository::actively_liened(connection, &asset_ids, &order_ids)?;
    let liened_assets: HashSet<String> = liened_assets.into_iter().collect();
    let liened_orders: HashSet<String> = liened_orders.into_iter().collect();
    Ok(stored
        .iter()
        .map(|fingerprint| {
            if let Some(receivable) = receivables.get(fingerprint.as_slice()) {
                let reserved = receivable
                    .purchase_order_id
                    .as_ref()
                    .is_some_and(|order| liened_orders.contains(order));
                return Found {
                    answer: Encumbrance {
                        registered: true,
                        confirmed: receivable.confirmed,
                        encumbered: reserved || receivable.assets.iter().any(|asset| liened_assets.contains(asset)),
                    },
                    receivable_id: Some(receivable.id.clone()),
                    purchase_order_id: None,
                };
            }
            if let Some((id, acknowledged)) = orders.get(fingerprint.as_slice()) {
                return Found {
                    answer: Encumbrance {
                        registered: true,
                        confirmed: *acknowledged,
                        encumbered: liened_orders.contains(id),
                    },
                    receivable_id: None,
                    purchase_order_id: Some(id.clone()),
                };
            }
            Found {
                answer: Encumbrance {
                    registered: false,
                    confirmed: false,
                    encumbered: false,
                },
                receivable_id: None,
                purchase_order_id: None,
            }
        })
        .collect())
}

/// A receivable as a look-up sees it.
struct Receivable {
    id: String,
    confirmed: bool,
    purchase_order_id: Option<String>,
    assets: Vec<String>,
}
