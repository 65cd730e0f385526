//! CSV uploads: the body decoded whole ([`super::text`]), the separator
//! (comma, semicolon or tab) sniffed from the header line, then one document
//! per record under the header rules of [`super::table`].
//!
//! Records are split by a small tokenizer of our own rather than the `csv`
//! crate, because a quoting mistake must not silently merge lines: the crate
//! reads an unclosed quote as one field running to the end of the file, and
//! reports neither. Here:
//!
//! - a field is quoted only when its first non-blank character is `"`; a
//!   quote anywhere else is an ordinary character, so a stray quote in the
//!   middle of a field never spans lines;
//! - inside quotes `""` is a quote and line breaks belong to the field (the
//!   record then spans lines and is reported at the line it starts on; every
//!   column is an identifier, date or amount, so such a field is later
//!   rejected as `control_character`);
//! - a quote that closes on the line it opened and is followed by other text
//!   keeps that text in the field (`"A"B` reads `AB`), as spreadsheets do;
//! - a quoted field that crosses a line break and is then "closed" by a quote
//!   followed by anything but a separator or line end was a stray quote: the
//!   record is rejected as `unclosed_quote` at the line where the quote
//!   opened and reading goes on at the next line;
//! - a quote still open at the end of the file is rejected as
//!   `unclosed_quote` at the line where it opened, and the detail says how
//!   many lines after it could not be read.
//!
//! Line breaks are `\n`, `\r\n` or `\r`; line numbers count every line,
//! blank ones included, from 1.

use super::table::{self, Layout};
use super::{text, ImportError, Location, ParsedRow, RowRejection, UNCLOSED_QUOTE};

/// Parses a CSV upload of at most `limit` rows.
pub(super) fn parse_csv(body: &[u8], limit: usize) -> Result<Vec<ParsedRow>, ImportError> {
    let text = text::decode(body)?;
    let separator = sniff_separator(&text);
    let mut records = Records::new(&text, separator);

    let layout = loop {
        let Some(record) = records.next() else {
            return Err(ImportError::BadHeader {
                detail: "the upload is empty: the first line must be the header".to_owned(),
            });
        };
        if let Some(fault) = &record.fault {
            return Err(ImportError::BadHeader {
                detail: format!("the header's quote opened on line {} is not closed", fault.opened_line),
            });
        }
        if !table::is_blank(&record.fields) {
            break Layout::from_header(&record.fields)?;
        }
    };

    let mut rows = Vec::new();
    for record in records {
        let row = match &record.fault {
            Some(fault) => quote_rejection(&layout, &record, fault),
            None if table::is_blank(&record.fields) => continue,
            None => table::parse_row(&layout, record.line, &record.fields),
        };
        if rows.len() == limit {
            return Err(ImportError::TooManyRows { limit });
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The separator of the first non-blank line: whichever of comma, semicolon
/// and tab it holds most often outside quotes (comma on a tie or none).
fn sniff_separator(text: &str) -> u8 {
    let header = text
        .split(['\n', '\r'])
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for byte in header.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (separator, count) in &mut counts {
                if byte == *separator {
                    *count += 1;
                }
            }
        }
    }
    let mut best = counts[0];
    for candidate in &counts[1..] {
        if candidate.1 > best.1 {
            best = *candidate;
        }
    }
    best.0
}

/// A quoting fault of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct QuoteFault {
    /// The line where the quote opened.
    opened_line: usize,
    /// The position of the field it opened (0-based).
    position: usize,
    /// The start of the quoted text, up to the end of its line.
    opening: String,
    kind: FaultKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FaultKind {
    /// Open at the end of the file; this many lines after the opening one
    /// could not be read.
    Unclosed { lines_lost: usize },
    /// "Closed" on `closed_line` by a quote followed by `after`.
    Stray { closed_line: usize, after: char },
}

#[derive(Debug)]
struct Record {
    /// The line the record starts on.
    line: usize,
    /// The fields read (for a faulty record, those before the fault).
    fields: Vec<String>,
    fault: Option<QuoteFault>,
}

/// The records of a CSV text.
struct Records<'a> {
    text: &'a str,
    separator: u8,
    position: usize,
    line: usize,
}

impl<'a> Records<'a> {
    fn new(text: &'a str, separator: u8) -> Self {
        Records {
            text,
            separator,
            position: 0,
            line: 1,
        }
    }

