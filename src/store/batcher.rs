//! Many writes per commit. Jobs queue here; a few workers each take what is
//! queued (up to a batch), run every job in its own savepoint inside one
//! transaction (a use case's `write_transaction` nests as a savepoint), and
//! commit once. Each job's result is sent only after the commit, so a 2xx
//! still means durable; if the commit fails, every job of the batch is told
//! so and nothing of the batch was written.
//!
//! Batching changes how many commits there are, not what is correct: the use
//! cases' row locks and unique indexes decide races exactly as they do one
//! job per transaction.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

use super::{write_transaction, Database, DbConnection};

/// Why a batched job has no result (the caller answers 503 or 500).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The batch did not commit (or found no connection): nothing of it was
    /// written, and retrying is safe.
    #[error("the change was not committed; retry")]
    NotCommitted,
    #[error("the batch worker stopped")]
    Stopped,
}

type Reply<O> = oneshot::Sender<Result<O, BatchError>>;

/// A handle to the workers. Cheap to clone.
pub struct Batcher<J, O> {
    sender: mpsc::Sender<(J, Reply<O>)>,
}

impl<J, O> Clone for Batcher<J, O> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
        }
    }
}

impl<J: Send + 'static, O: Send + 'static> Batcher<J, O> {
    /// Starts `workers` workers running up to `max_batch` jobs per commit,
    /// in the order of `lock_order` (the same order in every batch, so two
    /// batches waiting for each other's row locks cannot deadlock).
    pub fn spawn(
        database: Database,
        workers: usize,
        max_batch: usize,
        lock_order: fn(&J) -> String,
        run: fn(&mut DbConnection, &J) -> O,
    ) -> Self {
        let max_batch = max_batch.max(1);
        let (sender, receiver) = mpsc::channel::<(J, Reply<O>)>(4 * max_batch * workers.max(1));
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
                    jobs.sort_by_key(|(job, _)| lock_order(job));
                    run_batch(&database, jobs, run).await;
                }
            });
        }
        Self { sender }
    }

    /// Queues one job and waits for its committed result.
    pub async fn run(&self, job: J) -> Result<O, BatchError> {
        let (reply, answer) = oneshot::channel();
        self.sender.send((job, reply)).await.map_err(|_| BatchError::Stopped)?;
        answer.await.map_err(|_| BatchError::Stopped)?
    }
}

async fn run_batch<J: Send + 'static, O: Send + 'static>(
    database: &Database,
    jobs: Vec<(J, Reply<O>)>,
    run: fn(&mut DbConnection, &J) -> O,
) {
    let (jobs, replies): (Vec<J>, Vec<Reply<O>>) = jobs.into_iter().unzip();
    let done = database
        .run(move |connection| {
            write_transaction(connection, |connection| -> Result<Vec<O>, diesel::result::Error> {
                Ok(jobs.iter().map(|job| run(connection, job)).collect())
            })
        })
        .await;
    match done {
        Ok(Ok(results)) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "a batch did not commit");
            for reply in replies {
                let _ = reply.send(Err(BatchError::NotCommitted));
            }
        }
        Err(error) => {
            tracing::warn!(%error, "no connection for a batch");
            for reply in replies {
                let _ = reply.send(Err(BatchError::NotCommitted));
            }
        }
    }
}
