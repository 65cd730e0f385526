//! `Idempotency-Key` on every POST (docs/PRODUCT.md §3.7): a retry with the same
//! key and body gets the first answer again; the same key with another body
//! is 422 `idempotency_mismatch`. Keys are per caller (the authenticated
//! principal is the scope).
//!
//! Every answer that follows a change commits with it. The signed requests
//! whose nonce is the Idempotency-Key — offers, pledges, assignments,
//! payments, disbursements and repayments — keep theirs in the decision's
//! own transaction (`lending::decide_once`), so this middleware leaves them
//! alone. For the other POSTs the middleware answers a key it has seen
//! from its stored answer, and otherwise hands the key to the handler as a
//! [`Ticket`]: the handler's transaction claims the key, decides, and
//! stores the answer ([`decide`], or a batcher's [`Keyed`] job), so a
//! retry after a crash, a 503 or a failover finds the first answer — or
//! finds nothing, because nothing was done. An answer given before any
//! decision (a malformed or invalid request, a forbidden route) changes
//! nothing and is stored by the middleware after it is sent. 5xx, 401 and
//! 429 answers are never stored, so a retry after them runs again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::state::AppState;
use crate::domain::Nonce;
use crate::store::batcher::{Answered, Keyed};
use crate::store::replays::{self, Claim, Claimed, ReplayRow, StoredAnswer};
use crate::store::{write_transaction, DbConnection};

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

/// A POST's Idempotency-Key, not answered before, handed by the middleware
/// to the handler through the request's extensions.
#[derive(Clone)]
pub struct Ticket {
    claim: Claim,
    /// Set once a transaction took the claim: its answer is then stored
    /// with its decision (or deliberately not at all).
    taken: Arc<AtomicBool>,
}

/// The handler's view of its request's key: none when the request has no
/// Idempotency-Key.
pub struct Idempotent(Option<Ticket>);

impl FromRequest for Idempotent {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Idempotent(request.extensions().get::<Ticket>().cloned())))
    }
}

impl Idempotent {
    /// The claim for the transaction that decides the request.
    fn take(&self) -> Option<Claim> {
        self.0.as_ref().map(|ticket| {
            ticket.taken.store(true, Ordering::SeqCst);
            ticket.claim.clone()
        })
    }

    /// The key for a batched job, answered with what `render` makes of its
    /// result.
    pub fn keyed<O>(&self, render: fn(&O) -> Option<StoredAnswer>) -> Option<Keyed<O>> {
        self.take().map(|claim| Keyed { claim, render })
    }

    /// The HTTP answer to a batched job: its stored answer when its key was
    /// answered before; otherwise what `render` made of its result (stored
    /// with it), or — for an answer not to keep — `failure`.
    pub fn answer<O>(
        &self,
        answered: Answered<O>,
        render: fn(&O) -> Option<StoredAnswer>,
        failure: impl FnOnce(O) -> ApiError,
    ) -> Result<HttpResponse, ApiError> {
        match answered {
            Answered::Replayed(row) => self.replayed(row),
            Answered::Fresh(result) => match render(&result) {
                Some(answer) => Ok(respond(answer, false)),
                None => Err(failure(result)),
            },
        }
    }

    /// A stored answer found by a handler's transaction (a twin committed
    /// it first): given again if it answered this request.
    fn replayed(&self, row: ReplayRow) -> Result<HttpResponse, ApiError> {
        let same = self
            .0
            .as_ref()
            .is_some_and(|ticket| ticket.claim.request_sha256 == row.request_sha256);
        if !same {
            return Err(mismatch());
        }
        Ok(respond(stored(row), true))
    }
}

/// What a handler's decision answers when it succeeds: a status and a
/// JSON body.
pub struct Reply {
    status: StatusCode,
    body: Value,
}

impl Reply {
    pub fn created(body: impl serde::Serialize) -> Self {
        Self::with(StatusCode::CREATED, body)
    }

    pub fn ok(body: impl serde::Serialize) -> Self {
        Self::with(StatusCode::OK, body)
    }

    /// Taken up, to be done later (a large upload).
    pub fn accepted(body: impl serde::Serialize) -> Self {
        Self::with(StatusCode::ACCEPTED, body)
    }

    fn with(status: StatusCode, body: impl serde::Serialize) -> Self {
        // The views are maps and strings, which always serialise.
        let body = serde_json::to_value(body).unwrap_or(Value::Null);
        Self { status, body }
    }

    pub fn answer(&self) -> StoredAnswer {
        StoredAnswer {
            status: self.status.as_u16(),
            content_type: "application/json".to_owned(),
            body: self.body.to_string().into_bytes(),
        }
    }
}

/// The stored form of a decision's answer; `None` for an answer not to
/// keep (a failure of the service rather than of the request).
pub fn storable(result: Result<Reply, ApiError>) -> Option<StoredAnswer> {
    match result {
        Ok(reply) => Some(reply.answer()),
        Err(error) => error.stored_answer(),
    }
}

