//! `POST /v1/assets/{id}/payments`: the buyer pays an asset at maturity.
//! The payment runs through the waterfall for every open asset it covers
//! (the asset itself, or the children of a split, each paid to its own
//! holder): the lienholder up to the pledged amount, the rest to the holder.
//! Assets settle, and the receivable when nothing of it is left open; each
//! lien the payment reached becomes `settling` with its share, until its
//! bank signs its receipt. A payment must equal what is outstanding, so
//! distributions never exceed what was received.
//!
//! The buyer signs its payment (docs/PRODUCT.md §6's `payment` message, whose
//! nonce is the Idempotency-Key); the answer is stored with the payment,
//! so a retry after any failure gets the first answer.

use chrono::NaiveDate;
use serde_json::{json, Value};
use uuid::Uuid;

use super::outcome::{decide_once, Outcome};
use super::waterfall::{waterfall, Leaf, Lien};
use crate::domain::{format_minor_units, Currency, Money, Nonce, Signature, SignedAction};
use crate::domain::{AssetStatus, ReceivableStatus};
use crate::refusal::{broken, corrupt, Refusal, UseCaseError};
use crate::registry::{verify_signed, visible_asset, Viewer};
use crate::store::lending::{self as repository, PaymentRow};
use crate::store::registry::{self as registry_repository, AssetRow};
use crate::store::{self, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};

#[derive(Debug, Clone)]
pub struct Payment {
    pub amount: String,
    pub paid_on: NaiveDate,
    pub signature: Signature,
    pub nonce: Nonce,
    pub request_hash: [u8; 32],
}

fn open(asset: &AssetRow) -> bool {
    asset.status.is_open()
}

/// The open assets a payment on `asset` covers, depth first.
fn open_leaves(connection: &mut DbConnection, asset: AssetRow) -> diesel::QueryResult<Vec<AssetRow>> {
    let mut leaves = Vec::new();
    let mut stack = vec![asset];
    while let Some(asset) = stack.pop() {
        if open(&asset) {
            leaves.push(asset);
        } else if asset.status == AssetStatus::Retired {
            let mut children = registry_repository::children_of(connection, &asset.id)?;
            children.reverse();
            stack.extend(children);
        }
    }
    Ok(leaves)
}

/// What the buyer signs to record its payment of `amount` on `asset` (the
/// portal shows it before it is signed).
pub fn payment_action(asset: Uuid, amount: Money, paid_on: NaiveDate, buyer: Uuid, nonce: Nonce) -> SignedAction {
    SignedAction::Payment {
        asset,
        amount,
        paid_on,
        buyer,
        nonce,
    }
}

pub fn pay(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: Uuid,
    payment: &Payment,
) -> Result<Outcome, diesel::result::Error> {
    decide_once(
        connection,
        &viewer.organization_id,
        &payment.nonce,
        &payment.request_hash,
        |connection| Outcome::of(pay_once(connection, viewer, id, payment)),
    )
}

