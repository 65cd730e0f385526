//! Who is calling: a bearer API key resolved to its organisation and role.

use uuid::Uuid;

use super::api_key::PresentedApiKey;
use crate::domain::Role;
use crate::store::organizations as repository;
use crate::store::DbConnection;

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub organization_id: Uuid,
    pub role: Role,
    /// Set when the key belongs to a risk officer of the organisation rather
    /// than to the organisation itself.
    pub risk_officer_id: Option<Uuid>,
}

/// `Ok(None)` for an unknown, revoked or malformed key: the caller answers
/// 401 without saying which.
pub fn authenticate(connection: &mut DbConnection, token: &str) -> diesel::QueryResult<Option<Principal>> {
    let Some(presented) = PresentedApiKey::parse(token) else {
        return Ok(None);
    };
    let Some((row, role)) = repository::find_active_api_key(connection, presented.id)? else {
        return Ok(None);
    };
    if !presented.matches(&row.secret_sha256) {
        return Ok(None);
    }
    // Rows are written only by this code; anything unparsable is corruption,
    // and refusing access is the safe answer.
    let Ok(role) = role.parse::<Role>() else {
        tracing::error!(api_key = %row.id, "stored role is not a known role");
        return Ok(None);
    };
    let Ok(organization_id) = Uuid::parse_str(&row.organization_id) else {
        tracing::error!(api_key = %row.id, "stored organisation id is not a UUID");
        return Ok(None);
    };
    let risk_officer_id = match row.risk_officer_id.as_deref().map(Uuid::parse_str) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            tracing::error!(api_key = %row.id, "stored risk officer id is not a UUID");
            return Ok(None);
        }
    };
    Ok(Some(Principal {
        organization_id,
        role,
        risk_officer_id,
    }))
}
