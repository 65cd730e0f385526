//! The CSV importer (`POST /v1/receivables/import`, `text/csv`).
//!
//! Properties: it never panics; it reports at most one row per line after
//! the header, numbered 1, 2, 3…; accepted rows hold trimmed, non-empty
//! required values; the result does not depend on how the body is split
//! into reads; and accepted rows written back as CSV parse to themselves.

#![no_main]

use anchorfin::registry::import::{parse_csv, ImportRow, ParsedRow};
use anchorfin_fuzz::{check_rows, csv_line_count, Pieces};
use libfuzzer_sys::fuzz_target;

const HEADER: [&str; 7] = [
    "invoice_number",
    "buyer_legal_id",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "po_number",
];

fuzz_target!(|data: &[u8]| {
    let parsed = parse_csv(data);

    // Read in pieces of the sizes the input's own bytes give: same answer.
    let streamed = parse_csv(Pieces::new(data, data));
    assert_eq!(
        format!("{parsed:?}"),
        format!("{streamed:?}"),
        "reading in pieces changed the result"
    );

    let Ok(rows) = parsed else { return };
    // The header takes a line; every row at least one more.
    assert!(
        rows.len() < csv_line_count(data),
        "{} rows from {} lines",
        rows.len(),
        csv_line_count(data)
    );
    let accepted = check_rows(&rows, &["malformed_row", "missing_field"]);
    assert!(
        accepted.iter().all(|row| row.seller_legal_id.is_none()),
        "CSV rows name no seller"
    );

    // The accepted rows, written out again, read back as themselves.
    let mut writer = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    writer.write_record(HEADER).unwrap();
    for row in &accepted {
        writer
            .write_record([
                row.invoice_number.as_str(),
                &row.buyer_legal_id,
                &row.issue_date,
                &row.due_date,
                &row.currency,
                &row.amount,
                row.po_number.as_deref().unwrap_or(""),
            ])
            .unwrap();
    }
    let written = writer.into_inner().unwrap();
    let again: Vec<ParsedRow> = parse_csv(written.as_slice()).expect("written CSV parses");
    let again: Vec<&ImportRow> = again
        .iter()
        .map(|row| row.outcome.as_ref().expect("a written row is accepted"))
        .collect();
    assert_eq!(accepted, again, "accepted rows do not survive a round trip");
});
