//! Encumbrance look-ups, audited: every look-up is recorded (who, when,
//! about which receivable or purchase order, what it was told) in the
//! commit that answers it, many look-ups per commit through the batcher;
//! the invoice's supplier and buyer list who looked it up; and a burst of
//! look-ups for fingerprints that are not registered — someone guessing
//! invoice numbers — raises one `lookup_enumeration` alert per
//! organisation and window, for the operator's risk officers only. The
//! window's alert is single across processes: its subject names the window
//! and a unique index keeps one.

use chrono::NaiveDateTime;
use serde_json::{json, Value};
use uuid::Uuid;

use std::sync::Arc;

use super::encumbrance::{look_up_many, Encumbrance};
use crate::alerts::{self, AlertKind, NewAlert};
use crate::organizations::{authenticate_many, Principal};
use crate::refusal::UseCaseError;
use crate::registry::{visible_receivable, Viewer};
use crate::store::batcher::{BatchObserver, Batcher};
use crate::store::lookups::{self as repository, LookupRow};
use crate::store::{self, format_time, Database, DbConnection};

/// When a burst of misses is an enumeration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumerationPolicy {
    pub misses: i64,
    pub window_seconds: i64,
}

/// Who asks for a look-up.
pub enum LookupCaller<R> {
    /// A bank authenticated and admitted already (a portal session, a
    /// certificate's request): its organisation id.
    Bank(String),
    /// A bearer API key, authenticated in the batch's transaction with the
    /// batch's other keys in one query, then admitted (or refused, with
    /// `R`) by `admit`, which is told the key's principal or `None` for a
    /// key that is unknown, revoked or malformed, and answers the bank's
    /// organisation id. A refused look-up is neither made nor recorded.
    Key { token: String, admit: Admission<R> },
}

/// Decides whether a key's caller may look up now (its role, its rate
/// limits): the bank's organisation id, or the refusal.
pub type Admission<R> = Arc<dyn Fn(Option<&Principal>) -> Result<String, R> + Send + Sync>;

/// A look-up of a fingerprint, in its stored (keyed) form.
pub struct LookupJob<R> {
    pub caller: LookupCaller<R>,
    pub stored: [u8; 32],
    pub policy: EnumerationPolicy,
}

/// A look-up's answer, and whether its batch appended to the ledger (an
/// enumeration alert; only then has the sequencer anything new to sign).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub encumbrance: Encumbrance,
    pub ledger_appended: bool,
}

/// A look-up's answer, or why it was refused.
pub type Looked<R> = Result<Result<Answer, R>, diesel::result::Error>;

/// Look-ups, many per commit with their audit records.
pub type LookupBatcher<R> = Batcher<LookupJob<R>, Looked<R>>;

pub fn spawn_lookup_batcher<R: Send + 'static>(
    database: Database,
    workers: usize,
    max_batch: usize,
    observe: BatchObserver,
) -> LookupBatcher<R> {
    Batcher::spawn(
        database,
        workers,
        max_batch,
        // Look-ups lock nothing: any order will do.
        |_| String::new(),
        |connection, job| Ok(look_up_all(connection, std::slice::from_ref(job))?.remove(0)),
        Some(|connection, jobs| Ok(Some(look_up_all(connection, jobs)?.into_iter().map(Ok).collect()))),
        observe,
    )
}

/// Admits every job (the keys authenticated in one query), answers the
/// admitted ones with a fixed number of statements, records each, and
/// raises the enumeration alerts the misses call for, in the caller's
/// transaction.
pub fn look_up_all<R>(
    connection: &mut DbConnection,
    jobs: &[LookupJob<R>],
) -> Result<Vec<Result<Answer, R>>, diesel::result::Error> {
    let now = store::now();
    let tokens: Vec<&str> = jobs
        .iter()
        .filter_map(|job| match &job.caller {
            LookupCaller::Key { token, .. } => Some(token.as_str()),
            LookupCaller::Bank(_) => None,
        })
        .collect();
    let mut principals = if tokens.is_empty() {
        Vec::new()
    } else {
        authenticate_many(connection, &tokens)?
    }
    .into_iter();
    // Each job's bank, or its refusal.
    let admitted: Vec<Result<String, R>> = jobs
        .iter()
        .map(|job| match &job.caller {
            LookupCaller::Bank(bank_id) => Ok(bank_id.clone()),
            LookupCaller::Key { admit, .. } => {
                let principal = principals.next().flatten();
                admit(principal.as_ref())
            }
        })
        .collect();
    let stored: Vec<[u8; 32]> = jobs
        .iter()
        .zip(&admitted)
        .filter(|(_, bank)| bank.is_ok())
        .map(|(job, _)| job.stored)
        .collect();
    let mut found = look_up_many(connection, &stored)?.into_iter();
    let mut rows = Vec::with_capacity(stored.len());
    let mut answers = Vec::with_capacity(jobs.len());
    for (job, bank) in jobs.iter().zip(admitted) {
        let bank_id = match bank {
            Ok(bank_id) => bank_id,
            Err(refused) => {
                answers.push(Err(refused));
                continue;
            }
        };
        let Some(found) = found.next() else {
            return Err(diesel::result::Error::NotFound);
        };
        rows.push(LookupRow {
            id: Uuid::new_v4().to_string(),
            organization_id: bank_id,
            fingerprint: job.stored.to_vec(),
            receivable_id: found.receivable_id,
            purchase_order_id: found.purchase_order_id,
            registered: found.answer.registered,
            confirmed: found.answer.confirmed,
            encumbered: found.answer.encumbered,
            created_at: now,
        });
        answers.push(Ok(found.answer));
    }
    // Nothing to record (every caller refused) writes nothing.
    repository::insert_lookups(connection, &rows)?;
    let mut ledger_appended = false;
    if let Some(policy) = jobs.first().map(|job| job.policy) {
        let mut missing: Vec<String> = rows
            .iter()
            .filter(|row| !row.registered)
            .map(|row| row.organization_id.clone())
            .collect();
        missing.sort();
        missing.dedup();
        ledger_appended = raise_enumerations(connection, &missing, policy, now)?;
    }
    Ok(answers
        .into_iter()
        .map(|answer| {
            answer.map(|encumbrance| Answer {
                encumbrance,
                ledger_appended,
            })
        })
        .collect())
}

