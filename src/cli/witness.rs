//! `anchorfin witness`: run a bank's witness; `anchorfin witness vkey`
//! prints its verifier key; `anchorfin witness show` answers from its copy
//! of the log, no network.
//!
//! On start it prints two lines on standard output, then serves:
//!
//! ```text
//! witness vkey: <name>+<key id>+<base64(0x04 ‖ public key)>
//! listening on http://<host>:<port>
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use secrecy::SecretString;

use super::{print_json, CliError};
use crate::keyfile;
use crate::ledger::VerifierKey;
use crate::witness::{self, read, MailSettings, WitnessSettings};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct WitnessArgs {
    #[command(subcommand)]
    command: Option<WitnessCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum WitnessCommand {
    /// Print this witness's verifier key (type 0x04, cosignature/v1) alone.
    Vkey(VkeyArgs),
    /// Answer from the witness's own copy (no network): the entries about a
    /// fingerprint (64 hex digits) or an id, and the latest cosigned
    /// checkpoint, as JSON.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The witness's name (its cosignature lines' key name), e.g. bank-a.example/witness.
    #[arg(long, required = true)]
    name: Option<String>,
    /// Its ed25519 secret key file, as `anchorfin key gen` writes it.
    #[arg(long, required = true)]
    key: Option<PathBuf>,
    /// Where it keeps its database (locked: one witness per directory).
    #[arg(long, required = true)]
    data_dir: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8090 (port 0: any free port).
    #[arg(long, required = true)]
    bind: Option<String>,
    /// The log's verifier key (type 0x01), as GET /v1/ledger/vkey serves it.
    #[arg(long, required = true)]
    log_vkey: Option<String>,
    /// The platform's base URL: keep a verified copy of the log from it.
    #[arg(long)]
    server: Option<String>,
    /// The bank's API key, to copy the private details it may see too.
    #[arg(long, env = "ANCHORFIN_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// SMTP server for the evidence e-mails, e.g. smtp://127.0.0.1:2525.
    #[arg(long, env = "ANCHORFIN_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// From address of the evidence e-mails.
    #[arg(long, env = "ANCHORFIN_ALERT_FROM", default_value = "anchorfin-witness@localhost")]
    alert_from: String,
    /// A risk officer to e-mail about evidence (repeatable).
    #[arg(long)]
    alert_to: Vec<String>,
}

#[derive(Debug, Args)]
struct VkeyArgs {
    #[arg(long)]
    name: String,
    #[arg(long)]
    key: PathBuf,
}

#[derive(Debug, Args)]
struct ShowArgs {
    #[arg(long)]
    data_dir: PathBuf,
    /// A fingerprint (64 hex digits) or an asset, receivable or other id.
    about: String,
}

pub fn run(args: WitnessArgs) -> Result<(), CliError> {
    match args.command {
        Some(WitnessCommand::Vkey(args)) => {
            let key = keyfile::load(&args.key)?;
            println!("{}", VerifierKey::witness(&args.name, key.verifying_key()));
            Ok(())
        }
        Some(WitnessCommand::Show(args)) => show(args),
        None => serve(args.run),
    }
}

fn show(args: ShowArgs) -> Result<(), CliError> {
    if !witness::store::database_path(&args.data_dir).exists() {
        return Err(CliError::Usage(format!(
            "no witness database in {}",
            args.data_dir.display()
        )));
    }
    let mut connection = witness::store::connect(&args.data_dir)?;
    let answer = read::about(&mut connection, &read::About::parse(&args.about))?;
    print_json(&answer)
}

fn serve(args: RunArgs) -> Result<(), CliError> {
    let missing = |flag: &str| CliError::Usage(format!("--{flag} is required"));
    let name = args.name.ok_or_else(|| missing("name"))?;
    crate::ledger::check_origin(&name).map_err(|_| {
        CliError::Usage("--name: non-empty, with no white space and no '+' (a signed-note key name)".to_owned())
    })?;
    let key = keyfile::load(&args.key.ok_or_else(|| missing("key"))?)?;
    let log = VerifierKey::parse(&args.log_vkey.ok_or_else(|| missing("log-vkey"))?)
        .map_err(|error| CliError::Usage(format!("--log-vkey: {error}")))?;
    if log.key_type != crate::ledger::KeyType::Ed25519Note {
        return Err(CliError::Usage(
            "--log-vkey: the log's key is an Ed25519 note key (type 0x01)".to_owned(),
        ));
    }
    let settings = WitnessSettings {
        name,
        key,
        data_dir: args.data_dir.ok_or_else(|| missing("data-dir"))?,
        bind: args.bind.ok_or_else(|| missing("bind"))?,
        log,
        server: args.server,
        api_key: args.api_key,
        alert_to: args.alert_to,
        mail: MailSettings {
            smtp_url: args.smtp_url.map(SecretString::from),
            from_address: args.alert_from,
            poll: Duration::from_millis(200),
            max_backoff: Duration::from_secs(60),
        },
    };
    crate::telemetry::init();
    let host = settings
        .bind
        .rsplit_once(':')
        .map_or("127.0.0.1", |(host, _)| host)
        .to_owned();
    let host = if host.is_empty() || host == "0.0.0.0" {
        "127.0.0.1".to_owned()
    } else {
        host
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let running = witness::start(settings)?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "witness vkey: {}", running.vkey)?;
        writeln!(stdout, "listening on http://{host}:{}", running.port)?;
        stdout.flush()?;
        drop(stdout);
        running.run_until_stopped().await?;
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(())
}
