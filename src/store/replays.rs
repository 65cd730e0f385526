//! Stored first answers of POSTs sent with an Idempotency-Key.
//!
//! A request that changes anything stores its answer in the transaction
//! that makes the change: it first *claims* its key (a row with no answer
//! yet), then decides, then writes the answer into the claimed row, and
//! all of it commits or none does. A twin racing on the same key waits at
//! the claim's primary key and then finds the first answer; a retry after
//! a crash, a 503 or a failover finds it too, or finds nothing because
//! nothing was done.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::request_replays;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = request_replays)]
pub struct ReplayRow {
    pub caller_sha256: Vec<u8>,
    pub idempotency_key: String,
    pub request_sha256: Vec<u8>,
    pub response_status: i32,
    pub content_type: String,
    pub response_body: Vec<u8>,
    pub created_at: NaiveDateTime,
}

/// The status of a claimed row whose answer is not written yet. It never
/// commits: the answer is written, or the claim removed, before the
/// transaction ends.
const CLAIMED: i32 = 0;

/// A request's key, in its caller's scope, and what the request was.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Claim {
    pub caller_sha256: Vec<u8>,
    pub idempotency_key: String,
    pub request_sha256: Vec<u8>,
}

/// An answer as it is stored and given again: status, content type, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug)]
pub enum Claimed {
    /// The key is this transaction's: decide, then [`answer`] (or
    /// [`release`]).
    New,
    /// The key was answered before (for this request, or — if the hashes
    /// differ — for another one).
    Answered(ReplayRow),
}

pub fn find(connection: &mut DbConnection, caller: &[u8], key: &str) -> QueryResult<Option<ReplayRow>> {
    request_replays::table
        .find((caller, key))
        .select(ReplayRow::as_select())
        .first(connection)
        .optional()
}

/// Claims `claim`'s key inside the caller's transaction, or finds its
/// answer. On PostgreSQL a twin's uncommitted claim makes this wait until
/// that transaction ends (then its answer is found, or the key is free).
pub fn claim(connection: &mut DbConnection, claim: &Claim) -> QueryResult<Claimed> {
    let row = ReplayRow {
        caller_sha256: claim.caller_sha256.clone(),
        idempotency_key: claim.idempotency_key.clone(),
        request_sha256: claim.request_sha256.clone(),
        response_status: CLAIMED,
        content_type: String::new(),
        response_body: Vec::new(),
        created_at: super::now(),
    };
    let inserted = match connection {
        DbConnection::Postgresql(inner) => diesel::insert_into(request_replays::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(inner)?,
        DbConnection::Sqlite(inner) => diesel::insert_into(request_replays::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(inner)?,
    };
    if inserted == 1 {
        return Ok(Claimed::New);
    }
    match find(connection, &claim.caller_sha256, &claim.idempotency_key)? {
        Some(stored) if stored.response_status != CLAIMED => Ok(Claimed::Answered(stored)),
        // A claim is answered or removed before its transaction ends, so a
        // visible unanswered claim (or a row gone between the two
        // statements) is a broken invariant, never an answer.
        _ => Err(diesel::result::Error::QueryBuilderError(
            "an idempotency claim was visible without its answer".into(),
        )),
    }
}

/// Writes the answer into this transaction's claim.
pub fn answer(connection: &mut DbConnection, claim: &Claim, answer: &StoredAnswer) -> QueryResult<()> {
    let updated = diesel::update(request_replays::table.find((&claim.caller_sha256, &claim.idempotency_key)))
        .set((
            request_replays::response_status.eq(i32::from(answer.status)),
            request_replays::content_type.eq(&answer.content_type),
            request_replays::response_body.eq(&answer.body),
        ))
        .execute(connection)?;
    if updated == 1 {
        Ok(())
    } else {
        Err(diesel::result::Error::NotFound)
    }
}

/// Gives up this transaction's claim (the answer is not one to keep: a
/// retry runs the request again).
pub fn release(connection: &mut DbConnection, claim: &Claim) -> QueryResult<()> {
    diesel::delete(request_replays::table.find((&claim.caller_sha256, &claim.idempotency_key)))
        .execute(connection)
        .map(|_| ())
}

/// Stores an answer given without changing anything (a request refused
/// before any decision), unless one was stored meanwhile (the first one
/// wins).
pub fn remember(connection: &mut DbConnection, row: &ReplayRow) -> QueryResult<()> {
    match diesel::insert_into(request_replays::table)
        .values(row)
        .execute(connection)
    {
        Ok(_) => Ok(()),
        Err(error) if super::is_unique_violation(&error) => Ok(()),
        Err(error) => Err(error),
    }
}
