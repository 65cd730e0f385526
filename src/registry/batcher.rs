//! Registrations, many per commit, through the generic [`Batcher`]: set-based
//! ([`register_many`]) when it takes the batch; otherwise each in its own
//! savepoint exactly as [`register_receivable`] runs alone (a refusal's
//! alert is kept, a failed registration leaves nothing).

use uuid::Uuid;

use super::decision::{confirm_receivable, Confirmed};
use super::error::UseCaseError;
use super::receivable::{register_receivable, NewReceivable, Registered};
use super::set_based::{confirm_many, register_many};
use super::view::Viewer;
use crate::domain::{FingerprintKey, Role, Signature};
use crate::organizations::{authenticate, Principal};
use crate::store::batcher::{BatchObserver, Batcher};
use crate::store::{Database, DbConnection};

/// A supplier's registration of one invoice.
#[derive(Clone)]
pub struct RegistrationJob {
    pub supplier_id: String,
    pub receivable: NewReceivable,
    /// The key its fingerprint is stored under.
    pub fingerprint_key: FingerprintKey,
    /// The bearer API key the supplier called with, authenticated again in
    /// the transaction that registers (the gate may have admitted it from
    /// memory): revoked meanwhile, the registration is refused
    /// ([`UseCaseError::Unauthenticated`]) and writes nothing. `None` for a
    /// supplier authenticated otherwise (a portal session, an upload's job).
    pub token: Option<String>,
}

pub type RegistrationBatcher = Batcher<RegistrationJob, RegistrationResult>;

/// Registrations that may touch the same rows (one purchase order, one
/// invoice) are taken in the same order by every batch.
fn lock_order(job: &RegistrationJob) -> String {
    format!(
        "{}/{}/{}",
        job.receivable
            .purchase_order_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        job.receivable.buyer_id,
        job.receivable.invoice_number.normalized()
    )
}

/// One registration as the batcher decides it alone: its key (if it came
/// with one) authenticated again, then [`register_receivable`].
pub fn register_job(connection: &mut DbConnection, job: &RegistrationJob) -> Result<Registered, UseCaseError> {
    if let Some(token) = &job.token {
        still_the_supplier(authenticate(connection, token)?.as_ref(), &job.supplier_id)?;
    }
    register_receivable(connection, &job.fingerprint_key, &job.supplier_id, &job.receivable)
}

/// Whether the key a registration came with, authenticated again, is still
/// the supplier's own.
pub(super) fn still_the_supplier(caller: Option<&Principal>, supplier_id: &str) -> Result<(), UseCaseError> {
    match caller {
        Some(caller) if caller.role == Role::Supplier && caller.organization_id.to_string() == supplier_id => Ok(()),
        _ => Err(UseCaseError::Unauthenticated),
    }
}

pub type RegistrationResult = Result<Registered, UseCaseError>;

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
        register_job,
        Some(register_batch),
        observe,
    )
}

/// A buyer's signed confirmation of a receivable.
#[derive(Clone)]
pub struct ConfirmationJob {
    pub buyer: Viewer,
    pub receivable_id: Uuid,
    pub signature: Signature,
}

pub type ConfirmationBatcher = Batcher<ConfirmationJob, ConfirmationResult>;

fn confirmation_order(job: &ConfirmationJob) -> String {
    job.receivable_id.to_string()
}

fn confirm(connection: &mut DbConnection, job: &ConfirmationJob) -> Result<Confirmed, UseCaseError> {
    confirm_receivable(connection, &job.buyer, job.receivable_id, &job.signature)
}

pub type ConfirmationResult = Result<Confirmed, UseCaseError>;

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
