//! Bulk uploads (`POST /v1/receivables/import`, `anchorfin import`): turns a
//! CSV file, an Excel workbook (`.xlsx`) or UBL 2.0/2.1 XML (Invoice,
//! CreditNote, Order) into [`ParsedRow`]s of trimmed strings.
//!
//! This module only parses: no I/O, no database. The caller validates each
//! row's values into domain types and registers it. A row the parser cannot
//! read becomes a [`RowRejection`] and the rest of the upload goes on; an
//! upload that cannot be read as a whole (bad header, XML that is not
//! well-formed, more than [`MAX_ROWS`] rows, bytes that are no known text
//! encoding, a broken workbook) fails with an [`ImportError`] and nothing is
//! imported.
//!
//! # Where a row is
//!
//! [`Location::Line`] for CSV and XLSX: the line as a text editor or
//! spreadsheet shows it (the header is line 1 when it is the first line,
//! blank lines count, a record spanning lines is at the line it starts on;
//! XLSX: Excel's row number). [`Location::Element`] for XML: the 1-based
//! index of the document in the upload and the element path of the fault
//! (e.g. `Invoice/LegalMonetaryTotal/PayableAmount`), or of the document
//! root when the fault is not one element or there is none.
//!
//! # Row rejection codes (closed set, [`REJECTION_CODES`])
//!
//! When several faults apply, the first in this list wins:
//!
//! - `unclosed_quote` (CSV): a quoted field is never closed, or closed only
//!   after a line break by a quote that is not followed by a separator (a
//!   stray quote). The row is reported at the line where the quote opened.
//!   When the quote runs to the end of the file, nothing after it can be read
//!   and the detail says how many lines were lost; otherwise reading goes on
//!   at the next line.
//! - `malformed_row`: a CSV record or XLSX row with a different number of
//!   fields than the header (the detail says expected and got), or an XLSX
//!   cell holding an Excel error (`#N/A`, …).
//! - `duplicate_field` (XML): an element that a document holds at most once
//!   appears twice.
//! - `unsupported_document`: a type code that is none of the kinds below
//!   (XML `InvoiceTypeCode`/`CreditNoteTypeCode`, CSV `document_type`); the
//!   detail names the code.
//! - `control_character`: an identifier, date, currency or amount holds a
//!   control character (line break, tab, …); `value` shows it escaped.
//! - `missing_field`: a required value is empty or absent (`field` names the
//!   first; the detail lists all).
//! - `invalid_date`: a date that is not `YYYY-MM-DD` (XML: `xs:date`, with an
//!   optional time-zone suffix that is dropped; CSV/XLSX also `YYYY/M/D`,
//!   `YYYY.M.D` and `YYYY年M月D日`). Calendar checks are the registry's.
//! - `currency_mismatch` (XML): `PayableAmount/@currencyID` differs from
//!   `DocumentCurrencyCode`.
//!
//! # Document kinds
//!
//! [`DocumentKind::from_type_code`]: `Invoice` for the UNTDID 1001 codes of
//! a commercial invoice for goods or services delivered — 380 (commercial
//! invoice), 326 (partial invoice), 388 (tax invoice), 389 (self-billed
//! invoice), 393 (factored invoice), 875/876/877 (partial, partial final and
//! final construction invoices) — and, for UBL 2.0 whose type code is free
//! text, `SalesInvoice`, `CommercialInvoice` and `Invoice`. Not 386
//! (prepayment: nothing delivered yet) nor 383 (debit note). `CreditNote`:
//! 381, 396 (factored credit note), 81, 83, 261, 262, 532. `CorrectedInvoice`:
//! 384. `Order`: a UBL `Order` (its `OrderTypeCode` is not read) or a
//! purchase-order CSV.
//!
//! The CSV and XLSX header names are documented in [`table`].

mod csv;
pub mod table;
mod text;
mod ubl;
#[cfg(test)]
mod ubl_fixtures;
mod xlsx;

use crate::domain::PartyReference;

