//! Excel uploads (`.xlsx`, read with `calamine`): the first worksheet, under
//! the rules of [`super::table`]. The header is the first of the first ten
//! non-blank rows that names the documented columns (title rows above it are
//! skipped); when none does, the first non-blank row's header error is
//! reported. Rows are located by Excel's row number.
//!
//! Cells become text as Excel shows them:
//!
//! - strings are trimmed;
//! - date cells become `YYYY-MM-DD` (the time of day is dropped), and so do
//!   plain numbers in a date column (Excel date serials, 1900 date system);
//! - numbers are written with at most 15 significant digits, the precision
//!   Excel itself displays and keeps, then without trailing zeros: `1234.5`
//!   stays `1234.5` and a formula's `1234.4999999999998` reads `1234.5`,
//!   never the binary float's longer expansion. The rounding goes through
//!   `rust_decimal` from the float's 15-digit scientific form, so amounts
//!   are text from there on. Whole numbers have no decimal point (a legal id
//!   typed as a number, `91110000100000000` — Excel already keeps only 15
//!   digits of it: type such ids as text);
//! - booleans are `TRUE`/`FALSE`; a cell holding an Excel error (`#N/A`,
//!   `#VALUE!`, …) rejects its row as `malformed_row`.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, ExcelDateTime, ExcelDateTimeType, Reader, Xlsx};
use rust_decimal::Decimal;

use super::table::{self, Layout};
use super::{ImportError, Location, ParsedRow, RowRejection, MALFORMED_ROW};

/// Refuses a workbook whose parts declare more than [`MAX_EXPANDED_BYTES`]
/// uncompressed, read from the ZIP directory without inflating anything.
fn check_expansion(body: &[u8]) -> Result<(), ImportError> {
    let unreadable = |error: zip::result::ZipError| ImportError::Unreadable {
        detail: format!("not a readable .xlsx workbook: {error}"),
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(body)).map_err(unreadable)?;
    let mut expanded: u64 = 0;
    for index in 0..archive.len() {
        expanded = expanded.saturating_add(archive.by_index_raw(index).map_err(unreadable)?.size());
    }
    if expanded > MAX_EXPANDED_BYTES {
        return Err(ImportError::Unreadable {
            detail: format!(
                "the workbook expands to {expanded} bytes, more than the {MAX_EXPANDED_BYTES} a workbook may"
            ),
        });
    }
    Ok(())
}

/// How many non-blank rows may come before the header (titles, notes).
const HEADER_SEARCH_ROWS: usize = 10;

/// Largest serial number Excel shows as a date (9999-12-31).
const LAST_EXCEL_SERIAL: f64 = 2_958_465.0;

/// The most a workbook's parts may declare they expand to: a 10 MiB upload
/// of ordinary invoices expands to a few tens of MiB; a ZIP bomb to
/// gigabytes, which calamine would hold in memory.
const MAX_EXPANDED_BYTES: u64 = 256 * 1024 * 1024;

pub(super) fn parse_xlsx(body: &[u8], limit: usize) -> Result<Vec<ParsedRow>, ImportError> {
    check_expansion(body)?;
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(body)).map_err(|error| ImportError::Unreadable {
        detail: format!("not a readable .xlsx workbook: {error}"),
    })?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| ImportError::Unreadable {
            detail: "the workbook has no worksheet".to_owned(),
        })?
        .map_err(|error| ImportError::Unreadable {
            detail: format!("the first worksheet cannot be read: {error}"),
        })?;
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let excel_row = |index: usize| first_row as usize + index + 1;

    // The header: the first of the first few non-blank rows that names the
    // documented columns, so that a title row above it is skipped.
    let mut rows = range.rows().enumerate();
    let mut first_error = None;
    let mut tried = 0;
    let layout = loop {
        let Some((_, cells)) = rows.next() else {
            return Err(first_error.unwrap_or_else(|| ImportError::BadHeader {
                detail: "the first worksheet is empty: its first row must be the header".to_owned(),
            }));
        };
        let header: Vec<String> = cells.iter().map(|cell| cell_text(cell, false)).collect();
        if table::is_blank(&header) {
            continue;
        }
        match Layout::from_header(&header) {
            Ok(layout) => break layout,
            Err(error) => {
                tried += 1;
                let first = first_error.take().unwrap_or(error);
                if tried == HEADER_SEARCH_ROWS {
                    return Err(first);
                }
                first_error = Some(first);
            }
        }
    };

    let mut parsed = Vec::new();
    for (index, cells) in rows {
        let line = excel_row(index);
        let mut fields = Vec::with_capacity(cells.len());
        let mut error = None;
        for (position, cell) in cells.iter().enumerate() {
            if let Data::Error(kind) = cell {
                error.get_or_insert((position, kind.to_string()));
            }
            let is_date = layout.column(position).is_some_and(|column| column.is_date());
            fields.push(cell_text(cell, is_date));
        }
        if table::is_blank(&fields) && error.is_none() {
            continue;
        }
        if parsed.len() == limit {
            return Err(ImportError::TooManyRows { limit });
        }
        let mut row = table::parse_row(&layout, line, &fields);
        if let Some((position, text)) = error {
            let cell = format!("{}{line}", column_letters(first_column as usize + position));
            let mut rejection =
                RowRejection::new(MALFORMED_ROW, format!("cell {cell} holds the Excel error {text}")).value(&text);
            rejection.field = layout.column(position).map(|column| column.name().to_owned());
            row.outcome = Err(rejection);
        }
        debug_assert_eq!(row.location, Location::Line(line));
        parsed.push(row);
    }
    Ok(parsed)
}

