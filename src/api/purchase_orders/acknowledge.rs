//! `POST /v1/purchase-orders/{id}/acknowledgement` — the buyer signs that
//! it placed the order.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::json::JsonBody;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::domain::Signature;
use crate::registry::{acknowledge_purchase_order, purchase_order_view};
use crate::validation::{field, FieldError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgementRequest {
    signature: String,
}

impl AcknowledgementRequest {
    pub(crate) fn parse(&self) -> Result<Signature, FieldError> {
        field("signature", Signature::parse_hex(&self.signature))
    }
}

pub async fn acknowledge(
    caller: Authenticated,
    key: Idempotent,
    path: web::Path<String>,
    state: web::Data<AppState>,
    JsonBody(request): JsonBody<AcknowledgementRequest>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?;
    let signature = request.parse()?;
    let answer = decide(&state, &key, move |connection| {
        let (order, leaf_hash, fingerprint) = acknowledge_purchase_order(connection, &viewer, id, &signature)?;
        let mut body = purchase_order_view(&order, &fingerprint);
        body["ledger"]["leaf_hash"] = serde_json::json!(hex::encode(leaf_hash));
        Ok(Reply::ok(body))
    })
    .await;
    state.sequencer.wake();
    answer
}
