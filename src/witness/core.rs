//! The add-checkpoint decision (C2SP `tlog-witness`), made and persisted
//! under one lock: a checkpoint is cosigned only if it is signed by the
//! log, consistent with the latest one this witness cosigned and — with a
//! mirror — only once every entry up to its size is fetched, checked and
//! found to hash to its root. The checkpoint and the entries are stored in
//! one SQLite IMMEDIATE transaction before the cosignature is answered.
//! A submission inconsistent with what was cosigned is kept as evidence,
//! and mailed to the bank's risk officers through the outbox in the same
//! transaction.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use diesel::sqlite::SqliteConnection;
use ed25519_dalek::SigningKey;
use serde_json::json;
use tokio::sync::Mutex;

use super::mirror::{MirrorClient, Replay, Unavailable};
use super::protocol::AddCheckpoint;
use super::store::{self, EntryRow, NewCosigned, NewEvidence, NewMail};
use crate::ledger::{self, cosign, open_checkpoint, Checkpoint, CheckpointError, Hash, VerifierKey};

/// The alert kind of a witness's e-mails.
pub const ALERT_KIND: &str = "log_inconsistency";

/// Who the witness is and whom it trusts.
pub struct Identity {
    pub name: String,
    pub key: SigningKey,
    /// The log's verifier key (type 0x01): its name is the log's origin.
    pub log: VerifierKey,
    /// Risk officers to e-mail about evidence.
    pub alert_to: Vec<String>,
}

/// The answer to an add-checkpoint request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200: our cosignature line(s).
    Cosigned(String),
    /// 400.
    Malformed(String),
    /// 403.
    Unsigned(String),
    /// 404.
    UnknownOrigin(String),
    /// 409 with our latest cosigned size.
    Conflict(u64),
    /// 422.
    Unprovable(String),
    /// 503: the platform's entries could not be fetched; the log retries.
    Unavailable(String),
}

/// The latest cosigned checkpoint, in memory.
#[derive(Debug, Clone)]
struct Latest {
    size: u64,
    root: Hash,
    /// The note with our cosignature.
    cosigned_note: String,
}

/// What the lock guards.
struct State {
    connection: SqliteConnection,
    latest: Option<Latest>,
    /// The copy of the log, when mirroring: its replay state and leaf
    /// hashes (to recompute the root at any smaller size).
    replay: Replay,
    leaves: Vec<Hash>,
}

pub struct Witness {
    identity: Identity,
    mirror: Option<MirrorClient>,
    state: Mutex<State>,
}

/// A failure to read or write the witness's own database: 500.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("the witness database failed: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("the witness's copy of the log does not check out: {0}")]
    Copy(String),
}

fn to_hash(bytes: &[u8]) -> Result<Hash, WitnessError> {
    Hash::try_from(bytes).map_err(|_| WitnessError::Copy("a stored hash is not 32 bytes".to_owned()))
}

/// A stored entry as the platform served it, to replay it again.
pub fn served(row: &EntryRow) -> serde_json::Value {
    json!({
        "index": row.entry_index,
        "leaf_hash": hex::encode(&row.leaf_hash),
        "kind": row.kind,
        "entry": hex::encode(&row.entry),
        "details": row.details.as_deref().and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok()),
    })
}

