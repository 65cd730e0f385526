//! `/healthz` (the process answers) and `/readyz` (and can reach its database).

use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde_json::json;

use super::error::ApiError;
use super::state::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .database
        .run(|connection| diesel::sql_query("SELECT 1").execute(connection))
        .await?
        .map_err(|error| {
            tracing::warn!(%error, "readiness check failed");
            ApiError::Unavailable
        })?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}
