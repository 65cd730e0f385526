//! Many writes per commit. Jobs queue here; a few workers each take what is
//! queued (up to a batch), run every job in its own savepoint inside one
//! transaction (a use case's `write_transaction` nests as a savepoint), and
//! commit once. Each job's result is sent only after the commit, so a 2xx
//! still means durable; if the commit fails, every job of the batch is told
//! so and nothing of the batch was written.
//!
//! A use case may also offer a set-based path for a whole batch (a fixed
//! number of statements instead of several per job). The batch is tried
//! that way first; if that path declines it, or any of its statements fails
//! (a unique index caught a race it did not foresee), its transaction is
//! rolled back and the batch runs job by job as above.
//!
//! Batching changes how many commits there are, not what is correct: the use
//! cases' row locks and unique indexes decide races exactly as they do one
//! job per transaction.
//!
//! A job sent with an Idempotency-Key ([`Keyed`]) claims its key in the
//! batch's transaction before it is decided and stores its answer there
//! after (`store::replays`): the answer commits with the decision, or
//! neither does. A job whose key was answered before is not decided again;
//! its caller gets the stored answer ([`Answered::Replayed`]).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

use super::replays::{self, Claim, Claimed, ReplayRow, StoredAnswer};
use super::{write_transaction, Database, DbConnection};

/// Why a batched job has no result (the caller answers 503 or 500).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The batch found no connection, or failed and rolled back: nothing of
    /// it was written, and retrying is safe.
    #[error("the change was not committed; retry")]
    NotCommitted,
    /// The database went away during the batch: its outcome is unknown
    /// (a commit may have reached the server before the connection broke).
    #[error("the database was lost during the change; its outcome is unknown")]
    OutcomeUnknown,
    #[error("the batch worker stopped")]
    Stopped,
}

type Reply<O> = oneshot::Sender<Result<Answered<O>, BatchError>>;

/// A job's Idempotency-Key, and how its result is answered (`None`: an
/// answer not to keep, such as a failure; the claim is then given up, so a
/// retry runs the job again).
pub struct Keyed<O> {
    pub claim: Claim,
    pub render: fn(&O) -> Option<StoredAnswer>,
}

/// A queued job, its key, and where its result goes.
type Queued<J, O> = (J, Option<Keyed<O>>, Reply<O>);

/// A job's result: decided now, or the stored answer of its key.
#[derive(Debug)]
pub enum Answered<O> {
    Fresh(O),
    Replayed(ReplayRow),
}

/// Runs a whole batch in the caller's transaction: the jobs' results in
/// order, or `None` to decline (the transaction is then rolled back, so
/// whatever it wrote is undone).
pub type BulkFn<J, O> = fn(&mut DbConnection, &[J]) -> Result<Option<Vec<O>>, diesel::result::Error>;

/// How a batch was decided, for the metrics: set-based, or one job at a
/// time because the set-based path declined it, failed, or does not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchPath {
    SetBased,
    Declined,
    AfterFailure,
    OneByOne,
}

impl BatchPath {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchPath::SetBased => "set_based",
            BatchPath::Declined => "declined",
            BatchPath::AfterFailure => "after_failure",
            BatchPath::OneByOne => "one_by_one",
        }
    }
}

/// Told how each committed batch was decided.
pub type BatchObserver = Arc<dyn Fn(BatchPath) + Send + Sync>;

/// Why the set-based path did not commit a batch.
pub(crate) enum Bulk {
    Declined,
    Failed(diesel::result::Error),
}

impl From<diesel::result::Error> for Bulk {
    fn from(error: diesel::result::Error) -> Self {
        Bulk::Failed(error)
    }
}

