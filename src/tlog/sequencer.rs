//! The sequencer (as in Trillian): one at a time across all server
//! processes, it takes queued leaves in batches, gives them gap-free
//! indexes, stores every perfect subtree they complete, and signs one tree
//! head per batch — all in one transaction, so a crash leaves either the
//! whole batch or none of it.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use ed25519_dalek::SigningKey;
use tokio::sync::Notify;

use crate::ledger::{self, Checkpoint, Frontier, Hash};
use crate::store::ledger::{self as repository, NodeRow, SequenceRow, TreeHeadRow};
use crate::store::{self, write_transaction, Database, DbConnection};

/// The PostgreSQL advisory lock (transaction-scoped) that elects the one
/// sequencer among all processes sharing the database. On SQLite the
/// `BEGIN IMMEDIATE` write lock does the same.
const SEQUENCER_LOCK: i64 = 0x616e_6368_7365_7100;

#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("stored Merkle nodes are inconsistent with tree size {size}: {detail}")]
    Corrupt { size: u64, detail: String },
    #[error(
        "the log's signing key is now {recorded} (rotated by `anchorfin key rotate`); this process \
         holds {ours} and signs no more tree heads: restart it with the new platform-signing.key"
    )]
    KeyRetired { recorded: String, ours: String },
}

/// Integrates up to `batch_size` queued leaves. Returns the new tree head,
/// or `None` when nothing was queued and a head already exists. Refuses to
/// sign with a key that is not the one recorded for the log: after a
/// rotation, a process still holding the old key signs nothing.
pub fn sequence_batch(
    connection: &mut DbConnection,
    signing_key: &SigningKey,
    origin: &str,
    batch_size: i64,
) -> Result<Option<TreeHeadRow>, SequencerError> {
    write_transaction(connection, |connection| {
        lock(connection)?;
        refuse_retired_key(connection, signing_key)?;
        sequence_queued(connection, signing_key, origin, batch_size)
    })
}

/// Makes this transaction the one sequencer running (PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` does already).
pub(super) fn lock(connection: &mut DbConnection) -> Result<(), diesel::result::Error> {
    if let DbConnection::Postgresql(inner) = connection {
        inner.batch_execute(&format!("SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})"))?;
    }
    Ok(())
}

fn refuse_retired_key(connection: &mut DbConnection, signing_key: &SigningKey) -> Result<(), SequencerError> {
    let ours = signing_key.verifying_key().to_bytes();
    match crate::identity::recorded_signing_key(connection)? {
        Some(recorded) if recorded.as_slice() != ours.as_slice() => Err(SequencerError::KeyRetired {
            recorded: hex::encode(recorded),
            ours: hex::encode(ours),
        }),
        _ => Ok(()),
    }
}

/// [`sequence_batch`] inside the caller's transaction, which holds the
/// sequencer's [`lock`] and has checked the key.
pub(super) fn sequence_queued(
    connection: &mut DbConnection,
    signing_key: &SigningKey,
    origin: &str,
    batch_size: i64,
) -> Result<Option<TreeHeadRow>, SequencerError> {
    let head = repository::latest_tree_head(connection)?;
    let size = head.as_ref().map_or(0, |head| head.tree_size) as u64;
    let queued = repository::queued(connection, batch_size)?;
    if queued.is_empty() && head.is_some() {
        return Ok(None);
    }
    integrate(connection, size, &queued, signing_key, origin).map(Some)
}

