//! What the fuzz targets share.

use anchorfin::registry::import::{ImportRow, ParsedRow, MAX_ROWS, REJECTION_CODES};

/// The number of lines of `data` as a text editor counts them: `\n`, `\r`
/// and `\r\n` each end one.
pub fn line_count(data: &[u8]) -> usize {
    let mut lines = 1;
    let mut previous = 0u8;
    for &byte in data {
        if byte == b'\r' || (byte == b'\n' && previous != b'\r') {
            lines += 1;
        }
        previous = byte;
    }
    lines
}

/// What every importer promises of the rows of an upload it read: at most
/// `MAX_ROWS`, located in strictly increasing order (lines or documents);
/// an accepted row's values non-empty (the optional ones absent rather than
/// empty), trimmed and free of control characters, with at least one buyer
/// reference; a rejected row's code one of the documented ones. Returns the
/// accepted rows.
pub fn check_rows(rows: &[ParsedRow]) -> Vec<&ImportRow> {
    assert!(rows.len() <= MAX_ROWS, "{} rows", rows.len());
    let mut accepted = Vec::new();
    let mut previous = 0;
    for row in rows {
        let number = row.location.number();
        assert!(number > previous, "rows out of order: {number} after {previous}");
        previous = number;
        match &row.outcome {
            Ok(fields) => {
                assert!(!fields.buyer.is_empty(), "no buyer in {fields:?}");
                let required = [
                    &fields.invoice_number,
                    &fields.issue_date,
                    &fields.currency,
                    &fields.amount,
                ];
                let optional = [&fields.due_date, &fields.order_reference, &fields.billing_reference];
                let references = fields
                    .buyer
                    .iter()
                    .chain(&fields.seller)
                    .map(|reference| &reference.value);
                for value in required
                    .into_iter()
                    .chain(optional.into_iter().flatten())
                    .chain(references)
                {
                    assert!(!value.is_empty(), "empty value in {fields:?}");
                    assert_eq!(value.trim(), value, "untrimmed value in {fields:?}");
                    assert!(!value.chars().any(char::is_control), "control character in {fields:?}");
                }
                for date in [Some(&fields.issue_date), fields.due_date.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    assert_eq!(date.len(), 10, "date {date:?} not YYYY-MM-DD");
                }
                accepted.push(fields);
            }
            Err(rejection) => assert!(
                REJECTION_CODES.contains(&rejection.code),
                "undocumented code {}",
                rejection.code
            ),
        }
    }
    accepted
}
