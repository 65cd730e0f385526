//! Batches of registrations and of confirmations, each decided with a fixed
//! number of statements whatever its size. Registrations: the parties, the invoices' fingerprints and the
//! possible near duplicates are each read in one query; every registration
//! is then decided by the same rules as alone, in order, each seeing the
//! receivables registered before it in the batch; the ledger entries,
//! receivables and alerts are written one statement per table.
//!
//! The fingerprint's unique index still decides races with other batches
//! and processes: if a statement fails, the batch rolls back and the
//! batcher registers its requests again one savepoint each
//! ([`register_receivable`](super::register_receivable)). Registrations
//! against a purchase order (whose remaining amount each one consumes) go
//! that way from the start.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::batcher::{still_the_supplier, ConfirmationJob, RegistrationJob};
use super::decision::{buyers_receivable, mint, Confirmed};
use super::error::UseCaseError;
use super::parties::{parse_keys, with_role, Party};
use super::receivable::{
    already_registered, duplicate, duplicate_refusal, facts, near_duplicate, new_receivable, Registered,
};
use super::rules::{check_confirmation, plan_registration, RegistrationPlan};
use crate::alerts;
use crate::domain::ReceivableStatus;
use crate::domain::{Fingerprint, Role};
use crate::organizations::authenticate_many;
use crate::store::organizations as organizations_repository;
use crate::store::registry::{self as repository, ReceivableRow};
use crate::store::{self, DbConnection};
use crate::tlog;

/// A registration's supplier and buyer, and its fingerprint: plain, and as
/// stored.
type Prepared<'a> = (&'a Party, Party, Fingerprint, [u8; 32]);

/// What makes two invoices look alike: seller, buyer, issue date, currency
/// and amount.
type Likeness = (String, String, NaiveDate, String, i64);

/// What becomes of a registration that looks like an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NearDuplicates {
    /// A `near_duplicate_registration` alert each (requests).
    Alert,
    /// Only `Registered::near_duplicate_of`: the caller raises one alert
    /// for them all (an upload).
    Report,
}

/// Registers `jobs` in the caller's transaction, or `None` when this path
/// does not take the batch (nothing was written then).
pub fn register_many(
    connection: &mut DbConnection,
    jobs: &[RegistrationJob],
) -> Result<Option<Vec<Result<Registered, UseCaseError>>>, diesel::result::Error> {
    register_many_with(connection, jobs, NearDuplicates::Alert)
}

