//! `?wait=cosigned` on the answers that rest on ledger entries (pledges,
//! assignments, encumbrance look-ups): after the decision commits, the
//! answer waits — at most the configured bound, holding no database
//! connection — for a checkpoint cosigned by a quorum of witnesses that
//! covers every entry appended before it, and carries it as
//! `cosigned_checkpoint` (`null` when the bound passed first: the answer is
//! the durable decision all the same).

use actix_web::HttpRequest;
use serde_json::Value;

use super::error::ApiError;
use super::query::QueryParameters;
use super::state::AppState;
use crate::lending::Outcome;

/// The answer's field holding the cosigned checkpoint.
pub const FIELD: &str = "cosigned_checkpoint";

/// Whether the request asks to wait; a `wait` other than `cosigned` is 400.
pub fn requested(request: &HttpRequest) -> Result<bool, ApiError> {
    let parameters = QueryParameters::from_request(request)?;
    match parameters.text("wait") {
        None => Ok(false),
        Some("cosigned") => Ok(true),
        Some(_) => Err(ApiError::InvalidQuery {
            field: "wait".to_owned(),
            detail: "the only value is `cosigned`".to_owned(),
        }),
    }
}

/// The cosigned checkpoint covering everything appended so far, or `null`.
pub async fn cosigned_checkpoint(state: &AppState) -> Value {
    crate::tlog::wait_for_cosigned(&state.database, &state.settings.witnesses)
        .await
        .map_or(Value::Null, Value::String)
}

/// Adds the checkpoint to a JSON answer.
pub fn add_to(body: &mut Value, checkpoint: Value) {
    if let Value::Object(fields) = body {
        fields.insert(FIELD.to_owned(), checkpoint);
    }
}

/// A decision's outcome with the checkpoint added, if it is a success
/// (given again or not): a refusal decides nothing to wait for.
pub async fn add_to_outcome(state: &AppState, outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Created { mut body } => {
            add_to(&mut body, cosigned_checkpoint(state).await);
            Outcome::Created { body }
        }
        Outcome::Replayed(first) if matches!(*first, Outcome::Created { .. }) => {
            Outcome::Replayed(Box::new(Box::pin(add_to_outcome(state, *first)).await))
        }
        other => other,
    }
}
