//! What the signed, idempotent routes share: the `Idempotency-Key` that is
//! also the signed message's nonce, the hash that identifies a request
//! under it, and the answer stored with the decision.

use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::error::ApiError;
use crate::domain::Nonce;
use crate::lending::Outcome;
use crate::validation::{field, FieldError};

/// The request's `Idempotency-Key`, required: it makes retries safe and is
/// the nonce of the signed message.
pub fn nonce(request: &HttpRequest) -> Result<Nonce, FieldError> {
    let key = request
        .headers()
        .get("idempotency-key")
        .ok_or_else(|| {
            FieldError::new(
                "Idempotency-Key",
                "the header is required: it makes retries safe and is the signed nonce",
            )
        })?
        .to_str()
        .map_err(|_| FieldError::new("Idempotency-Key", "must be visible ASCII"))?;
    field("Idempotency-Key", Nonce::parse(key))
}

/// What identifies a request under its key: the action (with the path's
/// id, if any) and the body.
pub fn request_hash(action: &str, body: &impl Serialize) -> Result<[u8; 32], FieldError> {
    let canonical = serde_json::to_value(body).map_err(|error| FieldError::new("body", error))?;
    Ok(crate::lending::request_hash(action, &canonical))
}

/// The decision's answer: 201 with its body, or its refusal; a replay is
/// marked `Idempotent-Replayed: true`, as on every route.
pub fn answer(outcome: Outcome) -> Result<HttpResponse, ApiError> {
    if let Outcome::Replayed(first) = outcome {
        let mut response = match answer(*first) {
            Ok(response) => response,
            Err(error) => actix_web::ResponseError::error_response(&error),
        };
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("idempotent-replayed"),
            actix_web::http::header::HeaderValue::from_static("true"),
        );
        return Ok(response);
    }
    match outcome {
        Outcome::Created { body } => Ok(HttpResponse::Created().json(body)),
        Outcome::Refused { code, detail, field } => Err(ApiError::Refused {
            refusal: code,
            detail,
            field,
            existing_id: None,
        }),
        Outcome::Replayed(_) => Err(ApiError::internal(anyhow::anyhow!("a replay of a replay"))),
    }
}
