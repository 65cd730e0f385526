//! `POST /v1/pledges/{id}/release` — the lienholder releases its pledge.

use actix_web::{web, HttpResponse};

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::domain::Role;
use crate::lending::release as release_lien;

pub async fn release(
    caller: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let bank = caller.require_organization(Role::Bank)?.organization_id.to_string();
    let id = path_id(&path)?.to_string();
    let released = state
        .database
        .run(move |connection| release_lien(connection, &bank, &id))
        .await??;
    state.sequencer.wake();
    Ok(HttpResponse::Ok().json(released))
}
