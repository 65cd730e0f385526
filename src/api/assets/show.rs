//! `GET /v1/assets/{id}` — for its holder, the receivable's parties and the operator.

use actix_web::{web, HttpResponse};

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::registry::{asset_view, visible_asset};
use crate::store::registry as repository;

pub async fn show(
    caller: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?.to_string();
    let (asset, children, lien) = state
        .database
        .run(move |connection| -> diesel::QueryResult<_> {
            let Some((asset, _)) = visible_asset(connection, &viewer, &id)? else {
                return Ok(None);
            };
            let children = repository::children_of(connection, &asset.id)?;
            let lien = crate::store::lending::active_lien_on_asset(connection, &asset.id)?;
            Ok(Some((asset, children, lien)))
        })
        .await??
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(asset_view(&asset, &children, lien.as_ref())))
}
