//! Alerts: what the registry and the lending check raise when someone tries
//! to register or finance something twice. An alert is stored and written to
//! the ledger in the transaction that refuses (or accepts) the attempt, so a
//! refusal is never answered without its alert being durable.

mod record;

pub use record::{raise, AlertKind, NewAlert};
