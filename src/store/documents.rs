//! Rows and repository functions of credit notes, corrections and uploads.
//! What must hold under concurrency is in the statements: a credit is added
//! only while it fits in what is owed and the receivable is still in the
//! state the use case decided on; an upload's digest is claimed once per
//! supplier by the unique index.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{credit_notes, receivables, upload_bodies, upload_chunks, uploads};
use super::DbConnection;
use crate::domain::ReceivableStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_notes)]
pub struct CreditNoteRow {
    pub id: String,
    pub fingerprint: Vec<u8>,
    pub receivable_id: String,
    pub supplier_id: String,
    pub credit_note_number: String,
    pub issue_date: NaiveDate,
    pub currency: String,
    pub amount_minor: i64,
    pub leaf_hash: Vec<u8>,
    pub created_at: NaiveDateTime,
}

pub fn insert_credit_note(connection: &mut DbConnection, row: &CreditNoteRow) -> QueryResult<()> {
    diesel::insert_into(credit_notes::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn find_credit_note_by_fingerprint(
    connection: &mut DbConnection,
    fingerprint: &[u8; 32],
) -> QueryResult<Option<CreditNoteRow>> {
    credit_notes::table
        .filter(credit_notes::fingerprint.eq(fingerprint.as_slice()))
        .select(CreditNoteRow::as_select())
        .first(connection)
        .optional()
}

/// Adds `amount_minor` to what was credited on the receivable, if it is
/// still `status` and the credit fits in what is owed; false otherwise
/// (nothing changed). Written so that no sum can overflow BIGINT.
pub fn add_credit(
    connection: &mut DbConnection,
    id: &str,
    status: ReceivableStatus,
    amount_minor: i64,
) -> QueryResult<bool> {
    diesel::update(
        receivables::table
            .filter(receivables::id.eq(id))
            .filter(receivables::status.eq(status))
            .filter(receivables::credited_minor.le(receivables::amount_minor - amount_minor)),
    )
    .set(receivables::credited_minor.eq(receivables::credited_minor + amount_minor))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Marks a registered or disputed (never confirmed), not yet superseded
/// receivable as replaced by the corrected invoice `by`; false when it was
/// confirmed or replaced meanwhile.
pub fn supersede(connection: &mut DbConnection, id: &str, by: &str) -> QueryResult<bool> {
    diesel::update(
        receivables::table
            .filter(receivables::id.eq(id))
            .filter(receivables::status.eq_any([ReceivableStatus::Registered, ReceivableStatus::Disputed]))
            .filter(receivables::superseded_by.is_null()),
    )
    .set(receivables::superseded_by.eq(by))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// What is credited on each of `ids` now: a confirmation reads this after
/// its conditional update (which waited for any racing credit to commit)
/// to know the amount it minted is still what is owed.
pub fn credited(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<(String, i64)>> {
    receivables::table
        .filter(receivables::id.eq_any(ids))
        .select((receivables::id, receivables::credited_minor))
        .load(connection)
}

// Uploads.

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = uploads)]
pub struct UploadRow {
    pub id: String,
    pub supplier_id: String,
    pub digest: Vec<u8>,
    pub status: String,
    pub total_rows: Option<i64>,
    pub processed_rows: i64,
    pub report: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    /// The process deciding it, and until when (a running upload whose
    /// lease has passed is taken over by another).
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    /// How many times a process took it up.
    pub attempts: i32,
    /// Why the last attempt failed, or why it was given up.
    pub failure: Option<String>,
}

/// The upload of these bytes by this supplier: new (the row given is now
/// claimed, in the caller's transaction), or the one made before. On
/// PostgreSQL a twin's uncommitted claim makes this wait until that
/// transaction ends.
pub enum UploadClaim {
    New,
    Earlier(Box<UploadRow>),
}

pub fn claim_upload(connection: &mut DbConnection, row: &UploadRow) -> QueryResult<UploadClaim> {
    let inserted = match connection {
        DbConnection::Postgresql(inner) => diesel::insert_into(uploads::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(inner)?,
        DbConnection::Sqlite(inner) => diesel::insert_into(uploads::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(inner)?,
    };
    if inserted == 1 {
        return Ok(UploadClaim::New);
    }
    uploads::table
        .filter(uploads::supplier_id.eq(&row.supplier_id))
        .filter(uploads::digest.eq(&row.digest))
        .select(UploadRow::as_select())
        .first(connection)
        .map(|earlier| UploadClaim::Earlier(Box::new(earlier)))
}

pub fn find_upload(connection: &mut DbConnection, id: &str) -> QueryResult<Option<UploadRow>> {
    uploads::table
        .find(id)
        .select(UploadRow::as_select())
        .first(connection)
        .optional()
}

/// Keeps the bytes of an upload until it is done.
pub fn insert_upload_body(
    connection: &mut DbConnection,
    upload_id: &str,
    format: &str,
    body: &[u8],
) -> QueryResult<()> {
    diesel::insert_into(upload_bodies::table)
        .values((
            upload_bodies::upload_id.eq(upload_id),
            upload_bodies::format.eq(format),
            upload_bodies::body.eq(body),
        ))
        .execute(connection)
        .map(|_| ())
}

/// The format and bytes of an upload not yet done.
pub fn find_upload_body(connection: &mut DbConnection, upload_id: &str) -> QueryResult<Option<(String, Vec<u8>)>> {
    upload_bodies::table
        .find(upload_id)
        .select((upload_bodies::format, upload_bodies::body))
        .first(connection)
        .optional()
}

/// The oldest running upload nobody holds (never leased, or whose lease
/// passed before `now`).
pub fn next_waiting_upload(connection: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Option<UploadRow>> {
    uploads::table
        .filter(uploads::status.eq("running"))
        .filter(uploads::lease_until.is_null().or(uploads::lease_until.lt(now)))
        .order(uploads::created_at)
        .select(UploadRow::as_select())
        .first(connection)
        .optional()
}

/// Takes up a running upload for `owner` until `until`, if nobody holds
/// it at `now`; false when another process took it first. The condition is
/// the statement's, so two processes never both take it.
pub fn lease_upload(
    connection: &mut DbConnection,
    id: &str,
    owner: &str,
    until: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        uploads::table
            .filter(uploads::id.eq(id))
            .filter(uploads::status.eq("running"))
            .filter(uploads::lease_until.is_null().or(uploads::lease_until.lt(now))),
    )
    .set((
        uploads::lease_owner.eq(owner),
        uploads::lease_until.eq(until),
        uploads::attempts.eq(uploads::attempts + 1),
    ))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Takes a failed upload up again (its bytes sent again): running, from
/// where it stopped, held by `owner` until `until` — or by nobody, for a
/// worker to take up.
pub fn rearm_upload(
    connection: &mut DbConnection,
    id: &str,
    owner: Option<&str>,
    until: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    diesel::update(
        uploads::table
            .filter(uploads::id.eq(id))
            .filter(uploads::status.eq("failed")),
    )
    .set((
        uploads::status.eq("running"),
        uploads::lease_owner.eq(owner),
        uploads::lease_until.eq(until),
        uploads::attempts.eq(i32::from(owner.is_some())),
        uploads::failure.eq(None::<String>),
        uploads::finished_at.eq(None::<NaiveDateTime>),
    ))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Moves an upload held by `owner` from `from` rows decided to `to`, and
/// extends its lease; false when `owner` no longer holds it or another
/// process decided these rows (the caller's chunk must then roll back).
pub fn advance_upload(
    connection: &mut DbConnection,
    id: &str,
    owner: &str,
    from: i64,
    to: i64,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        uploads::table
            .filter(uploads::id.eq(id))
            .filter(uploads::status.eq("running"))
            .filter(uploads::lease_owner.eq(owner))
            .filter(uploads::processed_rows.eq(from)),
    )
    .set((uploads::processed_rows.eq(to), uploads::lease_until.eq(until)))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Records why an attempt failed; the lease runs out and another attempt
/// follows, unless `give_up`, which fails the upload.
pub fn record_upload_failure(
    connection: &mut DbConnection,
    id: &str,
    owner: &str,
    failure: &str,
    give_up: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let held = uploads::table
        .filter(uploads::id.eq(id))
        .filter(uploads::status.eq("running"))
        .filter(uploads::lease_owner.eq(owner));
    if give_up {
        diesel::update(held)
            .set((
                uploads::status.eq("failed"),
                uploads::failure.eq(failure),
                uploads::finished_at.eq(now),
                uploads::lease_until.eq(None::<NaiveDateTime>),
            ))
            .execute(connection)?;
    } else {
        diesel::update(held)
            .set(uploads::failure.eq(failure))
            .execute(connection)?;
    }
    Ok(())
}

pub fn insert_upload_chunk(
    connection: &mut DbConnection,
    upload_id: &str,
    first_item: i64,
    results: &str,
) -> QueryResult<()> {
    diesel::insert_into(upload_chunks::table)
        .values((
            upload_chunks::upload_id.eq(upload_id),
            upload_chunks::first_item.eq(first_item),
            upload_chunks::results.eq(results),
        ))
        .execute(connection)
        .map(|_| ())
}

/// The chunks' reports, in the order they were decided.
pub fn upload_chunks(connection: &mut DbConnection, upload_id: &str) -> QueryResult<Vec<String>> {
    upload_chunks::table
        .filter(upload_chunks::upload_id.eq(upload_id))
        .order(upload_chunks::first_item)
        .select(upload_chunks::results)
        .load(connection)
}

/// Ends an upload held by `owner` with its report; its bytes and chunks
/// go. False when `owner` no longer holds it (nothing changed).
pub fn complete_upload(
    connection: &mut DbConnection,
    id: &str,
    owner: &str,
    report: &str,
    processed: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        uploads::table
            .filter(uploads::id.eq(id))
            .filter(uploads::status.eq("running"))
            .filter(uploads::lease_owner.eq(owner)),
    )
    .set((
        uploads::status.eq("done"),
        uploads::report.eq(report),
        uploads::processed_rows.eq(processed),
        uploads::finished_at.eq(now),
        uploads::lease_until.eq(None::<NaiveDateTime>),
        uploads::failure.eq(None::<String>),
    ))
    .execute(connection)?;
    if updated != 1 {
        return Ok(false);
    }
    diesel::delete(upload_chunks::table.filter(upload_chunks::upload_id.eq(id))).execute(connection)?;
    diesel::delete(upload_bodies::table.find(id)).execute(connection)?;
    Ok(true)
}
