//! `POST /v1/pledges/{id}/release`: the lienholder releases its pledge; the
//! asset (or purchase order) is free to be financed again.

use serde_json::json;

use super::decide::lien_view;
use crate::registry::{Refusal, RegistryError};
use crate::store::lending as repository;
use crate::store::registry as registry_repository;
use crate::store::{self, write_transaction, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};

pub fn release(connection: &mut DbConnection, bank_id: &str, id: &str) -> Result<serde_json::Value, RegistryError> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let lien = repository::find_lien(connection, id)?
            .filter(|lien| lien.bank_id == bank_id)
            .ok_or(RegistryError::NotFound)?;
        if lien.kind != "pledge" {
            return Err(RegistryError::refused(
                Refusal::NotAPledge,
                "an assignment is a sale; it cannot be released",
            ));
        }
        if !repository::end_lien(connection, &lien.id, "released", now)? {
            return Err(RegistryError::refused(
                Refusal::LienNotActive,
                format!("the pledge is {}", lien.status),
            ));
        }
        let mut parties = vec![bank_id.to_owned()];
        let mut fingerprint = None;
        let subject = lien
            .asset_id
            .clone()
            .or(lien.purchase_order_id.clone())
            .unwrap_or_default();
        if let Some(asset_id) = &lien.asset_id {
            if let Some(asset) = registry_repository::find_asset(connection, asset_id)? {
                parties.push(asset.holder_id.clone());
                if let Some(receivable) = registry_repository::find_receivable(connection, &asset.receivable_id)? {
                    parties.push(receivable.supplier_id.clone());
                    parties.push(receivable.buyer_id.clone());
                    fingerprint = receivable.fingerprint.as_slice().try_into().ok();
                }
            }
        }
        if let Some(order_id) = &lien.purchase_order_id {
            if let Some(order) = registry_repository::find_purchase_order(connection, order_id)? {
                parties.push(order.supplier_id.clone());
                parties.push(order.buyer_id.clone());
                fingerprint = order.fingerprint.as_slice().try_into().ok();
            }
        }
        parties.sort();
        parties.dedup();
        let appended = tlog::append(
            connection,
            NewEntry {
                kind: "lien_released",
                subjects: vec![lien.id.clone(), subject],
                fingerprint,
                actor: Some(bank_id.to_owned()),
                signature: None,
                details: json!({ "lien_id": lien.id, "bank_id": bank_id }),
                visibility: Visibility::Parties(parties),
            },
            now,
        )?;
        let mut view = lien_view(&crate::store::lending::LienRow {
            status: "released".to_owned(),
            ended_at: Some(now),
            ..lien
        });
        view["ledger"]["leaf_hash"] = json!(hex::encode(appended.leaf_hash));
        Ok(view)
    })
}