/// A handle to the workers. Cheap to clone.
pub struct Batcher<J, O> {
    sender: mpsc::Sender<Queued<J, O>>,
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
        bulk: Option<BulkFn<J, O>>,
        observe: BatchObserver,
    ) -> Self {
        let max_batch = max_batch.max(1);
        let (sender, receiver) = mpsc::channel::<Queued<J, O>>(4 * max_batch * workers.max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..workers.max(1) {
            let (database, receiver, observe) = (database.clone(), receiver.clone(), observe.clone());
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
                    // Keys are claimed in the same order too.
                    jobs.sort_by_cached_key(|(job, keyed, _)| {
                        (lock_order(job), keyed.as_ref().map(|keyed| keyed.claim.clone()))
                    });
                    if let Some(path) = run_batch(&database, jobs, run, bulk).await {
                        observe(path);
                    }
                }
            });
        }
        Self { sender }
    }

    /// Queues one job and waits for its committed result.
    pub async fn run(&self, job: J) -> Result<O, BatchError> {
        match self.run_keyed(job, None).await? {
            Answered::Fresh(result) => Ok(result),
            // Only a keyed job has a stored answer.
            Answered::Replayed(_) => Err(BatchError::Stopped),
        }
    }

    /// Queues one job with its Idempotency-Key (if it has one) and waits
    /// for its committed result, or its key's stored answer.
    pub async fn run_keyed(&self, job: J, keyed: Option<Keyed<O>>) -> Result<Answered<O>, BatchError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send((job, keyed, reply))
            .await
            .map_err(|_| BatchError::Stopped)?;
        answer.await.map_err(|_| BatchError::Stopped)?
    }
}

