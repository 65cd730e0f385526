//! Loading the organisations a registry action involves.

use uuid::Uuid;

use super::error::{corrupt, UseCaseError};
use crate::domain::{verify_with_any, LegalId, PublicKey, Role, Signature, SignedAction};
use crate::store::organizations::{self as organizations, OrganizationKeyRow, OrganizationRow};
use crate::store::DbConnection;

/// An onboarded organisation with its parsed legal id and role.
#[derive(Clone)]
pub(crate) struct Party {
    pub row: OrganizationRow,
    pub legal_id: LegalId,
    pub role: Role,
}

impl Party {
    pub fn id(&self) -> &str {
        &self.row.id
    }

    pub fn from_row(row: OrganizationRow) -> Result<Party, UseCaseError> {
        let legal_id = LegalId::parse(&row.legal_id).map_err(|_| corrupt("legal id"))?;
        let role = row.role.parse::<Role>().map_err(|_| corrupt("role"))?;
        Ok(Party { row, legal_id, role })
    }
}

pub(crate) fn load(connection: &mut DbConnection, id: &str) -> Result<Option<Party>, UseCaseError> {
    organizations::find_organization(connection, id)?
        .map(Party::from_row)
        .transpose()
}

/// The organisation a request names in `field`, which must have `role`.
pub(crate) fn load_with_role(
    connection: &mut DbConnection,
    field: &str,
    id: Uuid,
    role: Role,
) -> Result<Party, UseCaseError> {
    with_role(load(connection, &id.to_string())?, field, role)
}

/// The organisation a request names in `field` (if found), which must have
/// `role`.
pub(crate) fn with_role(party: Option<Party>, field: &str, role: Role) -> Result<Party, UseCaseError> {
    let party = party.ok_or_else(|| UseCaseError::field(field, "no organisation has this id"))?;
    if party.role != role {
        return Err(UseCaseError::field(
            field,
            format!("this organisation is not a {}", role.as_str()),
        ));
    }
    Ok(party)
}

/// Verifies a signature by one of `signer`'s active keys over the canonical
/// message of `action`; returns the key and signature for the ledger.
pub(crate) fn verify_signed(
    connection: &mut DbConnection,
    signer: &str,
    action: &SignedAction,
    signature: &Signature,
) -> Result<([u8; 32], [u8; 64]), UseCaseError> {
    let keys = parse_keys(&organizations::active_public_keys(connection, signer)?)?;
    check_signed(&keys, action, signature)
}

/// The stored keys, parsed (one that does not parse is corruption).
pub(crate) fn parse_keys(rows: &[OrganizationKeyRow]) -> Result<Vec<PublicKey>, UseCaseError> {
    rows.iter()
        .map(|row| PublicKey::parse_hex(&row.public_key).map_err(|_| corrupt("public key")))
        .collect()
}

/// [`verify_signed`] with the signer's keys already read.
pub(crate) fn check_signed(
    keys: &[PublicKey],
    action: &SignedAction,
    signature: &Signature,
) -> Result<([u8; 32], [u8; 64]), UseCaseError> {
    let key = verify_with_any(keys, action.canonical_message().as_bytes(), signature).map_err(|error| {
        UseCaseError::refused(
            crate::refusal::Refusal::InvalidSignature,
            format!(
                "the signature is not valid for the canonical {} message by one of the signer's active keys: {error}",
                action.action_name()
            ),
        )
    })?;
    Ok((*key.as_bytes(), signature.to_bytes()))
}
