//! `POST /v1/receivables/import` — bulk registration from a CSV file
//! (`text/csv`), an Excel workbook (`.xlsx`) or UBL XML (`application/xml`),
//! at most 10 MiB and 100,000 rows. The format comes from the content type,
//! or from the content itself for `application/octet-stream` and the like
//! ([`crate::registry::import::sniff`]). Answers 200 with one result per row.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::state::AppState;
use crate::domain::Role;
use crate::registry::import::sniff;
use crate::registry::import_receivables;

/// The largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

pub async fn import(
    request: HttpRequest,
    caller: Authenticated,
    key: Idempotent,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let supplier = caller.require_organization(Role::Supplier)?.organization_id.to_string();
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // Read up to the limit, refusing as soon as it is passed.
    let body = crate::api::gate::read_body(payload, MAX_UPLOAD_BYTES, crate::api::gate::body_timeout(&request)).await?;
    let format = sniff(content_type.as_deref(), None, &body).ok_or(ApiError::UnsupportedMediaType {
        expected: "text/csv, application/xml (UBL Invoice, CreditNote or Order) or                    application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    })?;
    let fingerprint_key = state.fingerprint_key;
    // The whole upload is one transaction with its report: every row
    // registered, refused (with its alert) or none, and a retry gets the
    // same report.
    let answer = decide(&state, &key, move |connection| {
        Ok(Reply::ok(import_receivables(
            connection,
            &fingerprint_key,
            &supplier,
            format,
            &body,
        )?))
    })
    .await;
    state.sequencer.wake();
    answer
}
