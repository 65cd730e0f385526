//! `GET /v1/offers/{id}` — for its holder, the bank it is addressed to and
//! the operator.

use actix_web::{web, HttpResponse};

use crate::api::auth::{read_by_id, BearerToken};
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::lending::show_offer;

pub async fn show(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let offer = read_by_id(&state, token, path.into_inner(), move |connection, viewer, id| {
        Ok(show_offer(connection, &viewer, id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(offer))
}
