//! `POST /v1/assets/{id}/payments` — the buyer records its signed payment
//! at maturity, under an `Idempotency-Key` that is also the signed nonce;
//! the answer lists the waterfall's distributions and is stored with the
//! payment, so a retry gets it again.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::json::JsonBody;
use crate::api::path_id;
use crate::api::signed::{answer, nonce, request_hash};
use crate::api::state::AppState;
use crate::domain::{Nonce, Signature};
use crate::lending::{pay as record_payment, Payment};
use crate::validation::{field, iso_date, FieldError};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub(crate) amount: String,
    pub(crate) paid_on: String,
    pub(crate) signature: String,
}

/// The body of a payment on asset `id`, with the request's nonce.
pub(crate) fn parse(request: &HttpRequest, id: Uuid, body: &PaymentRequest) -> Result<Payment, FieldError> {
    parse_with(nonce(request)?, id, body)
}

/// [`parse`] with the nonce given (the portal's form carries it).
pub(crate) fn parse_with(nonce: Nonce, id: Uuid, body: &PaymentRequest) -> Result<Payment, FieldError> {
    Ok(Payment {
        amount: body.amount.clone(),
        paid_on: field("paid_on", iso_date(&body.paid_on))?,
        signature: field("signature", Signature::parse_hex(&body.signature))?,
        nonce,
        request_hash: request_hash(&format!("payment:{id}"), body)?,
    })
}

pub async fn pay(
    request: HttpRequest,
    caller: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<PaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?;
    let payment = parse(&request, id, &body)?;
    let outcome = state
        .database
        .run(move |connection| record_payment(connection, &viewer, id, &payment))
        .await??;
    state.sequencer.wake();
    answer(outcome)
}
