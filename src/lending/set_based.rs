//! A batch of asset pledges and assignments decided with a fixed number of
//! statements, whatever its size: the callers' API keys, the stored
//! answers, the assets (locked in id order), the offers they accept,
//! receivables, banks' keys and active liens are each read in one query; every request is then decided by the same rules as alone
//! ([`plan_asset`]), in order, each seeing the liens and holders the ones
//! before it granted; the ledger entries (liens' and alerts' in the order
//! decided), alerts with their audiences and e-mails, liens and idempotency
//! records are written in one statement per table.
//!
//! The database still decides races: the partial unique index on active
//! liens and the idempotency key's primary key stand behind these reads.
//! If any statement fails (a twin request in another batch took the same
//! Idempotency-Key, a deadlock), the batch's transaction is rolled back and
//! the batcher decides its requests again one savepoint each ([`finance`]);
//! so it does when an offer it granted could not be marked taken (it lapsed
//! meanwhile), and batches this path does not take (a purchase order) go
//! that way from the start.
//!
//! [`finance`]: super::finance

use std::collections::HashMap;

use uuid::Uuid;

use super::batcher::FinanceJob;
use super::decide::{
    active_keys, alerted, bank_of, lien_view, plan_asset, AssetFacts, Decision, Denied, LienKind, Plan,
};
use super::outcome::{record, replay, Outcome};
use crate::alerts;
use crate::domain::Subject;
use crate::domain::{AssetStatus, OfferStatus};
use crate::organizations::authenticate_many;
use crate::store::lending::{self as repository, IdempotencyRow, LienRow};
use crate::store::offers::{self as offers_repository, OfferRow};
use crate::store::organizations as organizations_repository;
use crate::store::registry::{self as registry_repository, AssetRow, ReceivableRow};
use crate::store::{self, DbConnection};
use crate::tlog;

