//! What the fuzz targets share.

use std::io::{BufRead, Read};

use anchorfin::registry::import::{ImportRow, ParsedRow, MAX_ROWS};

/// A reader that serves its input in pieces whose sizes cycle through
/// `sizes` (a zero counts as one; no sizes, one byte at a time), so that a
/// streaming parser meets boundaries everywhere.
pub struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    next: usize,
    /// Bytes of the current piece not yet consumed (`BufRead`).
    available: usize,
}

impl<'a> Pieces<'a> {
    pub fn new(data: &'a [u8], sizes: &'a [u8]) -> Self {
        Pieces {
            data,
            sizes,
            next: 0,
            available: 0,
        }
    }

    fn next_piece(&mut self) -> usize {
        let size = match self.sizes {
            [] => 1,
            sizes => usize::from(sizes[self.next % sizes.len()]).max(1),
        };
        self.next += 1;
        size.min(self.data.len())
    }
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.next_piece().min(buf.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl BufRead for Pieces<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.available == 0 {
            self.available = self.next_piece();
        }
        Ok(&self.data[..self.available])
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.available);
        self.data = &self.data[amount..];
        self.available -= amount;
    }
}

/// The number of lines of `data` as the `csv` crate counts them: `\n`,
/// `\r` and `\r\n` each end one.
pub fn csv_line_count(data: &[u8]) -> usize {
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

/// What both importers promise of the rows of an upload they read: at most
/// `MAX_ROWS`, numbered 1, 2, 3…; an accepted row's values non-empty (the
/// optional ones absent rather than empty) and trimmed; a rejected row's
/// code one of `codes`. Returns the accepted rows.
pub fn check_rows<'a>(rows: &'a [ParsedRow], codes: &[&str]) -> Vec<&'a ImportRow> {
    assert!(rows.len() <= MAX_ROWS, "{} rows", rows.len());
    let mut accepted = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(row.row, index + 1, "rows are numbered 1, 2, 3…");
        match &row.outcome {
            Ok(fields) => {
                let required = [
                    &fields.invoice_number,
                    &fields.buyer_legal_id,
                    &fields.issue_date,
                    &fields.due_date,
                    &fields.currency,
                    &fields.amount,
                ];
                let optional = [&fields.po_number, &fields.seller_legal_id];
                for value in required.into_iter().chain(optional.into_iter().flatten()) {
                    assert!(!value.is_empty(), "empty value in {fields:?}");
                    assert_eq!(value.trim(), value, "untrimmed value in {fields:?}");
                }
                accepted.push(fields);
            }
            Err(rejection) => assert!(codes.contains(&rejection.code), "undocumented code {}", rejection.code),
        }
    }
    accepted
}
