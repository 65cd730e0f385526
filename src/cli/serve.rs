//! `anchorfin serve` and `anchorfin migrate`.

use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use super::{CliError, DatabaseArgs};
use crate::store::migrations;
use crate::{telemetry, Application};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ANCHORFIN_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    #[command(flatten)]
    database: DatabaseArgs,
    /// Most database connections in the pool.
    #[arg(long, env = "ANCHORFIN_DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    database_max_connections: u32,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "ANCHORFIN_WORKERS")]
    workers: Option<usize>,
    /// SMTP server for alert e-mails, e.g. smtp://127.0.0.1:2525.
    #[arg(long, env = "ANCHORFIN_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// From address of alert e-mails.
    #[arg(long, env = "ANCHORFIN_ALERT_FROM")]
    alert_from: Option<String>,
    /// The ledger's origin line in signed checkpoints (non-empty, no white
    /// space, no '+': it also names the signing key).
    #[arg(long, env = "ANCHORFIN_LEDGER_ORIGIN")]
    ledger_origin: Option<String>,
    /// An entry waiting longer than this for a signed tree head raises a
    /// `ledger_stalled` alert to the operator's risk officers.
    #[arg(long, env = "ANCHORFIN_LEDGER_STALL_ALERT_SECONDS", default_value_t = 10)]
    ledger_stall_alert_seconds: u64,
    /// How long a request body may take to arrive before 408.
    #[arg(long, env = "ANCHORFIN_BODY_READ_TIMEOUT_SECONDS", default_value_t = 10)]
    body_read_timeout_seconds: u64,
    /// Requests per second per organisation (and per address for anonymous
    /// reads) on average; 0 for no limit.
    #[arg(long, env = "ANCHORFIN_RATE_LIMIT_PER_SECOND", default_value_t = 100)]
    rate_limit_per_second: u32,
    /// Requests per organisation at once.
    #[arg(long, env = "ANCHORFIN_RATE_LIMIT_BURST", default_value_t = 200)]
    rate_limit_burst: u32,
    /// Encumbrance look-ups per second per organisation; 0 for no limit.
    #[arg(long, env = "ANCHORFIN_LOOKUP_RATE_LIMIT_PER_SECOND", default_value_t = 20)]
    lookup_rate_limit_per_second: u32,
    /// Encumbrance look-ups per organisation at once.
    #[arg(long, env = "ANCHORFIN_LOOKUP_RATE_LIMIT_BURST", default_value_t = 100)]
    lookup_rate_limit_burst: u32,
    /// Look-ups of unregistered fingerprints by one organisation within the
    /// window that raise a `lookup_enumeration` alert; 0 for none.
    #[arg(long, env = "ANCHORFIN_LOOKUP_ENUMERATION_MISSES", default_value_t = 20)]
    lookup_enumeration_misses: u32,
    #[arg(long, env = "ANCHORFIN_LOOKUP_ENUMERATION_WINDOW_SECONDS", default_value_t = 60)]
    lookup_enumeration_window_seconds: u64,
    /// An upload job whose process committed nothing for this long (it
    /// died, say) is taken over by another process.
    #[arg(long, env = "ANCHORFIN_UPLOAD_LEASE_SECONDS", default_value_t = 30)]
    upload_lease_seconds: u64,
}

pub fn run(args: ServeArgs) -> Result<(), CliError> {
    telemetry::init();
    let mut settings = args.database.settings();
    settings.bind = args.bind;
    settings.database.max_connections = args.database_max_connections.max(1);
    settings.http.workers = args.workers;
    settings.alerts.smtp_url = args.smtp_url.map(SecretString::from);
    if let Some(from) = args.alert_from {
        settings.alerts.from_address = from;
    }
    if let Some(origin) = args.ledger_origin {
        settings.ledger.origin = origin;
    }
    settings.ledger.stall_threshold = Duration::from_secs(args.ledger_stall_alert_seconds.max(1));
    settings.http.shutdown_timeout = Duration::from_secs(30);
    settings.http.body_read_timeout = Duration::from_secs(args.body_read_timeout_seconds.max(1));
    settings.limits.requests_per_second = args.rate_limit_per_second;
    settings.limits.request_burst = args.rate_limit_burst;
    settings.limits.lookups_per_second = args.lookup_rate_limit_per_second;
    settings.limits.lookup_burst = args.lookup_rate_limit_burst;
    settings.limits.enumeration_misses = args.lookup_enumeration_misses;
    settings.limits.enumeration_window = Duration::from_secs(args.lookup_enumeration_window_seconds.max(1));
    settings.uploads.lease = Duration::from_secs(args.upload_lease_seconds.max(1));
    settings.uploads.poll = settings.uploads.poll.min(settings.uploads.lease);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let application = Application::build(settings).await?;
        application.run_until_stopped().await?;
        Ok(())
    })
}

pub fn migrate(args: DatabaseArgs) -> Result<(), CliError> {
    let settings = args.settings();
    crate::startup::create_data_dir(&settings.data_dir)?;
    let url = settings.database_url()?;
    let mut connection = url.establish()?;
    let applied = migrations::run_pending(&mut connection)?;
    eprintln!("{applied} migration(s) applied to {}", url.redacted());
    Ok(())
}

/// Opens the database for a one-shot command, migrated, so that `org add`
/// works before the first `serve` and beside a running one.
pub fn open(args: &DatabaseArgs) -> Result<crate::store::DbConnection, CliError> {
    let settings = args.settings();
    crate::startup::create_data_dir(&settings.data_dir)?;
    let url = settings.database_url()?;
    let mut connection = url.establish()?;
    migrations::run_pending(&mut connection)?;
    Ok(connection)
}
