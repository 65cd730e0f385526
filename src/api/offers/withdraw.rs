//! `POST /v1/offers/{id}/withdrawal` — the holder's signed withdrawal of
//! its open offer.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::json::JsonBody;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::domain::Signature;
use crate::lending::withdraw_offer;
use crate::validation::{field, FieldError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalRequest {
    signature: String,
}

impl WithdrawalRequest {
    pub(crate) fn parse(&self) -> Result<Signature, FieldError> {
        field("signature", Signature::parse_hex(&self.signature))
    }
}

pub async fn withdraw(
    caller: Authenticated,
    key: Idempotent,
    path: web::Path<String>,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<WithdrawalRequest>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?;
    let signature = body.parse()?;
    let answer = decide(&state, &key, move |connection| {
        Ok(Reply::ok(withdraw_offer(connection, &viewer, id, &signature)?))
    })
    .await;
    state.sequencer.wake();
    answer
}
