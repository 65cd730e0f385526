//! Every failure answers with an RFC 9457 problem document carrying a
//! stable `type` and a snake_case `code`. Server faults never leak their
//! cause to the client; it goes to the log.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::refusal::{Refusal, RefusalClass};
use crate::store::DatabaseUnavailable;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid API key is required: send Authorization: Bearer <api key>")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("no such resource")]
    NotFound,
    #[error("this method is not allowed on this resource; it answers {allow}")]
    MethodNotAllowed { allow: String },
    #[error("{0}")]
    MalformedBody(String),
    #[error("{field}: {detail}")]
    InvalidField { field: String, detail: String },
    /// A query parameter with a value the route does not know (400): the
    /// request is malformed, whatever its body.
    #[error("{field}: {detail}")]
    InvalidQuery { field: String, detail: String },
    #[error("the request body is larger than the limit of {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("the request body must be sent as {expected}")]
    UnsupportedMediaType { expected: &'static str },
    #[error("the request body did not arrive within {seconds} s")]
    RequestTimeout { seconds: u64 },
    #[error("too many requests; retry in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// A refusal by the rules, with its closed code (`crate::refusal`):
    /// answered with the status of its class, and the field at fault.
    #[error("{detail}")]
    Refused {
        refusal: Refusal,
        detail: String,
        field: Option<String>,
        /// What the request collides with, for the caller it belongs to.
        existing_id: Option<String>,
    },
    /// The database is lost or refuses writes: retry later, with the same
    /// Idempotency-Key where the outcome is unknown.
    #[error("{}", match outcome {
        WriteOutcome::NotApplied => "the database is unavailable; nothing was done; retry later",
        WriteOutcome::Unknown => "the database became unavailable while the request was being handled; whether it took effect is unknown; retry later with the same Idempotency-Key",
    })]
    Unavailable { outcome: WriteOutcome },
    /// What was asked for does not exist yet but will (a cosigned
    /// checkpoint before the witnesses first answer): retry later.
    #[error("{0}")]
    NotReady(String),
    /// The ledger has not yet signed a head that covers what the answer
    /// must rest on (a certificate's entries): retry shortly.
    #[error("the ledger has not yet signed a tree head that includes every entry this answer rests on; retry shortly")]
    HeadPending,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// The codes of failures of the protocol rather than of the rules (the
    /// rules' are `Refusal::ALL`): together, every `code` a problem
    /// document may carry.
    pub const PROTOCOL_CODES: [&'static str; 12] = [
        "unauthorized",
        "forbidden",
        "not_found",
        "method_not_allowed",
        "malformed_body",
        "invalid_field",
        "payload_too_large",
        "unsupported_media_type",
        "request_timeout",
        "rate_limited",
        "service_unavailable",
        "internal_error",
    ];

    pub fn invalid_field(field: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::InvalidField {
            field: field.into(),
            detail: detail.to_string(),
        }
    }

    /// A refusal by the rules.
    pub fn refused(refusal: Refusal, detail: impl std::fmt::Display) -> Self {
        Self::Refused {
            refusal,
            detail: detail.to_string(),
            field: None,
            existing_id: None,
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// The machine-readable code; the documented closed set.
    pub fn code(&self) -> &str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::MalformedBody(_) => "malformed_body",
            Self::InvalidField { .. } | Self::InvalidQuery { .. } => "invalid_field",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::RequestTimeout { .. } => "request_timeout",
            Self::RateLimited { .. } => "rate_limited",
            Self::Refused { refusal, .. } => refusal.code(),
            Self::Unavailable { .. } | Self::NotReady(_) | Self::HeadPending => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden(_) => "Forbidden",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed { .. } => "Method not allowed",
            Self::MalformedBody(_) => "Malformed request body",
            Self::InvalidField { .. } | Self::InvalidQuery { .. } => "Invalid field",
            Self::PayloadTooLarge { .. } => "Payload too large",
            Self::UnsupportedMediaType { .. } => "Unsupported media type",
            Self::RequestTimeout { .. } => "Request timeout",
            Self::RateLimited { .. } => "Too many requests",
            Self::Refused { refusal, .. } => match refusal.class() {
                RefusalClass::NotFound => "Not found",
                RefusalClass::Forbidden => "Forbidden",
                RefusalClass::Invalid => "Invalid request",
                RefusalClass::Conflict => "Conflict",
                RefusalClass::TooLarge => "Payload too large",
            },
            Self::Unavailable { .. } | Self::NotReady(_) | Self::HeadPending => "Service unavailable",
            Self::Internal(_) => "Internal server error",
        }
    }
}