/// At most this many rows (CSV or XLSX data rows, or XML documents) per upload.
pub const MAX_ROWS: usize = 100_000;

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Invoice,
    CreditNote,
    CorrectedInvoice,
    Order,
}

impl DocumentKind {
    /// The kind a UNTDID 1001 document type code (or a UBL 2.0 free-text
    /// type) stands for; `None` for any other code. See the module docs.
    pub fn from_type_code(code: &str) -> Option<DocumentKind> {
        let code = code.trim();
        Some(match code {
            "380" | "326" | "388" | "389" | "393" | "875" | "876" | "877" => DocumentKind::Invoice,
            "381" | "396" | "81" | "83" | "261" | "262" | "532" => DocumentKind::CreditNote,
            "384" => DocumentKind::CorrectedInvoice,
            _ if ["SalesInvoice", "CommercialInvoice", "Invoice"]
                .iter()
                .any(|name| name.eq_ignore_ascii_case(code)) =>
            {
                DocumentKind::Invoice
            }
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
            DocumentKind::CorrectedInvoice => "corrected_invoice",
            DocumentKind::Order => "purchase_order",
        }
    }
}

/// One document as it came in, as trimmed strings (validation is the caller's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub kind: DocumentKind,
    /// The document number (an order's `ID`, a purchase-order CSV's `po_number`).
    pub invoice_number: String,
    /// Every identifier the document gives for the buyer (never empty).
    pub buyer: Vec<PartyReference>,
    /// Every identifier it gives for the seller; empty for CSV and XLSX.
    pub seller: Vec<PartyReference>,
    /// `YYYY-MM-DD`, a time-zone suffix removed; not checked against the calendar.
    pub issue_date: String,
    /// Same form as `issue_date`; `None` when the document gives none.
    pub due_date: Option<String>,
    pub currency: String,
    pub amount: String,
    /// `OrderReference/ID`, or the CSV `po_number` of an invoice.
    pub order_reference: Option<String>,
    /// The invoice a credit note or corrected invoice refers to.
    pub billing_reference: Option<String>,
}

/// Where a row is in the upload (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Line(usize),
    Element { document: usize, path: String },
}

impl Location {
    /// The line, or the document's index.
    pub fn number(&self) -> usize {
        match self {
            Location::Line(line) => *line,
            Location::Element { document, .. } => *document,
        }
    }
}

/// A row the parser could not read; the rest of the upload goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRejection {
    /// One of [`REJECTION_CODES`].
    pub code: &'static str,
    /// The column (CSV/XLSX header name as documented) or element path at fault.
    pub field: Option<String>,
    /// The offending value, control characters escaped.
    pub value: Option<String>,
    /// Human-readable explanation.
    pub detail: String,
}

impl RowRejection {
    fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            field: None,
            value: None,
            detail: detail.into(),
        }
    }

    fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    fn value(mut self, value: &str) -> Self {
        self.value = Some(escape(value));
        self
    }
}

/// The outcome for one row of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    pub location: Location,
    /// The document number, when it could be read (also for rejected rows).
    pub invoice_number: Option<String>,
    pub outcome: Result<ImportRow, RowRejection>,
}

/// The formats an upload may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Ubl,
    Xlsx,
}

impl ImportFormat {
    /// As an upload's stored bytes are labelled.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::Ubl => "ubl",
            ImportFormat::Xlsx => "xlsx",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        [ImportFormat::Csv, ImportFormat::Ubl, ImportFormat::Xlsx]
            .into_iter()
            .find(|format| format.as_str() == label)
    }
}

/// A failure of the whole upload (nothing is imported).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The CSV or XLSX header is not a documented set of columns.
    #[error("bad header: {detail}")]
    BadHeader { detail: String },
    /// More than [`MAX_ROWS`] rows.
    #[error("too many rows: at most {limit} per upload")]
    TooManyRows { limit: usize },
    /// XML that is not well-formed or holds no supported document.
    #[error("malformed upload: {detail}")]
    Malformed { detail: String },
    /// Bytes that are no supported text encoding, or a broken workbook.
    #[error("unreadable upload: {detail}")]
    Unreadable { detail: String },
}

