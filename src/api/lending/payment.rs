//! `POST /v1/assets/{id}/payments` — the buyer records its payment at
//! maturity; the answer lists the waterfall's distributions.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::json::JsonBody;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::lending::{pay as record_payment, Payment};
use crate::validation::{field, iso_date};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    amount: String,
    paid_on: String,
}

pub async fn pay(
    caller: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
    JsonBody(request): JsonBody<PaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?;
    let payment = Payment {
        amount: request.amount,
        paid_on: field("paid_on", iso_date(&request.paid_on))?,
    };
    let paid = state
        .database
        .run(move |connection| record_payment(connection, &viewer, id, &payment))
        .await??;
    state.sequencer.wake();
    Ok(HttpResponse::Created().json(paid))
}
