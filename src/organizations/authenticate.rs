//! Who is calling: a bearer API key resolved to its organisation and role.

use std::collections::HashMap;

use uuid::Uuid;

use super::api_key::PresentedApiKey;
use crate::domain::Role;
use crate::store::organizations::{self as repository, ApiKeyRow};
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
    Ok(authenticate_key(connection, token)?.map(|(principal, _)| principal))
}

/// [`authenticate`], with the stored row of the key that matched (for a
/// portal session, which remembers the key it began with).
pub(super) fn authenticate_key(
    connection: &mut DbConnection,
    token: &str,
) -> diesel::QueryResult<Option<(Principal, ApiKeyRow)>> {
    let Some(presented) = PresentedApiKey::parse(token) else {
        return Ok(None);
    };
    let Some((row, role)) = repository::find_active_api_key(connection, presented.id)? else {
        return Ok(None);
    };
    Ok(principal(&presented, &row, &role).map(|principal| (principal, row)))
}

/// [`authenticate`] for many tokens with one query; in the tokens' order.
pub fn authenticate_many(
    connection: &mut DbConnection,
    tokens: &[&str],
) -> diesel::QueryResult<Vec<Option<Principal>>> {
    let presented: Vec<Option<PresentedApiKey>> = tokens.iter().map(|token| PresentedApiKey::parse(token)).collect();
    let ids: Vec<&str> = presented.iter().flatten().map(|key| key.id).collect();
    let rows: HashMap<String, (ApiKeyRow, String)> = if ids.is_empty() {
        HashMap::new()
    } else {
        repository::find_active_api_keys(connection, &ids)?
            .into_iter()
            .map(|(row, role)| (row.id.clone(), (row, role)))
            .collect()
    };
    Ok(presented
        .iter()
        .map(|key| {
            let key = key.as_ref()?;
            let (row, role) = rows.get(key.id)?;
            principal(key, row, role)
        })
        .collect())
}

/// The caller behind a presented key and its stored row, if the secret
/// matches.
fn principal(presented: &PresentedApiKey, row: &ApiKeyRow, role: &str) -> Option<Principal> {
    if !presented.matches(&row.secret_sha256) {
        return None;
    }
    principal_of_key(row, role)
}

/// The caller a stored key (already matched) stands for, with its
/// organisation's role.
pub(super) fn principal_of_key(row: &ApiKeyRow, role: &str) -> Option<Principal> {
    // Rows are written only by this code; anything unparsable is corruption,
    // and refusing access is the safe answer.
    let Ok(role) = role.parse::<Role>() else {
        tracing::error!(api_key = %row.id, "stored role is not a known role");
        return None;
    };
    let Ok(organization_id) = Uuid::parse_str(&row.organization_id) else {
        tracing::error!(api_key = %row.id, "stored organisation id is not a UUID");
        return None;
    };
    let risk_officer_id = match row.risk_officer_id.as_deref().map(Uuid::parse_str) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            tracing::error!(api_key = %row.id, "stored risk officer id is not a UUID");
            return None;
        }
    };
    Some(Principal {
        organization_id,
        role,
        risk_officer_id,
    })
}