/// A cell as text (see the module docs); `is_date` for the cells of a date column.
fn cell_text(cell: &Data, is_date: bool) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(text) => text.trim().to_owned(),
        Data::Bool(true) => "TRUE".to_owned(),
        Data::Bool(false) => "FALSE".to_owned(),
        Data::Int(number) if is_date => serial_date(*number as f64).unwrap_or_else(|| number.to_string()),
        Data::Int(number) => number.to_string(),
        Data::Float(number) if is_date => serial_date(*number).unwrap_or_else(|| number_text(*number)),
        Data::Float(number) => number_text(*number),
        Data::DateTime(date) if date.is_datetime() => ymd(date),
        Data::DateTime(duration) => number_text(duration.as_f64()),
        Data::DateTimeIso(text) => text.split('T').next().unwrap_or_default().trim().to_owned(),
        Data::DurationIso(text) => text.trim().to_owned(),
    }
}

fn serial_date(serial: f64) -> Option<String> {
    (1.0..=LAST_EXCEL_SERIAL)
        .contains(&serial)
        .then(|| ymd(&ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, false)))
}

fn ymd(date: &ExcelDateTime) -> String {
    let (year, month, day, ..) = date.to_ymd_hms_milli();
    format!("{year:04}-{month:02}-{day:02}")
}

/// A number with at most 15 significant digits, without trailing zeros.
fn number_text(number: f64) -> String {
    if !number.is_finite() {
        return number.to_string();
    }
    match Decimal::from_scientific(&format!("{number:.14e}")) {
        Ok(decimal) => decimal.normalize().to_string(),
        // Beyond `Decimal`'s range (about 7.9e28): no amount or id is.
        Err(_) => number.to_string(),
    }
}