/// Claims every key of a set-based batch; `false` if any was answered
/// before (the batch then runs job by job, where that job is answered from
/// its record).
fn claim_all<O>(connection: &mut DbConnection, keys: &[Option<Keyed<O>>]) -> Result<bool, diesel::result::Error> {
    for keyed in keys.iter().flatten() {
        if let Claimed::Answered(_) = replays::claim(connection, &keyed.claim)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Stores a decided job's answer under its claimed key, or gives the claim
/// up when the answer is not one to keep.
fn settle<O>(connection: &mut DbConnection, keyed: Option<&Keyed<O>>, result: &O) -> Result<(), diesel::result::Error> {
    let Some(keyed) = keyed else { return Ok(()) };
    match (keyed.render)(result) {
        Some(answer) => replays::answer(connection, &keyed.claim, &answer),
        None => replays::release(connection, &keyed.claim),
    }
}

/// One job in its own savepoint: its key claimed, the job decided (or its
/// stored answer found), the answer stored.
fn run_one<J, O>(
    connection: &mut DbConnection,
    job: &J,
    keyed: Option<&Keyed<O>>,
    run: fn(&mut DbConnection, &J) -> O,
) -> Result<Answered<O>, diesel::result::Error> {
    write_transaction(connection, |connection| {
        if let Some(keyed) = keyed {
            if let Claimed::Answered(row) = replays::claim(connection, &keyed.claim)? {
                return Ok(Answered::Replayed(row));
            }
        }
        let result = run(connection, job);
        settle(connection, keyed, &result)?;
        Ok(Answered::Fresh(result))
    })
}

async fn run_batch<J: Send + 'static, O: Send + 'static>(
    database: &Database,
    queued: Vec<Queued<J, O>>,
    run: fn(&mut DbConnection, &J) -> O,
    bulk: Option<BulkFn<J, O>>,
) -> Option<BatchPath> {
    let mut jobs = Vec::with_capacity(queued.len());
    let mut keys = Vec::with_capacity(queued.len());
    let mut replies = Vec::with_capacity(queued.len());
    for (job, keyed, reply) in queued {
        jobs.push(job);
        keys.push(keyed);
        replies.push(reply);
    }
    let done = database
        .run(move |connection| {
            let mut path = BatchPath::OneByOne;
            if let Some(bulk) = bulk {
                let attempt = write_transaction(connection, |connection| -> Result<Vec<Answered<O>>, Bulk> {
                    if !claim_all(connection, &keys)? {
                        return Err(Bulk::Declined);
                    }
                    let results = bulk(connection, &jobs)?.ok_or(Bulk::Declined)?;
                    for (keyed, result) in keys.iter().zip(&results) {
                        settle(connection, keyed.as_ref(), result)?;
                    }
                    Ok(results.into_iter().map(Answered::Fresh).collect())
                });
                path = match attempt {
                    Ok(results) => return Ok((results, BatchPath::SetBased)),
                    Err(Bulk::Declined) => BatchPath::Declined,
                    // A race the set-based path did not foresee is expected
                    // now and then; anything else says the fast path broke.
                    Err(Bulk::Failed(error)) if super::is_retryable_conflict(&error) => {
                        tracing::debug!(%error, "a batch runs again job by job");
                        BatchPath::AfterFailure
                    }
                    Err(Bulk::Failed(error)) => {
                        tracing::warn!(%error, "a set-based batch failed; it runs again job by job");
                        BatchPath::AfterFailure
                    }
                };
            }
            write_transaction(
                connection,
                |connection| -> Result<Vec<Answered<O>>, diesel::result::Error> {
                    jobs.iter()
                        .zip(&keys)
                        .map(|(job, keyed)| run_one(connection, job, keyed.as_ref(), run))
                        .collect()
                },
            )
            .map(|results| (results, path))
        })
        .await;
    match done {
        Ok(Ok((results, path))) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
            return Some(path);
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "a batch did not commit");
            let lost = super::is_connection_lost(&error);
            for reply in replies {
                let _ = reply.send(Err(if lost {
                    BatchError::OutcomeUnknown
                } else {
                    BatchError::NotCommitted
                }));
            }
        }
        Err(error) => {
            tracing::warn!(%error, "no connection for a batch");
            for reply in replies {
                let _ = reply.send(Err(BatchError::NotCommitted));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;

    use super::*;
    use crate::store::DatabaseUrl;

    type Out = Result<&'static str, String>;

    fn insert(connection: &mut DbConnection, value: i64) -> Result<usize, diesel::result::Error> {
        diesel::sql_query("INSERT INTO t (v) VALUES ($1)")
            .bind::<BigInt, _>(value)
            .execute(connection)
    }

    /// One job at a time.
    fn one(connection: &mut DbConnection, job: &i64) -> Out {
        write_transaction(connection, |connection| insert(connection, *job))
            .map(|_| "alone")
            .map_err(|error| error.to_string())
    }

    /// The whole batch: declines a batch holding 7; writes every job, then
    /// fails, for a batch holding 13.
    fn all(connection: &mut DbConnection, jobs: &[i64]) -> Result<Option<Vec<Out>>, diesel::result::Error> {
        if jobs.contains(&7) {
            return Ok(None);
        }
        for job in jobs {
            insert(connection, *job)?;
        }
        if jobs.contains(&13) {
            return Err(diesel::result::Error::RollbackTransaction);
        }
        Ok(Some(jobs.iter().map(|_| Ok("together")).collect()))
    }

    async fn batch(database: &Database, jobs: &[i64]) -> (BatchPath, Vec<Out>) {
        let mut queued = Vec::new();
        let mut answers = Vec::new();
        for job in jobs {
            let (reply, answer) = oneshot::channel();
            queued.push((*job, None, reply));
            answers.push(answer);
        }
        let path = run_batch(database, queued, one, Some(all)).await.expect("committed");
        let mut results = Vec::new();
        for answer in answers {
            match answer.await.unwrap().unwrap() {
                Answered::Fresh(result) => results.push(result),
                Answered::Replayed(row) => panic!("an unkeyed job was replayed: {row:?}"),
            }
        }
        (path, results)
    }

    async fn stored(database: &Database) -> Vec<i64> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            v: i64,
        }
        database
            .run(|connection| diesel::sql_query("SELECT v FROM t ORDER BY v").load::<Row>(connection))
            .await
            .unwrap()
            .unwrap()
            .into_iter()
            .map(|row| row.v)
            .collect()
    }

    #[tokio::test]
    async fn a_failed_or_declined_set_based_batch_runs_again_job_by_job() {
        let directory = tempfile::tempdir().unwrap();
        let database = Database::new(
            DatabaseUrl::sqlite_in(directory.path()),
            2,
            std::time::Duration::from_secs(5),
        );
        database
            .run(|connection| connection.batch_execute("CREATE TABLE t (v BIGINT PRIMARY KEY)"))
            .await
            .unwrap()
            .unwrap();

        let together = vec![Ok("together"), Ok("together")];
        let alone = vec![Ok("alone"), Ok("alone")];
        assert_eq!(batch(&database, &[1, 2]).await, (BatchPath::SetBased, together));
        assert_eq!(batch(&database, &[7, 8]).await, (BatchPath::Declined, alone.clone()));
        // The failed attempt's writes were rolled back: had they stayed, the
        // jobs' own inserts would hit the primary key.
        assert_eq!(batch(&database, &[13, 14]).await, (BatchPath::AfterFailure, alone));
        assert_eq!(stored(&database).await, [1, 2, 7, 8, 13, 14]);
    }
}
