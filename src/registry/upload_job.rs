//! Uploads as jobs (docs/DOCUMENTS.md, "Large uploads"). An upload is
//! recorded with its bytes, then decided a chunk of rows at a time: each
//! chunk commits with its share of the report and the progress it makes,
//! so an upload never holds the database (SQLite's one writer above all)
//! for longer than a chunk, and single registrations go on meanwhile.
//!
//! Whoever decides an upload holds its lease: the request that made a
//! small one (it answers with the report), or the background worker of any
//! process for a large one (the request answers 202 at once). Each chunk's
//! transaction first moves the progress on from where this holder left it,
//! under its lease — a holder that lost the lease, or whose chunk another
//! process decided, rolls back. A process that dies leaves its lease to run
//! out; a worker then reads the bytes again and goes on from the last
//! committed chunk. When every row is decided, one transaction joins the
//! chunks into the report, raises the upload's one duplicates alert (and
//! one near-duplicates alert), and drops the bytes.
//!
//! Rows are decided in a fixed order — rows refused as read and purchase
//! orders, then invoices, then credit notes and corrections — so that a
//! resumed upload cuts its chunks where the first attempt did, and an
//! invoice finds the order (a credit note, the invoice) of the same upload
//! committed in an earlier chunk.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use uuid::Uuid;

use super::error::UseCaseError;
use super::import::{self, DocumentKind, ImportFormat, ParsedRow};
use super::parties;
use super::upload::{raise_upload_alerts, ImportFailure, ImportReport, ImportResult, Upload, CREATED};
use crate::domain::FingerprintKey;
use crate::refusal::corrupt;
use crate::store::documents::{self as repository, UploadClaim, UploadRow};
use crate::store::{self, is_retryable_conflict, write_transaction, Database, DbConnection};

/// Uploads of at most this many rows are decided while their request
/// waits; larger ones (up to [`import::MAX_ROWS`]) run as jobs.
pub const MAX_SYNC_ROWS: usize = 10_000;

/// Rows decided and committed together. Small enough that a single
/// registration waits for at most one chunk (tens of milliseconds), large
/// enough that invoices go set-based, many per statement.
const CHUNK: usize = 500;

/// Attempts at an upload before it is given up as `failed` (its bytes
/// sent again take it up where it stopped).
const MAX_ATTEMPTS: i32 = 5;

/// How many chunks between two refreshes of the planner's statistics
/// ([`refresh_statistics`]).
const ANALYZE_EVERY: usize = 8;

/// A chunk refused by a serialisation conflict is tried again this often.
const CHUNK_TRIES: usize = 3;

/// The right to decide an upload: this process's owner id, for a while.
#[derive(Debug, Clone)]
pub struct Lease {
    pub owner: String,
    pub duration: Duration,
}

impl Lease {
    /// A lease for this process (or command), under a new owner id.
    pub fn new(duration: Duration) -> Self {
        Lease {
            owner: Uuid::new_v4().to_string(),
            duration,
        }
    }

    fn until(&self, now: NaiveDateTime) -> NaiveDateTime {
        now + chrono::Duration::from_std(self.duration).unwrap_or(chrono::Duration::seconds(30))
    }
}

/// An upload as it stands while it runs, or after it failed: what
/// `POST /v1/receivables/import` answers with 202 and
/// `GET /v1/uploads/{id}` until the report is complete.
#[derive(Debug, Clone, Serialize)]
pub struct UploadProgress {
    pub upload_id: String,
    /// `running` or `failed`.
    pub status: String,
    pub replayed: bool,
    pub total_rows: i64,
    pub processed_rows: i64,
    /// Why the last attempt failed (running: it will be tried again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Where to read it again.
    pub href: String,
}

impl UploadProgress {
    pub fn of(upload: &UploadRow, replayed: bool) -> Self {
        UploadProgress {
            upload_id: upload.id.clone(),
            status: upload.status.clone(),
            replayed,
            total_rows: upload.total_rows.unwrap_or(0),
            processed_rows: upload.processed_rows,
            failure: upload.failure.clone(),
            href: format!("/v1/uploads/{}", upload.id),
        }
    }
}

