//! Registrations, many per commit, through the generic [`Batcher`]: set-based
//! ([`register_many`]) when it takes the batch; otherwise each in its own
//! savepoint exactly as [`register_receivable`] runs alone (a refusal's
//! alert is kept, a failed registration leaves nothing).

use uuid::Uuid;

use super::decision::{confirm_receivable, Confirmed};
use super::error::UseCaseError;
use super::many::{confirm_many, register_many};
use super::receivable::{register_receivable, NewReceivable, Registered};
use super::view::Viewer;
use crate::domain::{FingerprintKey, Signature};
use crate::store::batcher::{BatchObserver, Batcher};
use crate::store::{Database, DbConnection};

/// A supplier's registration and the supplier's id.
/// A supplier's registration: its id, the invoice, and the key its
/// fingerprint is stored under.
pub type RegistrationJob = (String, NewReceivable, FingerprintKey);

pub type RegistrationBatcher = Batcher<RegistrationJob, RegistrationResult>;

/// Registrations that may touch the same rows (one purchase order, one
/// invoice) are taken in the same order by every batch.
fn lock_order(job: &RegistrationJob) -> String {
    format!(
        "{}/{}/{}",
        job.1.purchase_order_id.map(|id| id.to_string()).unwrap_or_default(),
        job.1.buyer_id,
        job.1.invoice_number.normalized()
    )
}

fn register(connection: &mut DbConnection, job: &RegistrationJob) -> Result<Registered, UseCaseError> {
    register_receivable(connection, &job.2, &job.0, &job.1)
}

type RegistrationResult = Result<Registered, UseCaseError>;

fn register_batch(
    connection: &mut DbConnection,
    jobs: &[RegistrationJob],
) -> Result<Option<Vec<RegistrationResult>>, diesel::result::Error> {
    register_many(connection, jobs)
}

pub fn spawn_registration_batcher(
    database: Database,
    workers: usize,
    max_batch: usize,
    observe: BatchObserver,
) -> RegistrationBatcher {
    Batcher::spawn(
        database,
        workers,
        max_batch,
        lock_order,
        register,
        Some(register_batch),
        observe,
    )
}

/// A buyer's confirmation: the caller, the receivable, the signature.
pub type ConfirmationJob = (Viewer, Uuid, Signature);

pub type ConfirmationBatcher = Batcher<ConfirmationJob, ConfirmationResult>;

fn confirmation_order(job: &ConfirmationJob) -> String {
    job.1.to_string()
}

fn confirm(connection: &mut DbConnection, job: &ConfirmationJob) -> Result<Confirmed, UseCaseError> {
    confirm_receivable(connection, &job.0, job.1, &job.2)
}

type ConfirmationResult = Result<Confirmed, UseCaseError>;

fn confirm_batch(
    connection: &mut DbConnection,
    jobs: &[ConfirmationJob],
) -> Result<Option<Vec<ConfirmationResult>>, diesel::result::Error> {
    confirm_many(connection, jobs)
}

pub fn spawn_confirmation_batcher(
    database: Database,
    workers: usize,
    max_batch: usize,
    observe: BatchObserver,
) -> ConfirmationBatcher {
    Batcher::spawn(
        database,
        workers,
        max_batch,
        confirmation_order,
        confirm,
        Some(confirm_batch),
        observe,
    )
}
