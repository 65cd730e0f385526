//! Appending an entry: called by a use case inside its own transaction, so
//! the entry commits if and only if the state change does (invariant 6).

use rand_core::{OsRng, RngCore};
use serde_json::Value;

use crate::ledger::{self, EntryHeader, Hash, SealedBody};
use crate::store::ledger::{self as repository, LeafFingerprintRow, LeafRow};
use crate::store::DbConnection;

/// Who may read an entry's private details besides the operator.
#[derive(Debug, Clone)]
pub enum Visibility {
    /// Anyone (e.g. the public keys that verify signatures).
    Public,
    /// Only these organisations (the parties of the asset).
    Parties(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct NewEntry {
    /// `[a-z_]{1,64}`, e.g. `org_onboarded`.
    pub kind: &'static str,
    pub subjects: Vec<String>,
    pub fingerprint: Option<[u8; 32]>,
    /// The acting organisation, if an organisation acted.
    pub actor: Option<String>,
    /// The actor's key and signature, for signed actions.
    pub signature: Option<([u8; 32], [u8; 64])>,
    /// The private details (amounts, counterparties), hashed with a salt
    /// into the public header.
    pub details: Value,
    pub visibility: Visibility,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub leaf_hash: Hash,
}

/// Queues the entry; it is sequenced after the caller's transaction commits.
/// Returns its leaf hash at once.
pub fn append(
    connection: &mut DbConnection,
    entry: NewEntry,
    now: chrono::NaiveDateTime,
) -> Result<Appended, diesel::result::Error> {
    let prepared = prepare(entry, now)?;
    repository::insert_leaf(connection, &prepared.row)?;
    repository::insert_leaf_fingerprints(connection, prepared.fingerprint.as_slice())?;
    Ok(Appended {
        leaf_hash: prepared.leaf_hash,
    })
}

/// An entry ready to be queued: its stored row (canonical header, salted
/// details) and its leaf hash.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub row: LeafRow,
    pub leaf_hash: Hash,
    /// The fingerprint the entry records, for finding the entries about
    /// one (`store::ledger::entries_about`).
    pub fingerprint: Option<LeafFingerprintRow>,
}

/// Prepares an entry for [`append_prepared`]; [`append`] prepares and
/// queues one.
pub fn prepare(entry: NewEntry, now: chrono::NaiveDateTime) -> Result<Prepared, diesel::result::Error> {
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    let time_micros = now.and_utc().timestamp_micros();
    let serialization = |error: serde_json::Error| diesel::result::Error::SerializationError(Box::new(error));
    // Public entries (onboarding and keys) keep a readable header; every
    // other entry is sealed: its header commits to a body that holds what
    // the public header would have said, which only its parties are given.
    let (bytes, details) = match &entry.visibility {
        Visibility::Public => {
            // serde_json's map is ordered by key, so equal details serialise equally.
            let details = serde_json::to_string(&entry.details).map_err(serialization)?;
            let header = EntryHeader {
                kind: entry.kind.to_owned(),
                subjects: entry.subjects,
                fingerprint: entry.fingerprint,
                actor: entry.actor,
                time_micros,
                details_hash: ledger::details_hash(&salt, details.as_bytes()),
                signer_key: entry.signature.map(|(key, _)| key),
                signature: entry.signature.map(|(_, signature)| signature),
            };
            let bytes = header
                .encode()
                .map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))?;
            (bytes, details)
        }
        Visibility::Parties(_) => {
            let body = SealedBody {
                kind: entry.kind.to_owned(),
                subjects: entry.subjects,
                fingerprint: entry.fingerprint.map(hex::encode),
                actor: entry.actor,
                time_micros,
                signer_key: entry.signature.map(|(key, _)| hex::encode(key)),
                signature: entry.signature.map(|(_, signature)| hex::encode(signature)),
                details: entry.details,
            };
            let body = serde_json::to_string(&body).map_err(serialization)?;
            (ledger::seal(&salt, &body, time_micros).encode(), body)
        }
    };
    let leaf_hash = ledger::leaf_hash(&bytes);
    let fingerprint = entry.fingerprint.map(|fingerprint| LeafFingerprintRow {
        leaf_hash: leaf_hash.to_vec(),
        fingerprint: fingerprint.to_vec(),
    });
    let parties = match entry.visibility {
        Visibility::Public => Value::String("*".to_owned()),
        Visibility::Parties(parties) => Value::from(parties),
    };
    Ok(Prepared {
        row: LeafRow {
            leaf_hash: leaf_hash.to_vec(),
            entry: bytes,
            kind: entry.kind.to_owned(),
            details,
            details_salt: salt.to_vec(),
            parties: parties.to_string(),
            queued_at: now,
        },
        leaf_hash,
        fingerprint,
    })
}

/// Queues many prepared entries at once, in the order given, in the
/// caller's transaction (a batch of decisions).
pub fn append_prepared(connection: &mut DbConnection, entries: &[Prepared]) -> Result<(), diesel::result::Error> {
    let rows: Vec<LeafRow> = entries.iter().map(|entry| entry.row.clone()).collect();
    repository::insert_leaves(connection, &rows)?;
    let fingerprints: Vec<LeafFingerprintRow> = entries.iter().filter_map(|entry| entry.fingerprint.clone()).collect();
    repository::insert_leaf_fingerprints(connection, &fingerprints)
}
