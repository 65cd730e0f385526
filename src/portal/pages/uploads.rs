//! The supplier's upload: `GET /uploads` (the form), `POST /uploads` (a
//! `multipart/form-data` form, its CSRF token checked by the `Caller`
//! extractor like every other), `GET /uploads/{id}` (the report as a
//! table, or a job's progress, reloading itself until the report is done)
//! and `GET /uploads/{id}/report.csv` (the CSV of
//! `GET /v1/uploads/{id}/report.csv`). The POST calls the API's own steps
//! (`api::receivables::import::read_upload` and `register_upload`): the
//! same sniffing of the format, the same limits, the same replay of the
//! same bytes. A whole file refused is shown on the form, naming why.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::{html, see_other};
use crate::api::receivables::import::{read_upload, register_upload, FileRefusal, Imported};
use crate::api::state::AppState;
use crate::portal::caller::Caller;
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::i18n::Lang;
use crate::registry::import::ImportError;
use crate::registry::ImportReport;
use crate::store::documents::{self as repository, UploadRow};

/// How often a job's page reloads while it runs.
const RELOAD_SECONDS: u32 = 2;

#[derive(Template)]
#[template(path = "upload.html")]
struct FormPage {
    frame: Frame,
    csrf: String,
    /// Why the file just sent was refused, and the reader's detail.
    problem: Option<&'static str>,
    detail: Option<String>,
}

pub async fn upload_form(caller: Caller) -> Result<HttpResponse, PortalError> {
    caller.supplier()?;
    form_page(&caller, None, None, actix_web::http::StatusCode::OK)
}

fn form_page(
    caller: &Caller,
    problem: Option<&'static str>,
    detail: Option<String>,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, PortalError> {
    let t = caller.lang;
    let page = FormPage {
        frame: caller.frame(t.upload_title(), "/uploads"),
        csrf: caller.csrf_token(),
        problem,
        detail,
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

pub async fn upload(mut caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, PortalError> {
    let supplier = caller.supplier()?.organization_id.to_string();
    let t = caller.lang;
    let refused = |caller: &Caller, problem: &'static str, detail: Option<String>| {
        form_page(
            caller,
            Some(problem),
            detail,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let Some(file) = caller.file.take().filter(|file| !file.body.is_empty()) else {
        return refused(&caller, t.file_missing(), None);
    };
    let read = read_upload(file.body, file.content_type.as_deref(), file.file_name.as_deref()).await?;
    let (format, rows, body) = match read {
        Ok(read) => read,
        Err(FileRefusal::Unsupported) => return refused(&caller, t.file_unsupported(), None),
        Err(FileRefusal::Unreadable(error)) => {
            let problem = match &error {
                ImportError::BadHeader { .. } => t.file_bad_header(),
                ImportError::TooManyRows { .. } => t.file_too_many_rows(),
                ImportError::Malformed { .. } => t.file_malformed(),
                ImportError::Unreadable { .. } => t.file_unreadable(),
            };
            return refused(&caller, problem, Some(error.to_string()));
        }
    };
    let (id, replayed) = match register_upload(&state, supplier, format, rows, body).await? {
        Imported::Report(report) => (report.upload_id, report.replayed),
        Imported::Progress(progress) => (progress.upload_id, progress.replayed),
    };
    Ok(see_other(&if replayed {
        format!("/uploads/{id}?replayed=1")
    } else {
        format!("/uploads/{id}")
    }))
}

#[derive(Template)]
#[template(path = "upload_report.html")]
struct ReportPage {
    frame: Frame,
    id: String,
    replayed: bool,
    report: Option<ReportView>,
    progress: Option<ProgressView>,
}

struct ReportView {
    created: usize,
    rejected: usize,
    rows: Vec<ReportRow>,
}

struct ReportRow {
    line: String,
    invoice_number: String,
    created: bool,
    status: &'static str,
    code: String,
    field: String,
    value: String,
    detail: String,
    note: String,
    /// The receivable's page, for a created invoice.
    href: Option<String>,
}

struct ProgressView {
    processed: i64,
    total: i64,
    failure: Option<String>,
    failed: bool,
}

#[derive(serde::Deserialize)]
pub struct ReportQuery {
    replayed: Option<String>,
}

pub async fn upload_page(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<ReportQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let upload = own_upload(&caller, &state, &path).await?;
    let t = caller.lang;
    let mut frame = caller.frame(t.upload_report(), "/uploads");
    let (report, progress) = if upload.status == "done" {
        let report: ImportReport = upload
            .report
            .as_deref()
            .and_then(|report| serde_json::from_str(report).ok())
            .ok_or_else(|| PortalError::Internal(anyhow::anyhow!("upload {}: its report does not read", upload.id)))?;
        (Some(report_view(t, report)), None)
    } else {
        let failed = upload.status == "failed";
        if !failed {
            frame.reload_seconds = Some(RELOAD_SECONDS);
        }
        let progress = ProgressView {
            processed: upload.processed_rows,
            total: upload.total_rows.unwrap_or(0),
            failure: upload.failure.clone(),
            failed,
        };
        (None, Some(progress))
    };
    html(&ReportPage {
        frame,
        id: upload.id,
        replayed: query.replayed.is_some(),
        report,
        progress,
    })
}

fn report_view(t: Lang, report: ImportReport) -> ReportView {
    let text = |value: Option<String>| value.unwrap_or_default();
    ReportView {
        created: report.created,
        rejected: report.rejected,
        rows: report
            .results
            .into_iter()
            .map(|result| {
                let created = result.status == "created";
                let invoice = created && result.kind.as_deref().is_none_or(|kind| kind == "invoice");
                ReportRow {
                    line: result.line.unwrap_or(result.row).to_string(),
                    invoice_number: text(result.invoice_number),
                    created,
                    status: if created { t.row_created() } else { t.row_rejected() },
                    code: text(result.code),
                    field: text(result.field),
                    value: text(result.value),
                    detail: text(result.detail),
                    note: text(result.note),
                    href: result.id.filter(|_| invoice).map(|id| format!("/receivables/{id}")),
                }
            })
            .collect(),
    }
}

pub async fn upload_csv(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let upload = own_upload(&caller, &state, &path).await?;
    if upload.status != "done" {
        // Its page shows the progress until the report is done.
        return Ok(see_other(&format!("/uploads/{}", upload.id)));
    }
    Ok(crate::api::uploads::report_csv_download(&upload)?)
}

/// The caller's own upload; another's is not found, as in the API.
async fn own_upload(caller: &Caller, state: &AppState, id: &str) -> Result<UploadRow, PortalError> {
    let supplier = caller.supplier()?.organization_id.to_string();
    let id = uuid::Uuid::parse_str(id)
        .map_err(|_| PortalError::NotFound)?
        .to_string();
    state
        .database
        .run(move |connection| repository::find_upload(connection, &id))
        .await??
        .filter(|upload| upload.supplier_id == supplier)
        .ok_or(PortalError::NotFound)
}
