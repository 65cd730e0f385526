//! `GET /v1/receivables/{id}` — for its parties and the operator.

use actix_web::{web, HttpResponse};

use crate::api::auth::{read_by_id, BearerToken};
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::registry::{of_receivable, receivable_view, visible_receivable};
use crate::store::registry as repository;

pub async fn show(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (receivable, asset, fingerprint) =
        read_by_id(&state, token, path.into_inner(), move |connection, viewer, id| {
            let receivable = visible_receivable(connection, &viewer, &id.to_string())?.ok_or(ApiError::NotFound)?;
            let asset = repository::root_asset_of(connection, &receivable.id)?;
            let fingerprint = of_receivable(connection, &receivable)?;
            Ok((receivable, asset, fingerprint))
        })
        .await?;
    Ok(HttpResponse::Ok().json(receivable_view(
        &receivable,
        &fingerprint,
        asset.as_ref().map(|asset| asset.id.as_str()),
    )))
}
