//! `POST /v1/receivables/{id}/dispute` — the buyer signs that it does not
//! owe the invoice as registered.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::json::JsonBody;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::domain::Signature;
use crate::registry::{dispute_receivable, receivable_view, DisputeReason};
use crate::validation::{field, FieldError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeRequest {
    reason: String,
    signature: String,
}

impl DisputeRequest {
    pub(crate) fn parse(&self) -> Result<(DisputeReason, Signature), FieldError> {
        Ok((
            field("reason", DisputeReason::parse(&self.reason))?,
            field("signature", Signature::parse_hex(&self.signature))?,
        ))
    }
}

pub async fn dispute(
    caller: Authenticated,
    key: Idempotent,
    path: web::Path<String>,
    state: web::Data<AppState>,
    JsonBody(request): JsonBody<DisputeRequest>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?;
    let (reason, signature) = request.parse()?;
    let answer = decide(&state, &key, move |connection| {
        let (receivable, leaf_hash, fingerprint) = dispute_receivable(connection, &viewer, id, &reason, &signature)?;
        let mut body = receivable_view(&receivable, &fingerprint, None);
        body["ledger"]["leaf_hash"] = serde_json::json!(hex::encode(leaf_hash));
        Ok(Reply::ok(body))
    })
    .await;
    state.sequencer.wake();
    answer
}
