//! Runs blocking diesel work off the async executor, and knows whether the
//! database can be written to at all.
//!
//! A request that finds the database known to be down is answered at once
//! (503, nothing attempted) instead of waiting for a connection that will
//! not come. The prober ([`spawn_prober`]) decides what "down" means: every
//! interval it commits a one-row write on a connection of its own, so a
//! full or read-only disk counts as down as much as a stopped server does;
//! its first success brings the database back, and connections opened
//! before the outage are checked before their next use.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::{ExpressionMethods, RunQueryDsl};

use super::{build_pool, write_transaction, DatabaseUrl, DbConnection, Pool, PooledConnection};

/// How long a checkout waits at a time before it looks again whether the
/// database is known to be down.
const CHECKOUT_SLICE: Duration = Duration::from_millis(50);

/// The pool plus the knowledge of which backend it serves and whether it
/// answers. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    url: DatabaseUrl,
    health: Arc<Health>,
    checkout_timeout: Duration,
}

/// What this process knows of its database.
#[derive(Debug, Default)]
pub struct Health {
    down: AtomicBool,
    /// Why it is down, for logs and `/readyz`.
    reason: Mutex<String>,
    /// How many times it came back; pooled connections older than the
    /// last recovery are checked before use.
    recoveries: Arc<AtomicU64>,
}

impl Health {
    /// Why the database is down, or `None` when it is up.
    pub fn down_reason(&self) -> Option<String> {
        if !self.down.load(Ordering::Acquire) {
            return None;
        }
        Some(self.reason.lock().map(|reason| reason.clone()).unwrap_or_default())
    }

    fn mark_down(&self, reason: String) {
        if let Ok(mut current) = self.reason.lock() {
            *current = reason.clone();
        }
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::error!(%reason, "database unavailable: answering 503 until it is back");
        }
    }

    fn mark_up(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            self.recoveries.fetch_add(1, Ordering::AcqRel);
            tracing::info!("database available again");
        }
    }
}

/// No connection could be had, or the blocking task died: the caller
/// answers 503 (nothing was attempted) or 500.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseUnavailable {
    /// The database is known to be down: the request was not attempted.
    #[error("the database is unavailable: {0}")]
    Down(String),
    /// None could be checked out within the checkout timeout (database
    /// down, pool exhausted): the request was not attempted.
    #[error("no database connection: {0}")]
    NoConnection(#[from] diesel::r2d2::PoolError),
    #[error("the database task was cancelled or panicked")]
    TaskFailed,
}

impl Database {
    pub fn new(url: DatabaseUrl, max_connections: u32, checkout_timeout: Duration) -> Self {
        let health = Arc::new(Health::default());
        let pool = build_pool(&url, max_connections, checkout_timeout, health.recoveries.clone());
        Self {
            pool,
            url,
            health,
            checkout_timeout,
        }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Checks a connection out and runs `work` on the blocking thread pool;
    /// answers at once when the database is known to be down.
    pub async fn run<T, F>(&self, work: F) -> Result<T, DatabaseUnavailable>
    where
        F: FnOnce(&mut DbConnection) -> T + Send + 'static,
        T: Send + 'static,
    {
        if let Some(reason) = self.health.down_reason() {
            return Err(DatabaseUnavailable::Down(reason));
        }
        let (pool, health, timeout) = (self.pool.clone(), self.health.clone(), self.checkout_timeout);
        tokio::task::spawn_blocking(move || {
            let mut connection = checkout(&pool, &health, timeout)?;
            Ok(work(&mut connection))
        })
        .await
        .map_err(|_| DatabaseUnavailable::TaskFailed)?
    }

    /// The same, synchronously, for the CLI and start-up.
    pub fn run_blocking<T>(&self, work: impl FnOnce(&mut DbConnection) -> T) -> Result<T, DatabaseUnavailable> {
        let mut connection = self.pool.get()?;
        Ok(work(&mut connection))
    }
}

/// Checks a connection out within `timeout`, but waits no longer than the
/// database is thought to be up: a request already waiting when the prober
/// marks it down (its server killed, a failover) is answered then, not when
/// the whole checkout timeout has passed.
fn checkout(pool: &Pool, health: &Health, timeout: Duration) -> Result<PooledConnection, DatabaseUnavailable> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match pool.get_timeout(left.min(CHECKOUT_SLICE)) {
            Ok(connection) => return Ok(connection),
            Err(error) => {
                if let Some(reason) = health.down_reason() {
                    return Err(DatabaseUnavailable::Down(reason));
                }
                if left <= CHECKOUT_SLICE {
                    health.mark_down(error.to_string());
                    return Err(error.into());
                }
            }
        }
    }
}

/// Commits the one-row write that says the database takes writes.
/// What a probe found.
enum Probed {
    Written,
    /// SQLite's write lock stayed held by another transaction.
    Busy,
}

/// SQLite's "database is locked": another connection holds the write lock.
fn is_sqlite_busy(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(_, info) if info.message().contains("database is locked"))
}

fn probe(connection: &mut DbConnection) -> Result<(), diesel::result::Error> {
    write_transaction(connection, |connection| {
        let written = diesel::update(super::schema::liveness::table)
            .set(super::schema::liveness::probed_at.eq(super::now()))
            .execute(connection)?;
        if written == 1 {
            Ok(())
        } else {
            Err(diesel::result::Error::NotFound)
        }
    })
}

/// Probes the database every `every` on a connection of its own (opened
/// again after any failure), marking it down when a probe fails or takes
/// longer than `timeout`, and up again on the first success.
pub fn spawn_prober(database: Database, every: Duration, timeout: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut own: Option<DbConnection> = None;
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let url = database.url.clone();
            let taken = own.take();
            let busy_wait = timeout / 2;
            let probing = tokio::task::spawn_blocking(move || {
                let mut connection = match taken {
                    Some(connection) => connection,
                    None => {
                        let mut connection = url.establish().map_err(|error| error.to_string())?;
                        // SQLite has one writer at a time: the probe waits for
                        // the write lock less long than it may take in all.
                        if let DbConnection::Sqlite(inner) = &mut connection {
                            diesel::sql_query(format!("PRAGMA busy_timeout = {}", busy_wait.as_millis()))
                                .execute(inner)
                                .map_err(|error| error.to_string())?;
                        }
                        connection
                    }
                };
                match probe(&mut connection) {
                    Ok(()) => Ok((connection, Probed::Written)),
                    // Another transaction holds SQLite's write lock (a long
                    // upload): the database is there, and writes queue.
                    Err(error) if is_sqlite_busy(&error) => Ok((connection, Probed::Busy)),
                    Err(error) => Err(format!("a write to the database failed: {error}")),
                }
            });
            match tokio::time::timeout(timeout, probing).await {
                Ok(Ok(Ok((connection, Probed::Written)))) => {
                    own = Some(connection);
                    database.health.mark_up();
                }
                Ok(Ok(Ok((connection, Probed::Busy)))) => own = Some(connection),
                Ok(Ok(Err(reason))) => database.health.mark_down(reason),
                Ok(Err(_)) => database.health.mark_down("the database probe panicked".to_owned()),
                Err(_) => database
                    .health
                    .mark_down(format!("the database did not answer within {} ms", timeout.as_millis())),
            }
        }
    })
}
