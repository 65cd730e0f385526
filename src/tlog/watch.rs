//! Watching the ledger's lag: how many entries wait for a signed tree head
//! and for how long. Past the threshold the operator's risk officers get a
//! `ledger_stalled` alert — one per stall, whichever process sees it first
//! (a unique index on its subject, the oldest waiting entry's queue id);
//! the gauges show when it has drained.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::alerts::{self, AlertKind};
use crate::store::ledger as repository;
use crate::store::{self, format_time, Database, DbConnection};

/// The ledger's lag, as last measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lag {
    /// Entries appended but not yet in a signed tree head.
    pub unsequenced: i64,
    /// How long the oldest of them has waited.
    pub oldest_seconds: f64,
}

pub type LagObserver = Arc<dyn Fn(Lag) + Send + Sync>;

/// Measures the lag and, when the oldest entry has waited longer than
/// `threshold`, raises the stall's alert unless it was raised already.
/// Returns the lag and whether this call raised the alert.
pub fn watch_once(connection: &mut DbConnection, threshold: Duration) -> Result<(Lag, bool), diesel::result::Error> {
    let now = store::now();
    let (unsequenced, oldest) = repository::unsequenced(connection)?;
    let oldest_seconds = oldest.map_or(0.0, |queued_at| {
        (now - queued_at).num_milliseconds().max(0) as f64 / 1000.0
    });
    let lag = Lag {
        unsequenced,
        oldest_seconds,
    };
    if oldest_seconds <= threshold.as_secs_f64() {
        return Ok((lag, false));
    }
    let Some(oldest_id) = repository::oldest_queued(connection)? else {
        return Ok((lag, false));
    };
    let raised = alerts::raise_once_for_operator(
        connection,
        AlertKind::LedgerStalled,
        format!("ledger:{oldest_id}"),
        json!({
            "unsequenced": unsequenced,
            "oldest_waiting_seconds": oldest_seconds.floor() as i64,
            "oldest_queued_at": oldest.map(format_time),
            "threshold_seconds": threshold.as_secs(),
        }),
        now,
    )?;
    Ok((lag, raised))
}

/// Watches the lag every `every` until aborted, reporting each measure to
/// `observe`.
pub fn spawn_ledger_watch(
    database: Database,
    every: Duration,
    threshold: Duration,
    observe: LagObserver,
    wake_sequencer: impl Fn() + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stalled = false;
        loop {
            ticks.tick().await;
            match database.run(move |connection| watch_once(connection, threshold)).await {
                Ok(Ok((lag, raised))) => {
                    observe(lag);
                    if raised {
                        // Its ledger entry waits too; and its e-mail.
                        wake_sequencer();
                    }
                    let now_stalled = lag.oldest_seconds > threshold.as_secs_f64();
                    if now_stalled && !stalled {
                        tracing::error!(
                            unsequenced = lag.unsequenced,
                            oldest_seconds = lag.oldest_seconds,
                            "the ledger is stalled"
                        );
                    } else if stalled && !now_stalled {
                        tracing::info!("the ledger has caught up");
                    }
                    stalled = now_stalled;
                }
                Ok(Err(error)) => tracing::warn!(%error, "cannot measure the ledger's lag"),
                Err(error) => tracing::debug!(%error, "no database to measure the ledger's lag"),
            }
        }
    })
}
