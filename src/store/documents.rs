//! Rows and repository functions of credit notes, corrections and uploads.
//! What must hold under concurrency is in the statements: a credit is added
//! only while it fits in what is owed and the receivable is still in the
//! state the use case decided on; an upload's digest is claimed once per
//! supplier by the unique index.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{credit_notes, receivables, uploads};
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
}

/// The upload of these bytes by this supplier: new (the row given is now
/// claimed, in the caller's transaction), or the one made before. On
/// PostgreSQL a twin's uncommitted claim makes this wait until that
/// transaction ends.
pub enum UploadClaim {
    New,
    Earlier(UploadRow),
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
        .map(UploadClaim::Earlier)
}

pub fn find_upload(connection: &mut DbConnection, id: &str) -> QueryResult<Option<UploadRow>> {
    uploads::table
        .find(id)
        .select(UploadRow::as_select())
        .first(connection)
        .optional()
}

/// Ends an upload with its report (`done`) or its failure (`failed`).
pub fn finish_upload(
    connection: &mut DbConnection,
    id: &str,
    status: &str,
    report: &str,
    processed: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(uploads::table.find(id))
        .set((
            uploads::status.eq(status),
            uploads::report.eq(report),
            uploads::processed_rows.eq(processed),
            uploads::finished_at.eq(now),
        ))
        .execute(connection)
        .map(|_| ())
}
