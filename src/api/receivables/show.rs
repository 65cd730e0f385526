//! `GET /v1/receivables/{id}` — for its parties and the operator.

use actix_web::{web, HttpResponse};

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::registry::{receivable_view, visible_receivable};
use crate::store::registry as repository;

pub async fn show(
    caller: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?.to_string();
    let (receivable, asset) = state
        .database
        .run(move |connection| -> diesel::QueryResult<_> {
            let Some(receivable) = visible_receivable(connection, &viewer, &id)? else {
                return Ok(None);
            };
            let asset = repository::root_asset_of(connection, &receivable.id)?;
            Ok(Some((receivable, asset)))
        })
        .await??
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(receivable_view(
        &receivable,
        asset.as_ref().map(|asset| asset.id.as_str()),
    )))
}
