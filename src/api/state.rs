//! What every handler can reach: the database, metrics and settings.

use std::sync::Arc;

use ed25519_dalek::SigningKey;

use super::metrics::Metrics;
use crate::config::Settings;
use crate::store::Database;
use crate::tlog::SequencerHandle;

pub struct AppState {
    pub database: Database,
    pub metrics: Metrics,
    pub settings: Arc<Settings>,
    pub platform_key: Arc<SigningKey>,
    /// The log's signing-key rotations, oldest first, read at start.
    pub key_rotations: Arc<Vec<crate::ledger::KeyRotation>>,
    /// Wake the sequencer after a commit that appended ledger entries.
    pub sequencer: SequencerHandle,
    /// The largest signed tree size seen, so proofs skip re-checking it.
    pub published: Arc<crate::tlog::PublishedSize>,
    /// Decides pledges and assignments, many per commit.
    pub financing: crate::lending::FinanceBatcher,
    /// Registers receivables, many per commit.
    pub registrations: crate::registry::RegistrationBatcher,
    /// Confirms receivables, many per commit.
    pub confirmations: crate::registry::ConfirmationBatcher,
    /// Answers and records encumbrance look-ups, many per commit.
    pub lookups: crate::lending::LookupBatcher<super::error::ApiError>,
    /// The secret fingerprints are stored under (`identity`).
    pub fingerprint_key: crate::domain::FingerprintKey,
    /// Rate limits per organisation (and per address for anonymous reads).
    pub limits: Arc<super::limits::RateLimits>,
    /// Keys the gate authenticated lately, for routes that authenticate
    /// them again in their transaction.
    pub recent_callers: Arc<super::gate::RecentCallers>,
    /// This process's right to decide uploads (`registry::upload_job`).
    pub upload_lease: crate::registry::Lease,
    /// Wakes the worker that decides large uploads.
    pub uploads: crate::registry::UploadWorker,
}