/// What recording an upload found.
pub enum Submitted {
    /// New (or failed before and taken up again), held under the caller's
    /// lease: the caller decides it now, with [`decide`].
    Held(UploadRow),
    /// New (or failed before), waiting for a worker.
    Queued(UploadRow),
    /// These bytes were uploaded by this supplier before: that upload.
    Earlier(UploadRow),
}

/// Records an upload of `rows` rows by `supplier_id` with its bytes, or
/// finds the same bytes' upload. With a `lease` the caller holds it and
/// decides it; without, it waits for a worker.
pub fn submit(
    connection: &mut DbConnection,
    supplier_id: &str,
    format: ImportFormat,
    body: &[u8],
    rows: usize,
    lease: Option<&Lease>,
) -> Result<Submitted, diesel::result::Error> {
    let now = store::now();
    let owner = lease.map(|lease| lease.owner.clone());
    let until = lease.map(|lease| lease.until(now));
    let upload = UploadRow {
        id: Uuid::new_v4().to_string(),
        supplier_id: supplier_id.to_owned(),
        digest: Sha256::digest(body).to_vec(),
        status: "running".to_owned(),
        total_rows: Some(i64::try_from(rows).unwrap_or(i64::MAX)),
        processed_rows: 0,
        report: None,
        created_at: now,
        finished_at: None,
        lease_owner: owner.clone(),
        lease_until: until,
        attempts: i32::from(lease.is_some()),
        failure: None,
    };
    let held = |upload: UploadRow| match lease {
        Some(_) => Submitted::Held(upload),
        None => Submitted::Queued(upload),
    };
    write_transaction(connection, |connection| {
        match repository::claim_upload(connection, &upload)? {
            UploadClaim::New => {
                repository::insert_upload_body(connection, &upload.id, format.as_str(), body)?;
                Ok(held(upload))
            }
            UploadClaim::Earlier(earlier) if earlier.status == "failed" => {
                let earlier = *earlier;
                if !repository::rearm_upload(connection, &earlier.id, owner.as_deref(), until)? {
                    return Ok(Submitted::Earlier(earlier));
                }
                let rearmed =
                    repository::find_upload(connection, &earlier.id)?.ok_or_else(|| diesel::result::Error::NotFound)?;
                Ok(held(rearmed))
            }
            UploadClaim::Earlier(earlier) => Ok(Submitted::Earlier(*earlier)),
        }
    })
}

/// The report of a completed upload, given again.
pub fn stored_report(upload: &UploadRow) -> Result<ImportReport, UseCaseError> {
    let mut report: ImportReport = upload
        .report
        .as_deref()
        .and_then(|report| serde_json::from_str(report).ok())
        .ok_or_else(|| corrupt("upload report"))?;
    report.replayed = true;
    Ok(report)
}