/// Parses a whole upload.
pub fn parse(format: ImportFormat, body: &[u8]) -> Result<Vec<ParsedRow>, ImportError> {
    parse_with_limit(format, body, MAX_ROWS)
}

fn parse_with_limit(format: ImportFormat, body: &[u8], limit: usize) -> Result<Vec<ParsedRow>, ImportError> {
    match format {
        ImportFormat::Csv => csv::parse_csv(body, limit),
        ImportFormat::Ubl => ubl::parse_ubl(body, limit),
        ImportFormat::Xlsx => xlsx::parse_xlsx(body, limit),
    }
}

const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The format of a raw body or multipart part: by its MIME type when that
/// is specific (`text/csv`, `application/csv`, `text/tab-separated-values`,
/// `application/xml`, `text/xml`, `application/*+xml`, the XLSX type), else
/// (none, `application/octet-stream`, `text/plain`, anything else) by the
/// file name's extension (`.csv`, `.tsv`, `.txt`, `.xml`, `.xlsx`), else by
/// content: ZIP magic `PK\x03\x04` is XLSX, a `<` first after a BOM and
/// whitespace is XML, a first line holding a comma, semicolon or tab is CSV.
pub fn sniff(content_type: Option<&str>, file_name: Option<&str>, body: &[u8]) -> Option<ImportFormat> {
    let mime = content_type
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match mime.as_str() {
        "text/csv" | "application/csv" | "text/comma-separated-values" | "text/tab-separated-values" => {
            return Some(ImportFormat::Csv)
        }
        "application/xml" | "text/xml" => return Some(ImportFormat::Ubl),
        XLSX_MIME => return Some(ImportFormat::Xlsx),
        mime if mime.starts_with("application/") && mime.ends_with("+xml") => return Some(ImportFormat::Ubl),
        _ => {}
    }
    let extension = file_name
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, extension)| extension.trim().to_ascii_lowercase());
    match extension.as_deref() {
        Some("csv" | "tsv" | "txt") => return Some(ImportFormat::Csv),
        Some("xml") => return Some(ImportFormat::Ubl),
        Some("xlsx") => return Some(ImportFormat::Xlsx),
        _ => {}
    }
    if body.starts_with(b"PK\x03\x04") {
        return Some(ImportFormat::Xlsx);
    }
    let text = text::prefix(body);
    let start = text.trim_start();
    if start.starts_with('<') {
        return Some(ImportFormat::Ubl);
    }
    let first_line = start.lines().next().unwrap_or_default();
    first_line.contains([',', ';', '\t']).then_some(ImportFormat::Csv)
}

pub const UNCLOSED_QUOTE: &str = "unclosed_quote";
pub const MALFORMED_ROW: &str = "malformed_row";
pub const DUPLICATE_FIELD: &str = "duplicate_field";
pub const UNSUPPORTED_DOCUMENT: &str = "unsupported_document";
pub const CONTROL_CHARACTER: &str = "control_character";
pub const MISSING_FIELD: &str = "missing_field";
pub const INVALID_DATE: &str = "invalid_date";
pub const CURRENCY_MISMATCH: &str = "currency_mismatch";

/// Every row rejection code, in the order of precedence of the module docs.
pub const REJECTION_CODES: [&str; 8] = [
    UNCLOSED_QUOTE,
    MALFORMED_ROW,
    DUPLICATE_FIELD,
    UNSUPPORTED_DOCUMENT,
    CONTROL_CHARACTER,
    MISSING_FIELD,
    INVALID_DATE,
    CURRENCY_MISMATCH,
];