/// The payment, in the caller's transaction; nothing is written before
/// every check passed.
fn pay_once(
    connection: &mut DbConnection,
    viewer: &Viewer,
    id: Uuid,
    payment: &Payment,
) -> Result<Value, UseCaseError> {
    let now = store::now();
    let (asset, receivable) = visible_asset(connection, viewer, &id.to_string())?.ok_or(UseCaseError::NotFound)?;
    if receivable.buyer_id != viewer.organization_id {
        return Err(UseCaseError::Forbidden(
            "only the buyer who owes the receivable records its payment",
        ));
    }
    let currency = Currency::parse(&asset.currency).map_err(|_| corrupt("currency"))?;
    let amount = Money::parse(&payment.amount, currency).map_err(|error| UseCaseError::field("amount", error))?;
    let buyer = Uuid::parse_str(&viewer.organization_id).map_err(|_| corrupt("organisation id"))?;
    let action = payment_action(id, amount, payment.paid_on, buyer, payment.nonce.clone());
    let signed = verify_signed(connection, &viewer.organization_id, &action, &payment.signature)?;
    // The open assets the payment covers, read again under their row locks
    // (taken in id order), so that a pledge or split of one of them cannot
    // slip in between these reads and the settlement below.
    let covered = open_leaves(connection, asset.clone())?;
    let mut ids: Vec<String> = covered.iter().map(|leaf| leaf.id.clone()).collect();
    ids.sort();
    let mut locked: std::collections::HashMap<String, AssetRow> = repository::lock_assets(connection, &ids)?
        .into_iter()
        .map(|leaf| (leaf.id.clone(), leaf))
        .collect();
    let leaves: Vec<AssetRow> = covered.iter().filter_map(|leaf| locked.remove(&leaf.id)).collect();
    if leaves.len() != covered.len() || !leaves.iter().all(open) {
        return Err(UseCaseError::refused(
            Refusal::AssetNotActive,
            "the asset changed while it was being paid; retry",
        ));
    }
    if leaves.is_empty() {
        return Err(UseCaseError::refused(
            Refusal::AssetNotActive,
            format!("the asset is {}; nothing is outstanding", asset.status),
        ));
    }
    let outstanding: i64 = leaves.iter().map(|leaf| leaf.face_value_minor).sum();
    if amount.minor_units() != outstanding {
        let outstanding = format_minor_units(outstanding, currency);
        return Err(UseCaseError::refused(
            Refusal::PaymentMismatch,
            format!(
                "{outstanding} {} is outstanding; a payment must settle it exactly",
                currency.code()
            ),
        ));
    }

    // The liens, read under the assets' locks (which a release takes too,
    // so they stay active until this commits).
    let mut liens = Vec::with_capacity(leaves.len());
    for leaf in &leaves {
        liens.push(repository::active_lien_on_asset(connection, &leaf.id)?);
    }
    let reached: Vec<Leaf<'_>> = leaves
        .iter()
        .zip(&liens)
        .map(|(leaf, lien)| Leaf {
            asset_id: &leaf.id,
            holder_id: &leaf.holder_id,
            face_value_minor: leaf.face_value_minor,
            lien: lien.as_ref().map(|lien| Lien {
                id: &lien.id,
                bank_id: &lien.bank_id,
                pledge: lien.kind == "pledge",
                amount_minor: lien.amount_minor,
            }),
        })
        .collect();
    let (shares, settlements) = waterfall(&reached);
    for settlement in &settlements {
        // The lien lasts until its bank signs the receipt of its share.
        if !repository::settle_lien(connection, settlement.lien_id, settlement.share_minor)? {
            return Err(broken("a lien read under its asset's lock changed"));
        }
    }
    for leaf in &leaves {
        if !repository::end_asset(connection, &leaf.id, AssetStatus::Settled, now)? {
            return Err(broken("an asset read open under its lock was ended"));
        }
    }
    if !repository::receivable_has_open_assets(connection, &receivable.id)? {
        repository::end_receivable(connection, &receivable.id, ReceivableStatus::Settled, now)?;
    }

    let mut parties = vec![receivable.supplier_id.clone(), receivable.buyer_id.clone()];
    parties.extend(leaves.iter().map(|leaf| leaf.holder_id.clone()));
    parties.extend(liens.iter().flatten().map(|lien| lien.bank_id.clone()));
    let distributions: Vec<Value> = shares
        .iter()
        .map(|share| {
            json!({
                "org_id": share.org_id,
                "amount": format_minor_units(share.minor_units, currency),
                "currency": currency.code(),
                "asset_id": share.asset_id,
                "role": share.role.as_str(),
            })
        })
        .collect();
    parties.sort();
    parties.dedup();
    let payment_id = Uuid::new_v4().to_string();
    let appended = tlog::append(
        connection,
        NewEntry {
            kind: "asset_paid",
            subjects: vec![payment_id.clone(), asset.id.clone()],
            fingerprint: receivable.fingerprint.as_slice().try_into().ok(),
            actor: Some(viewer.organization_id.clone()),
            signature: Some(signed),
            details: json!({
                "message": action.canonical_message(),
                "payment_id": payment_id,
                "amount": amount.amount_string(),
                "currency": currency.code(),
                "paid_on": payment.paid_on.to_string(),
                "distributions": distributions,
            }),
            visibility: Visibility::Parties(parties),
        },
        now,
    )?;
    repository::insert_payment(
        connection,
        &PaymentRow {
            id: payment_id.clone(),
            asset_id: asset.id.clone(),
            payer_id: viewer.organization_id.clone(),
            amount_minor: amount.minor_units(),
            currency: currency.code().to_owned(),
            paid_on: payment.paid_on,
            distributions: Value::from(distributions.clone()).to_string(),
            leaf_hash: appended.leaf_hash.to_vec(),
            created_at: now,
        },
    )?;
    Ok(json!({
        "id": payment_id,
        "asset_id": asset.id,
        "amount": amount.amount_string(),
        "currency": currency.code(),
        "paid_on": payment.paid_on.to_string(),
        "distributions": distributions,
        "ledger": { "leaf_hash": hex::encode(appended.leaf_hash) },
    }))
}