/// Decides what is left of `upload`, held under `lease`, from `rows` (its
/// bytes as read): a chunk per transaction from where it stands, then the
/// report. `progress(decided, total)` follows each chunk; when it answers
/// false (the process is stopping) the rest is left, held under the lease
/// until it runs out, and this answers [`ImportFailure::Stopped`].
pub fn decide(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    lease: &Lease,
    upload: &UploadRow,
    rows: Vec<ParsedRow>,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<ImportReport, ImportFailure> {
    let supplier = parties::load(connection, &upload.supplier_id)?.ok_or(UseCaseError::NotFound)?;
    let total = rows.len();
    let mut decided = usize::try_from(upload.processed_rows).unwrap_or(0).min(total);
    let mut waiting = plan(rows).into_iter().skip(decided);
    let mut upload_rows = Upload::new(*key, supplier);
    let mut chunks = 0;
    while decided < total {
        if chunks % ANALYZE_EVERY == 0 && total - decided > CHUNK {
            refresh_statistics(connection)?;
        }
        chunks += 1;
        let chunk: Vec<(usize, ParsedRow)> = waiting.by_ref().take(CHUNK).collect();
        let end = decided + chunk.len();
        let mut tries = 0;
        loop {
            tries += 1;
            let outcome = write_transaction(connection, |connection| -> Result<(), ImportFailure> {
                let until = lease.until(store::now());
                if !repository::advance_upload(connection, &upload.id, &lease.owner, count(decided), count(end), until)?
                {
                    return Err(ImportFailure::Taken);
                }
                let (positions, rows): (Vec<usize>, Vec<ParsedRow>) = chunk.iter().cloned().unzip();
                let results = upload_rows.decide(connection, rows)?;
                let lines: Vec<(usize, ImportResult)> = positions.into_iter().zip(results).collect();
                let stored = serde_json::to_string(&lines).map_err(|_| corrupt("upload chunk report"))?;
                repository::insert_upload_chunk(connection, &upload.id, count(decided), &stored)?;
                Ok(())
            });
            match outcome {
                Err(ImportFailure::Registry(UseCaseError::Database(error)))
                    if tries < CHUNK_TRIES && is_retryable_conflict(&error) =>
                {
                    continue
                }
                outcome => break outcome?,
            }
        }
        decided = end;
        if !progress(decided, total) && decided < total {
            return Err(ImportFailure::Stopped);
        }
    }
    complete(connection, lease, upload)
}

/// PostgreSQL: the receivables' planner statistics brought up to date. An
/// upload adds rows faster than autovacuum analyzes them (it looks once a
/// minute), and with statistics that say the table is small the planner
/// looks fingerprints up by reading the whole table: a 10,000-row upload
/// right after another took 5 to 6 s instead of 1. `ANALYZE` samples at
/// most 30,000 rows and blocks no reader or writer.
fn refresh_statistics(connection: &mut DbConnection) -> Result<(), diesel::result::Error> {
    use diesel::RunQueryDsl;
    if let DbConnection::Postgresql(inner) = connection {
        diesel::sql_query("ANALYZE receivables").execute(inner)?;
    }
    Ok(())
}

/// Joins the chunks' reports into the upload's, raises its duplicates
/// alert, and ends it — if `lease` still holds it.
fn complete(connection: &mut DbConnection, lease: &Lease, upload: &UploadRow) -> Result<ImportReport, ImportFailure> {
    write_transaction(connection, |connection| {
        let mut lines: Vec<(usize, ImportResult)> = Vec::new();
        for chunk in repository::upload_chunks(connection, &upload.id)? {
            let decoded: Vec<(usize, ImportResult)> =
                serde_json::from_str(&chunk).map_err(|_| corrupt("upload chunk report"))?;
            lines.extend(decoded);
        }
        lines.sort_by_key(|(position, _)| *position);
        let results: Vec<ImportResult> = lines.into_iter().map(|(_, result)| result).collect();
        let created = results.iter().filter(|result| result.status == CREATED).count();
        let report = ImportReport {
            upload_id: upload.id.clone(),
            status: "done".to_owned(),
            replayed: false,
            created,
            rejected: results.len() - created,
            results,
        };
        let stored = serde_json::to_string(&report).map_err(|_| corrupt("upload report"))?;
        let now = store::now();
        if !repository::complete_upload(
            connection,
            &upload.id,
            &lease.owner,
            &stored,
            count(report.results.len()),
            now,
        )? {
            return Err(ImportFailure::Taken);
        }
        raise_upload_alerts(connection, &upload.supplier_id, &upload.id, &report.results)?;
        Ok(report)
    })
}

/// The rows in the order they are decided, each with its place in the
/// upload: rows refused as read and purchase orders, then invoices, then
/// credit notes and corrections; the upload's order within each.
fn plan(rows: Vec<ParsedRow>) -> Vec<(usize, ParsedRow)> {
    let mut planned: Vec<(usize, ParsedRow)> = rows.into_iter().enumerate().collect();
    planned.sort_by_key(|(_, row)| match &row.outcome {
        Err(_) => 0,
        Ok(row) => match row.kind {
            DocumentKind::Order => 0,
            DocumentKind::Invoice => 1,
            DocumentKind::CreditNote | DocumentKind::CorrectedInvoice => 2,
        },
    });
    planned
}

fn count(rows: usize) -> i64 {
    i64::try_from(rows).unwrap_or(i64::MAX)
}

/// Wakes the upload worker when an upload is queued, and stops it
/// between two chunks when the server stops.
#[derive(Clone, Default)]
pub struct UploadWorker {
    wake: Arc<Notify>,
    stopping: Arc<AtomicBool>,
}

impl UploadWorker {
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
}

/// Decides queued and abandoned uploads, one at a time, until aborted:
/// when woken, and every `poll` (to find a lease another process left to
/// run out). `on_chunk` follows every committed chunk (the sequencer's
/// wake-up).
pub fn spawn_upload_worker(
    database: Database,
    key: FingerprintKey,
    lease: Lease,
    poll: Duration,
    on_chunk: impl Fn() + Send + Sync + 'static,
) -> (UploadWorker, tokio::task::JoinHandle<()>) {
    let worker = UploadWorker::default();
    let (wake, stopping) = (worker.wake.clone(), worker.stopping.clone());
    let on_chunk = Arc::new(on_chunk);
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
            loop {
                let (lease, on_chunk, stopping) = (lease.clone(), on_chunk.clone(), stopping.clone());
                let going_on = move || {
                    on_chunk();
                    !stopping.load(Ordering::SeqCst)
                };
                match database
                    .run(move |connection| take_next(connection, &key, &lease, &going_on))
                    .await
                {
                    Ok(Ok(true)) => continue,
                    Ok(Ok(false)) => break,
                    Ok(Err(error)) => {
                        tracing::error!(%error, "upload worker cannot read the uploads");
                        break;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "upload worker has no database connection");
                        break;
                    }
                }
            }
        }
    });
    (worker, task)
}

