//! `POST /v1/receivables/import` — bulk registration from an upload: CSV,
//! `.xlsx`, or UBL 2.0/2.1 XML (invoices, credit notes, orders), as the raw
//! body or as the file part of a `multipart/form-data` form (what browsers
//! and the portal send). At most 32 MiB and 100,000 rows. Up to 10,000
//! rows are decided while the request waits: 200 with one result per row.
//! A larger upload runs as a job: 202 at once with its progress, which
//! `GET /v1/uploads/{id}` follows until the report is complete. The same
//! bytes again replay the first report (or its progress).

use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::gate::{body_timeout, read_body};
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::state::AppState;
use crate::domain::Role;
use crate::registry::import::{self, sniff};
use crate::registry::upload_job::{decide as decide_upload, stored_report, submit};
use crate::registry::{ImportFailure, Submitted, UploadProgress, MAX_SYNC_ROWS};
use crate::store::documents as repository;

/// The largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

/// How long a request waits for a twin's small upload of the same bytes
/// to finish, to answer with its report rather than its progress.
const TWIN_WAIT: Duration = Duration::from_secs(30);

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
    // Read the whole file first: one that cannot be read writes nothing.
    let (rows, body) = web::block(move || import::parse(format, &body).map(|rows| (rows, body)))
        .await
        .map_err(|error| ApiError::Internal(anyhow::anyhow!("reading an upload: {error}")))?
        .map_err(ImportFailure::from)?;
    let small = rows.len() <= MAX_SYNC_ROWS;
    let lease = small.then(|| state.upload_lease.clone());
    let total = rows.len();
    let submitted = state
        .database
        .run(move |connection| submit(connection, &supplier, format, &body, total, lease.as_ref()))
        .await??;
    let reply = match submitted {
        Submitted::Held(upload) => {
            let (key, lease, waker) = (
                state.fingerprint_key,
                state.upload_lease.clone(),
                state.sequencer.clone(),
            );
            let decided = state
                .database
                .run(move |connection| {
                    let report = decide_upload(connection, &key, &lease, &upload, rows, &mut |_, _| {
                        waker.wake();
                        true
                    });
                    (report, upload)
                })
                .await?;
            match decided {
                (Ok(report), _) => Reply::ok(report),
                // Another process took it over: it goes on there.
                (Err(ImportFailure::Taken), upload) => Reply::accepted(UploadProgress::of(&upload, false)),
                (Err(error), _) => return Err(error.into()),
            }
        }
        Submitted::Queued(upload) => {
            state.uploads.wake();
            Reply::accepted(UploadProgress::of(&upload, false))
        }
        Submitted::Earlier(upload) => earlier(&state, upload).await?,
    };
    state.sequencer.wake();
    // The answer is kept under the Idempotency-Key, if any.
    decide(&state, &key, move |_| Ok(reply)).await
}

/// The answer to bytes uploaded before: the report; or, while a twin
/// request still decides a small upload, its report once it is complete;
/// or the progress of a job.
async fn earlier(state: &AppState, mut upload: repository::UploadRow) -> Result<Reply, ApiError> {
    let small = upload.total_rows.is_some_and(|rows| rows <= MAX_SYNC_ROWS as i64);
    let deadline = Instant::now() + TWIN_WAIT;
    while upload.status == "running" && small && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let id = upload.id.clone();
        upload = state
            .database
            .run(move |connection| repository::find_upload(connection, &id))
            .await??
            .ok_or(ApiError::NotFound)?;
    }
    Ok(match upload.status.as_str() {
        "done" => Reply::ok(stored_report(&upload)?),
        _ => Reply::accepted(UploadProgress::of(&upload, true)),
    })
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
