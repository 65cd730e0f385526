//! Splitting an asset: its holder divides it into children whose face
//! values sum exactly to the parent's, optionally transferring children to
//! other supplier organisations (multi-tier financing). The parent is
//! retired in the same transaction; a racing second split finds it retired.

use serde_json::json;
use uuid::Uuid;

use super::error::{corrupt, Refusal, UseCaseError};
use super::parties;
use super::view::{visible_asset, Viewer};
use crate::domain::AssetStatus;
use crate::domain::{Currency, Money, Role};
use crate::store::registry::{self as repository, AssetRow};
use crate::store::{self, write_transaction, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};

#[derive(Debug, Clone)]
pub struct SplitPart {
    /// As sent; read in the asset's currency, which only the asset knows.
    pub amount: String,
    /// Another supplier organisation that becomes the child's holder.
    pub transfer_to: Option<Uuid>,
}

#[derive(Debug)]
pub struct Split {
    pub parent: AssetRow,
    pub children: Vec<AssetRow>,
    pub leaf_hash: [u8; 32],
}

pub fn split_asset(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: Uuid,
    parts: &[SplitPart],
) -> Result<Split, UseCaseError> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let (parent, receivable) = visible_asset(connection, viewer, &id.to_string())?.ok_or(UseCaseError::NotFound)?;
        if parent.holder_id != viewer.organization_id {
            return Err(UseCaseError::Forbidden("only the asset's holder may split it"));
        }
        let currency = Currency::parse(&parent.currency).map_err(|_| corrupt("currency"))?;
        let mut total: i64 = 0;
        let mut holders = Vec::with_capacity(parts.len());
        let mut amounts = Vec::with_capacity(parts.len());
        for (index, part) in parts.iter().enumerate() {
            let amount = Money::parse(&part.amount, currency)
                .map_err(|error| UseCaseError::field(&format!("parts[{index}].amount"), error))?;
            amounts.push(amount);
            total = total
                .checked_add(amount.minor_units())
                .ok_or_else(|| UseCaseError::refused(Refusal::PartsDoNotSum, "the parts overflow"))?;
            let holder = match part.transfer_to {
                None => viewer.organization_id.clone(),
                Some(to) => {
                    parties::load_with_role(connection, &format!("parts[{index}].transfer_to"), to, Role::Supplier)?
                        .row
                        .id
                }
            };
            holders.push(holder);
        }
        if total != parent.face_value_minor {
            return Err(UseCaseError::refused(
                Refusal::PartsDoNotSum,
                format!(
                    "the parts add up to {} minor units of {}; the asset's face value is {}",
                    total, parent.currency, parent.face_value_minor
                ),
            ));
        }
        if !repository::retire_asset(connection, &parent.id, &viewer.organization_id, now)? {
            return Err(UseCaseError::refused(
                Refusal::AssetNotActive,
                format!("the asset is {} and cannot be split", parent.status),
            ));
        }
        // Retiring took the asset's row lock, which a pledge takes too: a
        // lien seen now cannot be racing us.
        if crate::store::lending::active_lien_on_asset(connection, &parent.id)?.is_some() {
            return Err(UseCaseError::refused(
                Refusal::AlreadyEncumbered,
                "the asset is encumbered; it cannot be split until the lien is released or settled",
            ));
        }
        if let Some(offer) = crate::store::offers::open_offer_on(connection, Some(&parent.id), None)?
            .filter(|offer| offer.is_open_at(now))
        {
            return Err(UseCaseError::refused(
                Refusal::OfferOpen,
                format!(
                    "the asset is offered to a bank (offer {}); withdraw the offer first",
                    offer.id
                ),
            ));
        }

        let mut parties_of_split = vec![receivable.supplier_id.clone(), receivable.buyer_id.clone()];
        parties_of_split.extend(holders.iter().cloned());
        parties_of_split.sort();
        parties_of_split.dedup();
        let children: Vec<(String, &Money, &String)> = amounts
            .iter()
            .zip(&holders)
            .map(|(amount, holder)| (Uuid::new_v4().to_string(), amount, holder))
            .collect();
        let fingerprint: Option<[u8; 32]> = receivable.fingerprint.as_slice().try_into().ok();
        let split = tlog::append(
            connection,
            NewEntry {
                kind: "asset_split",
                subjects: vec![parent.id.clone()],
                fingerprint,
                actor: Some(viewer.organization_id.clone()),
                signature: None,
                details: json!({
                    "parent_id": parent.id,
                    "children": children.iter().map(|(child, amount, holder)| json!({
                        "id": child,
                        "holder_id": holder,
                        "face_value": amount.amount_string(),
                    })).collect::<Vec<_>>(),
                    "currency": parent.currency,
                }),
                visibility: Visibility::Parties(parties_of_split.clone()),
            },
            now,
        )?;
        let mut rows = Vec::with_capacity(children.len());
        for (position, (child, amount, holder)) in children.into_iter().enumerate() {
            let transferred = holder != &viewer.organization_id;
            let issued = tlog::append(
                connection,
                NewEntry {
                    kind: if transferred {
                        "asset_transferred"
                    } else {
                        "asset_issued"
                    },
                    subjects: vec![child.clone(), parent.id.clone()],
                    fingerprint,
                    actor: Some(viewer.organization_id.clone()),
                    signature: None,
                    details: json!({
                        "asset_id": child,
                        "parent_id": parent.id,
                        "from": viewer.organization_id,
                        "holder_id": holder,
                        "face_value": amount.amount_string(),
                        "currency": parent.currency,
                    }),
                    visibility: Visibility::Parties(parties_of_split.clone()),
                },
                now,
            )?;
            let row = AssetRow {
                id: child,
                receivable_id: parent.receivable_id.clone(),
                parent_id: Some(parent.id.clone()),
                position: i32::try_from(position).unwrap_or(i32::MAX),
                holder_id: holder.clone(),
                face_value_minor: amount.minor_units(),
                currency: parent.currency.clone(),
                status: AssetStatus::Active,
                leaf_hash: issued.leaf_hash.to_vec(),
                created_at: now,
                updated_at: now,
            };
            repository::insert_asset(connection, &row)?;
            rows.push(row);
        }
        let parent = AssetRow {
            status: AssetStatus::Retired,
            updated_at: now,
            ..parent
        };
        Ok(Split {
            parent,
            children: rows,
            leaf_hash: split.leaf_hash,
        })
    })
}
