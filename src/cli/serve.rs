//! `anchorfin serve` and `anchorfin migrate`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use super::{CliError, DatabaseArgs};
use crate::config::{ConfigFile, PublicUrl, WitnessPeer, WitnessSettings};
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
    /// Where people reach this service, e.g. https://anchorfin.example.com:
    /// alert e-mails link to the portal under it; an https URL marks the
    /// portal's session cookie Secure.
    #[arg(long, env = "ANCHORFIN_PUBLIC_URL")]
    public_url: Option<String>,
    /// A portal session unused this long ends.
    #[arg(long, env = "ANCHORFIN_PORTAL_SESSION_IDLE_MINUTES", default_value_t = 30)]
    portal_session_idle_minutes: u64,
    /// A portal session ends this long after sign-in, however much it is used.
    #[arg(long, env = "ANCHORFIN_PORTAL_SESSION_HOURS", default_value_t = 12)]
    portal_session_hours: u64,
    /// A TOML configuration file (witnesses and their quorum); flags and
    /// environment variables win over it.
    #[arg(long, env = "ANCHORFIN_CONFIG")]
    config: Option<PathBuf>,
    /// A witness the log submits its signed heads to, VKEY=URL: its
    /// cosignature/v1 verifier key and its submission prefix (the request
    /// goes to URL/add-checkpoint). Repeatable; replaces the file's list.
    #[arg(
        long = "witness",
        env = "ANCHORFIN_WITNESSES",
        value_delimiter = ' ',
        value_name = "VKEY=URL"
    )]
    witnesses: Vec<String>,
    /// Cosignatures a checkpoint needs to be served as cosigned (default 0:
    /// the newest head with whatever it has); at most the number of witnesses.
    #[arg(long, env = "ANCHORFIN_WITNESS_QUORUM")]
    witness_quorum: Option<usize>,
    /// How long ?wait=cosigned waits for a cosigned checkpoint (default 10).
    #[arg(long, env = "ANCHORFIN_WITNESS_WAIT_SECONDS")]
    witness_wait_seconds: Option<u64>,
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
    settings.public_url = args
        .public_url
        .filter(|url| !url.trim().is_empty())
        .map(|url| PublicUrl::parse(&url))
        .transpose()
        .map_err(|error| CliError::Usage(format!("--public-url: {error}")))?;
    settings.portal.session_idle = Duration::from_secs(args.portal_session_idle_minutes.max(1) * 60);
    settings.portal.session_lifetime = Duration::from_secs(args.portal_session_hours.max(1) * 60 * 60);
    witness_settings(
        &mut settings.witnesses,
        args.config.as_deref(),
        &args.witnesses,
        args.witness_quorum,
        args.witness_wait_seconds,
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let public_url = settings.public_url.clone();
        let bind = settings.bind.clone();
        let application = Application::build(settings).await?;
        let portal = match public_url {
            Some(url) => url.join("/"),
            None => local_url(&bind, application.port()),
        };
        eprintln!("anchorfin is serving: the portal at {portal}, the API under {portal}v1");
        application.run_until_stopped().await?;
        Ok(())
    })
}