    fn byte(&self, position: usize) -> Option<u8> {
        self.text.as_bytes().get(position).copied()
    }

    /// Consumes a line break at the position, if there is one.
    fn line_break_at(&self, position: usize) -> Option<usize> {
        match self.byte(position)? {
            b'\r' if self.byte(position + 1) == Some(b'\n') => Some(2),
            b'\r' | b'\n' => Some(1),
            _ => None,
        }
    }

    fn is_blank(&self, byte: u8) -> bool {
        (byte == b' ' || byte == b'\t') && byte != self.separator
    }

    /// Reads a quoted field whose opening quote is at `self.position`.
    /// Returns the field, or the fault.
    fn quoted(&mut self, position_in_record: usize) -> Result<String, QuoteFault> {
        let opened_line = self.line;
        let opening_start = self.position;
        let opening_end = self.text[opening_start..]
            .find(['\n', '\r'])
            .map_or(self.text.len(), |end| opening_start + end);
        let opening: String = self.text[opening_start..opening_end].chars().take(60).collect();
        // Where reading goes on if the quote turns out to be stray: after
        // the first line break inside the quotes.
        let mut resume_at = None;
        let mut field = String::new();
        let mut position = self.position + 1;
        loop {
            let Some(byte) = self.byte(position) else {
                let lines_lost = resume_at.map_or(0, |resume: usize| self.text[resume..].lines().count());
                self.position = self.text.len();
                return Err(QuoteFault {
                    opened_line,
                    position: position_in_record,
                    opening,
                    kind: FaultKind::Unclosed { lines_lost },
                });
            };
            if let Some(length) = self.line_break_at(position) {
                field.push_str(&self.text[position..position + length]);
                position += length;
                self.line += 1;
                resume_at.get_or_insert(position);
                continue;
            }
            if byte != b'"' {
                // Copy up to the next quote or line break in one go.
                let end = self.text[position..]
                    .find(['"', '\n', '\r'])
                    .map_or(self.text.len(), |end| position + end);
                field.push_str(&self.text[position..end]);
                position = end;
                continue;
            }
            if self.byte(position + 1) == Some(b'"') {
                field.push('"');
                position += 2;
                continue;
            }
            // A closing quote: what follows must end the field, unless the
            // field stayed on its line.
            position += 1;
            let mut after = position;
            while self.byte(after).is_some_and(|byte| self.is_blank(byte)) {
                after += 1;
            }
            let ends = match self.byte(after) {
                None => true,
                Some(byte) => byte == self.separator || self.line_break_at(after).is_some(),
            };
            if ends {
                self.position = after;
                return Ok(field);
            }
            if let Some(resume) = resume_at {
                let after_char = self.text[after..].chars().next().unwrap_or(' ');
                let closed_line = self.line;
                self.position = resume;
                self.line = opened_line + 1;
                return Err(QuoteFault {
                    opened_line,
                    position: position_in_record,
                    opening,
                    kind: FaultKind::Stray {
                        closed_line,
                        after: after_char,
                    },
                });
            }
            // `"A"B`: the rest of the field is read as unquoted text.
            let end = self.unquoted_end(position);
            field.push_str(&self.text[position..end]);
            self.position = end;
            return Ok(field);
        }
    }

    /// The end of unquoted text starting at `position`: the next separator,
    /// line break or the end.
    fn unquoted_end(&self, position: usize) -> usize {
        let separator = char::from(self.separator);
        self.text[position..]
            .find([separator, '\n', '\r'])
            .map_or(self.text.len(), |end| position + end)
    }
}

impl Iterator for Records<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if self.position >= self.text.len() {
            return None;
        }
        let line = self.line;
        let mut fields = Vec::new();
        loop {
            let mut start = self.position;
            while self.byte(start).is_some_and(|byte| self.is_blank(byte)) {
                start += 1;
            }
            let field = if self.byte(start) == Some(b'"') {
                self.position = start;
                match self.quoted(fields.len()) {
                    Ok(field) => field,
                    Err(fault) => {
                        return Some(Record {
                            line,
                            fields,
                            fault: Some(fault),
                        })
                    }
                }
            } else {
                let end = self.unquoted_end(self.position);
                let field = self.text[self.position..end].to_owned();
                self.position = end;
                field
            };
            fields.push(field);
            match self.byte(self.position) {
                Some(byte) if byte == self.separator => self.position += 1,
                Some(_) => {
                    if let Some(length) = self.line_break_at(self.position) {
                        self.position += length;
                        self.line += 1;
                    }
                    return Some(Record {
                        line,
                        fields,
                        fault: None,
                    });
                }
                None => {
                    return Some(Record {
                        line,
                        fields,
                        fault: None,
                    })
                }
            }
        }
    }
}