impl Witness {
    /// Loads the state: the latest cosigned checkpoint and the copy of the
    /// log, every stored entry checked again.
    pub fn load(
        identity: Identity,
        mirror: Option<MirrorClient>,
        mut connection: SqliteConnection,
    ) -> Result<Self, WitnessError> {
        let latest = match store::latest_cosigned(&mut connection)? {
            Some(row) => Some(Latest {
                size: u64::try_from(row.tree_size).unwrap_or_default(),
                root: to_hash(&row.root_hash)?,
                cosigned_note: format!("{}{}", row.note, row.cosignature),
            }),
            None => None,
        };
        let mut replay = Replay::default();
        let mut leaves = Vec::new();
        let origin = identity.log.name.clone();
        for row in store::all_entries(&mut connection)? {
            let checked = replay
                .push(&served(&row), &origin)
                .map_err(|failure| WitnessError::Copy(failure.reason))?;
            leaves.push(checked.leaf);
        }
        if let Some(latest) = &latest {
            if leaves.len() as u64 == latest.size && replay.frontier.root() != latest.root {
                return Err(WitnessError::Copy(
                    "the stored entries do not hash to the latest cosigned root".to_owned(),
                ));
            }
        }
        Ok(Self {
            identity,
            mirror,
            state: Mutex::new(State {
                connection,
                latest,
                replay,
                leaves,
            }),
        })
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Handles one add-checkpoint request body.
    pub async fn add_checkpoint(&self, body: &str) -> Result<Outcome, WitnessError> {
        let request = match AddCheckpoint::parse(body) {
            Ok(request) => request,
            Err(error) => return Ok(Outcome::Malformed(error.to_string())),
        };
        let origin = &self.identity.log.name;
        let first_line = request.note.split('\n').next().unwrap_or_default();
        if first_line != origin {
            return Ok(Outcome::UnknownOrigin(format!("unknown log origin {first_line:?}")));
        }
        let checkpoint = match open_checkpoint(&request.note, origin, &self.identity.log.key) {
            Ok(checkpoint) => checkpoint,
            Err(error @ (CheckpointError::Malformed(_) | CheckpointError::NoSignatures)) => {
                return Ok(Outcome::Malformed(error.to_string()))
            }
            Err(error) => return Ok(Outcome::Unsigned(format!("not signed by the log's key: {error}"))),
        };
        if request.old_size > checkpoint.size {
            return Ok(Outcome::Malformed(
                "the old size is larger than the checkpoint's".to_owned(),
            ));
        }

        // One submission at a time, from the check to the commit.
        let mut state = self.state.lock().await;
        let (stored_size, stored_root) = state
            .latest
            .as_ref()
            .map_or((0, ledger::empty_root()), |latest| (latest.size, latest.root));

        if request.old_size != stored_size {
            // Stale, or another history: only the latter is evidence.
            if let Some(known) = tokio::task::block_in_place(|| state.root_at(checkpoint.size))? {
                if known != checkpoint.root_hash {
                    let reason = format!(
                        "split view: the log signed size {} with another root than this witness holds for it",
                        checkpoint.size
                    );
                    self.record_evidence(&mut state, &request, &checkpoint, &reason)?;
                }
            }
            return Ok(Outcome::Conflict(stored_size));
        }
        if checkpoint.size == stored_size {
            if checkpoint.root_hash != stored_root {
                let reason = format!(
                    "split view: the log signed size {} with a root other than the one this witness cosigned",
                    checkpoint.size
                );
                self.record_evidence(&mut state, &request, &checkpoint, &reason)?;
                return Ok(Outcome::Conflict(stored_size));
            }
            if !request.proof.is_empty() {
                return Ok(Outcome::Malformed(
                    "a checkpoint of the old size needs no consistency proof".to_owned(),
                ));
            }
        } else if stored_size == 0 {
            if !request.proof.is_empty() {
                return Ok(Outcome::Malformed(
                    "a checkpoint extending the empty tree needs no consistency proof".to_owned(),
                ));
            }
        } else if let Err(error) = ledger::verify_consistency(
            stored_size,
            checkpoint.size,
            &stored_root,
            &checkpoint.root_hash,
            &request.proof,
        ) {
            let reason = format!(
                "the consistency proof from size {stored_size} to {} does not verify: {error}",
                checkpoint.size
            );
            self.record_evidence(&mut state, &request, &checkpoint, &reason)?;
            return Ok(Outcome::Unprovable(reason));
        }

        // The mirror: every entry up to the new size, checked, must hash to its root.
        let mut extended = state.replay.clone();
        let mut rows = Vec::new();
        let mut new_leaves = Vec::new();
        if let Some(mirror) = &self.mirror {
            let start = extended.frontier.size();
            let served = match mirror.fetch(start, checkpoint.size).await {
                Ok(served) => served,
                Err(Unavailable(reason)) => return Ok(Outcome::Unavailable(reason)),
            };
            for entry in &served {
                match extended.push(entry, origin) {
                    Ok(checked) => {
                        new_leaves.push(checked.leaf);
                        rows.push(entry_row(entry, &checked));
                    }
                    Err(failure) => {
                        let reason = format!("the platform's entries do not check out: {}", describe(&failure));
                        self.record_evidence(&mut state, &request, &checkpoint, &reason)?;
                        return Ok(Outcome::Unprovable(reason));
                    }
                }
            }
            if extended.frontier.root() != checkpoint.root_hash {
                let reason = format!(
                    "the platform's entries up to size {} do not hash to the signed root",
                    checkpoint.size
                );
                self.record_evidence(&mut state, &request, &checkpoint, &reason)?;
                return Ok(Outcome::Unprovable(reason));
            }
        }

        // Cosign, persist, then answer.
        let timestamp = chrono::Utc::now().timestamp().max(0) as u64;
        let line = cosign(&self.identity.name, &self.identity.key, &checkpoint.text(), timestamp);
        tokio::task::block_in_place(|| {
            state.connection.immediate_transaction(|connection| {
                store::insert_entries(connection, &rows)?;
                store::insert_cosigned(
                    connection,
                    &NewCosigned {
                        origin,
                        tree_size: checkpoint.size as i64,
                        root_hash: &checkpoint.root_hash,
                        note: &request.note,
                        cosignature: &line,
                        cosigned_at: crate::store::now(),
                    },
                )
            })
        })?;
        state.latest = Some(Latest {
            size: checkpoint.size,
            root: checkpoint.root_hash,
            cosigned_note: format!("{}{line}", request.note),
        });
        state.replay = extended;
        state.leaves.extend(new_leaves);
        Ok(Outcome::Cosigned(line))
    }

    /// Keeps the refused submission and queues one e-mail per risk officer,
    /// in one transaction (off the executor's task) — once per offending
    /// signed note, however often it is submitted.
    fn record_evidence(
        &self,
        state: &mut State,
        request: &AddCheckpoint,
        checkpoint: &Checkpoint,
        reason: &str,
    ) -> Result<(), WitnessError> {
        let conflicting = state.latest.as_ref().map(|latest| latest.cosigned_note.clone());
        let (our_size, our_root) = state
            .latest
            .as_ref()
            .map_or((0, ledger::empty_root()), |latest| (latest.size, latest.root));
        let origin = &self.identity.log.name;
        let now = crate::store::now();
        let subject = format!(
            "[Anchorfin witness {}] log_inconsistency: {origin} signed size {} root {}",
            self.identity.name,
            checkpoint.size,
            hex::encode(checkpoint.root_hash)
        );
        let body = format!(
            "The log {origin} submitted a checkpoint that is inconsistent with what this witness ({}) cosigned.\n\n\
             Reason: {reason}\n\n\
             Submitted: size {} root {} (base64 {}), old size {}\n\
             Cosigned by this witness: size {our_size} root {} (base64 {})\n\n\
             The witness refused it and kept the note and its proof as evidence \
             (GET /evidence on the witness, or its database).\n",
            self.identity.name,
            checkpoint.size,
            hex::encode(checkpoint.root_hash),
            STANDARD.encode(checkpoint.root_hash),
            request.old_size,
            hex::encode(our_root),
            STANDARD.encode(our_root),
        );
        let recipients = &self.identity.alert_to;
        let proof = request.proof_lines();
        let transaction = |connection: &mut SqliteConnection| -> Result<(), WitnessError> {
            // A log that submits the same signed note again (its submitter
            // retries) adds nothing: it was kept, and the officers told, once.
            if store::evidence_exists(connection, &request.note)? {
                return Ok(());
            }
            let evidence_id = store::insert_evidence(
                connection,
                &NewEvidence {
                    origin,
                    reason,
                    note: &request.note,
                    old_size: request.old_size as i64,
                    proof: &proof,
                    conflicting_note: conflicting.as_deref(),
                    recorded_at: now,
                },
            )?;
            for recipient in recipients {
                let message_id = format!(
                    "<witness-evidence-{evidence_id}-{}@anchorfin>",
                    uuid::Uuid::new_v4().simple()
                );
                store::insert_mail(
                    connection,
                    &NewMail {
                        evidence_id,
                        kind: ALERT_KIND,
                        recipient,
                        message_id: &message_id,
                        subject: &subject,
                        body: &body,
                        next_attempt_at: now,
                        created_at: now,
                    },
                )?;
            }
            Ok(())
        };
        tokio::task::block_in_place(|| state.connection.immediate_transaction(transaction))?;
        tracing::warn!(%origin, size = checkpoint.size, %reason, "refused an inconsistent checkpoint; evidence kept");
        Ok(())
    }

    /// The latest cosigned note with our cosignature.
    pub async fn latest_note(&self) -> Option<String> {
        self.state
            .lock()
            .await
            .latest
            .as_ref()
            .map(|latest| latest.cosigned_note.clone())
    }
}

impl State {
    /// The root this witness knows for `size`: from its copy of the log, or
    /// from a checkpoint it cosigned at that size.
    fn root_at(&mut self, size: u64) -> Result<Option<Hash>, WitnessError> {
        if let Some(leaves) = self.leaves.get(..size as usize) {
            return Ok(Some(ledger::root_from_leaf_hashes(leaves)));
        }
        match store::cosigned_at_size(&mut self.connection, size as i64)? {
            Some(row) => Ok(Some(to_hash(&row.root_hash)?)),
            None => Ok(None),
        }
    }
}

fn describe(failure: &ledger::replay::Failure) -> String {
    match failure.index {
        Some(index) => format!("index {index}: {}", failure.reason),
        None => failure.reason.clone(),
    }
}

/// The row (and its subjects) of a served entry that checked out.
fn entry_row(entry: &serde_json::Value, checked: &ledger::replay::CheckedEntry) -> (EntryRow, Vec<String>) {
    let bytes = entry["entry"]
        .as_str()
        .and_then(|text| hex::decode(text).ok())
        .unwrap_or_default();
    let details = entry["details"]
        .as_object()
        .map(|details| serde_json::Value::Object(details.clone()).to_string());
    let shown = &checked.shown;
    (
        EntryRow {
            entry_index: entry["index"].as_i64().unwrap_or_default(),
            leaf_hash: checked.leaf.to_vec(),
            entry: bytes,
            kind: shown.kind.clone(),
            fingerprint: shown.fingerprint.clone(),
            subjects: serde_json::to_string(&shown.subjects).unwrap_or_else(|_| "[]".to_owned()),
            time_micros: shown.time_micros,
            details,
        },
        shown.subjects.clone(),
    )
}
