//! The platform's identity, bound to its database: the key that signs the
//! ledger's tree heads and the secret fingerprints are stored under. Both
//! live in the data directory (back them up together with it); the
//! database keeps the signing key's public half and a check value of the
//! fingerprint secret, so that a process started with other keys — another
//! data directory on the same database, a lost backup — refuses to run
//! rather than sign heads no auditor accepts or miss every fingerprint.
//!
//! `anchorfin key rotate` hands the log to a new key
//! ([`crate::tlog::rotate_signing_key`]): the recorded key changes with the
//! rotation entry, in one transaction, and from then on only processes
//! holding the new key file start — and only they sign heads.
//!
//! The first start of this version on a database written before
//! fingerprints were keyed re-keys them, once, in that transaction.

use std::path::Path;

use crate::domain::{Fingerprint, FingerprintKey};
use crate::keyfile::{self, KeyFileError};
use crate::store::{self, identity as repository, write_transaction, DbConnection};

const SIGNING_KEY: &str = "platform_signing_key";
const FINGERPRINT_KEY_CHECK: &str = "fingerprint_key_check";

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(
        "this database's ledger is signed with another platform key: the log's key is {recorded}, \
         this process's platform-signing.key holds {ours}. Every process on one database uses one \
         key file: if the log's key was rotated (`anchorfin key rotate`), copy the new \
         platform-signing.key into this data directory; otherwise start with the data directory \
         that holds the log's key, or point this one at its own database"
    )]
    SigningKeyMismatch { recorded: String, ours: String },
    #[error(
        "this database's fingerprints are stored under another fingerprint key; start with the data \
         directory that holds it (its fingerprint.key), or point this one at its own database"
    )]
    FingerprintKeyMismatch,
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The fingerprint secret in `<data dir>/fingerprint.key`, created (0600)
/// on first use.
pub fn load_fingerprint_key(path: &Path) -> Result<FingerprintKey, IdentityError> {
    Ok(FingerprintKey::from_bytes(keyfile::load_or_generate_secret(path)?))
}

/// Records the platform's public signing key on first start; refuses
/// another one after.
pub fn bind_signing_key(connection: &mut DbConnection, public_key: &[u8; 32]) -> Result<(), IdentityError> {
    write_transaction(connection, |connection| {
        repository::lock(connection)?;
        match repository::find(connection, SIGNING_KEY)? {
            None => Ok(repository::insert(connection, SIGNING_KEY, public_key, store::now())?),
            Some(bound) if bound.as_slice() == public_key.as_slice() => Ok(()),
            Some(bound) => Err(IdentityError::SigningKeyMismatch {
                recorded: hex::encode(bound),
                ours: hex::encode(public_key),
            }),
        }
    })
}

/// The public key the log's heads must be signed with, as recorded; `None`
/// before the first start. For the caller's transaction.
pub fn recorded_signing_key(connection: &mut DbConnection) -> diesel::QueryResult<Option<Vec<u8>>> {
    repository::find(connection, SIGNING_KEY)
}

/// Records `public_key` as the log's key from now on, in the caller's
/// transaction (the one that appends the rotation entry), under the lock
/// that serialises identity checks.
pub fn record_rotated_signing_key(connection: &mut DbConnection, public_key: &[u8; 32]) -> diesel::QueryResult<()> {
    repository::lock(connection)?;
    match repository::update(connection, SIGNING_KEY, public_key, store::now())? {
        1 => Ok(()),
        _ => Err(diesel::result::Error::NotFound),
    }
}

/// Records the fingerprint key's check value on first start — re-keying
/// the fingerprints stored before they were keyed — and refuses another
/// key after.
pub fn bind_fingerprint_key(connection: &mut DbConnection, key: &FingerprintKey) -> Result<(), IdentityError> {
    let check = key.check_value();
    write_transaction(connection, |connection| {
        repository::lock(connection)?;
        match repository::find(connection, FINGERPRINT_KEY_CHECK)? {
            None => {
                let rekeyed = repository::rekey_fingerprints(connection, &|plain| {
                    Fingerprint::from_bytes(plain).map(|plain| key.stored(&plain).to_vec())
                })?;
                if rekeyed > 0 {
                    tracing::info!(rekeyed, "stored fingerprints re-keyed under the fingerprint key");
                }
                Ok(repository::insert(
                    connection,
                    FINGERPRINT_KEY_CHECK,
                    &check,
                    store::now(),
                )?)
            }
            Some(bound) if bound.as_slice() == check.as_slice() => Ok(()),
            Some(_) => Err(IdentityError::FingerprintKeyMismatch),
        }
    })
}
