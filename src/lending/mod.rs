//! Lending: pledges and assignments that cannot be doubled, releases,
//! payments through the waterfall, defaults, and the encumbrance look-up.
//!
//! The one-lien rule is a partial unique index on active liens (both
//! backends); every decision takes the asset's row lock first (a
//! conditional `UPDATE`, or for a batch `SELECT … FOR NO KEY UPDATE` in id
//! order), so pledges, assignments, splits and payments of one asset
//! serialise in the database, across any number of processes.

mod batcher;
mod bulk;
mod decide;
mod encumbrance;
mod outcome;
mod payment;
mod release;
mod sweep;

pub use batcher::{spawn_finance_batcher, FinanceBatcher, FinanceJob};
pub use bulk::decide_many;
pub use decide::{finance, Decision, Denied, FinanceRequest, LienKind, Target};
pub use encumbrance::{encumbrance, Encumbrance};
pub use outcome::{request_hash, Outcome};
pub use payment::{pay, Payment};
pub use release::release;
pub use sweep::{mark_defaults, spawn_default_sweeper};
