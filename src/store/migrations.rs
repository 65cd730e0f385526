//! Embedded migrations, one folder per backend with identical names.

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConnection;

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

#[derive(Debug, thiserror::Error)]
#[error("database migration failed: {0}")]
pub struct MigrationError(String);

/// Arbitrary but fixed: the PostgreSQL advisory lock that serialises
/// migrations when several server processes start at once.
const MIGRATION_LOCK: i64 = 0x616e_6368_6d69_6772;

/// Applies every pending migration; returns how many ran.
pub fn run_pending(connection: &mut DbConnection) -> Result<usize, MigrationError> {
    let failed = |error: &dyn std::fmt::Display| MigrationError(error.to_string());
    match connection {
        DbConnection::Postgresql(inner) => {
            inner
                .batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .map_err(|error| failed(&error))?;
            let applied = inner.run_pending_migrations(POSTGRES).map(|done| done.len());
            let unlocked = inner.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            let applied = applied.map_err(|error| failed(&*error))?;
            unlocked.map_err(|error| failed(&error))?;
            Ok(applied)
        }
        // One SQLite file has one writer at a time; each migration runs in
        // its own transaction and a second process waits on the busy timeout.
        DbConnection::Sqlite(inner) => inner
            .run_pending_migrations(SQLITE)
            .map(|done| done.len())
            .map_err(|error| failed(&*error)),
    }
}
