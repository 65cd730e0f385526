//! `GET /v1/purchase-orders/{id}` — for its supplier, its buyer and the operator.

use actix_web::{web, HttpResponse};

use crate::api::auth::{read_by_id, BearerToken};
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::registry::{of_purchase_order, purchase_order_view, visible_purchase_order};

pub async fn show(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (order, fingerprint) = read_by_id(&state, token, path.into_inner(), move |connection, viewer, id| {
        let order = visible_purchase_order(connection, &viewer, &id.to_string())?.ok_or(ApiError::NotFound)?;
        let fingerprint = of_purchase_order(connection, &order)?;
        Ok((order, fingerprint))
    })
    .await?;
    Ok(HttpResponse::Ok().json(purchase_order_view(&order, &fingerprint)))
}
