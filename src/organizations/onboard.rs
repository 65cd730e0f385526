//! Onboarding an organisation: the organisation, its identifiers, its
//! ed25519 public keys, its risk officers and a first API key for each, in
//! one transaction.

use chrono::NaiveDateTime;
use uuid::Uuid;

use super::api_key::{self, GeneratedApiKey};
use crate::domain::{EmailAddress, LegalId, OrganizationIdentifier, PublicKey, Role};
use crate::store::organizations::{
    self as repository, ApiKeyRow, OrganizationIdentifierRow, OrganizationKeyRow, OrganizationRow, RiskOfficerRow,
};
use crate::store::{self, write_transaction, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};
use serde_json::json;

/// A display name: 1 to 200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationName(String);

#[derive(Debug, thiserror::Error)]
pub enum OrganizationNameError {
    #[error("name must not be empty")]
    Empty,
    #[error("name must be at most 200 characters")]
    TooLong,
    #[error("name must not contain control characters")]
    ControlCharacter,
}

impl OrganizationName {
    pub fn parse(raw: &str) -> Result<Self, OrganizationNameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(OrganizationNameError::Empty);
        }
        if trimmed.chars().count() > 200 {
            return Err(OrganizationNameError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(OrganizationNameError::ControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug)]
pub struct NewOrganization {
    pub name: OrganizationName,
    pub role: Role,
    pub legal_id: LegalId,
    /// Distinct identifiers (the caller refuses duplicates).
    pub identifiers: Vec<OrganizationIdentifier>,
    /// Distinct keys (the caller refuses duplicates).
    pub public_keys: Vec<PublicKey>,
    /// Distinct addresses (the caller refuses duplicates).
    pub risk_emails: Vec<EmailAddress>,
}

#[derive(Debug)]
pub struct Onboarded {
    pub organization: OrganizationRow,
    pub identifiers: Vec<OrganizationIdentifierRow>,
    pub public_keys: Vec<OrganizationKeyRow>,
    pub api_key: GeneratedApiKey,
    pub risk_officers: Vec<(RiskOfficerRow, GeneratedApiKey)>,
}

#[derive(Debug, thiserror::Error)]
pub enum OnboardError {
    #[error("an organisation with this legal id is already onboarded")]
    DuplicateLegalId,
    #[error("identifier {0} belongs to another organisation already")]
    DuplicateIdentifier(String),
    #[error("public key {0} is already registered")]
    PublicKeyTaken(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Onboards `new`; `actor` is the operator organisation acting through the
/// API (`None` from the CLI, where the operator acts on the database itself).
pub fn onboard(
    connection: &mut DbConnection,
    new: NewOrganization,
    actor: Option<&str>,
) -> Result<Onboarded, OnboardError> {
    let now = store::now();
    write_transaction(connection, |connection| {
        // Checked first for a clear answer; the unique indexes decide races.
        if repository::find_organization_by_normalized_legal_id(connection, new.legal_id.normalized())?.is_some() {
            return Err(OnboardError::DuplicateLegalId);
        }
        if let Some(taken) = held_identifier(connection, &new.identifiers)? {
            return Err(OnboardError::DuplicateIdentifier(taken));
        }
        let hex_keys: Vec<String> = new.public_keys.iter().map(PublicKey::to_hex).collect();
        if let Some(taken) = repository::registered_public_keys(connection, &hex_keys)?
            .into_iter()
            .next()
        {
            return Err(OnboardError::PublicKeyTaken(taken));
        }

        let organization = OrganizationRow {
            id: Uuid::new_v4().to_string(),
            name: new.name.as_str().to_owned(),
            role: new.role.as_str().to_owned(),
            legal_id: new.legal_id.as_str().to_owned(),
            legal_id_normalized: new.legal_id.normalized().to_owned(),
            created_at: now,
        };
        repository::insert_organization(connection, &organization)
            .map_err(|error| lost_race(error, || OnboardError::DuplicateLegalId))?;

        let mut identifiers = Vec::with_capacity(new.identifiers.len());
        for identifier in &new.identifiers {
            let row = OrganizationIdentifierRow {
                organization_id: organization.id.clone(),
                scheme: identifier.scheme.as_str().to_owned(),
                value: identifier.value.as_str().to_owned(),
                normalized_value: identifier.value.normalized().to_owned(),
                created_at: now,
            };
            // The primary key is the arbiter when another onboarding takes
            // the identifier between the check above and this insert.
            repository::insert_organization_identifier(connection, &row)
                .map_err(|error| lost_race(error, || OnboardError::DuplicateIdentifier(identifier.to_string())))?;
            identifiers.push(row);
        }

        let mut public_keys = Vec::with_capacity(hex_keys.len());
        for public_key in hex_keys {
            let row = OrganizationKeyRow {
                id: Uuid::new_v4().to_string(),
                organization_id: organization.id.clone(),
                public_key,
                created_at: now,
                revoked_at: None,
            };
            repository::insert_organization_key(connection, &row)
                .map_err(|error| lost_race(error, || OnboardError::PublicKeyTaken(row.public_key.clone())))?;
            public_keys.push(row);
        }

        // The organisation and the keys that will verify its signatures are
        // public on the ledger: anyone can check a signature against them.
        tlog::append(
            connection,
            NewEntry {
                kind: "org_onboarded",
                subjects: vec![organization.id.clone()],
                fingerprint: None,
                actor: actor.map(str::to_owned),
                signature: None,
                details: json!({
                    "name": organization.name,
                    "role": organization.role,
                    "legal_id": organization.legal_id,
                    "legal_id_normalized": organization.legal_id_normalized,
                    "identifiers": identifiers.iter().map(|identifier| json!({
                        "scheme": identifier.scheme,
                        "value": identifier.value,
                        "normalized_value": identifier.normalized_value,
                    })).collect::<Vec<_>>(),
                }),
                visibility: Visibility::Public,
            },
            now,
        )?;
        for key in &public_keys {
            tlog::append(connection, key_registered(key, actor), now)?;
        }

        let api_key = issue_api_key(connection, &organization.id, None, now)?;
        let mut risk_officers = Vec::with_capacity(new.risk_emails.len());
        for email in &new.risk_emails {
            let officer = RiskOfficerRow {
                id: Uuid::new_v4().to_string(),
                organization_id: organization.id.clone(),
                email: email.as_str().to_owned(),
                created_at: now,
            };
            repository::insert_risk_officer(connection, &officer)?;
            tlog::append(connection, risk_officer_added(&officer, actor), now)?;
            let key = issue_api_key(connection, &organization.id, Some(&officer.id), now)?;
            risk_officers.push((officer, key));
        }

        Ok(Onboarded {
            organization,
            identifiers,
            public_keys,
            api_key,
            risk_officers,
        })
    })
}

/// An insert that hit a unique index lost to another onboarding: the
/// refusal `refusal` makes; any other failure is the database's.
fn lost_race(error: diesel::result::Error, refusal: impl FnOnce() -> OnboardError) -> OnboardError {
    if store::is_unique_violation(&error) {
        refusal()
    } else {
        error.into()
    }
}

/// The first of `identifiers` that an organisation holds already, as
/// `SCHEME:value`.
fn held_identifier(
    connection: &mut DbConnection,
    identifiers: &[OrganizationIdentifier],
) -> diesel::QueryResult<Option<String>> {
    if identifiers.is_empty() {
        return Ok(None);
    }
    let values: Vec<String> = identifiers
        .iter()
        .map(|identifier| identifier.value.normalized().to_owned())
        .collect();
    let held = repository::identifiers_with_values(connection, &values)?;
    Ok(identifiers
        .iter()
        .find(|identifier| {
            held.iter().any(|row| {
                row.scheme == identifier.scheme.as_str() && row.normalized_value == identifier.value.normalized()
            })
        })
        .map(ToString::to_string))
}

pub(super) fn key_registered(key: &OrganizationKeyRow, actor: Option<&str>) -> NewEntry {
    NewEntry {
        kind: "key_registered",
        subjects: vec![key.organization_id.clone(), key.id.clone()],
        fingerprint: None,
        actor: actor.map(str::to_owned),
        signature: None,
        details: json!({ "public_key": key.public_key }),
        visibility: Visibility::Public,
    }
}

/// A risk officer's address is personal data: only the organisation (and
/// the operator) may read it.
pub(super) fn risk_officer_added(officer: &RiskOfficerRow, actor: Option<&str>) -> NewEntry {
    NewEntry {
        kind: "risk_officer_added",
        subjects: vec![officer.organization_id.clone(), officer.id.clone()],
        fingerprint: None,
        actor: actor.map(str::to_owned),
        signature: None,
        details: json!({ "email": officer.email }),
        visibility: Visibility::Parties(vec![officer.organization_id.clone()]),
    }
}

/// Creates and stores a new API key; the plaintext lives only in the result.
pub(super) fn issue_api_key(
    connection: &mut DbConnection,
    organization_id: &str,
    risk_officer_id: Option<&str>,
    now: NaiveDateTime,
) -> diesel::QueryResult<GeneratedApiKey> {
    let key = api_key::generate();
    repository::insert_api_key(
        connection,
        &ApiKeyRow {
            id: key.id.clone(),
            organization_id: organization_id.to_owned(),
            risk_officer_id: risk_officer_id.map(str::to_owned),
            secret_sha256: key.secret_sha256.to_vec(),
            created_at: now,
            revoked_at: None,
        },
    )?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(OrganizationName::parse("  Acme Ltd ").unwrap().as_str(), "Acme Ltd");
        assert!(matches!(
            OrganizationName::parse("   "),
            Err(OrganizationNameError::Empty)
        ));
        assert!(matches!(
            OrganizationName::parse(&"x".repeat(201)),
            Err(OrganizationNameError::TooLong)
        ));
        assert!(matches!(
            OrganizationName::parse("a\u{7}b"),
            Err(OrganizationNameError::ControlCharacter)
        ));
    }
}
