//! `anchorfin import --org ID --file FILE [--format csv|ubl|xlsx]`: the bulk
//! upload of `POST /v1/receivables/import`, run on the database directly
//! for a supplier (for ERP exports on the operator's side), up to 100,000
//! rows, with a progress bar on a terminal. Decided as the server decides
//! uploads, a chunk per commit: interrupted, it goes on where it stopped —
//! run again with the same file, or taken over by a running server once
//! its lease has passed. Prints the same per-row report; exits 0 when the
//! file was read, whatever the rows' fate. A running server picks the new
//! ledger entries up on its next poll.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use uuid::Uuid;

use super::serve::open;
use super::{print_json, CliError, DatabaseArgs};
use crate::domain::Role;
use crate::refusal::UseCaseError;
use crate::registry::upload_job::{decide, stored_report, submit};
use crate::registry::{ImportFailure, ImportFormat, Lease, Submitted, UploadProgress};
use crate::store::documents as uploads;
use crate::store::organizations as repository;

/// How long this command holds an upload between two chunks before a
/// server may take it over.
const LEASE: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Ubl,
    Xlsx,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The supplier organisation the invoices are registered for.
    #[arg(long)]
    org: String,
    /// The CSV file, Excel workbook (.xlsx) or UBL XML document (at most 100,000 rows).
    #[arg(long)]
    file: PathBuf,
    /// Defaults from the file's extension (.csv, .xlsx, .xml), else its content.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub fn run(args: ImportArgs) -> Result<(), CliError> {
    let organization =
        Uuid::parse_str(args.org.trim()).map_err(|_| CliError::Usage("--org: not an organisation id".to_owned()))?;
    let body = std::fs::read(&args.file)
        .map_err(|error| CliError::Usage(format!("--file: cannot read {}: {error}", args.file.display())))?;
    let format = match args.format {
        Some(Format::Csv) => ImportFormat::Csv,
        Some(Format::Ubl) => ImportFormat::Ubl,
        Some(Format::Xlsx) => ImportFormat::Xlsx,
        None => {
            let name = args.file.file_name().and_then(|name| name.to_str());
            crate::registry::import::sniff(None, name, &body).ok_or_else(|| {
                CliError::Usage("--file: cannot tell its format; give --format csv, ubl or xlsx".to_owned())
            })?
        }
    };
    let mut connection = open(&args.database)?;
    // Fingerprints are stored under the data directory's key, the one the
    // server uses.
    let settings = args.database.settings();
    crate::startup::create_data_dir(&settings.data_dir)?;
    let key = crate::identity::load_fingerprint_key(&settings.fingerprint_key_path())
        .map_err(|error| CliError::Failed(error.into()))?;
    crate::identity::bind_fingerprint_key(&mut connection, &key).map_err(|error| CliError::Failed(error.into()))?;
    let supplier = repository::find_organization(&mut connection, &organization.to_string())?
        .ok_or_else(|| CliError::Usage("--org: no organisation has this id".to_owned()))?;
    if supplier.role != Role::Supplier.as_str() {
        return Err(CliError::Usage(
            "--org: only a supplier's invoices are imported".to_owned(),
        ));
    }
    let rows =
        crate::registry::import::parse(format, &body).map_err(|error| CliError::Usage(format!("--file: {error}")))?;
    let lease = Lease::new(LEASE);
    let total = rows.len();
    let upload = match submit(&mut connection, &supplier.id, format, &body, total, Some(&lease))? {
        Submitted::Held(upload) => upload,
        Submitted::Earlier(upload) if upload.status == "done" => {
            return print_json(&stored_report(&upload).map_err(failed)?);
        }
        Submitted::Earlier(upload) => {
            // Running: left by a process that stopped (its lease passed), or
            // being decided elsewhere now.
            let now = crate::store::now();
            let until = now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::seconds(30));
            if !uploads::lease_upload(&mut connection, &upload.id, &lease.owner, until, now)? {
                eprintln!("this file is being imported by another process; its progress:");
                return print_json(&UploadProgress::of(&upload, true));
            }
            uploads::find_upload(&mut connection, &upload.id)?.unwrap_or(upload)
        }
        Submitted::Queued(upload) => return print_json(&UploadProgress::of(&upload, false)),
    };
    let bar = progress_bar(total, upload.processed_rows);
    let report = decide(&mut connection, &key, &lease, &upload, rows, &mut |decided, _| {
        bar.set_position(decided as u64);
        true
    });
    bar.finish_and_clear();
    print_json(&report.map_err(|error| match error {
        ImportFailure::Registry(error) => failed(error),
        error => CliError::Failed(error.into()),
    })?)
}

fn failed(error: UseCaseError) -> CliError {
    match error {
        UseCaseError::Database(error) => CliError::Failed(error.into()),
        error => CliError::Usage(error.to_string()),
    }
}

/// Rows decided of `total`, on standard error when it is a terminal.
fn progress_bar(total: usize, decided: i64) -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr_with_hz(10));
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({percent}%), {eta} left") {
        bar.set_style(style);
    }
    bar.set_position(u64::try_from(decided).unwrap_or(0));
    bar
}
