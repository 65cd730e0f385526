//! The header and rows shared by CSV and XLSX uploads.
//!
//! # Header names
//!
//! Matched ignoring case, whitespace, `_` and `-` (so `Invoice Number`,
//! `INVOICE-NUMBER` and `invoice_number` are one name), in any order:
//!
//! | column | also accepted |
//! | --- | --- |
//! | `invoice_number` | `invoice_no`, `发票号码`, `发票号` |
//! | `po_number` | `purchase_order_number`, `订单号`, `采购订单号` |
//! | `buyer_legal_id` | `买方统一社会信用代码`, `购买方统一社会信用代码`, `购买方税号`, `买方税号`, `购方税号`, `买方` |
//! | `issue_date` | `开票日期` |
//! | `due_date` | `到期日`, `付款到期日` |
//! | `currency` | `币种` |
//! | `amount` | `金额`, `价税合计` |
//! | `document_type` | `类型`, `单据类型` |
//! | `billing_reference` | `原发票号码` |
//!
//! `金额` (amount before tax on a Chinese VAT invoice) and `价税合计` (total
//! with tax) both mean `amount`: a header with both is refused as naming
//! `amount` twice rather than guessing which one is payable.
//!
//! Two kinds of upload, told apart by the header:
//!
//! - **invoices** (the header has `invoice_number`): required
//!   `invoice_number, buyer_legal_id, issue_date, currency, amount`; optional
//!   `due_date, po_number, document_type, billing_reference`. `document_type`
//!   is empty (an invoice), a type code (380, 381, 384, …; see
//!   [`DocumentKind::from_type_code`]) or `invoice`, `credit_note`,
//!   `corrected_invoice` (also `发票`/`蓝字发票` for an invoice, `红字发票` for a
//!   credit note).
//! - **purchase orders** (the header has `po_number` and no
//!   `invoice_number`): `po_number, buyer_legal_id, issue_date, currency,
//!   amount`, all required; rows of kind `Order` whose document number is the
//!   PO number.
//!
//! A column with an empty header is allowed only if it is empty in every row.
//! Currency `人民币` and `RMB` are read as `CNY`.

use super::{
    check_control, normalize_date, DateForms, DocumentKind, ImportError, ImportRow, Location, ParsedRow, RowRejection,
    INVALID_DATE, MALFORMED_ROW, MISSING_FIELD, UNSUPPORTED_DOCUMENT,
};
use crate::domain::PartyReference;

/// A column of a CSV or XLSX upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    InvoiceNumber,
    PoNumber,
    BuyerLegalId,
    IssueDate,
    DueDate,
    Currency,
    Amount,
    DocumentType,
    BillingReference,
}

impl Column {
    pub const ALL: [Column; 9] = [
        Column::InvoiceNumber,
        Column::PoNumber,
        Column::BuyerLegalId,
        Column::IssueDate,
        Column::DueDate,
        Column::Currency,
        Column::Amount,
        Column::DocumentType,
        Column::BillingReference,
    ];

    /// The documented (English) name, used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Column::InvoiceNumber => "invoice_number",
            Column::PoNumber => "po_number",
            Column::BuyerLegalId => "buyer_legal_id",
            Column::IssueDate => "issue_date",
            Column::DueDate => "due_date",
            Column::Currency => "currency",
            Column::Amount => "amount",
            Column::DocumentType => "document_type",
            Column::BillingReference => "billing_reference",
        }
    }

    /// The other names accepted for the column.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::InvoiceNumber => &["invoice_no", "发票号码", "发票号"],
            Column::PoNumber => &["purchase_order_number", "订单号", "采购订单号"],
            Column::BuyerLegalId => &[
                "买方统一社会信用代码",
                "购买方统一社会信用代码",
                "购买方税号",
                "买方税号",
                "购方税号",
                "买方",
            ],
            Column::IssueDate => &["开票日期"],
            Column::DueDate => &["到期日", "付款到期日"],
            Column::Currency => &["币种"],
            Column::Amount => &["金额", "价税合计"],
            Column::DocumentType => &["类型", "单据类型"],
            Column::BillingReference => &["原发票号码"],
        }
    }

    /// Dates: XLSX date cells and serial numbers become `YYYY-MM-DD`.
    pub fn is_date(self) -> bool {
        matches!(self, Column::IssueDate | Column::DueDate)
    }

    fn from_header(name: &str) -> Option<Column> {
        let key = header_key(name);
        Column::ALL.into_iter().find(|column| {
            header_key(column.name()) == key || column.aliases().iter().any(|alias| header_key(alias) == key)
        })
    }
}

