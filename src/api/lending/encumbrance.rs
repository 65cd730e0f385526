//! `GET /v1/encumbrance/{fingerprint}` — for banks: registered, confirmed,
//! encumbered; never by whom. The caller is authenticated on the look-up's
//! connection, in one trip through the blocking pool.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::api::auth::{run_authenticated, BearerToken};
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::domain::{Fingerprint, Role};
use crate::lending::encumbrance as look_up;

pub async fn encumbrance(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let (fingerprint, found) = run_authenticated(&state, token, move |connection, caller| {
        caller.require_organization(Role::Bank)?;
        let fingerprint =
            Fingerprint::parse_hex(&raw).map_err(|error| ApiError::invalid_field("fingerprint", error))?;
        Ok((fingerprint, look_up(connection, &fingerprint)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "fingerprint": fingerprint.to_hex(),
        "registered": found.registered,
        "confirmed": found.confirmed,
        "encumbered": found.encumbered,
    })))
}
