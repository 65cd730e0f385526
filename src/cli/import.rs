//! `anchorfin import --org ID --file FILE [--format csv|ubl]`: the bulk
//! upload of `POST /v1/receivables/import`, run on the database directly
//! for a supplier (for ERP exports on the operator's side). Prints the same
//! per-row report; exits 0 when the file was read, whatever the rows' fate.
//! A running server picks the new ledger entries up on its next poll.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use uuid::Uuid;

use super::serve::open;
use super::{print_json, CliError, DatabaseArgs};
use crate::domain::Role;
use crate::refusal::UseCaseError;
use crate::registry::{import_receivables, ImportFailure, ImportFormat};
use crate::store::organizations as repository;

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
    // One transaction, as over HTTP: the whole upload and its report, or nothing.
    let report = crate::store::write_transaction(&mut connection, |connection| {
        import_receivables(connection, &key, &supplier.id, format, &body)
    })
    .map_err(|error| match error {
        ImportFailure::Upload(error) => CliError::Usage(format!("--file: {error}")),
        ImportFailure::Registry(UseCaseError::Database(error)) => CliError::Failed(error.into()),
        ImportFailure::Registry(error) => CliError::Usage(error.to_string()),
    })?;
    print_json(&report)
}