fn quote_rejection(layout: &Layout, record: &Record, fault: &QuoteFault) -> ParsedRow {
    let column = layout.column(fault.position).map_or_else(
        || format!("field {}", fault.position + 1),
        |column| column.name().to_owned(),
    );
    let detail = match fault.kind {
        FaultKind::Unclosed { lines_lost } => format!(
            "the quote opened in {column} on line {} is never closed; the {lines_lost} line(s) after it could not be \
             read",
            fault.opened_line
        ),
        FaultKind::Stray { closed_line, after } => format!(
            "the quote opened in {column} on line {} is closed on line {closed_line} by a quote followed by {:?} \
             instead of a separator; reading goes on at line {}",
            fault.opened_line,
            after,
            fault.opened_line + 1
        ),
    };
    let number_column = match layout.sheet {
        table::Sheet::Invoices => table::Column::InvoiceNumber,
        table::Sheet::PurchaseOrders => table::Column::PoNumber,
    };
    let invoice_number = (0..record.fields.len())
        .find(|position| layout.column(*position) == Some(number_column))
        .map(|position| record.fields[position].trim())
        .filter(|number| !number.is_empty())
        .map(str::to_owned);
    let mut rejection = RowRejection::new(UNCLOSED_QUOTE, detail).value(&fault.opening);
    rejection.field = layout.column(fault.position).map(|column| column.name().to_owned());
    ParsedRow {
        location: Location::Line(fault.opened_line),
        invoice_number,
        outcome: Err(rejection),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DocumentKind, ImportRow, CONTROL_CHARACTER, INVALID_DATE, MALFORMED_ROW, MISSING_FIELD};
    use super::*;
    use crate::domain::PartyReference;

    const HEADER: &str = "invoice_number,buyer_legal_id,issue_date,due_date,currency,amount,po_number";

    fn row(
        invoice: &str,
        buyer: &str,
        issue: &str,
        due: &str,
        currency: &str,
        amount: &str,
        po: Option<&str>,
    ) -> ImportRow {
        ImportRow {
            kind: DocumentKind::Invoice,
            invoice_number: invoice.to_owned(),
            buyer: vec![PartyReference::new(None, buyer, "buyer_legal_id")],
            seller: vec![],
            issue_date: issue.to_owned(),
            due_date: Some(due.to_owned()).filter(|due| !due.is_empty()),
            currency: currency.to_owned(),
            amount: amount.to_owned(),
            order_reference: po.map(str::to_owned),
            billing_reference: None,
        }
    }

    fn parse(text: &str) -> Result<Vec<ParsedRow>, ImportError> {
        parse_csv(text.as_bytes(), super::super::MAX_ROWS)
    }

    fn lines(rows: &[ParsedRow]) -> Vec<usize> {
        rows.iter().map(|row| row.location.number()).collect()
    }

    fn rejection(parsed: &ParsedRow) -> &RowRejection {
        match &parsed.outcome {
            Err(rejection) => rejection,
            Ok(row) => panic!("row at {:?} unexpectedly parsed: {row:?}", parsed.location),
        }
    }

    fn bad_header(text: &str) -> String {
        match parse(text) {
            Err(ImportError::BadHeader { detail }) => detail,
            other => panic!("expected BadHeader, got {other:?}"),
        }
    }

    #[test]
    fn happy_file_with_bom_crlf_and_quoted_fields() {
        let text = format!(
            "\u{feff}{HEADER}\r\n\
             INV-2024-001,FR-SIREN-552100554,2024-03-01,2024-04-30,EUR,1250.00,PO-77\r\n\
             \"INV,2024-002\",FR-SIREN-552100554, 2024-03-02 ,2024-05-01,EUR,\" 1,500.50 \",\r\n\
             INV-2024-003,DE-HRB-12345,2024-03-03,2024-05-02,USD,99.99,\"PO \"\"East\"\"\"\r\n"
        );
        let rows = parse(&text).unwrap();
        assert_eq!(lines(&rows), vec![2, 3, 4]);
        assert_eq!(
            rows[0].outcome,
            Ok(row(
                "INV-2024-001",
                "FR-SIREN-552100554",
                "2024-03-01",
                "2024-04-30",
                "EUR",
                "1250.00",
                Some("PO-77")
            ))
        );
        assert_eq!(rows[1].invoice_number.as_deref(), Some("INV,2024-002"));
        assert_eq!(
            rows[1].outcome,
            Ok(row(
                "INV,2024-002",
                "FR-SIREN-552100554",
                "2024-03-02",
                "2024-05-01",
                "EUR",
                "1,500.50",
                None
            ))
        );
        assert_eq!(
            rows[2].outcome,
            Ok(row(
                "INV-2024-003",
                "DE-HRB-12345",
                "2024-03-03",
                "2024-05-02",
                "USD",
                "99.99",
                Some("PO \"East\"")
            ))
        );
    }

    #[test]
    fn semicolon_and_tab_separators_are_sniffed() {
        let semicolon = "invoice_number;buyer_legal_id;issue_date;currency;amount\nA;B;2024-01-01;EUR;1,50\n";
        let rows = parse(semicolon).unwrap();
        assert_eq!(rows[0].outcome.as_ref().map(|row| row.amount.as_str()), Ok("1,50"));
        let tab = "invoice_number\tbuyer_legal_id\tissue_date\tcurrency\tamount\nA\tB\t2024-01-01\tEUR\t1.50\n";
        let rows = parse(tab).unwrap();
        assert_eq!(rows[0].outcome.as_ref().map(|row| row.amount.as_str()), Ok("1.50"));
        // A comma inside a quoted header cell does not count.
        assert_eq!(sniff_separator("\"a,b,c\";d;e\n"), b';');
    }

    #[test]
    fn gbk_chinese_upload_with_chinese_headers() {
        let text = "发票号码,购买方税号,开票日期,付款到期日,币种,价税合计,采购订单号\r\n\
                    No.00123,91110000100000000X,2024年3月1日,2024/4/30,人民币,\"11,300.00\",PO-1\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let rows = parse_csv(&gbk, 10).unwrap();
        assert_eq!(
            rows,
            vec![ParsedRow {
                location: Location::Line(2),
                invoice_number: Some("No.00123".to_owned()),
                outcome: Ok(row(
                    "No.00123",
                    "91110000100000000X",
                    "2024-03-01",
                    "2024-04-30",
                    "CNY",
                    "11,300.00",
                    Some("PO-1")
                )),
            }]
        );
    }

    #[test]
    fn utf16_upload_reads_the_same() {
        let text = format!("{HEADER}\nA,B,2024-01-01,2024-02-01,EUR,1,\n");
        let mut bytes = vec![0xff, 0xfe];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(parse_csv(&bytes, 10).unwrap(), parse(&text).unwrap());
    }

    #[test]
    fn purchase_order_upload() {
        let text = "po_number,buyer_legal_id,issue_date,currency,amount\nPO-9,B-1,2024-05-01,EUR,900\n";
        let rows = parse(text).unwrap();
        let order = rows[0].outcome.as_ref().unwrap();
        assert_eq!(order.kind, DocumentKind::Order);
        assert_eq!(order.invoice_number, "PO-9");
        assert_eq!(order.order_reference, None);
        assert_eq!(rows[0].invoice_number.as_deref(), Some("PO-9"));
    }

    #[test]
    fn document_type_and_billing_reference_columns() {
        let text = "invoice_number,buyer_legal_id,issue_date,currency,amount,document_type,原发票号码\n\
                    CN-1,B,2024-01-01,EUR,-10,381,INV-1\n\
                    CI-1,B,2024-01-01,EUR,10,corrected_invoice,INV-2\n\
                    X-1,B,2024-01-01,EUR,10,386,\n";
        let rows = parse(text).unwrap();
        let credit = rows[0].outcome.as_ref().unwrap();
        assert_eq!(
            (credit.kind, credit.billing_reference.as_deref()),
            (DocumentKind::CreditNote, Some("INV-1"))
        );
        assert_eq!(rows[1].outcome.as_ref().unwrap().kind, DocumentKind::CorrectedInvoice);
        assert_eq!(rejection(&rows[2]).code, "unsupported_document");
        assert_eq!(rows[2].invoice_number.as_deref(), Some("X-1"));
    }

    #[test]
    fn header_problems_refuse_the_upload() {
        assert!(bad_header("").contains("empty"));
        assert!(bad_header("\n\n  \n").contains("empty"));
        let detail = bad_header(&format!("{HEADER},notes\n"));
        assert!(detail.contains("unknown column(s): \"notes\""), "{detail}");
        assert!(detail.contains("accepted") || detail.contains("needs"), "{detail}");
        assert!(bad_header("\"invoice_number,buyer\nx\n").contains("not closed"));
    }

    #[test]
    fn header_only_upload_has_no_rows() {
        assert_eq!(parse(&format!("{HEADER}\n")).unwrap(), vec![]);
    }

    #[test]
    fn bad_rows_are_rejected_with_field_and_value_and_the_rest_goes_on() {
        let text = format!(
            "{HEADER}\n\
             INV-1,BUYER-1,2024-01-01,2024-02-01,EUR,100.00,\n\
             INV-2,BUYER-1,2024-01-01,EUR,100.00\n\
             INV-3,BUYER-1,  ,2024-02-01,EUR,100.00,PO-3\n\
             INV-4,,2024-01-01,2024-02-01,EUR,,PO-4\n\
             INV-5,BUYER-1,2024-01-01,2024-02-01,EUR,100.00,,extra\n\
             INV-6,BUYER-2,01.01.2024,2024-02-06,EUR,600.00,PO-6\n\
             INV-7,BUYER-2,2024-01-06,,EUR,600.00,PO-7,,\n"
        );
        let rows = parse(&text).unwrap();
        assert_eq!(lines(&rows), vec![2, 3, 4, 5, 6, 7, 8]);
        assert!(rows[0].outcome.is_ok());
        let malformed = rejection(&rows[1]);
        assert_eq!(
            (malformed.code, malformed.detail.as_str()),
            (MALFORMED_ROW, "expected 7 fields, got 5")
        );
        assert_eq!(rows[1].invoice_number.as_deref(), Some("INV-2"));
        let missing = rejection(&rows[2]);
        assert_eq!(
            (missing.code, missing.field.as_deref()),
            (MISSING_FIELD, Some("issue_date"))
        );
        let missing = rejection(&rows[3]);
        assert_eq!(missing.field.as_deref(), Some("buyer_legal_id"));
        assert_eq!(missing.detail, "empty required field(s): buyer_legal_id, amount");
        assert_eq!(rejection(&rows[4]).detail, "expected 7 fields, got 8");
        let date = rejection(&rows[5]);
        assert_eq!(
            (date.code, date.field.as_deref(), date.value.as_deref()),
            (INVALID_DATE, Some("issue_date"), Some("01.01.2024"))
        );
        // Trailing empty fields are harmless; an empty due date is none.
        assert_eq!(rows[6].outcome.as_ref().map(|row| row.due_date.clone()), Ok(None));
    }

    #[test]
    fn line_numbers_count_blank_lines_and_multi_line_records_start_where_they_start() {
        let text = format!(
            "\n{HEADER}\n\n\
             INV-1,B,2024-01-01,2024-02-01,EUR,1,\n\
             \n   \n,,,,,,\r\n \t, , ,,,,\n\
             \"INV\n2\",B,2024-01-01,2024-02-01,EUR,2,\n\
             INV-3,B,2024-01-01,2024-02-01,EUR,3,\n\n"
        );
        let rows = parse(&text).unwrap();
        assert_eq!(lines(&rows), vec![4, 9, 11]);
        let control = rejection(&rows[1]);
        assert_eq!(
            (control.code, control.field.as_deref(), control.value.as_deref()),
            (CONTROL_CHARACTER, Some("invoice_number"), Some("INV\\n2"))
        );
        assert_eq!(rows[2].invoice_number.as_deref(), Some("INV-3"));
    }

    #[test]
    fn quoted_tab_in_an_identifier_is_a_control_character() {
        let text = format!("{HEADER}\nINV-1,\"B\tX\",2024-01-01,2024-02-01,EUR,1,\n");
        let rows = parse(&text).unwrap();
        let control = rejection(&rows[0]);
        assert_eq!(
            (control.code, control.value.as_deref()),
            (CONTROL_CHARACTER, Some("B\\tX"))
        );
    }

    #[test]
    fn stray_quote_in_the_middle_of_a_field_is_an_ordinary_character() {
        let text = format!(
            "{HEADER}\n\
             INV-1,Buyer \"Big,2024-01-01,2024-02-01,EUR,1,\n\
             INV-2,B,2024-01-01,2024-02-01,EUR,2,\"PO\n"
        );
        let rows = parse(&text).unwrap();
        assert_eq!(lines(&rows), vec![2, 3]);
        assert_eq!(rows[0].outcome.as_ref().unwrap().buyer[0].value, "Buyer \"Big");
        // The last row's quote opens a field and is never closed.
        let unclosed = rejection(&rows[1]);
        assert_eq!(
            (unclosed.code, unclosed.field.as_deref()),
            (UNCLOSED_QUOTE, Some("po_number"))
        );
        assert!(
            unclosed.detail.contains("the 0 line(s) after it"),
            "{}",
            unclosed.detail
        );
    }

    #[test]
    fn unclosed_quote_is_reported_where_it_opened_and_says_what_was_lost() {
        let text = format!(
            "{HEADER}\n\
             INV-1,B,2024-01-01,2024-02-01,EUR,1,\n\
             INV-2,\"B,2024-01-01,2024-02-01,EUR,2,\n\
             INV-3,B,2024-01-01,2024-02-01,EUR,3,\n\
             INV-4,B,2024-01-01,2024-02-01,EUR,4,\n"
        );
        let rows = parse(&text).unwrap();
        assert_eq!(lines(&rows), vec![2, 3]);
        assert_eq!(rows[1].invoice_number.as_deref(), Some("INV-2"));
        let unclosed = rejection(&rows[1]);
        assert_eq!(unclosed.code, UNCLOSED_QUOTE);
        assert_eq!(unclosed.field.as_deref(), Some("buyer_legal_id"));
        assert_eq!(unclosed.value.as_deref(), Some("\"B,2024-01-01,2024-02-01,EUR,2,"));
        assert!(
            unclosed
                .detail
                .contains("line 3 is never closed; the 2 line(s) after it could not be read"),
            "{}",
            unclosed.detail
        );
    }

    #[test]
    fn quote_closed_lines_later_by_a_stray_quote_does_not_merge_the_lines() {
        let text = format!(
            "{HEADER}\n\
             INV-1,\"B,2024-01-01,2024-02-01,EUR,1,\n\
             INV-2,B,2024-01-01,2024-02-01,EUR,2,\"PO-2\"\n\
             INV-3,B,2024-01-01,2024-02-01,EUR,3,\n"
        );
        let rows = parse(&text).unwrap();
        assert_eq!(lines(&rows), vec![2, 3, 4]);
        let stray = rejection(&rows[0]);
        assert_eq!(stray.code, UNCLOSED_QUOTE);
        assert!(stray.detail.contains("closed on line 3"), "{}", stray.detail);
        assert!(stray.detail.contains("reading goes on at line 3"), "{}", stray.detail);
        assert_eq!(
            rows[1].outcome.as_ref().unwrap().order_reference.as_deref(),
            Some("PO-2")
        );
        assert!(rows[2].outcome.is_ok());
    }

    #[test]
    fn quote_then_text_on_one_line_keeps_the_text() {
        let text = format!("{HEADER}\n\"INV\"-1,B,2024-01-01,2024-02-01,EUR,1,\n");
        assert_eq!(parse(&text).unwrap()[0].invoice_number.as_deref(), Some("INV-1"));
    }

    fn upload_of(rows: usize) -> String {
        let mut text = format!("{HEADER}\n");
        for n in 1..=rows {
            text.push_str(&format!("INV-{n},BUYER,2024-01-01,2024-02-01,EUR,{n}.00,\n"));
        }
        text
    }

    #[test]
    fn the_row_limit_holds() {
        let rows = parse_csv(upload_of(50).as_bytes(), 50).unwrap();
        assert_eq!(rows.len(), 50);
        assert_eq!(rows[49].location, Location::Line(51));
        match parse_csv(upload_of(51).as_bytes(), 50) {
            Err(ImportError::TooManyRows { limit }) => assert_eq!(limit, 50),
            other => panic!("expected TooManyRows, got {other:?}"),
        }
    }

    #[test]
    fn bytes_in_no_known_encoding_fail_the_upload() {
        let mut bytes = format!("{HEADER}\n").into_bytes();
        bytes.extend_from_slice(b"\xff\xff,B\n");
        assert!(matches!(parse_csv(&bytes, 10), Err(ImportError::Unreadable { .. })));
    }
}
