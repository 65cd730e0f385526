//! `POST /v1/pledges/{id}/release` — the lienholder releases its pledge.

use actix_web::{web, HttpResponse};

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::path_id;
use crate::api::state::AppState;
use crate::lending::release as release_lien;

pub async fn release(
    caller: Authenticated,
    key: Idempotent,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?;
    let answer = decide(&state, &key, move |connection| {
        Ok(Reply::ok(release_lien(connection, &viewer, id)?))
    })
    .await;
    state.sequencer.wake();
    answer
}
