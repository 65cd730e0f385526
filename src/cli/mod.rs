//! The `anchorfin` command line. `main.rs` only calls [`main`].

mod certificate;
mod import;
mod keys;
mod orgs;
mod serve;
pub mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "anchorfin",
    version,
    about = "Supply-chain finance on a tamper-evident ledger"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database, create the platform key on first start, serve HTTP.
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Organisations.
    #[command(subcommand)]
    Org(orgs::OrgCommand),
    /// Risk officers (people who receive alerts).
    #[command(subcommand, name = "risk-officer")]
    RiskOfficer(orgs::RiskOfficerCommand),
    /// ed25519 keys.
    #[command(subcommand)]
    Key(keys::KeyCommand),
    /// Sign standard input (its exact bytes) with an ed25519 key file; print the signature as hex.
    Sign(keys::SignArgs),
    /// Audit a running server's ledger; exit non-zero naming the first bad index.
    Verify(verify::VerifyArgs),
    /// Certificates of non-encumbrance.
    #[command(subcommand)]
    Certificate(certificate::CertificateCommand),
    /// Register a supplier's invoices from a CSV or UBL 2.1 file; prints the per-row report.
    Import(import::ImportArgs),
}

/// Where the data lives; every subcommand that touches the database takes these.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Holds the platform signing key and the default SQLite database.
    #[arg(long, env = "ANCHORFIN_DATA_DIR", default_value = "./anchorfin-data")]
    pub data_dir: PathBuf,
    /// postgres://… or sqlite://…; without it, the SQLite file in the data dir.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::with_data_dir(self.data_dir.clone());
        settings.database.url = self.database_url.clone().map(SecretString::from);
        settings
    }
}

/// A failure the user can act on; printed without a backtrace.
#[derive(Debug)]
pub enum CliError {
    /// Bad input (exit 2).
    Usage(String),
    /// Anything else (exit 1).
    Failed(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for CliError {
    fn from(error: E) -> Self {
        Self::Failed(error.into())
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Migrate(args) => serve::migrate(args),
        Command::Org(command) => orgs::run_org(command),
        Command::RiskOfficer(command) => orgs::run_risk_officer(command),
        Command::Key(command) => keys::run_key(command),
        Command::Sign(args) => keys::sign(args),
        Command::Verify(args) => verify::run(args),
        Command::Import(args) => import::run(args),
        Command::Certificate(command) => certificate::run(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(CliError::Failed(error)) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// An ed25519 public key given in hex on the command line as `flag`.
fn public_key_argument(flag: &str, text: &str) -> Result<ed25519_dalek::VerifyingKey, CliError> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| CliError::Usage(format!("{flag}: must be 64 hexadecimal characters")))?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| CliError::Usage(format!("{flag}: not a valid ed25519 public key")))
}

/// Prints one JSON document on standard output.
fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
