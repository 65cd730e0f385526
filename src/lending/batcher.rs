//! Deciding many financing requests per commit (SPEC section 9's second
//! target). Requests queue here; a few workers each take what is queued (up
//! to a batch), decide every request in its own savepoint inside one
//! transaction — with its ledger entry, alert and idempotency record, as
//! [`finance`] does alone — and commit once. Answers are sent only after the
//! commit, so a 2xx still means durable; if the commit fails, every request
//! of the batch gets the error and nothing of it was written.
//!
//! Correctness does not depend on the batching: each decision takes the
//! asset's row lock and the partial unique index still decides races, across
//! batches, workers and server processes.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

use super::decide::{finance, FinanceRequest};
use super::outcome::Outcome;
use crate::store::{write_transaction, Database};

/// Why a batched request has no decision (the caller answers 503 or 500).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The decision failed on its own (its savepoint was rolled back).
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// The batch did not commit (or found no connection): nothing of it was
    /// written, and a retry with the same Idempotency-Key is safe.
    #[error("the decision was not committed; retry with the same Idempotency-Key")]
    NotCommitted,
    #[error("the decision worker stopped")]
    Stopped,
}

struct Job {
    bank_id: String,
    request: FinanceRequest,
    reply: oneshot::Sender<Result<Outcome, BatchError>>,
}

/// A handle to the decision workers. Cheap to clone.
#[derive(Clone)]
pub struct FinanceBatcher {
    sender: mpsc::Sender<Job>,
}

impl FinanceBatcher {
    /// Starts `workers` workers deciding up to `max_batch` requests per commit.
    pub fn spawn(database: Database, workers: usize, max_batch: usize) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>(4 * max_batch.max(1) * workers.max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..workers.max(1) {
            let (database, receiver) = (database.clone(), receiver.clone());
            tokio::spawn(async move {
                loop {
                    let mut jobs = Vec::with_capacity(max_batch);
                    {
                        let mut receiver = receiver.lock().await;
                        match receiver.recv().await {
                            Some(job) => jobs.push(job),
                            None => return,
                        }
                        while jobs.len() < max_batch {
                            match receiver.try_recv() {
                                Ok(job) => jobs.push(job),
                                Err(_) => break,
                            }
                        }
                    }
                    decide_batch(&database, jobs).await;
                }
            });
        }
        Self { sender }
    }

    /// Queues one request and waits for its committed decision.
    pub async fn decide(&self, bank_id: String, request: FinanceRequest) -> Result<Outcome, BatchError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Job {
                bank_id,
                request,
                reply,
            })
            .await
            .map_err(|_| BatchError::Stopped)?;
        answer.await.map_err(|_| BatchError::Stopped)?
    }
}

async fn decide_batch(database: &Database, mut jobs: Vec<Job>) {
    // Every batch takes its asset row locks in the same (id) order, so two
    // batches racing for the same assets wait for each other but never
    // deadlock.
    jobs.sort_by_key(|job| job.request.target.id());
    let (requests, replies): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .map(|job| ((job.bank_id, job.request), job.reply))
        .unzip();
    let decided = database
        .run(move |connection| {
            write_transaction(connection, |connection| -> Result<_, diesel::result::Error> {
                // Each decision runs in its own savepoint (a nested
                // write_transaction); one that fails leaves the others.
                Ok(requests
                    .iter()
                    .map(|(bank_id, request)| finance(connection, bank_id, request))
                    .collect::<Vec<_>>())
            })
        })
        .await;
    match decided {
        Ok(Ok(outcomes)) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(outcome.map_err(BatchError::from));
            }
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "a batch of decisions did not commit");
            for reply in replies {
                let _ = reply.send(Err(BatchError::NotCommitted));
            }
        }
        Err(error) => {
            tracing::warn!(%error, "no connection for a batch of decisions");
            for reply in replies {
                let _ = reply.send(Err(BatchError::NotCommitted));
            }
        }
    }
}
