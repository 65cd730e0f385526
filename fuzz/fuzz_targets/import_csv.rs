//! The CSV importer (`POST /v1/receivables/import`, `text/csv`).
//!
//! Properties: it never panics; it reports at most one row per line after
//! the header, in increasing line order and within the text's lines;
//! accepted rows hold trimmed, non-empty values free of control characters
//! (see `check_rows`); and accepted rows written back as CSV parse to
//! themselves.

#![no_main]

use anchorfin::registry::import::{parse, DocumentKind, ImportFormat, ImportRow, ParsedRow};
use anchorfin_fuzz::{check_rows, line_count};
use libfuzzer_sys::fuzz_target;

const INVOICE_HEADER: [&str; 9] = [
    "invoice_number",
    "buyer_legal_id",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "po_number",
    "document_type",
    "billing_reference",
];
const ORDER_HEADER: [&str; 5] = ["po_number", "buyer_legal_id", "issue_date", "currency", "amount"];

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = parse(ImportFormat::Csv, data) else {
        return;
    };
    // Line numbers count the text's lines, whatever its encoding; for
    // UTF-16 every line break is two bytes, so the byte count bounds it.
    let lines = line_count(data);
    assert!(rows.len() < lines, "{} rows from {lines} lines", rows.len());
    assert!(
        rows.iter().all(|row| row.location.number() <= lines),
        "a row beyond the last line"
    );
    let accepted = check_rows(&rows);
    assert!(
        accepted.iter().all(|row| row.seller.is_empty()),
        "CSV rows name no seller"
    );
    let orders = accepted.iter().filter(|row| row.kind == DocumentKind::Order).count();
    assert!(
        orders == 0 || orders == accepted.len(),
        "orders and invoices in one upload"
    );

    // The accepted rows, written out again, read back as themselves.
    let mut writer = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    if orders > 0 {
        writer.write_record(ORDER_HEADER).unwrap();
    } else {
        writer.write_record(INVOICE_HEADER).unwrap();
    }
    for row in &accepted {
        let buyer = row.buyer[0].value.as_str();
        if orders > 0 {
            writer
                .write_record([
                    row.invoice_number.as_str(),
                    buyer,
                    &row.issue_date,
                    &row.currency,
                    &row.amount,
                ])
                .unwrap();
        } else {
            writer
                .write_record([
                    row.invoice_number.as_str(),
                    buyer,
                    &row.issue_date,
                    row.due_date.as_deref().unwrap_or(""),
                    &row.currency,
                    &row.amount,
                    row.order_reference.as_deref().unwrap_or(""),
                    row.kind.as_str(),
                    row.billing_reference.as_deref().unwrap_or(""),
                ])
                .unwrap();
        }
    }
    let written = writer.into_inner().unwrap();
    let again: Vec<ParsedRow> = parse(ImportFormat::Csv, &written).expect("written CSV parses");
    let again: Vec<&ImportRow> = again
        .iter()
        .map(|row| row.outcome.as_ref().expect("a written row is accepted"))
        .collect();
    assert_eq!(accepted, again, "accepted rows do not survive a round trip");
});