/// `A`, `B`, …, `Z`, `AA`, … for a 0-based column index.
fn column_letters(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(char::from(b'A' + (index % 26) as u8));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::super::{DocumentKind, ImportRow, INVALID_DATE, MISSING_FIELD};
    use super::*;
    use crate::domain::PartyReference;

    const INVOICES: &[u8] = include_bytes!("../../../tests/fixtures/xlsx/invoices.xlsx");
    const ORDERS: &[u8] = include_bytes!("../../../tests/fixtures/xlsx/purchase-orders-zh.xlsx");

    fn rejection(row: &ParsedRow) -> &RowRejection {
        row.outcome.as_ref().err().unwrap_or_else(|| panic!("{row:?} parsed"))
    }

    /// A workbook whose one part claims (in the ZIP directory) to expand
    /// to 4 GiB is refused before anything is inflated; a real one passes.
    #[test]
    fn a_workbook_that_would_expand_too_far_is_refused() {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        writer.start_file("xl/workbook.xml", stored).unwrap();
        writer.write_all(b"<workbook/>").unwrap();
        let mut bomb = writer.finish().unwrap().into_inner();
        // The central directory entry's uncompressed size, at offset 24.
        let entry = bomb
            .windows(4)
            .position(|window| window == [0x50, 0x4b, 0x01, 0x02])
            .unwrap();
        bomb[entry + 24..entry + 28].copy_from_slice(&u32::MAX.to_le_bytes());
        match parse_xlsx(&bomb, 100) {
            Err(ImportError::Unreadable { detail }) => assert!(detail.contains("expands to"), "{detail}"),
            other => panic!("{other:?}"),
        }
        assert!(check_expansion(INVOICES).is_ok());
    }

    #[test]
    fn numbers_are_written_as_excel_shows_them() {
        assert_eq!(number_text(1234.5), "1234.5");
        assert_eq!(number_text(1234.4999999999998), "1234.5");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(100.0), "100");
        assert_eq!(number_text(-42.10), "-42.1");
        assert_eq!(number_text(5532331183.0), "5532331183");
        assert_eq!(number_text(0.0), "0");
        assert_eq!(number_text(1e30), "1000000000000000000000000000000");
    }

    #[test]
    fn serials_and_columns() {
        assert_eq!(serial_date(45352.0).as_deref(), Some("2024-03-01"));
        assert_eq!(serial_date(45352.75).as_deref(), Some("2024-03-01"));
        assert_eq!(serial_date(0.0), None);
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    /// Values from tests/fixtures/xlsx/make.py.
    #[test]
    fn invoice_workbook() {
        let rows = parse_xlsx(INVOICES, 100).unwrap();
        let lines: Vec<usize> = rows.iter().map(|row| row.location.number()).collect();
        // Header on row 2 (row 1 is a title), row 5 left empty.
        assert_eq!(lines, vec![3, 4, 6, 7, 8, 9]);
        assert_eq!(
            rows[0].outcome,
            Ok(ImportRow {
                kind: DocumentKind::Invoice,
                invoice_number: "INV-001".to_owned(),
                buyer: vec![PartyReference::new(None, "91110000100000000X", "buyer_legal_id")],
                seller: vec![],
                issue_date: "2024-03-01".to_owned(),
                due_date: Some("2024-04-30".to_owned()),
                currency: "EUR".to_owned(),
                amount: "1234.5".to_owned(),
                order_reference: Some("PO-1".to_owned()),
                billing_reference: None,
            })
        );
        // A number typed as a number; a formula =0.1+0.2 cached as 0.30000000000000004.
        let second = rows[1].outcome.as_ref().unwrap();
        assert_eq!(second.invoice_number, "1002");
        assert_eq!(second.buyer[0].value, "5532331183");
        assert_eq!(second.amount, "0.3");
        assert_eq!(second.issue_date, "2024-03-02");
        assert_eq!(second.due_date, None);
        // A date typed as text in the sheet.
        let third = rows[2].outcome.as_ref().unwrap();
        assert_eq!(
            (third.issue_date.as_str(), third.amount.as_str()),
            ("2024-03-05", "99.99")
        );
        assert_eq!(third.kind, DocumentKind::CreditNote);
        assert_eq!(third.billing_reference.as_deref(), Some("INV-001"));
        // An error cell.
        let error = rejection(&rows[3]);
        assert_eq!((error.code, error.field.as_deref()), (MALFORMED_ROW, Some("amount")));
        assert!(
            error.detail.contains("cell F7 holds the Excel error #DIV/0!"),
            "{}",
            error.detail
        );
        assert_eq!(rows[3].invoice_number.as_deref(), Some("INV-004"));
        assert_eq!(rejection(&rows[4]).code, MISSING_FIELD);
        assert_eq!(rejection(&rows[5]).code, INVALID_DATE);
    }

    #[test]
    fn chinese_purchase_order_workbook() {
        let rows = parse_xlsx(ORDERS, 100).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].location, Location::Line(2));
        let order = rows[0].outcome.as_ref().unwrap();
        assert_eq!(order.kind, DocumentKind::Order);
        assert_eq!(order.invoice_number, "PO-2024-88");
        assert_eq!(order.currency, "CNY");
        assert_eq!(order.amount, "113000");
        assert_eq!(order.issue_date, "2024-06-18");
    }

    #[test]
    fn limit_and_broken_workbooks() {
        assert!(matches!(
            parse_xlsx(INVOICES, 5),
            Err(ImportError::TooManyRows { limit: 5 })
        ));
        assert!(matches!(
            parse_xlsx(b"PK\x03\x04 not a zip", 5),
            Err(ImportError::Unreadable { .. })
        ));
        assert!(matches!(parse_xlsx(b"", 5), Err(ImportError::Unreadable { .. })));
    }
}
