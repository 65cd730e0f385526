//! `GET /v1/purchase-orders/{id}` — for its supplier, its buyer and the operator.

use actix_web::{web, HttpResponse};

use crate::api::auth::{run_authenticated, BearerToken};
use crate::api::error::ApiError;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::registry::{purchase_order_view, visible_purchase_order};

pub async fn show(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let order = run_authenticated(&state, token, move |connection, caller| {
        let viewer = caller.organization()?;
        let id = path_id(&path)?.to_string();
        visible_purchase_order(connection, &viewer, &id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(purchase_order_view(&order)))
}
