//! `GET /v1/purchase-orders/{id}` — for its supplier, its buyer and the operator.

use actix_web::{web, HttpResponse};

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::registry::{purchase_order_view, visible_purchase_order};

pub async fn show(
    caller: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?.to_string();
    let order = state
        .database
        .run(move |connection| visible_purchase_order(connection, &viewer, &id))
        .await??
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(purchase_order_view(&order)))
}
