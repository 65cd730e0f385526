//! Storage: the diesel `MultiConnection`, the pool, migrations and the
//! repository functions. Repository functions take `&mut DbConnection` and
//! return `diesel::QueryResult`; the use case decides where a transaction
//! begins and ends.

/// Inserts many rows of one table with as few statements as the backend
/// allows (`MultiConnection` cannot express multi-row inserts itself).
macro_rules! insert_many {
    ($connection:expr, $table:expr, $rows:expr) => {{
        let mut inserted = 0;
        for chunk in $rows.chunks(500) {
            inserted += match $connection {
                DbConnection::Postgresql(inner) => diesel::insert_into($table).values(chunk).execute(inner)?,
                DbConnection::Sqlite(inner) => diesel::insert_into($table).values(chunk).execute(inner)?,
            };
        }
        Ok::<usize, diesel::result::Error>(inserted)
    }};
}

#[macro_use]
mod arrays;
#[macro_use]
pub(crate) mod json_in;

pub mod alerts;
pub mod batcher;
mod connection;
pub mod documents;
pub mod identity;
pub mod ledger;
pub mod lending;
pub mod lookups;
pub mod migrations;
pub mod offers;
pub mod organizations;
pub mod portal_sessions;
pub mod registry;
mod replanned;
pub mod replays;
mod runner;
pub mod schema;
pub mod witnesses;

pub use connection::{
    build_pool, write_transaction, Backend, DatabaseUrl, DatabaseUrlError, DbConnection, Pool, PooledConnection,
};
pub use replanned::Replanned;
pub use runner::{spawn_prober, Database, DatabaseUnavailable, Health};

/// The row a query on a unique key finds, if any: `.first()` without its
/// `LIMIT ?`. SQLite re-prepares a statement whose limit is a bound
/// parameter every time it runs (its planner may use the bound value),
/// which cost a request tens of thousands of instructions for nothing
/// where at most one row can match (docs/BENCHMARKS.md, "Instructions per
/// request").
pub fn unique_row<'query, Q, U>(query: Q, connection: &mut DbConnection) -> diesel::QueryResult<Option<U>>
where
    Q: diesel::RunQueryDsl<DbConnection> + diesel::query_dsl::LoadQuery<'query, DbConnection, U>,
{
    Ok(query.load::<U>(connection)?.into_iter().next())
}

/// Times are UTC with microsecond precision, set by the application:
/// SQLite's `CURRENT_TIMESTAMP` has whole seconds and PostgreSQL's
/// `TIMESTAMP` keeps microseconds, so truncating here makes both backends
/// return exactly what was written.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now();
    let micros = now.timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or(now)
        .naive_utc()
}

/// Whether a diesel error is a unique-constraint violation.
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Whether a transaction lost a race it can simply run again: a racing
/// twin won at a unique index (the rerun sees it and answers accordingly),
/// or PostgreSQL broke a deadlock by failing this statement.
pub fn is_retryable_conflict(error: &diesel::result::Error) -> bool {
    is_unique_violation(error)
        || matches!(
            error,
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::SerializationFailure, _)
        )
        || matches!(error, diesel::result::Error::DatabaseError(_, info) if info.message().contains("deadlock detected"))
}

/// Whether a diesel error means the database went away or refuses writes
/// (a full or read-only disk, a standby): the request may be retried later,
/// 503 rather than 500.
pub fn is_connection_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("terminating connection")
                || message.contains("server closed the connection")
                || message.contains("no connection to the server")
                // SQLite: SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR.
                || message.contains("database or disk is full")
                || message.contains("readonly database")
                || message.contains("disk I/O error")
                // PostgreSQL: no space for a file or its WAL, a standby.
                || message.contains("No space left on device")
                || message.contains("could not extend file")
                || message.contains("read-only transaction")
                || message.contains("does not exist") && message.contains("database")
        }
        _ => false,
    }
}

/// RFC 3339 in UTC with microseconds, as every API time is written.
pub fn format_time(time: chrono::NaiveDateTime) -> String {
    time.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
