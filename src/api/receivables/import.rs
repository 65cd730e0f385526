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
use crate::registry::import::{self, sniff, ImportError, ParsedRow};
use crate::registry::upload_job::{decide as decide_upload, stored_report, submit};
use crate::registry::{ImportFailure, ImportFormat, ImportReport, Submitted, UploadProgress, MAX_SYNC_ROWS};
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
    let (format, rows, body) = match read_upload(body, content_type.as_deref(), file_name.as_deref()).await? {
        Ok(read) => read,
        Err(FileRefusal::Unsupported) => return Err(ApiError::UnsupportedMediaType { expected: ACCEPTED }),
        Err(FileRefusal::Unreadable(error)) => return Err(ImportFailure::from(error).into()),
    };
    let reply = match register_upload(&state, supplier, format, rows, body).await? {
        Imported::Report(report) => Reply::ok(report),
        Imported::Progress(progress) => Reply::accepted(progress),
    };
    // The answer is kept under the Idempotency-Key, if any.
    decide(&state, &key, move |_| Ok(reply)).await
}

/// Why a whole file was refused before anything was recorded.
#[derive(Debug)]
pub enum FileRefusal {
    /// Neither its declared type, its name nor its bytes say CSV, XLSX or XML.
    Unsupported,
    /// Its header, its rows or its bytes do not read (nothing is decided).
    Unreadable(ImportError),
}

/// What an upload came to: its report (decided now, or given again), or
/// the progress of a job (or of the same bytes' upload still running).
pub enum Imported {
    Report(ImportReport),
    Progress(UploadProgress),
}

/// An upload's format, told as the API tells it, and its rows, read whole
/// (with its bytes, to record): the first step of every upload, the API's
/// and the portal's.
pub async fn read_upload(
    body: web::Bytes,
    content_type: Option<&str>,
    file_name: Option<&str>,
) -> Result<Result<(ImportFormat, Vec<ParsedRow>, web::Bytes), FileRefusal>, ApiError> {
    let Some(format) = sniff(content_type, file_name, &body) else {
        return Ok(Err(FileRefusal::Unsupported));
    };
    // Read the whole file first: one that cannot be read writes nothing.
    let parsed = web::block(move || import::parse(format, &body).map(|rows| (rows, body)))
        .await
        .map_err(|error| ApiError::Internal(anyhow::anyhow!("reading an upload: {error}")))?;
    Ok(match parsed {
        Ok((rows, body)) => Ok((format, rows, body)),
        Err(error) => Err(FileRefusal::Unreadable(error)),
    })
}

/// Records the upload of `supplier` and decides it: at once (its report)
/// up to [`MAX_SYNC_ROWS`] rows, else as a job (its progress); the same
/// bytes again give the first upload's report or progress, replayed.
pub async fn register_upload(
    state: &AppState,
    supplier: String,
    format: ImportFormat,
    rows: Vec<ParsedRow>,
    body: web::Bytes,
) -> Result<Imported, ApiError> {
    let small = rows.len() <= MAX_SYNC_ROWS;
    let lease = small.then(|| state.upload_lease.clone());
    let total = rows.len();
    let submitted = state
        .database
        .run(move |connection| submit(connection, &supplier, format, &body, total, lease.as_ref()))
        .await??;
    let imported = match submitted {
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
                    if let Err(error @ (ImportFailure::Registry(_) | ImportFailure::Upload(_))) = &report {
                        // Shown by GET /v1/uploads/{id}; a worker takes the
                        // upload up again once this lease has passed.
                        let why = error.to_string();
                        if let Err(recording) = repository::record_upload_failure(
                            connection,
                            &upload.id,
                            &lease.owner,
                            &why,
                            false,
                            crate::store::now(),
                        ) {
                            tracing::warn!(upload = %upload.id, %why, %recording, "an upload's failure could not be recorded");
                        }
                    }
                    (report, upload)
                })
                .await?;
            match decided {
                (Ok(report), _) => Imported::Report(report),
                // Another process took it over: it goes on there.
                (Err(ImportFailure::Taken), upload) => Imported::Progress(UploadProgress::of(&upload, false)),
                (Err(error), _) => return Err(error.into()),
            }
        }
        Submitted::Queued(upload) => {
            state.uploads.wake();
            Imported::Progress(UploadProgress::of(&upload, false))
        }
        Submitted::Earlier(upload) => earlier(state, upload).await?,
    };
    state.sequencer.wake();
    Ok(imported)
}

/// The answer to bytes uploaded before: the report; or, while a twin
/// request still decides a small upload, its report once it is complete;
/// or the progress of a job.
async fn earlier(state: &AppState, mut upload: repository::UploadRow) -> Result<Imported, ApiError> {
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
        "done" => Imported::Report(stored_report(&upload)?),
        _ => Imported::Progress(UploadProgress::of(&upload, true)),
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
