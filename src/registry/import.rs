//! Bulk receivable uploads (`POST /v1/receivables/import`): turns a CSV or
//! UBL 2.1 Invoice XML body into rows of raw, trimmed strings.
//!
//! This module only parses: it does no I/O beyond reading the given reader
//! and knows nothing of the database. The caller validates each row's values
//! into domain types and registers it. A row the parser cannot read becomes a
//! [`RowRejection`] and the rest of the upload goes on; an upload that cannot
//! be read as a whole (bad CSV header, XML that is not well-formed, more than
//! [`MAX_ROWS`] rows) fails with an [`ImportError`] and nothing is imported.
//!
//! Row rejection codes: `malformed_row` (CSV record with the wrong number of
//! fields or a field that is not UTF-8), `missing_field` (a required value is
//! empty or absent), `duplicate_field` (UBL: an element the invoice may hold
//! once appears twice), `currency_mismatch` (UBL: `PayableAmount/@currencyID`
//! differs from `DocumentCurrencyCode`).

mod csv;
mod ubl;

pub use self::csv::parse_csv;
pub use self::ubl::parse_ubl;

/// At most this many rows (CSV data rows, or UBL invoices) per upload.
pub const MAX_ROWS: usize = 10_000;

/// One invoice as it came in, as raw trimmed strings (validation is the caller's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub invoice_number: String,
    pub buyer_legal_id: String,
    pub issue_date: String,
    pub due_date: String,
    pub currency: String,
    pub amount: String,
    /// `None` when empty or absent.
    pub po_number: Option<String>,
    /// UBL only: the `AccountingSupplierParty`'s legal id, so the caller can
    /// check it is the uploader. Always `None` for CSV.
    pub seller_legal_id: Option<String>,
}

/// A row the parser could not read; the rest of the upload goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRejection {
    /// Machine-readable reason, one of the codes listed in the module docs.
    pub code: &'static str,
    /// Human-readable explanation naming the column or element at fault.
    pub detail: String,
}

impl RowRejection {
    fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }
}

/// The outcome for one row of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    /// 1-based number of the data row (CSV: the first non-blank row after the
    /// header is 1; blank lines are not numbered) or of the invoice within the
    /// XML document, in document order (1 for a single invoice).
    pub row: usize,
    pub outcome: Result<ImportRow, RowRejection>,
}

/// A failure of the whole upload (nothing is imported).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The CSV header is not exactly the documented set of columns.
    #[error("bad CSV header: {detail}")]
    BadHeader { detail: String },
    /// More than [`MAX_ROWS`] rows.
    #[error("too many rows: at most {limit} per upload")]
    TooManyRows { limit: usize },
    /// Not CSV, not well-formed XML, no Invoice element, or not UBL.
    #[error("malformed upload: {detail}")]
    Malformed { detail: String },
    /// The body could not be read.
    #[error("could not read the upload: {0}")]
    Read(#[from] std::io::Error),
}

const MALFORMED_ROW: &str = "malformed_row";
const MISSING_FIELD: &str = "missing_field";
const DUPLICATE_FIELD: &str = "duplicate_field";
const CURRENCY_MISMATCH: &str = "currency_mismatch";

/// A reader that fails after yielding its input, to test read errors.
#[cfg(test)]
struct FailAfter<'a>(&'a [u8]);

#[cfg(test)]
impl std::io::Read for FailAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "client went away",
            ));
        }
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}