/// [`register_many`], near duplicates alerted or only reported.
pub fn register_many_with(
    connection: &mut DbConnection,
    jobs: &[RegistrationJob],
    near_duplicates: NearDuplicates,
) -> Result<Option<Vec<Result<Registered, UseCaseError>>>, diesel::result::Error> {
    if jobs.iter().any(|job| job.receivable.purchase_order_id.is_some()) {
        return Ok(None);
    }
    let now = store::now();

    let mut ids: Vec<String> = jobs
        .iter()
        .flat_map(|job| [job.supplier_id.clone(), job.receivable.buyer_id.to_string()])
        .collect();
    ids.sort();
    ids.dedup();
    // Keys the API's gate may have admitted from memory, authenticated
    // again here, all in one query.
    let tokens: Vec<&str> = jobs.iter().filter_map(|job| job.token.as_deref()).collect();
    let mut callers = if tokens.is_empty() {
        Vec::new()
    } else {
        authenticate_many(connection, &tokens)?
    }
    .into_iter();
    let authenticated: Vec<Result<(), UseCaseError>> = jobs
        .iter()
        .map(|job| match job.token {
            Some(_) => still_the_supplier(callers.next().flatten().as_ref(), &job.supplier_id),
            None => Ok(()),
        })
        .collect();
    let mut parties: HashMap<String, Party> = HashMap::new();
    for row in organizations_repository::find_organizations(connection, &ids)? {
        let Ok(party) = Party::from_row(row) else {
            // Corrupt rows: the one-by-one path reports them.
            return Ok(None);
        };
        parties.insert(party.id().to_owned(), party);
    }

    // Each job's parties and fingerprint (plain, and as stored), or why it
    // cannot be registered.
    let prepared: Vec<Result<Prepared, UseCaseError>> = jobs
        .iter()
        .zip(authenticated)
        .map(
            |(
                RegistrationJob {
                    supplier_id,
                    receivable: new,
                    fingerprint_key: key,
                    ..
                },
                authenticated,
            )| {
                authenticated?;
                let supplier = parties.get(supplier_id).ok_or(UseCaseError::NotFound)?;
                let buyer = with_role(
                    parties.get(&new.buyer_id.to_string()).cloned(),
                    "buyer_id",
                    Role::CoreEnterprise,
                )?;
                let fingerprint = Fingerprint::receivable(&supplier.legal_id, &buyer.legal_id, &new.invoice_number);
                Ok((supplier, buyer, fingerprint, key.stored(&fingerprint)))
            },
        )
        .collect();

    let fingerprints: Vec<Vec<u8>> = prepared
        .iter()
        .flatten()
        .map(|(_, _, _, stored)| stored.to_vec())
        .collect();
    let mut registered: HashMap<Vec<u8>, ReceivableRow> =
        repository::find_receivables_by_fingerprints(connection, &fingerprints)?
            .into_iter()
            .map(|receivable| (receivable.fingerprint.clone(), receivable))
            .collect();
    let likenesses: Vec<Likeness> = prepared
        .iter()
        .zip(jobs)
        .filter_map(
            |(
                prepared,
                RegistrationJob {
                    supplier_id,
                    receivable: new,
                    ..
                },
            )| {
                let (_, buyer, _, _) = prepared.as_ref().ok()?;
                Some(likeness(supplier_id, buyer.id(), new))
            },
        )
        .collect();
    // The earliest receivable of each likeness (the query orders by age).
    let mut earliest: HashMap<Likeness, ReceivableRow> = HashMap::new();
    for receivable in repository::receivables_alike(connection, &likenesses)? {
        let key = (
            receivable.supplier_id.clone(),
            receivable.buyer_id.clone(),
            receivable.issue_date,
            receivable.currency.clone(),
            receivable.amount_minor,
        );
        earliest.entry(key).or_insert(receivable);
    }

    let mut results = Vec::with_capacity(jobs.len());
    let mut entries = Vec::new();
    let mut receivables = Vec::new();
    let mut raised = Vec::new();
    for (
        prepared,
        RegistrationJob {
            supplier_id,
            receivable: new,
            ..
        },
    ) in prepared.into_iter().zip(jobs)
    {
        let (_, buyer, fingerprint, stored) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                results.push(Err(error));
                continue;
            }
        };
        let key = likeness(supplier_id, buyer.id(), new);
        // No purchase order: a batch naming one is registered one by one.
        let plan = plan_registration(
            supplier_id,
            buyer.id(),
            new,
            registered.get(stored.as_slice()),
            None,
            earliest.get(&key),
        );
        let near_duplicate_of = match plan {
            Err(error) => {
                results.push(Err(error));
                continue;
            }
            Ok(RegistrationPlan::Duplicate { existing }) => {
                let alert = alerts::prepare(
                    duplicate(
                        &stored,
                        (&existing.id, &existing.supplier_id),
                        supplier_id,
                        facts(new, &buyer),
                    ),
                    now,
                )?;
                entries.push(alert.entry);
                raised.push(alert.row);
                results.push(Err(duplicate_refusal(
                    (&existing.id, &existing.supplier_id),
                    supplier_id,
                    already_registered(&fingerprint),
                )));
                continue;
            }
            Ok(RegistrationPlan::Register { near_duplicate_of }) => near_duplicate_of.cloned(),
        };
        let (entry, mut receivable) = new_receivable(supplier_id, new, &buyer, &stored, now);
        let prepared = tlog::prepare(entry, now)?;
        receivable.leaf_hash = prepared.leaf_hash.to_vec();
        entries.push(prepared);
        let near_duplicate_alert = match &near_duplicate_of {
            Some(earlier) if near_duplicates == NearDuplicates::Alert => {
                let alert = alerts::prepare(near_duplicate(&receivable, new, &buyer, earlier), now)?;
                entries.push(alert.entry);
                raised.push(alert.row.clone());
                Some(alert.row)
            }
            _ => None,
        };
        // Later registrations of this batch see this one.
        earliest.entry(key).or_insert_with(|| receivable.clone());
        registered.insert(receivable.fingerprint.clone(), receivable.clone());
        receivables.push(receivable.clone());
        results.push(Ok(Registered {
            receivable,
            fingerprint,
            near_duplicate_alert,
            near_duplicate_of: near_duplicate_of.map(|earlier| earlier.id),
        }));
    }

    tlog::append_prepared(connection, &entries)?;
    repository::insert_receivables(connection, &receivables)?;
    alerts::store_prepared(connection, &raised, now)?;
    Ok(Some(results))
}

fn likeness(supplier_id: &str, buyer_id: &str, new: &super::NewReceivable) -> Likeness {
    (
        supplier_id.to_owned(),
        buyer_id.to_owned(),
        new.issue_date,
        new.amount.currency().code().to_owned(),
        new.amount.minor_units(),
    )
}