fn header_key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-' && *c != '\u{feff}')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Which kind of upload a header announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sheet {
    Invoices,
    PurchaseOrders,
}

impl Sheet {
    fn required(self) -> &'static [Column] {
        match self {
            Sheet::Invoices => &[
                Column::InvoiceNumber,
                Column::BuyerLegalId,
                Column::IssueDate,
                Column::Currency,
                Column::Amount,
            ],
            Sheet::PurchaseOrders => &[
                Column::PoNumber,
                Column::BuyerLegalId,
                Column::IssueDate,
                Column::Currency,
                Column::Amount,
            ],
        }
    }

    fn optional(self) -> &'static [Column] {
        match self {
            Sheet::Invoices => &[
                Column::DueDate,
                Column::PoNumber,
                Column::DocumentType,
                Column::BillingReference,
            ],
            Sheet::PurchaseOrders => &[],
        }
    }
}

/// For each position of a row, the column found there in the header (`None`
/// under an empty header cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    pub(super) sheet: Sheet,
    columns: Vec<Option<Column>>,
}

impl Layout {
    /// Reads a header row; trailing empty cells are dropped.
    pub fn from_header(cells: &[String]) -> Result<Layout, ImportError> {
        let mut cells: Vec<&str> = cells
            .iter()
            .map(|cell| cell.trim_start_matches('\u{feff}').trim())
            .collect();
        while cells.last().is_some_and(|cell| cell.is_empty()) {
            cells.pop();
        }
        let mut columns = Vec::with_capacity(cells.len());
        let mut unknown = Vec::new();
        let mut duplicate = Vec::new();
        for name in &cells {
            if name.is_empty() {
                columns.push(None);
                continue;
            }
            match Column::from_header(name) {
                Some(column) if columns.contains(&Some(column)) => {
                    duplicate.push(format!("{name:?} ({})", column.name()))
                }
                Some(column) => columns.push(Some(column)),
                None => unknown.push(format!("{name:?}")),
            }
        }
        let has = |column: Column| columns.contains(&Some(column));
        let sheet = if !has(Column::InvoiceNumber) && has(Column::PoNumber) {
            Sheet::PurchaseOrders
        } else {
            Sheet::Invoices
        };
        let missing: Vec<&str> = sheet
            .required()
            .iter()
            .filter(|column| !has(**column))
            .map(|column| column.name())
            .collect();
        let misplaced: Vec<&str> = columns
            .iter()
            .flatten()
            .filter(|column| !sheet.required().contains(column) && !sheet.optional().contains(column))
            .map(|column| column.name())
            .collect();
        if missing.is_empty() && unknown.is_empty() && duplicate.is_empty() && misplaced.is_empty() {
            return Ok(Layout { sheet, columns });
        }
        let mut problems = Vec::new();
        if cells.iter().all(|cell| cell.is_empty()) {
            problems.push("the header is empty".to_owned());
        } else {
            if !missing.is_empty() {
                problems.push(format!("missing column(s): {}", missing.join(", ")));
            }
            if !unknown.is_empty() {
                problems.push(format!("unknown column(s): {}", unknown.join(", ")));
            }
            if !duplicate.is_empty() {
                problems.push(format!("duplicate column(s): {}", duplicate.join(", ")));
            }
            if !misplaced.is_empty() {
                problems.push(format!(
                    "not a column of a purchase-order upload: {}",
                    misplaced.join(", ")
                ));
            }
        }
        Err(ImportError::BadHeader {
            detail: format!("{}; {}", problems.join("; "), accepted_names()),
        })
    }

    /// The column at a position of a row.
    pub fn column(&self, position: usize) -> Option<Column> {
        self.columns.get(position).copied().flatten()
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }
}

