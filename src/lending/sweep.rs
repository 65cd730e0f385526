//! Defaults: an asset still unpaid after its receivable's due date becomes
//! `defaulted` (and so does the receivable), each with its ledger entry;
//! and offers past their expiry are recorded `lapsed`. A background task
//! sweeps periodically; any process may run it, as the
//! conditional updates make a second sweeper's work a no-op.

use std::time::Duration;

use serde_json::json;

use crate::domain::{AssetStatus, ReceivableStatus};
use crate::store::lending as repository;
use crate::store::{self, write_transaction, Database, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};

/// Marks up to `limit` overdue assets defaulted; returns how many.
pub fn mark_defaults(
    connection: &mut DbConnection,
    today: chrono::NaiveDate,
    limit: i64,
) -> Result<usize, diesel::result::Error> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let mut marked = 0;
        for (asset_id, receivable_id) in repository::overdue_assets(connection, today, limit)? {
            if !repository::end_asset(connection, &asset_id, AssetStatus::Defaulted, now)? {
                continue;
            }
            repository::end_receivable(connection, &receivable_id, ReceivableStatus::Defaulted, now)?;
            let parties = match crate::store::registry::find_receivable(connection, &receivable_id)? {
                Some(receivable) => vec![receivable.supplier_id, receivable.buyer_id],
                None => Vec::new(),
            };
            tlog::append(
                connection,
                NewEntry {
                    kind: "asset_defaulted",
                    subjects: vec![asset_id.clone(), receivable_id.clone()],
                    fingerprint: None,
                    actor: None,
                    signature: None,
                    details: json!({ "asset_id": asset_id, "as_of": today.to_string() }),
                    visibility: Visibility::Parties(parties),
                },
                now,
            )?;
            marked += 1;
        }
        Ok(marked)
    })
}

/// Sweeps every `period` until the task is aborted; wakes the sequencer
/// through `on_marked` when something changed.
pub fn spawn_default_sweeper(
    database: Database,
    period: Duration,
    on_marked: impl Fn() + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let today = chrono::Utc::now().date_naive();
            match database
                .run(move |connection| {
                    let defaulted = mark_defaults(connection, today, 1_000)?;
                    let lapsed = super::lapse_expired_offers(connection, 1_000)?;
                    Ok::<_, diesel::result::Error>((defaulted, lapsed))
                })
                .await
            {
                Ok(Ok((0, 0))) => {}
                Ok(Ok((defaulted, lapsed))) => {
                    tracing::info!(defaulted, lapsed, "overdue assets defaulted, expired offers lapsed");
                    on_marked();
                }
                Ok(Err(error)) => tracing::error!(%error, "default and lapse sweep failed"),
                Err(error) => tracing::warn!(%error, "default and lapse sweep has no database connection"),
            }
        }
    })
}
