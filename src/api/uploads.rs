//! `GET /v1/uploads/{id}` and `GET /v1/uploads/{id}/report.csv` — an
//! upload, for the supplier that made it (and the operator): while it
//! runs (or after it failed), its progress; once done, its report — as
//! JSON, the answer `POST /v1/receivables/import` gave, or as CSV, one line
//! per row, for a spreadsheet (409 `upload_not_done` before then).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::Value;

use crate::api::auth::{read_by_id, BearerToken};
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::domain::Role;
use crate::refusal::Refusal;
use crate::registry::UploadProgress;
use crate::store::documents::{self as repository, UploadRow};

/// The columns of the CSV report, in order: the report's fields.
const REPORT_COLUMNS: [&str; 16] = [
    "row",
    "line",
    "document",
    "path",
    "kind",
    "invoice_number",
    "status",
    "code",
    "field",
    "value",
    "detail",
    "note",
    "id",
    "fingerprint",
    "receivable_id",
    "upload_id",
];

pub async fn show(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let upload = upload(&state, token, path.into_inner()).await?;
    if upload.status != "done" {
        return Ok(HttpResponse::Ok().json(UploadProgress::of(&upload, false)));
    }
    Ok(HttpResponse::Ok().json(report(&upload)?))
}

pub async fn report_csv(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let upload = upload(&state, token, path.into_inner()).await?;
    if upload.status != "done" {
        return Err(ApiError::refused(
            Refusal::UploadNotDone,
            format!(
                "the upload is {}: {} of {} rows decided; its report follows when every row is",
                upload.status,
                upload.processed_rows,
                upload.total_rows.unwrap_or(0)
            ),
        ));
    }
    report_csv_download(&upload)
}

/// A done upload's report as a CSV download: the answer of
/// `GET /v1/uploads/{id}/report.csv`, and of the portal's download.
pub fn report_csv_download(upload: &UploadRow) -> Result<HttpResponse, ApiError> {
    let report = report(upload)?;
    let body =
        to_csv(&report).map_err(|error| ApiError::Internal(anyhow::anyhow!("writing the CSV report: {error}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"upload-{}-report.csv\"", upload.id),
        ))
        .body(body))
}

/// An upload the caller may read.
async fn upload(state: &AppState, token: BearerToken, id: String) -> Result<UploadRow, ApiError> {
    read_by_id(state, token, id, move |connection, viewer, id| {
        let upload = repository::find_upload(connection, &id.to_string())?.ok_or(ApiError::NotFound)?;
        // Ids leak nothing: another party's upload is not found.
        if upload.supplier_id != viewer.organization_id && viewer.role != Role::Operator {
            return Err(ApiError::NotFound);
        }
        Ok(upload)
    })
    .await
}

/// A done upload's stored report.
fn report(upload: &UploadRow) -> Result<Value, ApiError> {
    let stored = upload.report.as_deref().unwrap_or("null");
    serde_json::from_str(stored).map_err(|error| ApiError::Internal(anyhow::anyhow!("stored upload report: {error}")))
}

/// One line per report row; a spreadsheet formula in a value is defused
/// (OWASP's CSV-injection advice: a leading `'`).
fn to_csv(report: &Value) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(REPORT_COLUMNS)?;
    let upload_id = report["upload_id"].clone();
    for result in report["results"].as_array().into_iter().flatten() {
        let cells = REPORT_COLUMNS.map(|column| {
            let value = if column == "upload_id" {
                &upload_id
            } else {
                &result[column]
            };
            defused(match value {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
        });
        writer.write_record(&cells)?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

fn defused(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_csv_report_has_one_line_per_row_and_defuses_formulas() {
        let report = json!({
            "upload_id": "u-1",
            "results": [
                {"row": 2, "line": 2, "status": "created", "invoice_number": "INV-1", "id": "r-1"},
                {"row": 3, "line": 3, "status": "rejected", "invoice_number": "=HYPERLINK(\"x\")",
                 "code": "invalid_field", "field": "amount", "value": "-5", "detail": "must be positive, \"quoted\""},
            ],
        });
        let text = String::from_utf8(to_csv(&report).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], REPORT_COLUMNS.join(","));
        assert!(lines[1].starts_with("2,2,,,,INV-1,created,"));
        assert!(lines[1].ends_with(",r-1,,,u-1"));
        assert!(lines[2].contains("\"'=HYPERLINK(\"\"x\"\")\""), "{}", lines[2]);
        assert!(lines[2].contains(",'-5,"), "{}", lines[2]);
        assert!(
            lines[2].contains("\"must be positive, \"\"quoted\"\"\""),
            "{}",
            lines[2]
        );
    }
}
