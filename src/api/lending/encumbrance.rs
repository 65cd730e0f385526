//! `GET /v1/encumbrance/{fingerprint}` — for banks: registered, confirmed,
//! encumbered; never by whom.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::domain::{Fingerprint, Role};
use crate::lending::encumbrance as look_up;

pub async fn encumbrance(
    caller: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_organization(Role::Bank)?;
    let fingerprint = Fingerprint::parse_hex(&path).map_err(|error| ApiError::invalid_field("fingerprint", error))?;
    let found = state
        .database
        .run(move |connection| look_up(connection, &fingerprint))
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "fingerprint": fingerprint.to_hex(),
        "registered": found.registered,
        "confirmed": found.confirmed,
        "encumbered": found.encumbered,
    })))
}
