//! What a bank's financing request is answered with. Decisions, refusals
//! included, are stored under the request's Idempotency-Key in the same
//! transaction, so a retry returns exactly the first answer.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::Nonce;
use crate::registry::RegistryError;
use crate::store::lending::{self as repository, IdempotencyRow};
use crate::store::{self, write_transaction, DbConnection};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// 201 with this body.
    Created { body: Value },
    /// A refusal with its HTTP status and closed code.
    Refused {
        status: u16,
        code: String,
        detail: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    },
    /// The first answer to this request, given again to its retry (never
    /// stored itself).
    #[serde(skip)]
    Replayed(Box<Outcome>),
}

impl Outcome {
    pub fn refused(status: u16, code: &str, detail: impl Into<String>) -> Self {
        Outcome::Refused {
            status,
            code: code.to_owned(),
            detail: detail.into(),
            field: None,
        }
    }

    pub fn invalid_field(field: &str, detail: impl std::fmt::Display) -> Self {
        Outcome::Refused {
            status: 422,
            code: "invalid_field".to_owned(),
            detail: format!("{field}: {detail}"),
            field: Some(field.to_owned()),
        }
    }

    /// A use case's result as it is stored and answered: its refusals
    /// become outcomes (and commit, with whatever alert they raised); a
    /// database failure stays an error, so the transaction rolls back.
    pub fn of(result: Result<Value, RegistryError>) -> Result<Outcome, diesel::result::Error> {
        Ok(match result {
            Ok(body) => Outcome::Created { body },
            Err(RegistryError::Database(error)) => return Err(error),
            Err(RegistryError::NotFound) => Outcome::refused(404, "not_found", "no such resource"),
            Err(RegistryError::Forbidden(detail)) => Outcome::refused(403, "forbidden", detail),
            Err(RegistryError::InvalidField(error)) => Outcome::invalid_field(&error.field, error.detail),
            Err(RegistryError::Refused { refusal, detail }) => {
                Outcome::refused(refusal.status(), refusal.code(), detail)
            }
        })
    }

    pub fn status(&self) -> u16 {
        match self {
            Outcome::Created { .. } => 201,
            Outcome::Refused { status, .. } => *status,
            Outcome::Replayed(first) => first.status(),
        }
    }

    /// The answer itself, whether given first or replayed.
    pub fn first(&self) -> &Outcome {
        match self {
            Outcome::Replayed(first) => first.first(),
            first => first,
        }
    }
}

/// What identifies a request body for idempotency: the action and the body's
/// JSON with keys in order (serde_json's map is sorted), hashed.
pub fn request_hash(action: &str, body: &Value) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(action.as_bytes());
    hasher.update([0]);
    hasher.update(body.to_string().as_bytes());
    hasher.finalize().into()
}

/// Decides a signed request once per (organisation, nonce): in one
/// transaction, a stored answer is replayed (another body under the key is
/// 422 `idempotency_mismatch`), or `decide` runs and its outcome — refusals
/// included — is stored with it. A retry after any failure therefore gets
/// the first answer, and a signed message cannot be used twice. A racing
/// twin that wins at a unique index makes the work run once more, to see
/// it.
pub fn decide_once(
    connection: &mut DbConnection,
    organization_id: &str,
    nonce: &Nonce,
    request_hash: &[u8; 32],
    mut decide: impl FnMut(&mut DbConnection) -> Result<Outcome, diesel::result::Error>,
) -> Result<Outcome, diesel::result::Error> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = write_transaction(connection, |connection| -> Result<Outcome, diesel::result::Error> {
            if let Some(stored) = repository::find_idempotency(connection, organization_id, nonce.as_str())? {
                return Ok(replay(&stored, request_hash));
            }
            let outcome = decide(connection)?;
            let record = record(organization_id, nonce, request_hash, &outcome, store::now())?;
            repository::insert_idempotency(connection, &record)?;
            Ok(outcome)
        });
        match result {
            Err(error) if attempt < 3 && store::is_retryable_conflict(&error) => continue,
            other => return other,
        }
    }
}

/// The stored answer to a request, for its retries.
pub(crate) fn record(
    organization_id: &str,
    nonce: &Nonce,
    request_hash: &[u8; 32],
    outcome: &Outcome,
    now: NaiveDateTime,
) -> Result<IdempotencyRow, diesel::result::Error> {
    Ok(IdempotencyRow {
        organization_id: organization_id.to_owned(),
        idempotency_key: nonce.as_str().to_owned(),
        request_sha256: request_hash.to_vec(),
        response_status: i32::from(outcome.status()),
        response_body: serde_json::to_string(outcome)
            .map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))?,
        created_at: now,
    })
}

/// The first answer, if `request_hash` is the request it answered.
pub(crate) fn replay(stored: &IdempotencyRow, request_hash: &[u8; 32]) -> Outcome {
    if stored.request_sha256 != request_hash {
        return Outcome::refused(
            422,
            "idempotency_mismatch",
            "this Idempotency-Key was used with another request body; use a new key for a new request",
        );
    }
    match serde_json::from_str::<Outcome>(&stored.response_body) {
        Ok(first) => Outcome::Replayed(Box::new(first.first().clone())),
        Err(_) => {
            tracing::error!("a stored idempotent answer does not parse");
            Outcome::refused(500, "internal_error", "internal error")
        }
    }
}
