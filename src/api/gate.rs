//! Who you are, before anything is read: a `POST` to a route that takes one
//! is authenticated here, before its body is read, and answered 401 at once
//! without a valid API key — so a client with a made-up key cannot hold a
//! connection open by sending its body slowly. The caller found is kept in
//! the request, so the route's own extractor (`Authenticated`) and the
//! idempotency middleware do not ask the database again. Bodies are then
//! read under a time limit ([`BodyTimeout`]).
//!
//! Pledges, assignments and registrations authenticate their key again in
//! the transaction that decides them (a batch's keys in one query), so for
//! them the gate may admit a key it authenticated in the last few seconds
//! without asking the database ([`RecentCallers`]): a key revoked since is
//! still refused (401) by its decision, before anything is decided, in
//! every process. Made-up keys are never remembered.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};

use super::error::ApiError;
use super::state::AppState;
use crate::organizations::{authenticate, Principal};

/// How long a request body may take to arrive, registered as app data.
#[derive(Clone, Copy, Debug)]
pub struct BodyTimeout(pub std::time::Duration);

/// The caller the gate authenticated, kept in the request's extensions.
#[derive(Clone, Debug)]
pub struct GateCaller(pub Principal);

/// Routes whose decision authenticates the caller's key again in its own
/// transaction (`lending::decide_batch`, `registry::register_many`).
fn authenticated_again(path: &str) -> bool {
    matches!(path, "/v1/pledges" | "/v1/assignments" | "/v1/receivables")
}

/// Keys the gate authenticated lately for the routes whose decision
/// authenticates them again (pledges, assignments, registrations), by their SHA-256, with
/// when. Per process; nothing else reads it.
#[derive(Default)]
pub struct RecentCallers {
    callers: std::sync::Mutex<std::collections::HashMap<[u8; 32], (Principal, std::time::Instant)>>,
}

impl RecentCallers {
    /// How long an authentication is used again.
    const FOR: std::time::Duration = std::time::Duration::from_secs(5);
    /// Beyond this many keys, the memory starts afresh.
    const MOST: usize = 10_000;

    fn digest(token: &str) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(token.as_bytes()).into()
    }

    fn get(&self, token: &str) -> Option<Principal> {
        let callers = self.callers.lock().ok()?;
        let (principal, when) = callers.get(&Self::digest(token))?;
        (when.elapsed() < Self::FOR).then(|| principal.clone())
    }

    fn remember(&self, token: &str, principal: &Principal) {
        if let Ok(mut callers) = self.callers.lock() {
            if callers.len() >= Self::MOST {
                callers.clear();
            }
            callers.insert(Self::digest(token), (principal.clone(), std::time::Instant::now()));
        }
    }
}

/// Whether `path` is one of the routes that take a `POST` (and so a body).
fn takes_a_body(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    super::ROUTES.iter().any(|(method, pattern)| {
        let pattern: Vec<&str> = pattern.split('/').collect();
        *method == "post"
            && pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(&segments)
                .all(|(expected, actual)| expected.starts_with('{') || expected == actual)
    })
}

pub async fn authenticate_first(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if request.method() != Method::POST || !takes_a_body(request.path()) {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let token = super::auth::bearer_token(request.request());
    let (Some(state), Some(token)) = (state, token) else {
        return Ok(request.into_response(ApiError::Unauthorized.error_response()));
    };
    let again = authenticated_again(request.path());
    let remembered = if again { state.recent_callers.get(&token) } else { None };
    let caller = match remembered {
        Some(caller) => caller,
        None => {
            let asked = token.clone();
            match state
                .database
                .run(move |connection| authenticate(connection, &asked))
                .await
            {
                Ok(Ok(Some(caller))) => {
                    // Remembered from when the database said so, not
                    // refreshed by use.
                    if again {
                        state.recent_callers.remember(&token, &caller);
                    }
                    caller
                }
                Ok(Ok(None)) => return Ok(request.into_response(ApiError::Unauthorized.error_response())),
                Ok(Err(error)) => return Ok(request.into_response(ApiError::from(error).error_response())),
                Err(error) => return Ok(request.into_response(ApiError::from(error).error_response())),
            }
        }
    };
    if let Err(error) = state.limits.admit(&caller) {
        return Ok(request.into_response(error.error_response()));
    }
    request.extensions_mut().insert(GateCaller(caller));
    Ok(next.call(request).await?.map_into_boxed_body())
}

/// Reads a whole body of at most `limit_bytes` (else 413) within `timeout`
/// (else 408).
pub async fn read_body<S, E>(
    mut stream: S,
    limit_bytes: usize,
    timeout: std::time::Duration,
) -> Result<web::Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
{
    use futures_util::StreamExt;
    let reading = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| ApiError::MalformedBody("the request body could not be read".to_owned()))?;
            if body.len() + chunk.len() > limit_bytes {
                return Err(ApiError::PayloadTooLarge { limit_bytes });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    tokio::time::timeout(timeout, reading)
        .await
        .map_err(|_| ApiError::RequestTimeout {
            seconds: timeout.as_secs(),
        })?
}

/// The body time limit registered for the application.
pub fn body_timeout(request: &actix_web::HttpRequest) -> std::time::Duration {
    request
        .app_data::<BodyTimeout>()
        .map_or(std::time::Duration::from_secs(10), |timeout| timeout.0)
}

/// The caller the gate authenticated for this request, if it did.
pub fn gate_caller(request: &actix_web::HttpRequest) -> Option<Principal> {
    request.extensions().get::<GateCaller>().map(|caller| caller.0.clone())
}

#[cfg(test)]
mod tests {
    use super::takes_a_body;

    #[test]
    fn posts_are_recognised_by_the_route_table() {
        for path in [
            "/v1/orgs",
            "/v1/pledges",
            "/v1/offers",
            "/v1/offers/0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90/withdrawal",
            "/v1/assets/x/payments",
            "/v1/receivables/import",
        ] {
            assert!(takes_a_body(path), "{path}");
        }
        for path in [
            "/v1/ledger/head",
            "/v1/assets/x",
            "/v1/nothing",
            "/v1/offers/x/y/z",
            "/",
        ] {
            assert!(!takes_a_body(path), "{path}");
        }
    }
}
