//! `GET /v1/assets/{id}` — for its holder, the receivable's parties and the operator.

use actix_web::{web, HttpResponse};

use crate::api::auth::{run_authenticated, BearerToken};
use crate::api::error::ApiError;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::registry::{asset_view, visible_asset};
use crate::store::registry as repository;

pub async fn show(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let (asset, children, lien) = run_authenticated(&state, token, move |connection, caller| {
        let viewer = caller.organization()?;
        let id = path_id(&path)?.to_string();
        let (asset, _) = visible_asset(connection, &viewer, &id)?.ok_or(ApiError::NotFound)?;
        let children = repository::children_of(connection, &asset.id)?;
        let lien = crate::store::lending::active_lien_on_asset(connection, &asset.id)?;
        Ok((asset, children, lien))
    })
    .await?;
    Ok(HttpResponse::Ok().json(asset_view(&asset, &children, lien.as_ref())))
}
