//! What a bank's financing request is answered with. Decisions, refusals
//! included, are stored under the request's Idempotency-Key in the same
//! transaction, so a retry returns exactly the first answer.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

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

    pub fn status(&self) -> u16 {
        match self {
            Outcome::Created { .. } => 201,
            Outcome::Refused { status, .. } => *status,
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