/// A value as it can be shown in a report: control characters escaped as
/// in Rust string literals (`\n`, `\t`, `\u{1b}`), everything else as is.
fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_control() {
            escaped.extend(c.escape_debug());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// Rejects a value holding a control character.
fn check_control(field: &str, value: &str) -> Result<(), RowRejection> {
    if value.chars().any(char::is_control) {
        return Err(RowRejection::new(
            CONTROL_CHARACTER,
            format!("{field} holds a control character (a line break, tab or the like)"),
        )
        .field(field)
        .value(value));
    }
    Ok(())
}

/// Checks every text value of a row for control characters; `name` gives
/// the field name under which each value is reported.
fn check_row_controls(row: &ImportRow, name: &dyn Fn(Field) -> String) -> Result<(), RowRejection> {
    check_control(&name(Field::InvoiceNumber), &row.invoice_number)?;
    for reference in row.buyer.iter().chain(&row.seller) {
        check_control(&reference.source, &reference.value)?;
    }
    check_control(&name(Field::IssueDate), &row.issue_date)?;
    if let Some(due) = &row.due_date {
        check_control(&name(Field::DueDate), due)?;
    }
    check_control(&name(Field::Currency), &row.currency)?;
    check_control(&name(Field::Amount), &row.amount)?;
    if let Some(order) = &row.order_reference {
        check_control(&name(Field::OrderReference), order)?;
    }
    if let Some(billing) = &row.billing_reference {
        check_control(&name(Field::BillingReference), billing)?;
    }
    Ok(())
}

/// The fields of an [`ImportRow`] that carry one value, to name them in rejections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    InvoiceNumber,
    IssueDate,
    DueDate,
    Currency,
    Amount,
    OrderReference,
    BillingReference,
}

/// Which date forms [`normalize_date`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateForms {
    /// `xs:date`: `YYYY-MM-DD` with an optional `Z` or `±HH:MM`.
    XmlSchema,
    /// Also `YYYY/M/D`, `YYYY.M.D`, `YYYY年M月D日`, one- or two-digit
    /// month and day (spreadsheet exports).
    Spreadsheet,
}

/// `YYYY-MM-DD` for a date in one of the accepted forms; `None` for text
/// that is clearly no date. The calendar is not checked (2024-02-30 passes).
fn normalize_date(text: &str, forms: DateForms) -> Option<String> {
    let text = text.trim();
    if let Some(date) = xs_date(text) {
        return Some(date.to_owned());
    }
    if forms == DateForms::XmlSchema {
        return None;
    }
    let (year, month, day) = if let Some(rest) = text.strip_suffix('日') {
        let (year, rest) = rest.split_once('年')?;
        let (month, day) = rest.split_once('月')?;
        (year, month, day)
    } else {
        // One separator, used twice.
        let separator = ['/', '.', '-']
            .into_iter()
            .find(|separator| text.contains(*separator))?;
        let mut parts = text.split(separator);
        let parts = (parts.next()?, parts.next()?, parts.next()?, parts.next());
        match parts {
            (year, month, day, None) => (year, month, day),
            _ => return None,
        }
    };
    let digits = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    if !(digits(year, 4..=4) && digits(month, 1..=2) && digits(day, 1..=2)) {
        return None;
    }
    Some(format!("{year}-{month:0>2}-{day:0>2}"))
}

