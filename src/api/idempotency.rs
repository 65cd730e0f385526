//! `Idempotency-Key` on every POST (docs/PRODUCT.md §3.7): a retry with the same
//! key and body gets the first answer again; the same key with another body
//! is 422 `idempotency_mismatch`. Keys are per caller (the SHA-256 of its API
//! key is the scope).
//!
//! The signed requests whose nonce is the Idempotency-Key — offers,
//! pledges, assignments, payments, disbursements and repayments — record
//! theirs in the decision's own transaction (`lending::decide_once`), so
//! this middleware leaves them alone. For the other
//! POSTs the answer is stored just after the change commits: should the
//! process die in between, a retry runs the request again, and the use
//! cases' own rules (a fingerprint registers once, a receivable confirms
//! once, a retired asset cannot be split, a settled one cannot be paid)
//! refuse it rather than act twice. 5xx and 401 answers are not stored, so a
//! retry after them runs again.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::state::AppState;
use crate::domain::Nonce;
use crate::store::replays::{self, ReplayRow};

/// The largest body buffered for hashing; larger ones are answered 413, as
/// every route's own limit would.
const MAX_BUFFERED_BYTES: usize = 10 * 1024 * 1024;

/// Whether the route keeps its idempotency records transactionally itself.
fn transactional(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        ["", "v1", "offers" | "pledges" | "assignments"]
            | ["", "v1", "assets", _, "payments"]
            | ["", "v1", "pledges", _, "disbursements" | "repayments"]
    )
}

/// The scope of a caller's keys: the authenticated principal (its
/// organisation, or the risk officer acting for it), never the raw header,
/// so that two spellings of one API key share their keys.
fn scope(caller: &crate::organizations::Principal) -> Vec<u8> {
    let principal = match caller.risk_officer_id {
        Some(officer) => format!("officer:{officer}"),
        None => format!("organization:{}", caller.organization_id),
    };
    Sha256::digest(principal.as_bytes()).to_vec()
}

/// What identifies a request under its key: method, path and body — a
/// JSON body as parsed (so key order and white space do not matter), any
/// other body as sent.
fn request_hash(request: &ServiceRequest, body: &[u8]) -> Vec<u8> {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with("application/json"));
    let canonical = json
        .then(|| serde_json::from_slice::<serde_json::Value>(body).ok())
        .flatten()
        .map(|value| value.to_string().into_bytes());
    let mut hasher = Sha256::new();
    hasher.update(request.method().as_str());
    hasher.update([0]);
    hasher.update(request.path());
    hasher.update([0]);
    hasher.update(canonical.as_deref().unwrap_or(body));
    hasher.finalize().to_vec()
}

pub async fn replay(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // A key that is not visible ASCII is kept as "" so that it is refused below.
    let key = request
        .headers()
        .get("idempotency-key")
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    // The gate authenticated every POST to a route that takes one; anyone
    // else (no key, or a method the route does not take) goes on to be
    // answered by the route.
    let caller = super::gate::gate_caller(request.request());
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let applies = request.method() == Method::POST && !transactional(request.path());
    let (Some(key), Some(caller), Some(state), true) = (key, caller, state, applies) else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    if Nonce::parse(&key).is_err() {
        let error = ApiError::invalid_field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters other than '='",
        );
        return Ok(request.into_response(error.error_response()));
    }
    let caller = scope(&caller);

    // Read the body to hash it (under the body time limit), then hand it on
    // unchanged.
    let timeout = super::gate::body_timeout(request.request());
    let body = match super::gate::read_body(request.take_payload(), MAX_BUFFERED_BYTES, timeout).await {
        Ok(body) => body,
        Err(error) => return Ok(request.into_response(error.error_response())),
    };
    let request_hash = request_hash(&request, &body);
    let stream: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>,
    > = Box::pin(futures_util::stream::once(std::future::ready(Ok(body))));
    request.set_payload(Payload::from(stream));
    let (lookup_caller, lookup_key) = (caller.clone(), key.clone());
    let stored = state
        .database
        .run(move |connection| replays::find(connection, &lookup_caller, &lookup_key))
        .await;
    match stored {
        Ok(Ok(Some(stored))) if stored.request_sha256 == request_hash => {
            let status = u16::try_from(stored.response_status)
                .ok()
                .and_then(|status| StatusCode::from_u16(status).ok())
                .unwrap_or(StatusCode::OK);
            let response = HttpResponse::build(status)
                .insert_header((header::CONTENT_TYPE, stored.content_type))
                .insert_header(("Idempotent-Replayed", "true"))
                .body(stored.response_body);
            return Ok(request.into_response(response));
        }
        Ok(Ok(Some(_))) => {
            let error = ApiError::refused(
                crate::refusal::Refusal::IdempotencyMismatch,
                "this Idempotency-Key was used with another request; use a new key for a new request",
            );
            return Ok(request.into_response(error.error_response()));
        }
        Ok(Ok(None)) => {}
        Ok(Err(error)) => return Ok(request.into_response(ApiError::from(error).error_response())),
        Err(error) => return Ok(request.into_response(ApiError::from(error).error_response())),
    }

    let response = next.call(request).await?;
    let status = response.status();
    if status.is_server_error() || status == StatusCode::UNAUTHORIZED {
        return Ok(response.map_into_boxed_body());
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let (request, response) = response.into_parts();
    let (response, body) = response.into_parts();
    let bytes = to_bytes(body)
        .await
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the answer could not be read")))?;
    let row = ReplayRow {
        caller_sha256: caller,
        idempotency_key: key,
        request_sha256: request_hash,
        response_status: i32::from(status.as_u16()),
        content_type,
        response_body: bytes.to_vec(),
        created_at: crate::store::now(),
    };
    // The change itself committed; only the replay record could be missing.
    match state
        .database
        .run(move |connection| replays::remember(connection, &row))
        .await
    {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "an idempotent answer could not be stored"),
        Err(error) => tracing::warn!(%error, "an idempotent answer could not be stored"),
    }
    Ok(ServiceResponse::new(
        request,
        response.set_body(bytes).map_into_boxed_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::transactional;

    #[test]
    fn signed_idempotent_routes_keep_their_own_records() {
        for path in [
            "/v1/offers",
            "/v1/pledges",
            "/v1/assignments",
            "/v1/assets/0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90/payments",
            "/v1/pledges/0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90/disbursements",
            "/v1/pledges/x/repayments",
        ] {
            assert!(transactional(path), "{path}");
        }
        for path in [
            "/v1/receivables",
            "/v1/offers/x/withdrawal",
            "/v1/pledges/x/receipt",
            "/v1/pledges/x/release",
            "/v1/assets/x/split",
            "/v1/assets/payments",
        ] {
            assert!(!transactional(path), "{path}");
        }
    }
}
