//! Stored first answers of POSTs sent with an Idempotency-Key.

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

pub fn find(connection: &mut DbConnection, caller: &[u8], key: &str) -> QueryResult<Option<ReplayRow>> {
    request_replays::table
        .find((caller, key))
        .select(ReplayRow::as_select())
        .first(connection)
        .optional()
}

/// Stores the answer unless one was stored meanwhile (the first one wins).
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