/// The `YYYY-MM-DD` part of an `xs:date` with an optional time zone.
fn xs_date(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    if bytes.len() < 10 {
        return None;
    }
    let shape = bytes[..10].iter().enumerate().all(|(index, byte)| match index {
        4 | 7 => *byte == b'-',
        _ => byte.is_ascii_digit(),
    });
    if !shape {
        return None;
    }
    let zone = &bytes[10..];
    let zone_ok = match zone {
        [] | [b'Z'] => true,
        [sign, h1, h2, b':', m1, m2] => {
            matches!(sign, b'+' | b'-') && [h1, h2, m1, m2].iter().all(|byte| byte.is_ascii_digit())
        }
        _ => false,
    };
    zone_ok.then(|| &text[..10])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_accepted_forms_are_normalized() {
        for (text, expected) in [
            ("2009-12-16", "2009-12-16"),
            ("2009-12-16+01:00", "2009-12-16"),
            ("2009-12-16-05:00", "2009-12-16"),
            ("2009-12-16Z", "2009-12-16"),
            (" 2024-02-30 ", "2024-02-30"),
        ] {
            assert_eq!(
                normalize_date(text, DateForms::XmlSchema).as_deref(),
                Some(expected),
                "{text}"
            );
            assert_eq!(
                normalize_date(text, DateForms::Spreadsheet).as_deref(),
                Some(expected),
                "{text}"
            );
        }
        for (text, expected) in [
            ("2024/3/1", "2024-03-01"),
            ("2024.03.01", "2024-03-01"),
            ("2024-3-1", "2024-03-01"),
            ("2024年3月1日", "2024-03-01"),
            ("2024年12月31日", "2024-12-31"),
        ] {
            assert_eq!(
                normalize_date(text, DateForms::Spreadsheet).as_deref(),
                Some(expected),
                "{text}"
            );
            assert_eq!(normalize_date(text, DateForms::XmlSchema), None, "{text}");
        }
        for text in [
            "",
            "tomorrow",
            "2024-03",
            "20240301",
            "2024-03-01T10:00:00",
            "2024-03-01+1",
            "2024/03-01",
            "24/03/01",
            "2024/003/01",
            "2024年3月1",
            "2024-03-01 x",
        ] {
            assert_eq!(normalize_date(text, DateForms::Spreadsheet), None, "{text}");
            assert_eq!(normalize_date(text, DateForms::XmlSchema), None, "{text}");
        }
    }

    #[test]
    fn type_codes_map_to_kinds() {
        assert_eq!(DocumentKind::from_type_code("380"), Some(DocumentKind::Invoice));
        assert_eq!(DocumentKind::from_type_code(" 393 "), Some(DocumentKind::Invoice));
        assert_eq!(
            DocumentKind::from_type_code("SalesInvoice"),
            Some(DocumentKind::Invoice)
        );
        assert_eq!(DocumentKind::from_type_code("381"), Some(DocumentKind::CreditNote));
        assert_eq!(DocumentKind::from_type_code("396"), Some(DocumentKind::CreditNote));
        assert_eq!(
            DocumentKind::from_type_code("384"),
            Some(DocumentKind::CorrectedInvoice)
        );
        for code in ["386", "383", "", "220", "x"] {
            assert_eq!(DocumentKind::from_type_code(code), None, "{code}");
        }
    }

    #[test]
    fn sniff_by_mime_then_extension_then_content() {
        use ImportFormat::*;
        assert_eq!(sniff(Some("text/csv; charset=utf-8"), None, b"<x/>"), Some(Csv));
        assert_eq!(sniff(Some("Text/XML"), None, b""), Some(Ubl));
        assert_eq!(sniff(Some("application/ubl+xml"), None, b""), Some(Ubl));
        assert_eq!(sniff(Some(XLSX_MIME), None, b""), Some(Xlsx));
        assert_eq!(sniff(Some("application/octet-stream"), Some("a.XLSX"), b""), Some(Xlsx));
        assert_eq!(sniff(None, Some("invoices.csv"), b"<"), Some(Csv));
        assert_eq!(sniff(None, Some("invoice.xml"), b""), Some(Ubl));
        assert_eq!(
            sniff(Some("application/octet-stream"), None, b"PK\x03\x04rest"),
            Some(Xlsx)
        );
        assert_eq!(sniff(None, None, b"\xef\xbb\xbf \n <Invoice/>"), Some(Ubl));
        assert_eq!(sniff(None, None, b"\xff\xfe<\x00I\x00"), Some(Ubl));
        assert_eq!(sniff(Some("text/plain"), None, b"a;b\n1;2\n"), Some(Csv));
        assert_eq!(sniff(Some("text/plain"), None, b"x"), None);
        assert_eq!(sniff(None, Some("notes"), b""), None);
    }

    #[test]
    fn escape_shows_control_characters() {
        assert_eq!(escape("A\nB\t\u{1b}"), "A\\nB\\t\\u{1b}");
    }
}
