//! Rows and repository functions of the portal's sessions. A session is
//! only ever read joined to the API key it was signed in with, so a key
//! revoked (or given another secret) ends its sessions at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::organizations::ApiKeyRow;
use super::schema::{api_keys, organizations, portal_sessions};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = portal_sessions)]
pub struct PortalSessionRow {
    /// SHA-256 of the session id; the id itself is only in the cookie.
    pub id_sha256: Vec<u8>,
    pub organization_id: String,
    pub risk_officer_id: Option<String>,
    pub api_key_id: String,
    /// The key's `secret_sha256` when the session began.
    pub api_key_secret_sha256: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub idle_expires_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_session(connection: &mut DbConnection, row: &PortalSessionRow) -> QueryResult<()> {
    diesel::insert_into(portal_sessions::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

/// The session with this id hash if it is live at `now` — neither idle nor
/// past its lifetime — and its key is unrevoked with the same secret as at
/// sign-in; with the key and its organisation's role and name. One query.
pub fn find_live_session(
    connection: &mut DbConnection,
    id_sha256: &[u8],
    now: NaiveDateTime,
) -> QueryResult<Option<(PortalSessionRow, ApiKeyRow, String, String)>> {
    portal_sessions::table
        .inner_join(api_keys::table.inner_join(organizations::table))
        .filter(portal_sessions::id_sha256.eq(id_sha256))
        .filter(portal_sessions::idle_expires_at.gt(now))
        .filter(portal_sessions::expires_at.gt(now))
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::secret_sha256.eq(portal_sessions::api_key_secret_sha256))
        .select((
            PortalSessionRow::as_select(),
            ApiKeyRow::as_select(),
            organizations::role,
            organizations::name,
        ))
        .first(connection)
        .optional()
}

/// Records a use: the session stays alive until `idle_until` (which the
/// caller keeps within the lifetime). A session that expired meanwhile is
/// left expired.
pub fn touch_session(
    connection: &mut DbConnection,
    id_sha256: &[u8],
    now: NaiveDateTime,
    idle_until: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        portal_sessions::table
            .filter(portal_sessions::id_sha256.eq(id_sha256))
            .filter(portal_sessions::idle_expires_at.gt(now)),
    )
    .set((
        portal_sessions::last_seen_at.eq(now),
        portal_sessions::idle_expires_at.eq(idle_until),
    ))
    .execute(connection)
    .map(|_| ())
}

pub fn delete_session(connection: &mut DbConnection, id_sha256: &[u8]) -> QueryResult<()> {
    diesel::delete(portal_sessions::table.filter(portal_sessions::id_sha256.eq(id_sha256)))
        .execute(connection)
        .map(|_| ())
}

/// Deletes every session idle (or past its lifetime, which the idle expiry
/// never exceeds) at `now`; returns how many.
pub fn delete_expired_sessions(connection: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(portal_sessions::table.filter(portal_sessions::idle_expires_at.le(now))).execute(connection)
}