/// What a 503 says about the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOutcome {
    /// Answered before anything was attempted (the database was known to be
    /// down, or no connection could be had): nothing was done.
    NotApplied,
    /// The database went away while the request was being handled: it may
    /// or may not have taken effect.
    Unknown,
}

impl ApiError {
    /// 503 before anything was attempted.
    pub const UNAVAILABLE: ApiError = ApiError::Unavailable {
        outcome: WriteOutcome::NotApplied,
    };
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    problem_type: String,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// On 503 only: `not_applied` or `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<WriteOutcome>,
    /// On a 409 `duplicate_registration` to the supplier that registered
    /// the document first: its id.
    #[serde(skip_serializing_if = "Option::is_none")]
    existing_id: Option<&'a str>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::MalformedBody(_) => StatusCode::BAD_REQUEST,
            Self::InvalidField { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InvalidQuery { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Refused { refusal, .. } => match refusal.class() {
                RefusalClass::NotFound => StatusCode::NOT_FOUND,
                RefusalClass::Forbidden => StatusCode::FORBIDDEN,
                RefusalClass::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                RefusalClass::Conflict => StatusCode::CONFLICT,
                RefusalClass::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            },
            Self::Unavailable { .. } | Self::NotReady(_) | Self::HeadPending => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            Self::Unavailable { .. } => tracing::warn!("answered 503: database unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        if matches!(self, Self::Unauthorized) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Self::RateLimited { retry_after_seconds } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
        }
        if let Self::MethodNotAllowed { allow } = self {
            response.insert_header((header::ALLOW, allow.as_str()));
        }
        if matches!(self, Self::Unavailable { .. } | Self::NotReady(_) | Self::HeadPending) {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        response.body(self.problem())
    }
}

impl ApiError {
    /// The problem document's bytes.
    fn problem(&self) -> Vec<u8> {
        let code = self.code();
        let problem = Problem {
            problem_type: format!("urn:anchorfin:problem:{code}"),
            title: self.title(),
            status: self.status_code().as_u16(),
            detail: self.to_string(),
            code,
            field: match self {
                Self::InvalidField { field, .. } | Self::InvalidQuery { field, .. } => Some(field),
                Self::Refused { field, .. } => field.as_deref(),
                _ => None,
            },
            outcome: match self {
                Self::Unavailable { outcome } => Some(*outcome),
                Self::HeadPending => Some(WriteOutcome::NotApplied),
                _ => None,
            },
            existing_id: match self {
                Self::Refused { existing_id, .. } => existing_id.as_deref(),
                _ => None,
            },
        };
        // Strings and numbers only: serialising cannot fail.
        serde_json::to_vec(&problem).unwrap_or_default()
    }

    /// This answer as an idempotent request's stored answer; `None` for
    /// one that must not be given again (a failure of the service, a
    /// missing credential or a rate limit: a retry runs the request again).
    pub fn stored_answer(&self) -> Option<crate::store::replays::StoredAnswer> {
        match self {
            Self::Internal(_)
            | Self::Unavailable { .. }
            | Self::NotReady(_)
            | Self::HeadPending
            | Self::Unauthorized
            | Self::RateLimited { .. } => None,
            _ => Some(crate::store::replays::StoredAnswer {
                status: self.status_code().as_u16(),
                content_type: PROBLEM_CONTENT_TYPE.to_owned(),
                body: self.problem(),
            }),
        }
    }
}

impl From<crate::store::batcher::BatchError> for ApiError {
    fn from(error: crate::store::batcher::BatchError) -> Self {
        match error {
            crate::store::batcher::BatchError::NotCommitted => Self::UNAVAILABLE,
            crate::store::batcher::BatchError::OutcomeUnknown => Self::Unavailable {
                outcome: WriteOutcome::Unknown,
            },
            crate::store::batcher::BatchError::Stopped => Self::internal(error),
        }
    }
}

impl From<DatabaseUnavailable> for ApiError {
    fn from(error: DatabaseUnavailable) -> Self {
        match error {
            DatabaseUnavailable::Down(_) | DatabaseUnavailable::NoConnection(_) => Self::UNAVAILABLE,
            DatabaseUnavailable::TaskFailed => Self::internal(error),
        }
    }
}

/// Query errors the use cases did not turn into refusals: a lost database
/// is 503 (retry later), anything else an opaque 500.
impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        if crate::store::is_connection_lost(&error) {
            Self::Unavailable {
                outcome: WriteOutcome::Unknown,
            }
        } else {
            Self::internal(error)
        }
    }
}
