//! `GET /v1/assets/{id}` — for its holder, the receivable's parties and the operator.

use actix_web::{web, HttpResponse};

use crate::api::auth::{read_by_id, BearerToken};
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::registry::{asset_view, visible_asset};
use crate::store::registry as repository;

pub async fn show(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (asset, children, lien) = read_by_id(&state, token, path.into_inner(), move |connection, viewer, id| {
        let (asset, _) = visible_asset(connection, &viewer, &id.to_string())?.ok_or(ApiError::NotFound)?;
        let children = repository::children_of(connection, &asset.id)?;
        let lien = crate::store::lending::standing_lien_on_asset(connection, &asset.id)?;
        Ok((asset, children, lien))
    })
    .await?;
    Ok(HttpResponse::Ok().json(asset_view(&asset, &children, lien.as_ref())))
}
