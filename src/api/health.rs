//! `/healthz` (the process answers) and `/readyz` (and its database takes
//! writes: the prober's last committed write succeeded — see
//! `store::runner`). Both answer at once, without touching the database.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::error::ApiError;
use super::state::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(reason) = state.database.health().down_reason() {
        tracing::debug!(%reason, "not ready");
        return Err(ApiError::UNAVAILABLE);
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}
