//! `anchorfin org add` and `anchorfin risk-officer add`.

use clap::{Args, Subcommand};
use uuid::Uuid;

use super::serve::open;
use super::{print_json, CliError, DatabaseArgs};
use crate::domain::EmailAddress;
use crate::organizations::api_key::reveal;
use crate::organizations::{
    add_risk_officer, onboard, AddRiskOfficerError, IdentifierRequest, OnboardedView, OrganizationRequest,
};

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Onboard an organisation; prints its id and API key (shown once) as JSON.
    Add(OrgAddArgs),
}

#[derive(Debug, Args)]
pub struct OrgAddArgs {
    #[arg(long)]
    name: String,
    /// supplier, core_enterprise, bank or operator.
    #[arg(long)]
    role: String,
    /// Unified social credit code, LEI or similar.
    #[arg(long)]
    legal_id: String,
    /// Another identifier, SCHEME:VALUE (an ISO 6523 ICD code such as 0088
    /// for a GLN, or VAT); repeat for several.
    #[arg(long = "identifier", value_name = "SCHEME:VALUE")]
    identifiers: Vec<String>,
    /// An ed25519 public key (64 hex characters); repeat for several.
    #[arg(long = "public-key")]
    public_keys: Vec<String>,
    /// A risk officer's e-mail address; repeat for several.
    #[arg(long = "risk-email")]
    risk_emails: Vec<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum RiskOfficerCommand {
    /// Add a risk officer to an organisation; prints their API key (shown once) as JSON.
    Add(RiskOfficerAddArgs),
}

#[derive(Debug, Args)]
pub struct RiskOfficerAddArgs {
    /// The organisation's id.
    #[arg(long)]
    org: String,
    #[arg(long)]
    email: String,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub fn run_org(command: OrgCommand) -> Result<(), CliError> {
    let OrgCommand::Add(args) = command;
    let identifiers = args
        .identifiers
        .iter()
        .map(|raw| identifier_flag(raw))
        .collect::<Result<Vec<_>, _>>()?;
    let new = OrganizationRequest {
        name: args.name,
        role: args.role,
        legal_id: args.legal_id,
        identifiers,
        public_keys: args.public_keys,
        risk_emails: args.risk_emails,
    }
    .parse()
    .map_err(|error| {
        // `identifiers[1].value` came from the second `--identifier`.
        let field = error.field.replacen("identifiers", "identifier", 1).replace('_', "-");
        CliError::Usage(format!("--{field}: {}", error.detail))
    })?;
    let mut connection = open(&args.database)?;
    let onboarded = onboard(&mut connection, new, None).map_err(|error| match error {
        crate::organizations::OnboardError::Database(error) => CliError::Failed(error.into()),
        refused => CliError::Usage(refused.to_string()),
    })?;
    print_json(&OnboardedView::from(&onboarded))
}

/// `--identifier SCHEME:VALUE`, split at the first ':' (a value may hold more).
fn identifier_flag(raw: &str) -> Result<IdentifierRequest, CliError> {
    let (scheme, value) = raw.split_once(':').ok_or_else(|| {
        CliError::Usage(format!(
            "--identifier: {raw:?} is not SCHEME:VALUE (such as 0088:7300010000001)"
        ))
    })?;
    Ok(IdentifierRequest {
        scheme: scheme.to_owned(),
        value: value.to_owned(),
    })
}

pub fn run_risk_officer(command: RiskOfficerCommand) -> Result<(), CliError> {
    let RiskOfficerCommand::Add(args) = command;
    let organization_id =
        Uuid::parse_str(args.org.trim()).map_err(|_| CliError::Usage("--org: not an organisation id".to_owned()))?;
    let email = EmailAddress::parse(&args.email).map_err(|error| CliError::Usage(format!("--email: {error}")))?;
    let mut connection = open(&args.database)?;
    let added = add_risk_officer(&mut connection, organization_id, &email, None).map_err(|error| match error {
        AddRiskOfficerError::Database(error) => CliError::Failed(error.into()),
        refused => CliError::Usage(refused.to_string()),
    })?;
    print_json(&serde_json::json!({
        "id": added.risk_officer.id,
        "organization_id": added.risk_officer.organization_id,
        "email": added.risk_officer.email,
        "api_key": reveal(&added.api_key),
    }))
}