/// Why a decision's transaction was rolled back.
enum Undone {
    /// An answer not to keep: given, and nothing of the request stays.
    Answer(ApiError),
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for Undone {
    fn from(error: diesel::result::Error) -> Self {
        Undone::Database(error)
    }
}

/// Decides a request in one transaction with its answer: the key (if the
/// request has one) is claimed, `work` runs (a use case's own transaction
/// nests as a savepoint), and its answer — success or refusal, with any
/// alert the refusal raised — is stored under the key and commits with it.
/// A failure of the service rolls everything back and is not stored. A key
/// answered meanwhile by a twin gets that answer.
pub async fn decide<F>(state: &AppState, key: &Idempotent, work: F) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<Reply, ApiError> + Send + 'static,
{
    let claim = key.take();
    let decided = state
        .database
        .run(move |connection| {
            write_transaction(connection, |connection| -> Result<Answered<StoredAnswer>, Undone> {
                if let Some(claim) = &claim {
                    if let Claimed::Answered(row) = replays::claim(connection, claim)? {
                        return Ok(Answered::Replayed(row));
                    }
                }
                let answer = match work(connection) {
                    Ok(reply) => reply.answer(),
                    Err(error) => error.stored_answer().ok_or(Undone::Answer(error))?,
                };
                if let Some(claim) = &claim {
                    replays::answer(connection, claim, &answer)?;
                }
                Ok(Answered::Fresh(answer))
            })
        })
        .await?;
    match decided {
        Ok(Answered::Fresh(answer)) => Ok(respond(answer, false)),
        Ok(Answered::Replayed(row)) => key.replayed(row),
        Err(Undone::Answer(error)) => Err(error),
        Err(Undone::Database(error)) => Err(error.into()),
    }
}

/// An answer as an HTTP response; a replayed one says so.
fn respond(answer: StoredAnswer, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, answer.content_type));
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    response.body(answer.body)
}

fn stored(row: ReplayRow) -> StoredAnswer {
    StoredAnswer {
        status: u16::try_from(row.response_status).unwrap_or(200),
        content_type: row.content_type,
        body: row.response_body,
    }
}

fn mismatch() -> ApiError {
    ApiError::refused(
        crate::refusal::Refusal::IdempotencyMismatch,
        "this Idempotency-Key was used with another request; use a new key for a new request",
    )
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
    // An upload may be larger than any other request.
    let limit = if request.path() == "/v1/receivables/import" {
        super::receivables::import::MAX_UPLOAD_BYTES
    } else {
        MAX_BUFFERED_BYTES
    };
    let body = match super::gate::read_body(request.take_payload(), limit, timeout).await {
        Ok(body) => body,
        Err(error) => return Ok(request.into_response(error.error_response())),
    };
    let request_hash = request_hash(&request, &body);
    let stream: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>,
    > = Box::pin(futures_util::stream::once(std::future::ready(Ok(body))));
    request.set_payload(Payload::from(stream));
    let (lookup_caller, lookup_key) = (caller.clone(), key.clone());
    let stored_row = state
        .database
        .run(move |connection| replays::find(connection, &lookup_caller, &lookup_key))
        .await;
    match stored_row {
        // A claim is never visible unanswered; skip one defensively.
        Ok(Ok(Some(row))) if row.response_status == 0 => {}
        Ok(Ok(Some(row))) if row.request_sha256 == request_hash => {
            return Ok(request.into_response(respond(stored(row), true)));
        }
        Ok(Ok(Some(_))) => return Ok(request.into_response(mismatch().error_response())),
        Ok(Ok(None)) => {}
        Ok(Err(error)) => return Ok(request.into_response(ApiError::from(error).error_response())),
        Err(error) => return Ok(request.into_response(ApiError::from(error).error_response())),
    }

    let ticket = Ticket {
        claim: Claim {
            caller_sha256: caller,
            idempotency_key: key,
            request_sha256: request_hash,
        },
        taken: Arc::new(AtomicBool::new(false)),
    };
    request.extensions_mut().insert(ticket.clone());
    let response = next.call(request).await?;
    let status = response.status();
    if ticket.taken.load(Ordering::SeqCst) {
        // Stored (or deliberately not) with the decision.
        return Ok(response.map_into_boxed_body());
    }
    if status.is_success() {
        // Every route that changes something takes its ticket; one that
        // answers 2xx without it is a bug, and its answer is not stored
        // apart from its change.
        tracing::error!(path = %response.request().path(), "a POST answered 2xx without deciding under its Idempotency-Key");
        return Ok(response.map_into_boxed_body());
    }
    if status.is_server_error() || status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS {
        return Ok(response.map_into_boxed_body());
    }
    // Refused before any decision: nothing changed, so the answer can be
    // stored now, apart.
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
        caller_sha256: ticket.claim.caller_sha256,
        idempotency_key: ticket.claim.idempotency_key,
        request_sha256: ticket.claim.request_sha256,
        response_status: i32::from(status.as_u16()),
        content_type,
        response_body: bytes.to_vec(),
        created_at: crate::store::now(),
    };
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
