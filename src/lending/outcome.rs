//! What a signed request (an offer, a pledge, a payment, a loan record) is
//! answered with, in the domain's terms: done, or refused with a closed
//! refusal; `api/` turns it into HTTP. Decisions, refusals included, are
//! stored under the request's Idempotency-Key in the same transaction, so a
//! retry returns exactly the first answer.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::Nonce;
use crate::refusal::{Refusal, UseCaseError};
use crate::store::lending::{self as repository, IdempotencyRow};
use crate::store::{self, write_transaction, DbConnection};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Done: created, with this body.
    Created { body: Value },
    /// Refused by the rules, with the detail for the caller (and the field
    /// at fault). Records stored before carried an HTTP `status` here too;
    /// it is ignored (the class of the refusal says it).
    Refused {
        code: Refusal,
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
    pub fn refused(refusal: Refusal, detail: impl Into<String>) -> Self {
        Outcome::Refused {
            code: refusal,
            detail: detail.into(),
            field: None,
        }
    }

    pub fn invalid_field(field: &str, detail: impl std::fmt::Display) -> Self {
        Outcome::Refused {
            code: Refusal::InvalidField,
            detail: format!("{field}: {detail}"),
            field: Some(field.to_owned()),
        }
    }

    pub fn not_found() -> Self {
        Outcome::refused(Refusal::NotFound, "no such resource")
    }

    /// A use case's result as it is stored and answered: its refusals
    /// become outcomes (and commit, with whatever alert they raised); a
    /// database failure stays an error, so the transaction rolls back.
    pub fn of(result: Result<Value, UseCaseError>) -> Result<Outcome, diesel::result::Error> {
        match result {
            Ok(body) => Ok(Outcome::Created { body }),
            Err(UseCaseError::Database(error)) => Err(error),
            Err(refused) => {
                let (code, detail, field) = refused
                    .refusal()
                    .ok_or_else(|| diesel::result::Error::RollbackTransaction)?;
                Ok(Outcome::Refused { code, detail, field })
            }
        }
    }

    /// The refusal, if this (or the answer it replays) is one.
    pub fn refusal(&self) -> Option<Refusal> {
        match self.first() {
            Outcome::Refused { code, .. } => Some(*code),
            _ => None,
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
                return replay(&stored, request_hash);
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
        response_body: serde_json::to_string(outcome)
            .map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))?,
        created_at: now,
    })
}

/// The first answer, if `request_hash` is the request it answered; a
/// stored answer that does not parse is corruption (an error, never an
/// answer of its own).
pub(crate) fn replay(stored: &IdempotencyRow, request_hash: &[u8; 32]) -> Result<Outcome, diesel::result::Error> {
    if stored.request_sha256 != request_hash {
        return Ok(Outcome::refused(
            Refusal::IdempotencyMismatch,
            "this Idempotency-Key was used with another request body; use a new key for a new request",
        ));
    }
    let first: Outcome = serde_json::from_str(&stored.response_body)
        .map_err(|error| diesel::result::Error::DeserializationError(Box::new(error)))?;
    Ok(Outcome::Replayed(Box::new(first.first().clone())))
}
