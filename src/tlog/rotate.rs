//! Handing the log to a new signing key (`anchorfin key rotate`). In one
//! transaction, holding the sequencer's lock so that no head is signed
//! meanwhile:
//!
//! 1. the recorded key must be the old key given;
//! 2. entries still queued are integrated under heads the old key signs —
//!    they were appended while it was the log's key;
//! 3. the rotation entry (`ledger::rotation`, signed by both keys) is
//!    appended at the next index and integrated alone, under a head the new
//!    key signs: the first head to cover it;
//! 4. the new key is recorded as the log's (`identity`), so that from the
//!    commit on, processes holding the old key refuse to start and their
//!    sequencers refuse to sign.

use diesel::result::Error as DieselError;
use ed25519_dalek::SigningKey;
use serde_json::json;

use super::sequencer::{integrate, lock, sequence_queued, SequencerError, BATCH};
use crate::ledger::{self, EntryError, KeyRotation, ROTATION_KIND};
use crate::store::ledger::{self as repository, LeafRow};
use crate::store::{self, write_transaction, DbConnection};

/// What a rotation wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    /// The rotation entry's leaf index.
    pub index: u64,
    /// The size of the first head the new key signed (`index + 1`).
    pub tree_size: u64,
    pub old_key: [u8; 32],
    pub new_key: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("this database has no platform key recorded yet: start `anchorfin serve` on it once first")]
    NoRecordedKey,
    #[error("the log is already signed with the new key {0}: nothing is left to rotate")]
    AlreadyRotated(String),
    #[error(
        "the log's key is {recorded}, not the current key given ({given}): rotate with the key file \
         that holds the log's key"
    )]
    NotTheLogsKey { recorded: String, given: String },
    #[error("the new key is the log's current key ({0}): give another")]
    SameKey(String),
    #[error("the new key {key} signed this log before and was retired at index {index}: give a key never used")]
    RetiredKey { key: String, index: u64 },
    #[error(
        "the log's tree heads name origin {heads:?}, not {given:?}: give the origin its servers run \
         with (--ledger-origin)"
    )]
    OriginMismatch { heads: String, given: String },
    #[error("the rotation entry cannot be written: {0}")]
    Entry(#[from] EntryError),
    #[error(transparent)]
    Sequencer(#[from] SequencerError),
}

impl From<DieselError> for RotateError {
    fn from(error: DieselError) -> Self {
        Self::Sequencer(SequencerError::Database(error))
    }
}

/// Hands the log named `origin` from `old` to `new` (see the module).
pub fn rotate_signing_key(
    connection: &mut DbConnection,
    old: &SigningKey,
    new: &SigningKey,
    origin: &str,
) -> Result<Rotated, RotateError> {
    let old_key = old.verifying_key().to_bytes();
    let new_key = new.verifying_key().to_bytes();
    if old_key == new_key {
        return Err(RotateError::SameKey(hex::encode(old_key)));
    }
    write_transaction(connection, |connection| {
        lock(connection)?;
        match crate::identity::recorded_signing_key(connection)? {
            None => return Err(RotateError::NoRecordedKey),
            Some(recorded) if recorded.as_slice() == new_key.as_slice() => {
                return Err(RotateError::AlreadyRotated(hex::encode(new_key)))
            }
            Some(recorded) if recorded.as_slice() != old_key.as_slice() => {
                return Err(RotateError::NotTheLogsKey {
                    recorded: hex::encode(recorded),
                    given: hex::encode(old_key),
                })
            }
            Some(_) => {}
        }
        // A retired key stays retired: whoever kept a copy must not get the log back.
        if let Some(retired) = rotations(connection)?
            .iter()
            .find(|rotation| rotation.old_key == new_key)
        {
            return Err(RotateError::RetiredKey {
                key: hex::encode(new_key),
                index: retired.index,
            });
        }
        if let Some(head) = repository::latest_tree_head(connection)? {
            let heads = head.checkpoint.lines().next().unwrap_or_default();
            if heads != origin {
                return Err(RotateError::OriginMismatch {
                    heads: heads.to_owned(),
                    given: origin.to_owned(),
                });
            }
        }

        // What was appended under the old key is signed by it.
        while sequence_queued(connection, old, origin, BATCH)?.is_some() {}
        let size = repository::latest_tree_head(connection)?.map_or(0, |head| head.tree_size) as u64;

        let now = store::now();
        let rotation = KeyRotation::sign(origin, size, now.and_utc().timestamp_micros(), old, new);
        let entry = rotation.encode()?;
        let leaf_hash = ledger::leaf_hash(&entry);
        repository::insert_leaf(
            connection,
            &LeafRow {
                leaf_hash: leaf_hash.to_vec(),
                entry,
                kind: ROTATION_KIND.to_owned(),
                // For whoever reads the table; the entry's bytes are the
                // whole entry (no details hash, so no salt to hide them).
                details: json!({
                    "origin": origin,
                    "index": size,
                    "old_public_key": hex::encode(old_key),
                    "new_public_key": hex::encode(new_key),
                })
                .to_string(),
                details_salt: vec![0; 32],
                parties: json!("*").to_string(),
                queued_at: now,
            },
        )?;
        let queue_id = repository::queue_id(connection, &leaf_hash)?;
        // The first head to cover the rotation is the new key's.
        let head = integrate(connection, size, &[(queue_id, leaf_hash.to_vec())], new, origin)?;
        crate::identity::record_rotated_signing_key(connection, &new_key)?;
        Ok(Rotated {
            index: size,
            tree_size: head.tree_size as u64,
            old_key,
            new_key,
        })
    })
}

/// The log's rotations, oldest first, as `/v1/ledger/public-key` lists
/// them. A stored rotation that does not decode is an error.
pub fn rotations(connection: &mut DbConnection) -> diesel::QueryResult<Vec<KeyRotation>> {
    repository::sequenced_key_rotations(connection)?
        .into_iter()
        .map(|(index, entry)| {
            let rotation =
                KeyRotation::decode(&entry).map_err(|error| DieselError::DeserializationError(Box::new(error)))?;
            if rotation.index != index as u64 {
                return Err(DieselError::DeserializationError(
                    format!("the rotation at index {index} names index {}", rotation.index).into(),
                ));
            }
            Ok(rotation)
        })
        .collect()
}
