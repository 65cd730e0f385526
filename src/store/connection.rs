//! The database connection: one `MultiConnection` over PostgreSQL and SQLite,
//! the backend chosen from the URL scheme, pooled with r2d2.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use secrecy::{ExposeSecret, SecretString};

/// A connection to either backend. Queries written against the portable
/// `schema.rs` run on both; the few statements that must differ match on
/// the variant.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database a URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgresql,
    Sqlite,
}

/// Where the database lives, parsed once from the configured URL so that a
/// typo is reported as such instead of silently creating a SQLite file.
#[derive(Clone, Debug)]
pub struct DatabaseUrl {
    backend: Backend,
    /// For PostgreSQL the URL as given (it may hold a password); for SQLite
    /// the file path.
    target: SecretString,
}

#[derive(Debug, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error("unsupported database URL scheme {0:?}: use postgres://, postgresql:// or sqlite://")]
    UnsupportedScheme(String),
    #[error("the database URL names no SQLite file")]
    EmptySqlitePath,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, DatabaseUrlError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgresql,
                target: SecretString::from(url.to_owned()),
            });
        }
        let path = if let Some(path) = url.strip_prefix("sqlite://") {
            path
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            path
        } else if let Some((scheme, _)) = url.split_once("://") {
            return Err(DatabaseUrlError::UnsupportedScheme(scheme.to_owned()));
        } else {
            url
        };
        if path.is_empty() {
            return Err(DatabaseUrlError::EmptySqlitePath);
        }
        Ok(Self {
            backend: Backend::Sqlite,
            target: SecretString::from(path.to_owned()),
        })
    }

    /// The embedded default: a SQLite file inside the data directory.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        let path: PathBuf = data_dir.join("anchorfin.db");
        Self {
            backend: Backend::Sqlite,
            target: SecretString::from(path.to_string_lossy().into_owned()),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A description safe to log: the SQLite path, or the PostgreSQL host and
    /// database without credentials.
    pub fn redacted(&self) -> String {
        let target = self.target.expose_secret();
        match self.backend {
            Backend::Sqlite => format!("sqlite://{target}"),
            Backend::Postgresql => {
                let (scheme, rest) = target.split_once("://").unwrap_or(("postgres", target));
                let host_and_path = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
                let host_and_path = host_and_path.split('?').next().unwrap_or(host_and_path);
                format!("{scheme}://{host_and_path}")
            }
        }
    }

    /// Opens one connection on the concrete backend, so that the real error
    /// (wrong password, missing database) reaches the user.
    pub fn establish(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match self.backend {
            Backend::Postgresql => PgConnection::establish(self.target.expose_secret()).map(DbConnection::Postgresql),
            Backend::Sqlite => {
                let mut connection = SqliteConnection::establish(self.target.expose_secret())?;
                configure_sqlite(&mut connection).map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(connection))
            }
        }
    }
}

/// Every SQLite connection: WAL so readers never block the writer,
/// `synchronous = FULL` so that a commit (and so a 2xx) survives power loss,
/// foreign keys on, and a busy timeout so that writers queue instead of failing.
/// The timeout comes first: `journal_mode` itself needs a lock, and without
/// it a connection opened while another process commits failed at once
/// with "database is locked".
fn configure_sqlite(connection: &mut SqliteConnection) -> diesel::QueryResult<()> {
    connection.batch_execute(
        "PRAGMA busy_timeout = 10000;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;",
    )
}

/// r2d2 manager that dispatches on our parsed URL (diesel's own manager goes
/// through `MultiConnection::establish`, which hides the real error).
#[derive(Clone, Debug)]
pub struct Manager {
    url: DatabaseUrl,
    /// The recoveries seen so far ([`super::runner::Health::recoveries`]).
    recoveries: Arc<AtomicU64>,
}

/// A pooled connection, with the number of database recoveries it has
/// lived through: one opened before the last outage is checked before use,
/// so that the first requests after a recovery do not fail on a connection
/// the outage broke.
pub struct Tagged {
    connection: DbConnection,
    recoveries: u64,
}

impl std::ops::Deref for Tagged {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.connection
    }
}

impl std::ops::DerefMut for Tagged {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.connection
    }
}

