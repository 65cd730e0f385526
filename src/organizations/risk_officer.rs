//! Adding a risk officer (a person, by e-mail) to an organisation, with an
//! API key of their own.

use uuid::Uuid;

use super::api_key::GeneratedApiKey;
use super::onboard::{issue_api_key, risk_officer_added};
use crate::domain::EmailAddress;
use crate::store::organizations::{self as repository, RiskOfficerRow};
use crate::store::{self, write_transaction, DbConnection};

#[derive(Debug)]
pub struct RiskOfficerAdded {
    pub risk_officer: RiskOfficerRow,
    pub api_key: GeneratedApiKey,
}

#[derive(Debug, thiserror::Error)]
pub enum AddRiskOfficerError {
    #[error("no organisation has this id")]
    UnknownOrganization,
    #[error("this organisation already has a risk officer with this e-mail address")]
    DuplicateEmail,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub fn add_risk_officer(
    connection: &mut DbConnection,
    organization_id: Uuid,
    email: &EmailAddress,
    actor: Option<&str>,
) -> Result<RiskOfficerAdded, AddRiskOfficerError> {
    let organization_id = organization_id.to_string();
    let now = store::now();
    write_transaction(connection, |connection| {
        if repository::find_organization(connection, &organization_id)?.is_none() {
            return Err(AddRiskOfficerError::UnknownOrganization);
        }
        if repository::find_risk_officer_by_email(connection, &organization_id, email.as_str())?.is_some() {
            return Err(AddRiskOfficerError::DuplicateEmail);
        }
        let risk_officer = RiskOfficerRow {
            id: Uuid::new_v4().to_string(),
            organization_id: organization_id.clone(),
            email: email.as_str().to_owned(),
            created_at: now,
        };
        repository::insert_risk_officer(connection, &risk_officer).map_err(|error| {
            if store::is_unique_violation(&error) {
                AddRiskOfficerError::DuplicateEmail
            } else {
                error.into()
            }
        })?;
        crate::tlog::append(connection, risk_officer_added(&risk_officer, actor), now)?;
        let api_key = issue_api_key(connection, &organization_id, Some(&risk_officer.id), now)?;
        Ok(RiskOfficerAdded { risk_officer, api_key })
    })
}
