//! `POST /v1/alerts/{id}/acknowledgement` — for the officer's organisation's copy.

use actix_web::{web, HttpResponse};

use super::officer;
use crate::alerts::acknowledge_alert;
use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::path_id;
use crate::api::state::AppState;

pub async fn acknowledge(
    caller: Authenticated,
    key: Idempotent,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (organization, officer) = officer(&caller)?;
    let id = path_id(&path)?.to_string();
    decide(&state, &key, move |connection| {
        Ok(Reply::ok(acknowledge_alert(connection, &organization, &officer, &id)?))
    })
    .await
}