/// Decides `jobs` in the caller's transaction, or `None` when this path
/// does not take the batch (the transaction is then rolled back).
pub fn decide_many(
    connection: &mut DbConnection,
    jobs: &[FinanceJob],
) -> Result<Option<Vec<Decision>>, diesel::result::Error> {
    if jobs
        .iter()
        .any(|job| matches!(job.request.subject, Subject::PurchaseOrder(_)))
    {
        return Ok(None);
    }
    let now = store::now();

    let tokens: Vec<&str> = jobs.iter().map(|job| job.token.as_str()).collect();
    let callers: Vec<Result<String, Denied>> = authenticate_many(connection, &tokens)?
        .into_iter()
        .map(bank_of)
        .collect();
    // Only authenticated banks' targets are read and locked.
    let mut ids: Vec<String> = callers
        .iter()
        .zip(jobs)
        .filter(|(caller, _)| caller.is_ok())
        .map(|(_, job)| job.request.subject.id().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    let pairs: Vec<(String, String)> = callers
        .iter()
        .zip(jobs)
        .filter_map(|(caller, job)| {
            let bank_id = caller.as_ref().ok()?;
            Some((bank_id.clone(), job.request.nonce.as_str().to_owned()))
        })
        .collect();
    let mut answered: HashMap<(String, String), IdempotencyRow> =
        repository::find_idempotency_many(connection, &pairs)?
            .into_iter()
            .map(|row| ((row.organization_id.clone(), row.idempotency_key.clone()), row))
            .collect();

    // The assets' row locks come first (as for one request alone): their
    // offers' withdrawals wait, and what is read below is the latest.
    let mut assets: HashMap<String, AssetRow> = repository::lock_assets(connection, &ids)?
        .into_iter()
        .map(|asset| (asset.id.clone(), asset))
        .collect();
    repository::touch_active_assets(connection, &ids, now)?;
    let mut offer_ids: Vec<String> = callers
        .iter()
        .zip(jobs)
        .filter(|(caller, _)| caller.is_ok())
        .map(|(_, job)| job.request.offer.to_string())
        .collect();
    offer_ids.sort();
    offer_ids.dedup();
    let mut offers: HashMap<String, OfferRow> = offers_repository::find_offers(connection, &offer_ids)?
        .into_iter()
        .map(|offer| (offer.id.clone(), offer))
        .collect();

    let receivable_ids: Vec<String> = assets.values().map(|asset| asset.receivable_id.clone()).collect();
    let receivables: HashMap<String, ReceivableRow> =
        registry_repository::find_receivables(connection, &receivable_ids)?
            .into_iter()
            .map(|receivable| (receivable.id.clone(), receivable))
            .collect();

    let mut banks: Vec<String> = pairs.iter().map(|(bank_id, _)| bank_id.clone()).collect();
    banks.sort();
    banks.dedup();
    let mut keys: HashMap<String, Vec<_>> = HashMap::new();
    for row in organizations_repository::active_public_keys_of(connection, &banks)? {
        keys.entry(row.organization_id.clone()).or_default().push(row);
    }
    let keys: HashMap<String, Vec<_>> = keys.into_iter().map(|(bank, rows)| (bank, active_keys(rows))).collect();

    let mut purchase_orders: Vec<String> = receivables
        .values()
        .filter_map(|receivable| receivable.purchase_order_id.clone())
        .collect();
    purchase_orders.sort();
    purchase_orders.dedup();
    let purchase_order_lienholders = lienholders(if purchase_orders.is_empty() {
        Vec::new()
    } else {
        repository::share_purchase_orders(connection, &purchase_orders)?;
        repository::active_liens_on_purchase_orders(connection, &purchase_orders)?
    });
    let mut lienholders = lienholders(repository::active_liens_on_assets(connection, &ids)?);

    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut entries = Vec::new();
    let mut liens: Vec<LienRow> = Vec::new();
    let mut new_holders: Vec<(String, String)> = Vec::new();
    let mut raised = Vec::new();
    let mut records = Vec::with_capacity(jobs.len());
    let mut taken: Vec<String> = Vec::new();
    let no_keys = Vec::new();
    for (caller, FinanceJob { request, .. }) in callers.iter().zip(jobs) {
        let bank_id = match caller {
            Ok(bank_id) => bank_id,
            Err(denied) => {
                outcomes.push(Err(denied.clone()));
                continue;
            }
        };
        let key = (bank_id.clone(), request.nonce.as_str().to_owned());
        if let Some(stored) = answered.get(&key) {
            outcomes.push(Ok(replay(stored, &request.request_hash)?));
            continue;
        }
        let Ok(bank) = Uuid::parse_str(bank_id) else {
            return Ok(None);
        };
        let id = request.subject.id().to_string();
        let offer = offers.get(&request.offer.to_string());
        let asset = assets.get(&id);
        let receivable = asset.and_then(|asset| receivables.get(&asset.receivable_id));
        if asset.is_some() && receivable.is_none() {
            return Ok(None);
        }
        let plan = plan_asset(
            bank_id,
            bank,
            request,
            now,
            AssetFacts {
                offer,
                asset,
                receivable,
                active: asset.is_some_and(|asset| asset.status == AssetStatus::Active),
                keys: keys.get(bank_id).unwrap_or(&no_keys),
                purchase_order_lienholder: receivable
                    .and_then(|receivable| receivable.purchase_order_id.as_ref())
                    .and_then(|order| purchase_order_lienholders.get(order))
                    .map(String::as_str),
                lienholder: lienholders.get(&id).map(String::as_str),
            },
        )?;
        let outcome = match plan {
            Plan::Answer(outcome) => outcome,
            Plan::Alert { alert, refusal, reason } => {
                let prepared = alerts::prepare(alert, now)?;
                let outcome = alerted(&prepared.row.id, refusal, reason);
                entries.push(prepared.entry);
                raised.push(prepared.row);
                outcome
            }
            Plan::Lien { entry, mut lien } => {
                // Later requests of this batch see the offer taken.
                if let Some(offer) = lien.offer_id.as_ref().and_then(|offer| offers.get_mut(offer)) {
                    offer.status = OfferStatus::Taken;
                }
                taken.extend(lien.offer_id.clone());
                let prepared = tlog::prepare(*entry, now)?;
                lien.leaf_hash = prepared.leaf_hash.to_vec();
                entries.push(prepared);
                // Later requests of this batch see this lien and holder.
                lienholders.insert(id.clone(), bank_id.clone());
                if request.kind == LienKind::Assignment {
                    if let Some(asset) = assets.get_mut(&id) {
                        asset.holder_id = bank_id.clone();
                    }
                    new_holders.push((id, bank_id.clone()));
                }
                let outcome = Outcome::Created { body: lien_view(&lien) };
                liens.push(lien);
                outcome
            }
        };
        let record = record(bank_id, &request.nonce, &request.request_hash, &outcome, now)?;
        answered.insert(key, record.clone());
        records.push(record);
        outcomes.push(Ok(outcome));
    }

    // The offers were read under the assets' locks; should one have lapsed
    // meanwhile, the batch is decided again one request at a time.
    if offers_repository::take_offers(connection, &taken, now)? != taken.len() {
        return Ok(None);
    }
    tlog::append_prepared(connection, &entries)?;
    alerts::store_prepared(connection, &raised, now)?;
    repository::insert_liens(connection, &liens)?;
    for (asset_id, holder_id) in &new_holders {
        repository::set_holder(connection, asset_id, holder_id, now)?;
    }
    repository::insert_idempotency_many(connection, &records)?;
    Ok(Some(outcomes))
}

/// Each subject's active lienholder.
fn lienholders(liens: Vec<LienRow>) -> HashMap<String, String> {
    liens
        .into_iter()
        .filter_map(|lien| {
            let subject = lien.asset_id.or(lien.purchase_order_id)?;
            Some((subject, lien.bank_id))
        })
        .collect()
}