impl ManageConnection for Manager {
    type Connection = Tagged;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Tagged, r2d2::Error> {
        let connection = self.url.establish().map_err(r2d2::Error::ConnectionError)?;
        Ok(Tagged {
            connection,
            recoveries: self.recoveries.load(Ordering::Acquire),
        })
    }

    /// Free for a connection opened since the last recovery; otherwise a
    /// `SELECT 1` (a broken one is dropped and another opened).
    fn is_valid(&self, tagged: &mut Tagged) -> Result<(), r2d2::Error> {
        let recoveries = self.recoveries.load(Ordering::Acquire);
        if tagged.recoveries == recoveries {
            return Ok(());
        }
        diesel::sql_query("SELECT 1")
            .execute(&mut tagged.connection)
            .map_err(r2d2::Error::QueryError)?;
        tagged.recoveries = recoveries;
        Ok(())
    }

    fn has_broken(&self, tagged: &mut Tagged) -> bool {
        std::thread::panicking()
            || <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(&mut tagged.connection)
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Builds the pool without opening connections up front; the first checkout
/// (the migration at start-up) reports an unreachable database.
/// `recoveries` counts the database's recoveries from outages.
pub fn build_pool(url: &DatabaseUrl, max_size: u32, checkout_timeout: Duration, recoveries: Arc<AtomicU64>) -> Pool {
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(checkout_timeout)
        .test_on_check_out(true)
        .build_unchecked(Manager {
            url: url.clone(),
            recoveries,
        })
}

/// SQLite's writers in this process, served in turn. SQLite has one writer
/// at a time per database, and a writer waiting on the busy timeout only
/// polls (at up to 100 ms intervals): one that commits and begins again at
/// once — an upload's next chunk, say — would win every time and starve
/// the others. Taken before `BEGIN IMMEDIATE` and handed on at the end in
/// arrival order, it makes this process's writers queue fairly; other
/// processes still wait on SQLite's own lock. One gate for every SQLite
/// database of the process (a server has one).
static SQLITE_WRITERS: parking_lot::FairMutex<()> = parking_lot::const_fair_mutex(());

/// A read-write transaction. On SQLite it begins with `BEGIN IMMEDIATE`, so
/// the write lock is taken (waiting on the busy timeout) before anything is
/// read; a deferred transaction that read first could otherwise fail with
/// `SQLITE_BUSY` when it tries to write; and it waits its turn among this
/// process's writers first (`SQLITE_WRITERS`). On PostgreSQL it is a plain
/// `BEGIN` (read committed); correctness there comes from constraints and
/// row locks in the statements themselves.
pub fn write_transaction<T, E, F>(connection: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let nested = matches!(
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(connection)
            .transaction_depth(),
        Ok(Some(_))
    );
    // Held until the transaction ends (the function returns).
    let _turn = match connection {
        DbConnection::Sqlite(_) if !nested => Some(SQLITE_WRITERS.lock()),
        _ => None,
    };
    match connection {
        DbConnection::Sqlite(inner) if !nested => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        _ => <DbConnection as Connection>::TransactionManager::begin_transaction(connection)?,
    }
    match work(connection) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(connection)?;
            Ok(value)
        }
        Err(error) => match <DbConnection as Connection>::TransactionManager::rollback_transaction(connection) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_recognised_and_redacted() {
        let url = DatabaseUrl::parse("postgres://alice:s3cret@db.example:5432/anchorfin?sslmode=require").unwrap();
        assert_eq!(url.backend(), Backend::Postgresql);
        assert_eq!(url.redacted(), "postgres://db.example:5432/anchorfin");
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn sqlite_urls_and_plain_paths_are_sqlite() {
        for raw in ["sqlite:///tmp/a.db", "sqlite:/tmp/a.db", "/tmp/a.db"] {
            assert_eq!(DatabaseUrl::parse(raw).unwrap().backend(), Backend::Sqlite, "{raw}");
        }
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/a.db").unwrap().redacted(),
            "sqlite:///tmp/a.db"
        );
    }

    #[test]
    fn unknown_schemes_are_refused_not_turned_into_files() {
        assert!(matches!(
            DatabaseUrl::parse("mysql://root@localhost/x"),
            Err(DatabaseUrlError::UnsupportedScheme(scheme)) if scheme == "mysql"
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite://"),
            Err(DatabaseUrlError::EmptySqlitePath)
        ));
    }
}
