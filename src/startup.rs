//! `Application::build(settings)`: migrate, load the platform key, bind,
//! and return a server ready to run.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;

use crate::api::json::BodyLimit;
use crate::api::metrics::{observe, Metrics};
use crate::api::state::AppState;
use crate::config::Settings;
use crate::keyfile;
use crate::store::{migrations, Database};
use crate::tlog::spawn_sequencer;

/// How often the sequencer looks for entries appended by other processes
/// (in-process appends wake it at once).
const SEQUENCER_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// How long entries gather between two signed tree heads of a busy server
/// (docs/PRODUCT.md §9: a write is in a signed head within 1 s).
const SEQUENCER_GATHER: std::time::Duration = std::time::Duration::from_millis(20);

pub struct Application {
    port: u16,
    server: Server,
    sequencer: tokio::task::JoinHandle<()>,
    default_sweeper: tokio::task::JoinHandle<()>,
    outbox: tokio::task::JoinHandle<()>,
    upload_worker: tokio::task::JoinHandle<()>,
    uploads: crate::registry::UploadWorker,
    prober: tokio::task::JoinHandle<()>,
    ledger_watch: tokio::task::JoinHandle<()>,
    witness_submitters: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        crate::ledger::check_origin(&settings.ledger.origin).context("cannot sign checkpoints under this origin")?;
        let database = open_database(&settings).await?;
        let platform_key = keyfile::load_or_generate(&settings.platform_key_path())
            .context("cannot load or create the platform signing key")?;
        let fingerprint_key = crate::identity::load_fingerprint_key(&settings.fingerprint_key_path())
            .context("cannot load or create the fingerprint key")?;
        // Every process on this database must share both keys.
        let public_key = platform_key.verifying_key().to_bytes();
        database
            .run(move |connection| {
                crate::identity::bind_signing_key(connection, &public_key)?;
                crate::identity::bind_fingerprint_key(connection, &fingerprint_key)
            })
            .await
            .context("cannot reach the database to check the platform's keys")??;
        // Rotations happen with this process's key retired or installed, so
        // the history read now stays true while it runs.
        let key_rotations = database
            .run(crate::tlog::rotations)
            .await
            .context("cannot reach the database to read the log's key rotations")?
            .context("cannot read the log's key rotations")?;
        let metrics = Metrics::new().context("cannot register metrics")?;
        let platform_key = Arc::new(platform_key);
        let (sequencer_handle, sequencer) = spawn_sequencer(
            database.clone(),
            platform_key.clone(),
            settings.ledger.origin.clone(),
            SEQUENCER_POLL,
            SEQUENCER_GATHER,
        );

        // Each witness gets the newest signed head in its own task: writes
        // never wait for them.
        let published: Arc<crate::tlog::PublishedSize> = Arc::default();
        let witness_submitters = crate::tlog::spawn_witness_submitters(
            database.clone(),
            &settings.witnesses,
            published.clone(),
            metrics.witness_observer(),
        )
        .context("cannot start submitting to the witnesses")?;

