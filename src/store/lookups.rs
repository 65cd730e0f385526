//! Rows and repository functions of the encumbrance look-ups' audit trail.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{alerts, lookups, organizations};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = lookups)]
pub struct LookupRow {
    pub id: String,
    pub organization_id: String,
    pub fingerprint: Vec<u8>,
    pub receivable_id: Option<String>,
    pub purchase_order_id: Option<String>,
    pub registered: bool,
    pub confirmed: bool,
    pub encumbered: bool,
    pub created_at: NaiveDateTime,
}

/// Records look-ups, one statement per batch (`store::arrays`). On SQLite
/// the multi-row insert stays: one built from a JSON array of rows
/// (`INSERT ... SELECT value ->> 0, ... FROM json_each(?)`), though
/// prepared once, cost more than preparing anew, SQLite re-reading a row's
/// JSON for each column (a SQLite look-up's instructions 200 k → 227 k).
pub fn insert_lookups(connection: &mut DbConnection, rows: &[LookupRow]) -> QueryResult<()> {
    LookupArrays::insert(connection, rows).map(|_| ())
}

unnest_insert! {
    /// Look-up records as arrays.
    LookupArrays for LookupRow => lookups {
        id: &'a str = |row| row.id.as_str() => Text,
        organization_id: &'a str = |row| row.organization_id.as_str() => Text,
        fingerprint: &'a [u8] = |row| row.fingerprint.as_slice() => Binary,
        receivable_id: Option<&'a str> = |row| row.receivable_id.as_deref() => Nullable<Text>,
        purchase_order_id: Option<&'a str> = |row| row.purchase_order_id.as_deref() => Nullable<Text>,
        registered: bool = |row| row.registered => Bool,
        confirmed: bool = |row| row.confirmed => Bool,
        encumbered: bool = |row| row.encumbered => Bool,
        created_at: NaiveDateTime = |row| row.created_at => Timestamp,
    }
}

/// How many look-ups of unregistered fingerprints each of these
/// organisations made since `since`.
pub fn misses_since(
    connection: &mut DbConnection,
    organization_ids: &[String],
    since: NaiveDateTime,
) -> QueryResult<Vec<(String, i64)>> {
    if organization_ids.is_empty() {
        return Ok(Vec::new());
    }
    lookups::table
        .filter(lookups::organization_id.eq_any(organization_ids))
        .filter(lookups::registered.eq(false))
        .filter(lookups::created_at.gt(since))
        .group_by(lookups::organization_id)
        .select((lookups::organization_id, diesel::dsl::count_star()))
        .load(connection)
}

/// Which of these enumeration alert subjects exist already.
pub fn raised_enumerations(connection: &mut DbConnection, subjects: &[String]) -> QueryResult<Vec<String>> {
    if subjects.is_empty() {
        return Ok(Vec::new());
    }
    alerts::table
        .filter(alerts::kind.eq(crate::alerts::AlertKind::LookupEnumeration.as_str()))
        .filter(alerts::subject_id.eq_any(subjects))
        .select(alerts::subject_id.assume_not_null())
        .load(connection)
}

/// A receivable's look-ups, newest first, with the looking organisation's
/// name: strictly older than `after` when given.
pub fn lookups_of_receivable(
    connection: &mut DbConnection,
    receivable_id: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<(LookupRow, String)>> {
    let mut query = lookups::table
        .inner_join(organizations::table.on(organizations::id.eq(lookups::organization_id)))
        .filter(lookups::receivable_id.eq(receivable_id))
        .into_boxed();
    if let Some((created_at, id)) = after {
        query = query.filter(
            lookups::created_at
                .lt(created_at)
                .or(lookups::created_at.eq(created_at).and(lookups::id.lt(id))),
        );
    }
    query
        .order((lookups::created_at.desc(), lookups::id.desc()))
        .limit(limit)
        .select((LookupRow::as_select(), organizations::name))
        .load(connection)
}
