//! Runs blocking diesel work off the async executor.

use std::time::Duration;

use super::{build_pool, DatabaseUrl, DbConnection, Pool};

/// The pool plus the knowledge of which backend it serves. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    url: DatabaseUrl,
}

/// No connection could be had (database down, pool exhausted past the
/// checkout timeout) or the blocking task died: the caller answers 503/500.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseUnavailable {
    #[error("no database connection: {0}")]
    NoConnection(#[from] diesel::r2d2::PoolError),
    #[error("the database task was cancelled or panicked")]
    TaskFailed,
}

impl Database {
    pub fn new(url: DatabaseUrl, max_connections: u32, checkout_timeout: Duration) -> Self {
        let pool = build_pool(&url, max_connections, checkout_timeout);
        Self { pool, url }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Checks a connection out and runs `work` on the blocking thread pool.
    pub async fn run<T, F>(&self, work: F) -> Result<T, DatabaseUnavailable>
    where
        F: FnOnce(&mut DbConnection) -> T + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = pool.get()?;
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
