//! Refusals that must commit: the registry's duplicate registrations are
//! refused after their alert is written. The refusals themselves are the
//! closed set of `crate::refusal`.

pub(crate) use crate::refusal::corrupt;
pub use crate::refusal::{Refusal, UseCaseError};

/// Runs `once` in a write transaction. `Ok(Err(refusal))` commits (the
/// refusal's alert must be durable) and then returns the refusal. When a
/// racing twin wins at a unique index on the first attempt, the work runs
/// once more, sees the winner and records the refusal.
pub(crate) fn committing_refusals<T>(
    connection: &mut crate::store::DbConnection,
    mut once: impl FnMut(&mut crate::store::DbConnection) -> Result<Result<T, UseCaseError>, UseCaseError>,
) -> Result<T, UseCaseError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match crate::store::write_transaction(connection, &mut once) {
            Err(UseCaseError::Database(error)) if attempt < 3 && crate::store::is_retryable_conflict(&error) => {
                continue
            }
            Ok(outcome) => return outcome,
            Err(error) => return Err(error),
        }
    }
}
