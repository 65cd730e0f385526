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

/// Records look-ups. On PostgreSQL one statement of a fixed shape, prepared
/// once per connection, whatever the batch's size (the rows as arrays,
/// unnested); a multi-row `VALUES` differs with every size, so PostgreSQL
/// parsed and planned it anew for each batch.
pub fn insert_lookups(connection: &mut DbConnection, rows: &[LookupRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match connection {
        DbConnection::Postgresql(inner) => LookupsFromArrays::of(rows).execute(inner).map(|_| ()),
        DbConnection::Sqlite(_) => insert_many!(connection, lookups::table, rows).map(|_| ()),
    }
}

/// `INSERT INTO lookups ... SELECT * FROM unnest(...)`, the rows as one
/// array per column. Its SQL never changes, so diesel prepares it once per
/// connection (a `sql_query` would be parsed on every run).
struct LookupsFromArrays<'a> {
    ids: Vec<&'a str>,
    organizations: Vec<&'a str>,
    fingerprints: Vec<&'a [u8]>,
    receivables: Vec<Option<&'a str>>,
    purchase_orders: Vec<Option<&'a str>>,
    registered: Vec<bool>,
    confirmed: Vec<bool>,
    encumbered: Vec<bool>,
    created_at: Vec<NaiveDateTime>,
}

impl<'a> LookupsFromArrays<'a> {
    fn of(rows: &'a [LookupRow]) -> Self {
        Self {
            ids: rows.iter().map(|row| row.id.as_str()).collect(),
            organizations: rows.iter().map(|row| row.organization_id.as_str()).collect(),
            fingerprints: rows.iter().map(|row| row.fingerprint.as_slice()).collect(),
            receivables: rows.iter().map(|row| row.receivable_id.as_deref()).collect(),
            purchase_orders: rows.iter().map(|row| row.purchase_order_id.as_deref()).collect(),
            registered: rows.iter().map(|row| row.registered).collect(),
            confirmed: rows.iter().map(|row| row.confirmed).collect(),
            encumbered: rows.iter().map(|row| row.encumbered).collect(),
            created_at: rows.iter().map(|row| row.created_at).collect(),
        }
    }
}

impl diesel::query_builder::QueryId for LookupsFromArrays<'_> {
    type QueryId = LookupsFromArrays<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for LookupsFromArrays<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::pg::sql_types::Array;
        use diesel::sql_types::{Bool, Bytea, Nullable, Text, Timestamp};
        out.push_sql(
            "INSERT INTO lookups (id, organization_id, fingerprint, receivable_id, purchase_order_id, \
             registered, confirmed, encumbered, created_at) SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.organizations)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bytea>, _>(&self.fingerprints)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.receivables)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.purchase_orders)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bool>, _>(&self.registered)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bool>, _>(&self.confirmed)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bool>, _>(&self.encumbered)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.created_at)?;
        out.push_sql(")");
        Ok(())
    }
}

impl RunQueryDsl<diesel::PgConnection> for LookupsFromArrays<'_> {}

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
