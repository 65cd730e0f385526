//! The platform's identity, bound to its database: the key that signs the
//! ledger's tree heads and the secret fingerprints are stored under. Both
//! live in the data directory (back them up together with it); the
//! database keeps the signing key's public half and a check value of the
//! fingerprint secret, so that a process started with other keys — another
//! data directory on the same database, a lost backup — refuses to run
//! rather than sign heads no auditor accepts or miss every fingerprint.
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
        "this database's ledger is signed with another platform key; start with the data directory \
         that holds it (its platform-signing.key), or point this one at its own database"
    )]
    SigningKeyMismatch,
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
            Some(_) => Err(IdentityError::SigningKeyMismatch),
        }
    })
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