/// Takes up the oldest upload nobody holds and decides it; false when
/// none waits. `going_on` follows each chunk, and answers whether to go on.
pub fn take_next(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    lease: &Lease,
    going_on: &dyn Fn() -> bool,
) -> Result<bool, diesel::result::Error> {
    let now = store::now();
    let Some(waiting) = repository::next_waiting_upload(connection, now)? else {
        return Ok(false);
    };
    if !repository::lease_upload(connection, &waiting.id, &lease.owner, lease.until(now), now)? {
        // Another process took it first: look again.
        return Ok(true);
    }
    let upload = repository::find_upload(connection, &waiting.id)?.ok_or(diesel::result::Error::NotFound)?;
    let give_up = |connection: &mut DbConnection, why: String| {
        tracing::error!(upload = %upload.id, %why, "upload given up");
        repository::record_upload_failure(connection, &upload.id, &lease.owner, &why, true, store::now())
    };
    if upload.attempts > MAX_ATTEMPTS {
        let last = upload.failure.clone().unwrap_or_default();
        give_up(
            connection,
            format!("given up after {MAX_ATTEMPTS} attempts; the last: {last}"),
        )?;
        return Ok(true);
    }
    let Some((label, body)) = repository::find_upload_body(connection, &upload.id)? else {
        give_up(
            connection,
            "its bytes are no longer kept; upload the file again".to_owned(),
        )?;
        return Ok(true);
    };
    let rows = match ImportFormat::from_label(&label).map(|format| import::parse(format, &body)) {
        Some(Ok(rows)) => rows,
        Some(Err(error)) => {
            give_up(connection, format!("its bytes no longer read: {error}"))?;
            return Ok(true);
        }
        None => {
            give_up(connection, format!("its format {label:?} is unknown"))?;
            return Ok(true);
        }
    };
    tracing::info!(upload = %upload.id, rows = rows.len(), from = upload.processed_rows, "deciding an upload");
    match decide(connection, key, lease, &upload, rows, &mut |_, _| going_on()) {
        Ok(report) => {
            tracing::info!(upload = %upload.id, created = report.created, rejected = report.rejected, "upload decided");
        }
        Err(ImportFailure::Taken) => tracing::warn!(upload = %upload.id, "another process took the upload over"),
        Err(ImportFailure::Stopped) => {
            tracing::info!(upload = %upload.id, "stopping: the upload is left to the next process");
            return Ok(false);
        }
        Err(error) => {
            tracing::error!(upload = %upload.id, %error, attempt = upload.attempts, "upload attempt failed");
            repository::record_upload_failure(
                connection,
                &upload.id,
                &lease.owner,
                &error.to_string(),
                upload.attempts >= MAX_ATTEMPTS,
                store::now(),
            )?;
        }
    }
    Ok(true)
}
