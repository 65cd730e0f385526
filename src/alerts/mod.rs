//! Alerts: what the registry and the lending check raise when someone tries
//! to register or finance something twice. An alert, who is told of it and
//! the e-mails to its risk officers are written in the transaction that
//! refuses (or accepts) the attempt, so a refusal is never answered without
//! them; a sender drains the outbox over SMTP.

mod audience;
mod inbox;
mod outbox;
mod record;

pub use audience::{alert_copy, render};
pub use inbox::{
    acknowledge_alert, decode_cursor, encode_cursor, find_alert, list_alerts, AlertFilter, AlertPage, MAX_PAGE,
};
pub(crate) use outbox::{deliver, retry_at, smtp_sender, Mailer};
pub use outbox::{spawn_outbox, OutboxSettings};
pub use record::{prepare, raise, raise_once_for_operator, store_prepared, AlertKind, NewAlert, PreparedAlert};
