//! `POST /v1/receivables/import` — bulk registration from an upload: CSV,
//! `.xlsx`, or UBL 2.0/2.1 XML (invoices, credit notes, orders), as the raw
//! body or as the file part of a `multipart/form-data` form (what browsers
//! and the portal send). At most 10 MiB and 10,000 rows. Answers 200 with
//! one result per row; the same bytes again replay the first report.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::gate::{body_timeout, read_body};
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::state::AppState;
use crate::domain::Role;
use crate::registry::import::sniff;
use crate::registry::import_receivables;

/// The largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// What the 415 answer says is accepted.
const ACCEPTED: &str = "text/csv, application/xml (UBL Invoice, CreditNote or Order), \
     application/vnd.openxmlformats-officedocument.spreadsheetml.sheet (.xlsx), \
     or multipart/form-data with the file in a part named \"file\"";

pub async fn import(
    request: HttpRequest,
    caller: Authenticated,
    key: Idempotent,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let supplier = caller.require_organization(Role::Supplier)?.organization_id.to_string();
    let mime = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase());
    let timeout = body_timeout(&request);
    let (body, content_type, file_name) = if mime.as_deref() == Some("multipart/form-data") {
        file_part(&request, payload, timeout).await?
    } else {
        (read_body(payload, MAX_UPLOAD_BYTES, timeout).await?, mime, None)
    };
    let format = sniff(content_type.as_deref(), file_name.as_deref(), &body)
        .ok_or(ApiError::UnsupportedMediaType { expected: ACCEPTED })?;
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

/// The file of a form: the part named `file`, else the first part that
/// carries a file name; with its declared type and file name.
async fn file_part(
    request: &HttpRequest,
    payload: web::Payload,
    timeout: std::time::Duration,
) -> Result<(web::Bytes, Option<String>, Option<String>), ApiError> {
    use futures_util::StreamExt;
    let mut form = actix_multipart::Multipart::new(request.headers(), payload);
    let finding = async {
        while let Some(part) = form.next().await {
            let mut part =
                part.map_err(|error| ApiError::MalformedBody(format!("the form could not be read: {error}")))?;
            let disposition = part.content_disposition();
            let named_file = disposition.and_then(|disposition| disposition.get_name()) == Some("file");
            let file_name = disposition
                .and_then(|disposition| disposition.get_filename())
                .map(str::to_owned);
            if !named_file && file_name.is_none() {
                continue;
            }
            let content_type = part.content_type().map(|mime| mime.essence_str().to_ascii_lowercase());
            let body = read_body(&mut part, MAX_UPLOAD_BYTES, timeout).await?;
            return Ok((body, content_type, file_name));
        }
        Err(ApiError::MalformedBody(
            "the form holds no file: send the upload in a part named \"file\"".to_owned(),
        ))
    };
    tokio::time::timeout(timeout, finding)
        .await
        .map_err(|_| ApiError::RequestTimeout {
            seconds: timeout.as_secs(),
        })?
}