/// The window `now` falls in, as its first second.
fn window_start(now: NaiveDateTime, window_seconds: i64) -> i64 {
    let seconds = now.and_utc().timestamp();
    seconds - seconds.rem_euclid(window_seconds.max(1))
}

/// Raises the enumeration alerts these organisations' misses call for:
/// whether any was raised (and appended to the ledger).
fn raise_enumerations(
    connection: &mut DbConnection,
    organizations: &[String],
    policy: EnumerationPolicy,
    now: NaiveDateTime,
) -> Result<bool, diesel::result::Error> {
    if organizations.is_empty() || policy.misses <= 0 {
        return Ok(false);
    }
    let since = now - chrono::Duration::seconds(policy.window_seconds);
    let bursts: Vec<(String, i64)> = repository::misses_since(connection, organizations, since)?
        .into_iter()
        .filter(|(_, misses)| *misses >= policy.misses)
        .collect();
    if bursts.is_empty() {
        return Ok(false);
    }
    let window = window_start(now, policy.window_seconds);
    let subject = |organization: &str| format!("lookups:{organization}:{window}");
    let subjects: Vec<String> = bursts.iter().map(|(organization, _)| subject(organization)).collect();
    let raised = repository::raised_enumerations(connection, &subjects)?;
    let mut prepared = Vec::new();
    let mut entries = Vec::new();
    for (organization, misses) in bursts {
        if raised.contains(&subject(&organization)) {
            continue;
        }
        let alert = alerts::prepare(
            NewAlert {
                kind: AlertKind::LookupEnumeration,
                fingerprint: None,
                subject_id: Some(subject(&organization)),
                attempting_org_id: organization,
                existing_party_id: None,
                details: json!({
                    "misses": misses,
                    "window_seconds": policy.window_seconds,
                    "since": format_time(since),
                }),
            },
            now,
        )?;
        entries.push(alert.entry);
        prepared.push(alert.row);
    }
    if entries.is_empty() {
        return Ok(false);
    }
    crate::tlog::append_prepared(connection, &entries)?;
    alerts::store_prepared(connection, &prepared, now)?;
    Ok(true)
}

/// The largest page of look-ups.
pub const MAX_LOOKUP_PAGE: i64 = 100;

/// `GET /v1/receivables/{id}/lookups`: who looked the invoice up, for its
/// supplier, its buyer and the operator (404 for anyone else), newest
/// first.
pub fn lookups_of(
    connection: &mut DbConnection,
    viewer: &Viewer,
    receivable_id: Uuid,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<(Vec<Value>, Option<String>), UseCaseError> {
    let receivable = visible_receivable(connection, viewer, &receivable_id.to_string())?
        .filter(|receivable| {
            viewer.role == crate::domain::Role::Operator
                || receivable.supplier_id == viewer.organization_id
                || receivable.buyer_id == viewer.organization_id
        })
        .ok_or(UseCaseError::NotFound)?;
    let limit = limit.clamp(1, MAX_LOOKUP_PAGE);
    let mut rows = repository::lookups_of_receivable(connection, &receivable.id, after, limit + 1)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last()
            .map(|(row, _)| crate::alerts::encode_cursor(row.created_at, &row.id))
    } else {
        None
    };
    let items = rows
        .iter()
        .map(|(row, name)| {
            json!({
                "organization_id": row.organization_id,
                "organization_name": name,
                "looked_up_at": format_time(row.created_at),
                "answered": {
                    "registered": row.registered,
                    "confirmed": row.confirmed,
                    "encumbered": row.encumbered,
                },
            })
        })
        .collect();
    Ok((items, next_cursor))
}

#[cfg(test)]
mod tests {
    use super::window_start;

    #[test]
    fn windows_start_on_their_multiple() {
        let at = |seconds: i64| chrono::DateTime::from_timestamp(seconds, 0).unwrap().naive_utc();
        assert_eq!(window_start(at(1_764_000_059), 60), 1_764_000_000);
        assert_eq!(window_start(at(1_764_000_060), 60), 1_764_000_060);
        assert_eq!(window_start(at(1_764_000_061), 0), 1_764_000_061);
    }
}
