//! `anchorfin witness`: a bank's witness of the ledger (issue 18).
//!
//! It cosigns the log's checkpoints under the C2SP `tlog-witness` protocol
//! (`POST /add-checkpoint`, answered with `cosignature/v1` lines) after
//! checking them against the latest checkpoint it cosigned, and — given the
//! platform's URL — keeps its own verified copy of the log up to every size
//! it cosigns (C2SP `tlog-mirror`'s statement: "I hold the log up to this
//! size"). A submission inconsistent with what it cosigned (a split view)
//! is refused, kept as evidence and e-mailed to the bank's risk officers.
//! Its state is one SQLite file in its own, locked, data directory.

mod core;
mod http;
mod mail;
mod mirror;
mod protocol;
pub mod read;
mod schema;
pub mod store;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::{web, App, HttpServer};
use ed25519_dalek::SigningKey;

pub use self::core::{Identity, Outcome, Witness, WitnessError, ALERT_KIND};
pub use self::mail::MailSettings;
pub use self::mirror::MirrorClient;
pub use self::protocol::{AddCheckpoint, Malformed, MAX_PROOF_LINES};

use crate::ledger::VerifierKey;

/// Everything `anchorfin witness` is given.
pub struct WitnessSettings {
    pub name: String,
    pub key: SigningKey,
    pub data_dir: PathBuf,
    pub bind: String,
    /// The log's verifier key (type 0x01).
    pub log: VerifierKey,
    /// The platform's base URL: mirror the log from it.
    pub server: Option<String>,
    pub api_key: Option<String>,
    pub alert_to: Vec<String>,
    pub mail: MailSettings,
}

/// A witness bound to its address, ready to run.
pub struct RunningWitness {
    pub port: u16,
    pub vkey: VerifierKey,
    server: actix_web::dev::Server,
    _lock: store::DataDirLock,
}

impl RunningWitness {
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Locks the data directory, opens the database, loads and checks the
/// state, binds the address and starts the mail sender.
pub fn start(settings: WitnessSettings) -> anyhow::Result<RunningWitness> {
    let lock = store::lock_data_dir(&settings.data_dir)?;
    let connection = store::connect(&settings.data_dir)?;
    let reader = store::SharedConnection::new(store::connect(&settings.data_dir)?);
    let mirror = settings
        .server
        .as_deref()
        .map(|server| MirrorClient::new(server, settings.api_key.clone()))
        .transpose()?;
    let vkey = VerifierKey::witness(&settings.name, settings.key.verifying_key());
    let identity = Identity {
        name: settings.name,
        key: settings.key,
        log: settings.log,
        alert_to: settings.alert_to,
    };
    let witness = Arc::new(Witness::load(identity, mirror, connection)?);
    mail::spawn_sender(reader.clone(), settings.mail)?;
    let listener = TcpListener::bind(&settings.bind)
        .map_err(|error| anyhow::anyhow!("cannot listen on {}: {error}", settings.bind))?;
    let port = listener.local_addr()?.port();
    let state = web::Data::new(http::HttpState {
        witness,
        reader,
        runtime: tokio::runtime::Handle::current(),
    });
    let server = HttpServer::new(move || App::new().app_data(state.clone()).configure(http::routes))
        .workers(2)
        .listen(listener)?
        .run();
    Ok(RunningWitness {
        port,
        vkey,
        server,
        _lock: lock,
    })
}
