//! What onboarding answers, the same from `POST /v1/orgs` and `anchorfin
//! org add`: the new organisation and, shown this once, its API keys.

use serde::{Deserialize, Serialize};

use super::api_key::reveal;
use super::{NewOrganization, Onboarded, OrganizationName};
use crate::domain::{EmailAddress, LegalId, OrganizationIdentifier, OrganizationIdentifierError, PublicKey, Role};
use crate::store::organizations::OrganizationIdentifierRow;
use crate::validation::{field, FieldError};

/// The most identifiers one organisation is onboarded with.
pub const MAX_IDENTIFIERS: usize = 16;

/// The raw request, as JSON or as CLI flags.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRequest {
    pub name: String,
    pub role: String,
    pub legal_id: String,
    #[serde(default)]
    pub identifiers: Vec<IdentifierRequest>,
    #[serde(default)]
    pub public_keys: Vec<String>,
    #[serde(default)]
    pub risk_emails: Vec<String>,
}

/// One identifier as requested: `{"scheme": "0088", "value": "7300010000001"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifierRequest {
    pub scheme: String,
    pub value: String,
}

impl OrganizationRequest {
    pub fn parse(self) -> Result<NewOrganization, FieldError> {
        let name = field("name", OrganizationName::parse(&self.name))?;
        let role = field(
            "role",
            self.role
                .parse::<Role>()
                .map_err(|_| "must be one of supplier, core_enterprise, bank, operator"),
        )?;
        let legal_id = field("legal_id", LegalId::parse(&self.legal_id))?;
        let identifiers = parse_identifiers(&self.identifiers)?;
        let mut public_keys: Vec<PublicKey> = Vec::with_capacity(self.public_keys.len());
        for (index, raw) in self.public_keys.iter().enumerate() {
            let name = format!("public_keys[{index}]");
            let key = field(&name, PublicKey::parse_hex(raw))?;
            if public_keys.iter().any(|seen| seen.to_hex() == key.to_hex()) {
                return Err(FieldError::new(name, "the same key is listed twice"));
            }
            public_keys.push(key);
        }
        let mut risk_emails: Vec<EmailAddress> = Vec::with_capacity(self.risk_emails.len());
        for (index, raw) in self.risk_emails.iter().enumerate() {
            let name = format!("risk_emails[{index}]");
            let email = field(&name, EmailAddress::parse(raw))?;
            if risk_emails.iter().any(|seen| seen.as_str() == email.as_str()) {
                return Err(FieldError::new(name, "the same address is listed twice"));
            }
            risk_emails.push(email);
        }
        Ok(NewOrganization {
            name,
            role,
            legal_id,
            identifiers,
            public_keys,
            risk_emails,
        })
    }
}

/// Each identifier parsed, the failing half named (`identifiers[2].scheme`);
/// one listed twice (however its value is written) is refused.
fn parse_identifiers(requested: &[IdentifierRequest]) -> Result<Vec<OrganizationIdentifier>, FieldError> {
    if requested.len() > MAX_IDENTIFIERS {
        return Err(FieldError::new(
            "identifiers",
            format!("at most {MAX_IDENTIFIERS} identifiers may be given"),
        ));
    }
    let mut identifiers: Vec<OrganizationIdentifier> = Vec::with_capacity(requested.len());
    for (index, raw) in requested.iter().enumerate() {
        let identifier = OrganizationIdentifier::parse(&raw.scheme, &raw.value).map_err(|error| {
            let half = match error {
                OrganizationIdentifierError::Scheme(_) => "scheme",
                OrganizationIdentifierError::Value(_) => "value",
            };
            FieldError::new(format!("identifiers[{index}].{half}"), error)
        })?;
        if identifiers.contains(&identifier) {
            return Err(FieldError::new(
                format!("identifiers[{index}]"),
                "the same identifier is listed twice",
            ));
        }
        identifiers.push(identifier);
    }
    Ok(identifiers)
}

#[derive(Debug, Serialize)]
pub struct OnboardedView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub legal_id: String,
    pub identifiers: Vec<IdentifierView>,
    pub public_keys: Vec<String>,
    /// Shown once; only its hash is stored.
    pub api_key: String,
    pub risk_officers: Vec<RiskOfficerView>,
    pub created_at: String,
}

/// An identifier as given (trimmed), its scheme upper case.
#[derive(Debug, Serialize)]
pub struct IdentifierView {
    pub scheme: String,
    pub value: String,
}

impl From<&OrganizationIdentifierRow> for IdentifierView {
    fn from(row: &OrganizationIdentifierRow) -> Self {
        Self {
            scheme: row.scheme.clone(),
            value: row.value.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RiskOfficerView {
    pub id: String,
    pub organization_id: String,
    pub email: String,
    /// Shown once; only its hash is stored.
    pub api_key: String,
}

impl From<&Onboarded> for OnboardedView {
    fn from(onboarded: &Onboarded) -> Self {
        let organization = &onboarded.organization;
        Self {
            id: organization.id.clone(),
            name: organization.name.clone(),
            role: organization.role.clone(),
            legal_id: organization.legal_id.clone(),
            identifiers: onboarded.identifiers.iter().map(IdentifierView::from).collect(),
            public_keys: onboarded.public_keys.iter().map(|key| key.public_key.clone()).collect(),
            api_key: reveal(&onboarded.api_key),
            risk_officers: onboarded
                .risk_officers
                .iter()
                .map(|(officer, key)| RiskOfficerView {
                    id: officer.id.clone(),
                    organization_id: officer.organization_id.clone(),
                    email: officer.email.clone(),
                    api_key: reveal(key),
                })
                .collect(),
            created_at: crate::store::format_time(organization.created_at),
        }
    }
}
