//! Deciding many financing requests per commit (docs/PRODUCT.md §9's second
//! target), through the generic [`Batcher`]: a batch of asset targets is
//! decided set-based ([`decide_many`]); otherwise, or when that fails, each
//! decision runs in its own savepoint with its ledger entry, alert and
//! idempotency record, exactly as [`finance`] does alone, in asset-id order.
//! Callers are authenticated in the batch's transaction too, all of a
//! batch's keys in one query.

use super::decide::{finance, Decision, FinanceRequest};
use super::set_based::decide_many;
use crate::store::batcher::{BatchObserver, Batcher};
use crate::store::{Database, DbConnection};

/// A financing request and the caller's bearer token (authenticated when
/// the request is decided).
#[derive(Clone)]
pub struct FinanceJob {
    pub token: String,
    pub request: FinanceRequest,
}

type Decided = Result<Decision, diesel::result::Error>;

/// Pledges and assignments, decided many per commit.
pub type FinanceBatcher = Batcher<FinanceJob, Decided>;

fn lock_order(job: &FinanceJob) -> String {
    job.request.subject.id().to_string()
}

fn decide(connection: &mut DbConnection, job: &FinanceJob) -> Decided {
    finance(connection, &job.token, &job.request)
}

fn decide_batch(
    connection: &mut DbConnection,
    jobs: &[FinanceJob],
) -> Result<Option<Vec<Decided>>, diesel::result::Error> {
    Ok(decide_many(connection, jobs)?.map(|decisions| decisions.into_iter().map(Ok).collect()))
}

pub fn spawn_finance_batcher(
    database: Database,
    workers: usize,
    max_batch: usize,
    observe: BatchObserver,
) -> FinanceBatcher {
    Batcher::spawn(
        database,
        workers,
        max_batch,
        lock_order,
        decide,
        Some(decide_batch),
        observe,
    )
}
