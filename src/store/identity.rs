//! The platform's identity in the database: the public signing key and the
//! fingerprint key's check value every process must share, and the one-time
//! re-keying of fingerprints stored before they were keyed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{alerts, lookups, platform_identity, purchase_orders, receivables};
use super::DbConnection;

pub fn find(connection: &mut DbConnection, name: &str) -> QueryResult<Option<Vec<u8>>> {
    super::unique_row(
        platform_identity::table.find(name).select(platform_identity::value),
        connection,
    )
}

pub fn insert(connection: &mut DbConnection, name: &str, value: &[u8], now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(platform_identity::table)
        .values((
            platform_identity::name.eq(name),
            platform_identity::value.eq(value),
            platform_identity::set_at.eq(now),
        ))
        .execute(connection)
        .map(|_| ())
}

/// Replaces a recorded value (the signing key, when the log is rotated
/// to a new one).
pub fn update(connection: &mut DbConnection, name: &str, value: &[u8], now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(platform_identity::table.find(name))
        .set((platform_identity::value.eq(value), platform_identity::set_at.eq(now)))
        .execute(connection)
}

/// Serialises the identity check across processes starting together
/// (PostgreSQL; SQLite's write transaction does already).
pub fn lock(connection: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgresql(inner) = connection {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7020960393150001)").execute(inner)?;
    }
    Ok(())
}

/// Replaces every stored fingerprint `f` by `rekey(f)`; returns how many.
pub fn rekey_fingerprints(
    connection: &mut DbConnection,
    rekey: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> QueryResult<usize> {
    let mut changed = 0;
    let rows: Vec<(String, Vec<u8>)> = receivables::table
        .select((receivables::id, receivables::fingerprint))
        .load(connection)?;
    for (id, fingerprint) in rows {
        if let Some(stored) = rekey(&fingerprint) {
            changed += diesel::update(receivables::table.find(id))
                .set(receivables::fingerprint.eq(stored))
                .execute(connection)?;
        }
    }
    let rows: Vec<(String, Vec<u8>)> = purchase_orders::table
        .select((purchase_orders::id, purchase_orders::fingerprint))
        .load(connection)?;
    for (id, fingerprint) in rows {
        if let Some(stored) = rekey(&fingerprint) {
            changed += diesel::update(purchase_orders::table.find(id))
                .set(purchase_orders::fingerprint.eq(stored))
                .execute(connection)?;
        }
    }
    let rows: Vec<(String, Option<Vec<u8>>)> = alerts::table
        .filter(alerts::fingerprint.is_not_null())
        .select((alerts::id, alerts::fingerprint))
        .load(connection)?;
    for (id, fingerprint) in rows {
        if let Some(stored) = fingerprint.as_deref().and_then(rekey) {
            changed += diesel::update(alerts::table.find(id))
                .set(alerts::fingerprint.eq(stored))
                .execute(connection)?;
        }
    }
    let rows: Vec<(String, Vec<u8>)> = lookups::table
        .select((lookups::id, lookups::fingerprint))
        .load(connection)?;
    for (id, fingerprint) in rows {
        if let Some(stored) = rekey(&fingerprint) {
            changed += diesel::update(lookups::table.find(id))
                .set(lookups::fingerprint.eq(stored))
                .execute(connection)?;
        }
    }
    Ok(changed)
}