/// The witnesses from the configuration file, then the flags (which win).
fn witness_settings(
    settings: &mut WitnessSettings,
    config: Option<&Path>,
    witnesses: &[String],
    quorum: Option<usize>,
    wait_seconds: Option<u64>,
) -> Result<(), CliError> {
    if let Some(path) = config {
        let file = ConfigFile::load(path).map_err(|error| CliError::Usage(format!("--config: {error}")))?;
        settings.witnesses = file
            .witnesses(&path.display().to_string())
            .map_err(|error| CliError::Usage(format!("--config: {error}")))?;
        settings.quorum = file.witness_quorum.unwrap_or(settings.quorum);
        if let Some(seconds) = file.witness_wait_seconds {
            settings.wait_timeout = Duration::from_secs(seconds);
        }
    }
    let flagged: Vec<&String> = witnesses.iter().filter(|raw| !raw.trim().is_empty()).collect();
    if !flagged.is_empty() {
        settings.witnesses = flagged
            .into_iter()
            .map(|raw| WitnessPeer::parse_flag(raw.trim()))
            .collect::<Result<_, _>>()
            .map_err(|error| CliError::Usage(format!("--witness: {error}")))?;
    }
    settings.quorum = quorum.unwrap_or(settings.quorum);
    if let Some(seconds) = wait_seconds {
        settings.wait_timeout = Duration::from_secs(seconds);
    }
    if settings.quorum > settings.witnesses.len() {
        return Err(CliError::Usage(format!(
            "--witness-quorum {} is more than the {} witness(es) configured (--witness, or [[witness]] in --config)",
            settings.quorum,
            settings.witnesses.len()
        )));
    }
    let mut keys: Vec<String> = settings.witnesses.iter().map(|peer| peer.vkey.to_string()).collect();
    keys.sort();
    keys.dedup();
    if keys.len() != settings.witnesses.len() {
        return Err(CliError::Usage(
            "--witness: a witness key is configured twice".to_owned(),
        ));
    }
    Ok(())
}

/// The URL of the portal on this machine for a bind address: an
/// unspecified address (all interfaces) is reached through the loopback.
fn local_url(bind: &str, port: u16) -> String {
    let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host);
    let host = match host {
        "" | "0.0.0.0" => "127.0.0.1",
        "[::]" => "[::1]",
        other => other,
    };
    format!("http://{host}:{port}/")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn vkey(seed: u8, name: &str) -> String {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        crate::ledger::VerifierKey::witness(name, key.verifying_key()).to_string()
    }

    #[test]
    fn a_quorum_beyond_the_witnesses_is_refused_and_flags_win_over_the_file() {
        let mut settings = crate::config::Settings::with_data_dir("/tmp".into()).witnesses;
        let error = witness_settings(&mut settings, None, &[], Some(1), None).unwrap_err();
        assert!(format!("{error:?}").contains("--witness-quorum 1"), "{error:?}");

        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("anchorfin.toml");
        std::fs::write(
            &path,
            format!(
                "witness_quorum = 2\nwitness_wait_seconds = 4\n[[witness]]\nvkey = \"{}\"\nurl = \"http://127.0.0.1:1\"\n[[witness]]\nvkey = \"{}\"\nurl = \"http://127.0.0.1:2\"\n",
                vkey(1, "one"),
                vkey(2, "two")
            ),
        )
        .unwrap();
        let mut settings = crate::config::Settings::with_data_dir("/tmp".into()).witnesses;
        witness_settings(&mut settings, Some(&path), &[], None, None).unwrap();
        assert_eq!((settings.witnesses.len(), settings.quorum), (2, 2));
        assert_eq!(settings.wait_timeout, Duration::from_secs(4));

        let mut settings = crate::config::Settings::with_data_dir("/tmp".into()).witnesses;
        let flag = format!("{}=http://127.0.0.1:3", vkey(3, "three"));
        let error = witness_settings(&mut settings, Some(&path), std::slice::from_ref(&flag), None, None).unwrap_err();
        assert!(format!("{error:?}").contains("--witness-quorum 2"), "{error:?}");
        let mut settings = crate::config::Settings::with_data_dir("/tmp".into()).witnesses;
        witness_settings(&mut settings, Some(&path), &[flag], Some(1), Some(1)).unwrap();
        assert_eq!(settings.witnesses[0].url, "http://127.0.0.1:3");
        assert_eq!((settings.witnesses.len(), settings.quorum), (1, 1));
        assert_eq!(settings.wait_timeout, Duration::from_secs(1));
    }

    #[test]
    fn the_printed_url_reaches_the_bound_port() {
        assert_eq!(local_url("127.0.0.1:0", 41234), "http://127.0.0.1:41234/");
        assert_eq!(local_url("0.0.0.0:8080", 8080), "http://127.0.0.1:8080/");
        assert_eq!(local_url("[::]:8080", 8080), "http://[::1]:8080/");
        assert_eq!(local_url("localhost:8080", 8080), "http://localhost:8080/");
    }
}