/// The accepted header names, for error messages.
fn accepted_names() -> String {
    let list = |columns: &[Column]| {
        columns
            .iter()
            .map(|column| {
                let aliases = column.aliases();
                if aliases.is_empty() {
                    column.name().to_owned()
                } else {
                    format!("{} (or {})", column.name(), aliases.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    format!(
        "an invoice upload needs {} and may have {}; a purchase-order upload has {} \
         (names match ignoring case, spaces, '_' and '-')",
        list(Sheet::Invoices.required()),
        list(Sheet::Invoices.optional()),
        list(Sheet::PurchaseOrders.required()),
    )
}

/// True when every field is empty or whitespace (a blank line, or a line of
/// only separators that spreadsheets export for an empty row).
pub(super) fn is_blank(fields: &[String]) -> bool {
    fields.iter().all(|field| field.trim().is_empty())
}

/// Reads one data row (fields untrimmed) found at `line`.
pub(super) fn parse_row(layout: &Layout, line: usize, fields: &[String]) -> ParsedRow {
    let mut values: [Option<&str>; Column::ALL.len()] = Default::default();
    for (position, field) in fields.iter().enumerate().take(layout.len()) {
        if let Some(column) = layout.column(position) {
            values[column as usize] = Some(field.trim());
        }
    }
    let number_column = match layout.sheet {
        Sheet::Invoices => Column::InvoiceNumber,
        Sheet::PurchaseOrders => Column::PoNumber,
    };
    let invoice_number = values[number_column as usize]
        .filter(|number| !number.is_empty())
        .map(str::to_owned);
    ParsedRow {
        location: Location::Line(line),
        invoice_number,
        outcome: read_row(layout, fields, &values),
    }
}

fn read_row(layout: &Layout, fields: &[String], values: &[Option<&str>]) -> Result<ImportRow, RowRejection> {
    if fields.len() != layout.len() {
        // Extra empty fields at the end (a spreadsheet's trailing separators) are harmless.
        let extra_blank = fields.len() > layout.len() && fields[layout.len()..].iter().all(|f| f.trim().is_empty());
        if !extra_blank {
            return Err(RowRejection::new(
                MALFORMED_ROW,
                format!("expected {} fields, got {}", layout.len(), fields.len()),
            ));
        }
    }
    if let Some(position) =
        (0..layout.len()).find(|position| layout.column(*position).is_none() && !fields[*position].trim().is_empty())
    {
        return Err(RowRejection::new(
            MALFORMED_ROW,
            format!("field {} has a value but no column name in the header", position + 1),
        )
        .value(fields[position].trim()));
    }
    let value = |column: Column| values[column as usize].unwrap_or_default();
    let kind = match layout.sheet {
        Sheet::PurchaseOrders => DocumentKind::Order,
        Sheet::Invoices => document_kind(value(Column::DocumentType))?,
    };
    for column in Column::ALL {
        check_control(column.name(), value(column))?;
    }
    let missing: Vec<&str> = layout
        .sheet
        .required()
        .iter()
        .filter(|column| value(**column).is_empty())
        .map(|column| column.name())
        .collect();
    if let Some(first) = missing.first() {
        return Err(RowRejection::new(
            MISSING_FIELD,
            format!("empty required field(s): {}", missing.join(", ")),
        )
        .field(*first));
    }
    let date = |column: Column| -> Result<Option<String>, RowRejection> {
        let text = value(column);
        if text.is_empty() {
            return Ok(None);
        }
        normalize_date(text, DateForms::Spreadsheet).map(Some).ok_or_else(|| {
            RowRejection::new(
                INVALID_DATE,
                format!(
                    "{} is not a date (YYYY-MM-DD, YYYY/M/D, YYYY.M.D or YYYY年M月D日)",
                    column.name()
                ),
            )
            .field(column.name())
            .value(text)
        })
    };
    let issue_date = date(Column::IssueDate)?.unwrap_or_default();
    let due_date = date(Column::DueDate)?;
    let optional = |column: Column| Some(value(column)).filter(|text| !text.is_empty()).map(str::to_owned);
    let (invoice_number, order_reference) = match layout.sheet {
        Sheet::Invoices => (value(Column::InvoiceNumber).to_owned(), optional(Column::PoNumber)),
        Sheet::PurchaseOrders => (value(Column::PoNumber).to_owned(), None),
    };
    Ok(ImportRow {
        kind,
        invoice_number,
        buyer: vec![PartyReference::new(
            None,
            value(Column::BuyerLegalId),
            Column::BuyerLegalId.name(),
        )],
        seller: Vec::new(),
        issue_date,
        due_date,
        currency: currency(value(Column::Currency)),
        amount: value(Column::Amount).to_owned(),
        order_reference,
        billing_reference: optional(Column::BillingReference),
    })
}

fn document_kind(text: &str) -> Result<DocumentKind, RowRejection> {
    if text.is_empty() {
        return Ok(DocumentKind::Invoice);
    }
    let kind = match header_key(text).as_str() {
        "invoice" | "发票" | "蓝字发票" => Some(DocumentKind::Invoice),
        "creditnote" | "红字发票" => Some(DocumentKind::CreditNote),
        "correctedinvoice" => Some(DocumentKind::CorrectedInvoice),
        _ if text.bytes().all(|byte| byte.is_ascii_digit()) => DocumentKind::from_type_code(text),
        _ => None,
    };
    kind.ok_or_else(|| {
        RowRejection::new(
            UNSUPPORTED_DOCUMENT,
            format!(
                "document type {text:?} is not supported: use invoice (380), credit_note (381) or corrected_invoice (384)"
            ),
        )
        .field(Column::DocumentType.name())
        .value(text)
    })
}

fn currency(text: &str) -> String {
    match text {
        "人民币" => "CNY".to_owned(),
        _ if text.eq_ignore_ascii_case("rmb") => "CNY".to_owned(),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Result<Layout, ImportError> {
        Layout::from_header(&names.iter().map(|name| name.to_string()).collect::<Vec<_>>())
    }

    fn bad_header(names: &[&str]) -> String {
        match header(names) {
            Err(ImportError::BadHeader { detail }) => detail,
            other => panic!("expected BadHeader, got {other:?}"),
        }
    }

    #[test]
    fn chinese_and_english_names_in_any_case_and_spacing() {
        let layout = header(&[
            "发票号码",
            "购买方税号",
            "开票日期",
            "价税合计",
            "币种",
            " Due Date ",
            "PO-NUMBER",
        ])
        .unwrap();
        assert_eq!(layout.sheet, Sheet::Invoices);
        assert_eq!(layout.column(0), Some(Column::InvoiceNumber));
        assert_eq!(layout.column(1), Some(Column::BuyerLegalId));
        assert_eq!(layout.column(3), Some(Column::Amount));
        assert_eq!(layout.column(5), Some(Column::DueDate));
        assert_eq!(layout.column(6), Some(Column::PoNumber));
    }

    #[test]
    fn purchase_order_header_is_recognised() {
        let layout = header(&["po_number", "buyer_legal_id", "issue_date", "currency", "amount"]).unwrap();
        assert_eq!(layout.sheet, Sheet::PurchaseOrders);
        let detail = bad_header(&[
            "po_number",
            "buyer_legal_id",
            "issue_date",
            "currency",
            "amount",
            "due_date",
        ]);
        assert!(
            detail.contains("not a column of a purchase-order upload: due_date"),
            "{detail}"
        );
    }

    #[test]
    fn bad_headers_name_the_problem_and_the_accepted_names() {
        let detail = bad_header(&["invoice_number", "buyer", "issue_date", "currency"]);
        assert!(detail.contains("missing column(s): buyer_legal_id, amount"), "{detail}");
        assert!(detail.contains("unknown column(s): \"buyer\""), "{detail}");
        assert!(detail.contains("buyer_legal_id (or 买方统一社会信用代码"), "{detail}");
        let detail = bad_header(&[
            "invoice_number",
            "buyer_legal_id",
            "issue_date",
            "currency",
            "金额",
            "价税合计",
        ]);
        assert!(
            detail.contains("duplicate column(s): \"价税合计\" (amount)"),
            "{detail}"
        );
        assert!(bad_header(&["", " "]).starts_with("the header is empty"));
    }

    #[test]
    fn document_types() {
        assert_eq!(document_kind(""), Ok(DocumentKind::Invoice));
        assert_eq!(document_kind("Credit Note"), Ok(DocumentKind::CreditNote));
        assert_eq!(document_kind("381"), Ok(DocumentKind::CreditNote));
        assert_eq!(document_kind("384"), Ok(DocumentKind::CorrectedInvoice));
        assert_eq!(document_kind("红字发票"), Ok(DocumentKind::CreditNote));
        let rejection = document_kind("386").unwrap_err();
        assert_eq!(rejection.code, UNSUPPORTED_DOCUMENT);
        assert_eq!(rejection.field.as_deref(), Some("document_type"));
        assert_eq!(rejection.value.as_deref(), Some("386"));
        assert!(rejection.detail.contains("\"386\""), "{}", rejection.detail);
    }
}