/// Confirms `jobs` in the caller's transaction, or `None` when this path
/// does not take the batch (the transaction is then rolled back).
pub fn confirm_many(
    connection: &mut DbConnection,
    jobs: &[ConfirmationJob],
) -> Result<Option<Vec<Result<Confirmed, UseCaseError>>>, diesel::result::Error> {
    let now = store::now();
    let mut ids: Vec<String> = jobs.iter().map(|job| job.receivable_id.to_string()).collect();
    ids.sort();
    ids.dedup();
    let receivables: HashMap<String, ReceivableRow> = repository::find_receivables(connection, &ids)?
        .into_iter()
        .map(|receivable| (receivable.id.clone(), receivable))
        .collect();
    // The plain fingerprints the buyers signed (the rows keep the keyed one).
    let Ok(fingerprints) = super::fingerprints::of_receivables(connection, receivables.values()) else {
        return Ok(None);
    };
    let mut buyers: Vec<String> = jobs.iter().map(|job| job.buyer.organization_id.clone()).collect();
    buyers.sort();
    buyers.dedup();
    let mut rows: HashMap<String, Vec<_>> = HashMap::new();
    for row in organizations_repository::active_public_keys_of(connection, &buyers)? {
        rows.entry(row.organization_id.clone()).or_default().push(row);
    }
    let mut keys = HashMap::new();
    for (buyer, rows) in rows {
        let Ok(parsed) = parse_keys(&rows) else {
            return Ok(None);
        };
        keys.insert(buyer, parsed);
    }

    // Each receivable's status as this batch leaves it.
    let mut status: HashMap<&str, ReceivableStatus> = receivables
        .values()
        .map(|receivable| (receivable.id.as_str(), receivable.status))
        .collect();
    let no_keys = Vec::new();
    let mut results = Vec::with_capacity(jobs.len());
    let mut confirming: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    let mut assets = Vec::new();
    // Who may not confirm: not found (404) unless it may see the receivable
    // (403), as alone.
    let mut refused: HashMap<usize, UseCaseError> = HashMap::new();
    for (
        index,
        ConfirmationJob {
            buyer: caller,
            receivable_id: id,
            ..
        },
    ) in jobs.iter().enumerate()
    {
        let buyer = receivables
            .get(&id.to_string())
            .is_some_and(|receivable| receivable.buyer_id == caller.organization_id);
        if !buyer {
            let visible = super::view::visible_receivable(connection, caller, &id.to_string())?;
            refused.insert(
                index,
                match visible {
                    Some(receivable) => match buyers_receivable(&receivable, &caller.organization_id) {
                        Err(error) => error,
                        Ok(()) => UseCaseError::NotFound,
                    },
                    None => UseCaseError::NotFound,
                },
            );
        }
    }
    for (
        index,
        ConfirmationJob {
            buyer: caller,
            receivable_id: id,
            signature,
        },
    ) in jobs.iter().enumerate()
    {
        let caller = caller.organization_id.as_str();
        let decided = (|| {
            if let Some(error) = refused.remove(&index) {
                return Err(error);
            }
            let receivable = receivables.get(&id.to_string()).ok_or(UseCaseError::NotFound)?;
            let fingerprint = fingerprints
                .get(&receivable.id)
                .ok_or_else(|| super::error::corrupt("receivable's parties"))?;
            let current = status.get(receivable.id.as_str()).copied().unwrap_or(receivable.status);
            let keys = keys.get(caller).unwrap_or(&no_keys);
            let (action, amount, signed) =
                check_confirmation(receivable, current, fingerprint, caller, keys, signature)?;
            let minted = mint(receivable.clone(), *fingerprint, caller, &action, amount, signed, now)?;
            status.insert(receivable.id.as_str(), ReceivableStatus::Confirmed);
            Ok(minted)
        })();
        match decided {
            Ok((entry, mut confirmed)) => {
                let prepared = tlog::prepare(entry, now)?;
                confirmed.asset.leaf_hash = prepared.leaf_hash.to_vec();
                entries.push(prepared);
                confirming.push(confirmed.receivable.id.clone());
                assets.push(confirmed.asset.clone());
                results.push(Ok(confirmed));
            }
            Err(error) => results.push(Err(error)),
        }
    }

    if repository::confirm_receivables(connection, &confirming, now)? != confirming.len()
        || !super::credit_note::credits_unchanged(connection, &receivables)?
    {
        // Decided (or credited) meanwhile by another transaction: one by
        // one instead.
        return Ok(None);
    }
    tlog::append_prepared(connection, &entries)?;
    repository::insert_assets(connection, &assets)?;
    Ok(Some(results))
}