/// Gives the `queued` leaves (queue id, leaf hash) the indexes after
/// `size`, stores the perfect subtrees they complete, takes them off the
/// queue and signs the new head, in the caller's transaction.
pub(super) fn integrate(
    connection: &mut DbConnection,
    size: u64,
    queued: &[(i64, Vec<u8>)],
    signing_key: &SigningKey,
    origin: &str,
) -> Result<TreeHeadRow, SequencerError> {
    let mut frontier = load_frontier(connection, size)?;
    let now = store::now();
    let mut sequence = Vec::with_capacity(queued.len());
    let mut nodes = Vec::with_capacity(queued.len() * 2);
    for (offset, (_, leaf_hash)) in queued.iter().enumerate() {
        let leaf: Hash = leaf_hash.as_slice().try_into().map_err(|_| SequencerError::Corrupt {
            size,
            detail: "a queued leaf hash is not 32 bytes".to_owned(),
        })?;
        sequence.push(SequenceRow {
            leaf_index: (size + offset as u64) as i64,
            leaf_hash: leaf_hash.clone(),
            sequenced_at: now,
        });
        let created = frontier.append(leaf).map_err(|error| SequencerError::Corrupt {
            size,
            detail: error.to_string(),
        })?;
        for (node, hash) in created {
            nodes.push(NodeRow {
                level: i16::from(node.level),
                node_index: node.index as i64,
                hash: hash.to_vec(),
            });
        }
    }
    repository::insert_sequence(connection, &sequence)?;
    repository::insert_nodes(connection, &nodes)?;
    let queue_ids: Vec<i64> = queued.iter().map(|(id, _)| *id).collect();
    repository::dequeue(connection, &queue_ids)?;

    let checkpoint = Checkpoint {
        origin: origin.to_owned(),
        size: frontier.size(),
        root_hash: frontier.root(),
        timestamp_ms: chrono::Utc::now().timestamp_millis(),
    };
    let signed = checkpoint.sign(signing_key);
    let row = TreeHeadRow {
        tree_size: checkpoint.size as i64,
        root_hash: checkpoint.root_hash.to_vec(),
        timestamp_ms: checkpoint.timestamp_ms,
        signature: signed.signature.to_vec(),
        checkpoint: signed.note,
    };
    repository::insert_tree_head(connection, &row)?;
    Ok(row)
}

/// Rebuilds the right edge of the tree of `size` leaves from stored nodes.
fn load_frontier(connection: &mut DbConnection, size: u64) -> Result<Frontier, SequencerError> {
    let wanted = ledger::frontier_nodes_for(size);
    let keys: Vec<(i16, i64)> = wanted
        .iter()
        .map(|node| (i16::from(node.level), node.index as i64))
        .collect();
    let rows = repository::nodes(connection, &keys)?;
    let corrupt = |detail: &str| SequencerError::Corrupt {
        size,
        detail: detail.to_owned(),
    };
    let mut hashes = Vec::with_capacity(wanted.len());
    for node in &wanted {
        let row = rows
            .iter()
            .find(|row| row.level == i16::from(node.level) && row.node_index == node.index as i64)
            .ok_or_else(|| corrupt("a frontier node is missing"))?;
        let hash: Hash = row
            .hash
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("a node hash is not 32 bytes"))?;
        hashes.push(hash);
    }
    Frontier::from_nodes(size, hashes).map_err(|error| corrupt(&error.to_string()))
}

/// Wakes the background sequencer after a commit that appended entries.
#[derive(Clone, Default)]
pub struct SequencerHandle {
    wake: Arc<Notify>,
}

impl SequencerHandle {
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Leaves integrated per tree head at most.
pub(super) const BATCH: i64 = 2_000;

/// Runs the sequencer until the returned task is aborted: on every wake-up,
/// and every `poll` (entries appended by other processes, e.g. `anchorfin
/// org add`), it drains the queue in batches. After signing a head it lets
/// entries gather for `gather` before the next one (unless the batch was
/// full), so a busy server signs tens of heads a second, not one per
/// request; an entry still reaches a signed head within about `gather`.
pub fn spawn_sequencer(
    database: Database,
    signing_key: Arc<SigningKey>,
    origin: String,
    poll: Duration,
    gather: Duration,
) -> (SequencerHandle, tokio::task::JoinHandle<()>) {
    let handle = SequencerHandle::default();
    let wake = handle.wake.clone();
    let task = tokio::spawn(async move {
        let mut failures: u32 = 0;
        let mut last_size: Option<i64> = None;
        loop {
            let key = signing_key.clone();
            let batch_origin = origin.clone();
            let outcome = database
                .run(move |connection| sequence_batch(connection, &key, &batch_origin, BATCH))
                .await;
            let pause = match outcome {
                // More may be queued: go again, at once if the batch was full.
                Ok(Ok(Some(head))) => {
                    failures = 0;
                    tracing::debug!(tree_size = head.tree_size, "tree head signed");
                    let full = last_size.is_some_and(|last| head.tree_size - last >= BATCH);
                    last_size = Some(head.tree_size);
                    if !full {
                        tokio::time::sleep(gather).await;
                    }
                    continue;
                }
                Ok(Ok(None)) => {
                    failures = 0;
                    poll
                }
                Ok(Err(error)) => {
                    failures += 1;
                    tracing::error!(%error, "sequencing failed");
                    backoff(failures)
                }
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, "sequencer has no database connection");
                    backoff(failures)
                }
            };
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    });
    (handle, task)
}

fn backoff(failures: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << failures.min(6)))
}
