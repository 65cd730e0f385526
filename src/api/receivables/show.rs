//! `GET /v1/receivables/{id}` — for its parties and the operator.

use actix_web::{web, HttpResponse};

use crate::api::auth::{run_authenticated, BearerToken};
use crate::api::error::ApiError;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::registry::{receivable_view, visible_receivable};
use crate::store::registry as repository;

pub async fn show(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let (receivable, asset) = run_authenticated(&state, token, move |connection, caller| {
        let viewer = caller.organization()?;
        let id = path_id(&path)?.to_string();
        let receivable = visible_receivable(connection, &viewer, &id)?.ok_or(ApiError::NotFound)?;
        let asset = repository::root_asset_of(connection, &receivable.id)?;
        Ok((receivable, asset))
    })
    .await?;
    Ok(HttpResponse::Ok().json(receivable_view(
        &receivable,
        asset.as_ref().map(|asset| asset.id.as_str()),
    )))
}