        let listener = TcpListener::bind(&settings.bind).with_context(|| format!("cannot bind {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            address = %listener.local_addr()?,
            database = %database.url().redacted(),
            "anchorfin listening"
        );

        let prober = crate::store::spawn_prober(
            database.clone(),
            settings.database.probe_interval,
            settings.database.probe_timeout,
        );
        let waker = sequencer_handle.clone();
        let ledger_watch = crate::tlog::spawn_ledger_watch(
            database.clone(),
            settings.ledger.watch_interval,
            settings.ledger.stall_threshold,
            metrics.lag_observer(),
            move || waker.wake(),
        );
        let waker = sequencer_handle.clone();
        let default_sweeper = crate::lending::spawn_default_sweeper(
            database.clone(),
            settings.lending.default_sweep_interval,
            move || waker.wake(),
        );

        let outbox = crate::alerts::spawn_outbox(
            database.clone(),
            crate::alerts::OutboxSettings {
                smtp_url: settings.alerts.smtp_url.clone(),
                from_address: settings.alerts.from_address.clone(),
                poll: settings.alerts.outbox_poll,
                max_backoff: settings.alerts.max_retry_backoff,
                public_url: settings.public_url.clone(),
            },
        )?;

        let upload_lease = crate::registry::Lease::new(settings.uploads.lease);
        let waker = sequencer_handle.clone();
        let (uploads, upload_worker) = crate::registry::spawn_upload_worker(
            database.clone(),
            fingerprint_key,
            upload_lease.clone(),
            settings.uploads.poll,
            move || waker.wake(),
        );

        // SQLite has one writer at a time: more decision workers would only wait.
        let decision_workers = match database.url().backend() {
            crate::store::Backend::Sqlite => 1,
            crate::store::Backend::Postgresql => settings.lending.decision_workers,
        };
        let confirmations = crate::registry::spawn_confirmation_batcher(
            database.clone(),
            decision_workers,
            settings.lending.max_decisions_per_commit,
            metrics.batch_observer("confirmation"),
        );
        let registrations = crate::registry::spawn_registration_batcher(
            database.clone(),
            decision_workers,
            settings.lending.max_decisions_per_commit,
            metrics.batch_observer("registration"),
        );
        let financing = crate::lending::spawn_finance_batcher(
            database.clone(),
            decision_workers,
            settings.lending.max_decisions_per_commit,
            metrics.batch_observer("financing"),
        );
        let lookups = crate::lending::spawn_lookup_batcher(
            database.clone(),
            decision_workers,
            settings.lending.max_decisions_per_commit,
            metrics.batch_observer("lookup"),
        );
        let limits = Arc::new(crate::api::limits::RateLimits::new(
            crate::api::limits::Rate {
                per_second: settings.limits.requests_per_second,
                burst: settings.limits.request_burst,
            },
            crate::api::limits::Rate {
                per_second: settings.limits.lookups_per_second,
                burst: settings.limits.lookup_burst,
            },
        ));
        let state = web::Data::new(AppState {
            database,
            metrics,
            settings: Arc::new(settings.clone()),
            platform_key,
            key_rotations: Arc::new(key_rotations),
            sequencer: sequencer_handle,
            published,
            registrations,
            confirmations,
            financing,
            lookups,
            recent_callers: Arc::new(crate::api::gate::RecentCallers::default()),
            fingerprint_key,
            limits,
            upload_lease,
            uploads: uploads.clone(),
        });
        let body_limit = settings.http.max_body_bytes;
        let body_timeout = settings.http.body_read_timeout;
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(BodyLimit(body_limit))
                .app_data(crate::api::gate::BodyTimeout(body_timeout))
                .app_data(web::PayloadConfig::new(body_limit))
                .wrap(from_fn(crate::api::idempotency::replay))
                .wrap(from_fn(crate::api::gate::authenticate_first))
                .wrap(from_fn(crate::api::limits::limit_anonymous))
                .wrap(from_fn(observe))
                .configure(crate::api::routes)
                .configure(crate::portal::routes)
                .default_service(crate::portal::unmatched())
        })
        .shutdown_timeout(settings.http.shutdown_timeout.as_secs())
        .client_request_timeout(settings.http.body_read_timeout)
        .listen(listener)?;
        if let Some(workers) = settings.http.workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            sequencer,
            default_sweeper,
            outbox,
            upload_worker,
            uploads,
            prober,
            ledger_watch,
            witness_submitters,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from elsewhere (tests; signals are handled already).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.sequencer.abort();
        self.default_sweeper.abort();
        self.outbox.abort();
        self.uploads.stop();
        self.upload_worker.abort();
        self.prober.abort();
        self.ledger_watch.abort();
        for submitter in &self.witness_submitters {
            submitter.abort();
        }
        served
    }
}

/// Creates the data directory, opens the pool and applies migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    create_data_dir(&settings.data_dir)?;
    let url = settings.database_url()?;
    let database = Database::new(
        url,
        settings.database.max_connections,
        settings.database.checkout_timeout,
    );
    let migrating = database.clone();
    let applied = tokio::task::spawn_blocking(move || migrating.run_blocking(migrations::run_pending))
        .await
        .context("the migration task failed")?
        .with_context(|| format!("cannot connect to {}", database.url().redacted()))??;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(database)
}

/// The data directory holds the signing key: owner-only.
pub fn create_data_dir(path: &std::path::Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .with_context(|| format!("cannot create data directory {}", path.display()))
}
