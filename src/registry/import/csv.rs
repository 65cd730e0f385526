//! CSV uploads: a header naming exactly the seven [`Column`]s, in any order,
//! then one invoice per record.

use std::io::Read;

use ::csv::{ByteRecord, ErrorKind, ReaderBuilder};

use super::{ImportError, ImportRow, ParsedRow, RowRejection, MALFORMED_ROW, MAX_ROWS, MISSING_FIELD};

/// The columns of an upload, in their documented order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    InvoiceNumber,
    BuyerLegalId,
    IssueDate,
    DueDate,
    Currency,
    Amount,
    PoNumber,
}

impl Column {
    const ALL: [Column; 7] = [
        Column::InvoiceNumber,
        Column::BuyerLegalId,
        Column::IssueDate,
        Column::DueDate,
        Column::Currency,
        Column::Amount,
        Column::PoNumber,
    ];

    fn name(self) -> &'static str {
        match self {
            Column::InvoiceNumber => "invoice_number",
            Column::BuyerLegalId => "buyer_legal_id",
            Column::IssueDate => "issue_date",
            Column::DueDate => "due_date",
            Column::Currency => "currency",
            Column::Amount => "amount",
            Column::PoNumber => "po_number",
        }
    }

    fn from_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|column| column.name() == name)
    }

    fn required(self) -> bool {
        self != Column::PoNumber
    }
}

/// Parses a CSV upload. The header must name exactly the columns
/// `invoice_number,buyer_legal_id,issue_date,due_date,currency,amount,po_number`
/// (any order; a UTF-8 BOM and whitespace around names are allowed). Records
/// are streamed; blank lines (including lines of only separators) are skipped
/// and not numbered.
pub fn parse_csv<R: Read>(reader: R) -> Result<Vec<ParsedRow>, ImportError> {
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut record = ByteRecord::new();

    let layout = loop {
        if !read_record(&mut reader, &mut record)? {
            return Err(ImportError::BadHeader {
                detail: format!("the upload is empty; expected the header `{}`", documented_header()),
            });
        }
        if !is_blank(&record) {
            break header_layout(&record)?;
        }
    };

    let mut rows = Vec::new();
    while read_record(&mut reader, &mut record)? {
        if is_blank(&record) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(ImportError::TooManyRows { limit: MAX_ROWS });
        }
        rows.push(ParsedRow {
            row: rows.len() + 1,
            outcome: parse_record(&record, &layout),
        });
    }
    Ok(rows)
}

fn read_record<R: Read>(reader: &mut ::csv::Reader<R>, record: &mut ByteRecord) -> Result<bool, ImportError> {
    reader.read_byte_record(record).map_err(|error| {
        let detail = error.to_string();
        match error.into_kind() {
            ErrorKind::Io(error) => ImportError::Read(error),
            _ => ImportError::Malformed { detail },
        }
    })
}

fn documented_header() -> String {
    Column::ALL.map(Column::name).join(",")
}

/// A record whose every field is empty or whitespace, such as a line of only
/// commas that spreadsheets export for an empty row.
fn is_blank(record: &ByteRecord) -> bool {
    record
        .iter()
        .all(|field| std::str::from_utf8(field).is_ok_and(|text| text.trim().is_empty()))
}

/// For each position in a record, the column found there in the header.
fn header_layout(header: &ByteRecord) -> Result<Vec<Column>, ImportError> {
    let mut layout = Vec::with_capacity(header.len());
    let mut unknown = Vec::new();
    let mut duplicate = Vec::new();
    for (position, cell) in header.iter().enumerate() {
        let Ok(name) = std::str::from_utf8(cell) else {
            return Err(ImportError::BadHeader {
                detail: format!("header cell {} is not valid UTF-8", position + 1),
            });
        };
        let name = name.trim_start_matches('\u{feff}').trim();
        match Column::from_name(name) {
            Some(column) if layout.contains(&column) => duplicate.push(name),
            Some(column) => layout.push(column),
            None => unknown.push(format!("{name:?}")),
        }
    }
    let missing: Vec<&str> = Column::ALL
        .into_iter()
        .filter(|column| !layout.contains(column))
        .map(Column::name)
        .collect();
    if missing.is_empty() && unknown.is_empty() && duplicate.is_empty() {
        return Ok(layout);
    }
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing column(s): {}", missing.join(", ")));
    }
    if !unknown.is_empty() {
        problems.push(format!("unknown column(s): {}", unknown.join(", ")));
    }
    if !duplicate.is_empty() {
        problems.push(format!("duplicate column(s): {}", duplicate.join(", ")));
    }
    Err(ImportError::BadHeader {
        detail: format!(
            "{}; expected `{}` (any order)",
            problems.join("; "),
            documented_header()
        ),
    })
}

fn parse_record(record: &ByteRecord, layout: &[Column]) -> Result<ImportRow, RowRejection> {
    if record.len() != layout.len() {
        return Err(RowRejection::new(
            MALFORMED_ROW,
            format!("expected {} fields, got {}", layout.len(), record.len()),
        ));
    }
    let mut values: [String; 7] = Default::default();
    for (field, &column) in record.iter().zip(layout) {
        let Ok(text) = std::str::from_utf8(field) else {
            return Err(RowRejection::new(
                MALFORMED_ROW,
                format!("field {} is not valid UTF-8", column.name()),
            ));
        };
        values[column as usize] = text.trim().to_owned();
    }
    let missing: Vec<&str> = Column::ALL
        .into_iter()
        .filter(|&column| column.required() && values[column as usize].is_empty())
        .map(Column::name)
        .collect();
    if !missing.is_empty() {
        return Err(RowRejection::new(
            MISSING_FIELD,
            format!("empty required field(s): {}", missing.join(", ")),
        ));
    }
    let [invoice_number, buyer_legal_id, issue_date, due_date, currency, amount, po_number] = values;
    Ok(ImportRow {
        invoice_number,
        buyer_legal_id,
        issue_date,
        due_date,
        currency,
        amount,
        po_number: Some(po_number).filter(|po| !po.is_empty()),
        seller_legal_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::FailAfter;
    use super::*;

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
            invoice_number: invoice.to_owned(),
            buyer_legal_id: buyer.to_owned(),
            issue_date: issue.to_owned(),
            due_date: due.to_owned(),
            currency: currency.to_owned(),
            amount: amount.to_owned(),
            po_number: po.map(str::to_owned),
            seller_legal_id: None,
        }
    }

    fn parse(text: &str) -> Result<Vec<ParsedRow>, ImportError> {
        parse_csv(text.as_bytes())
    }

    fn rejection(parsed: &ParsedRow) -> &RowRejection {
        match &parsed.outcome {
            Err(rejection) => rejection,
            Ok(row) => panic!("row {} unexpectedly parsed: {row:?}", parsed.row),
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
        assert_eq!(
            rows,
            vec![
                ParsedRow {
                    row: 1,
                    outcome: Ok(row(
                        "INV-2024-001",
                        "FR-SIREN-552100554",
                        "2024-03-01",
                        "2024-04-30",
                        "EUR",
                        "1250.00",
                        Some("PO-77")
                    )),
                },
                ParsedRow {
                    row: 2,
                    outcome: Ok(row(
                        "INV,2024-002",
                        "FR-SIREN-552100554",
                        "2024-03-02",
                        "2024-05-01",
                        "EUR",
                        "1,500.50",
                        None
                    )),
                },
                ParsedRow {
                    row: 3,
                    outcome: Ok(row(
                        "INV-2024-003",
                        "DE-HRB-12345",
                        "2024-03-03",
                        "2024-05-02",
                        "USD",
                        "99.99",
                        Some("PO \"East\"")
                    )),
                },
            ]
        );
    }

    #[test]
    fn bom_is_stripped_even_when_the_reader_yields_one_byte_at_a_time() {
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                match (self.0.split_first(), buf.first_mut()) {
                    (Some((&byte, rest)), Some(slot)) => {
                        *slot = byte;
                        self.0 = rest;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        let text = format!("\u{feff}{HEADER}\nA,B,2024-01-01,2024-02-01,EUR,1,\n");
        let rows = parse_csv(OneByte(text.as_bytes())).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].outcome,
            Ok(row("A", "B", "2024-01-01", "2024-02-01", "EUR", "1", None))
        );
    }

    #[test]
    fn reordered_header_with_spaces_maps_columns_by_name() {
        let text = " amount , po_number,currency,due_date,issue_date,buyer_legal_id,invoice_number\n\
                    10.00,PO-1,GBP,2024-06-30,2024-06-01,GB-CRN-01234567,INV-9\n";
        let rows = parse(text).unwrap();
        assert_eq!(
            rows,
            vec![ParsedRow {
                row: 1,
                outcome: Ok(row(
                    "INV-9",
                    "GB-CRN-01234567",
                    "2024-06-01",
                    "2024-06-30",
                    "GBP",
                    "10.00",
                    Some("PO-1")
                )),
            }]
        );
    }

    #[test]
    fn header_missing_a_column_is_rejected() {
        let detail = bad_header("invoice_number,buyer_legal_id,issue_date,due_date,currency,amount\n");
        assert!(detail.contains("missing column(s): po_number"), "{detail}");
        assert!(!detail.contains("unknown"), "{detail}");
    }

    #[test]
    fn header_with_unknown_column_names_missing_and_unknown() {
        let detail = bad_header("invoice_number,buyer_legal_id,issue_date,due_date,currency,amount_eur,po_number\n");
        assert!(detail.contains("missing column(s): amount"), "{detail}");
        assert!(detail.contains("unknown column(s): \"amount_eur\""), "{detail}");
    }

    #[test]
    fn header_with_extra_or_duplicate_column_is_rejected() {
        let detail = bad_header(&format!("{HEADER},notes\n"));
        assert!(detail.contains("unknown column(s): \"notes\""), "{detail}");
        let detail = bad_header(&format!("{HEADER},currency\n"));
        assert!(detail.contains("duplicate column(s): currency"), "{detail}");
        let detail = bad_header("Invoice_Number,buyer_legal_id,issue_date,due_date,currency,amount,po_number\n");
        assert!(detail.contains("missing column(s): invoice_number"), "{detail}");
    }

    #[test]
    fn empty_upload_is_a_bad_header() {
        assert!(bad_header("").contains("empty"));
        assert!(bad_header("\n\n  \n").contains("empty"));
    }

    #[test]
    fn header_only_upload_has_no_rows() {
        assert_eq!(parse(&format!("{HEADER}\n")).unwrap(), vec![]);
    }

    #[test]
    fn bad_rows_are_rejected_and_the_rest_goes_on() {
        let text = format!(
            "{HEADER}\n\
             INV-1,BUYER-1,2024-01-01,2024-02-01,EUR,100.00,\n\
             INV-2,BUYER-1,2024-01-01,EUR,100.00\n\
             INV-3,BUYER-1,2024-01-01,  ,EUR,100.00,PO-3\n\
             INV-4,,2024-01-01,2024-02-01,EUR,,PO-4\n\
             INV-5,BUYER-1,2024-01-01,2024-02-01,EUR,100.00,,extra\n\
             INV-6,BUYER-2,2024-01-06,2024-02-06,EUR,600.00,PO-6\n"
        );
        let rows = parse(&text).unwrap();
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(
            rows[0].outcome,
            Ok(row(
                "INV-1",
                "BUYER-1",
                "2024-01-01",
                "2024-02-01",
                "EUR",
                "100.00",
                None
            ))
        );
        assert_eq!(
            rejection(&rows[1]),
            &RowRejection::new(MALFORMED_ROW, "expected 7 fields, got 5")
        );
        assert_eq!(
            rejection(&rows[2]),
            &RowRejection::new(MISSING_FIELD, "empty required field(s): due_date")
        );
        assert_eq!(
            rejection(&rows[3]),
            &RowRejection::new(MISSING_FIELD, "empty required field(s): buyer_legal_id, amount")
        );
        assert_eq!(
            rejection(&rows[4]),
            &RowRejection::new(MALFORMED_ROW, "expected 7 fields, got 8")
        );
        assert_eq!(
            rows[5].outcome,
            Ok(row(
                "INV-6",
                "BUYER-2",
                "2024-01-06",
                "2024-02-06",
                "EUR",
                "600.00",
                Some("PO-6")
            ))
        );
    }

    #[test]
    fn field_that_is_not_utf8_rejects_only_its_row() {
        let mut bytes = format!("{HEADER}\nINV-1,BUYER-").into_bytes();
        bytes.push(0xff);
        bytes.extend_from_slice(b",2024-01-01,2024-02-01,EUR,1,\nINV-2,B,2024-01-01,2024-02-01,EUR,2,\n");
        let rows = parse_csv(bytes.as_slice()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rejection(&rows[0]),
            &RowRejection::new(MALFORMED_ROW, "field buyer_legal_id is not valid UTF-8")
        );
        assert_eq!(rows[1].row, 2);
        assert!(rows[1].outcome.is_ok());
    }

    #[test]
    fn blank_lines_are_skipped_and_not_numbered() {
        let text = format!(
            "\n{HEADER}\n\n\
             INV-1,B,2024-01-01,2024-02-01,EUR,1,\n\
             \n   \n,,,,,,\r\n \t, , ,,,,\n\
             INV-2,B,2024-01-01,2024-02-01,EUR,2,\n\n"
        );
        let rows = parse(&text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, 1);
        assert_eq!(rows[1].row, 2);
        assert_eq!(rows[1].outcome.as_ref().map(|r| r.invoice_number.as_str()), Ok("INV-2"));
    }

    #[test]
    fn quoted_field_may_span_lines() {
        let text =
            format!("{HEADER}\n\"INV\n1\",B,2024-01-01,2024-02-01,EUR,1,\nINV-2,B,2024-01-01,2024-02-01,EUR,2,\n");
        let rows = parse(&text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].outcome.as_ref().map(|r| r.invoice_number.as_str()),
            Ok("INV\n1")
        );
        assert_eq!(rows[1].row, 2);
    }

    fn upload_of(rows: usize) -> String {
        let mut text = format!("{HEADER}\n");
        for n in 1..=rows {
            text.push_str(&format!("INV-{n},BUYER,2024-01-01,2024-02-01,EUR,{n}.00,\n"));
        }
        text
    }

    #[test]
    fn exactly_max_rows_is_accepted() {
        let rows = parse(&upload_of(MAX_ROWS)).unwrap();
        assert_eq!(rows.len(), MAX_ROWS);
        assert_eq!(rows[MAX_ROWS - 1].row, MAX_ROWS);
        assert_eq!(
            rows[MAX_ROWS - 1].outcome.as_ref().map(|r| r.invoice_number.clone()),
            Ok(format!("INV-{MAX_ROWS}"))
        );
    }

    #[test]
    fn more_than_max_rows_is_refused() {
        match parse(&upload_of(MAX_ROWS + 1)) {
            Err(ImportError::TooManyRows { limit }) => assert_eq!(limit, MAX_ROWS),
            other => panic!("expected TooManyRows, got {other:?}"),
        }
    }

    #[test]
    fn reading_stops_as_soon_as_the_limit_is_exceeded() {
        // The reader fails once the (MAX_ROWS + 1)th row has been served: if
        // the parser read on, it would report the read error instead.
        let text = upload_of(MAX_ROWS + 1);
        match parse_csv(FailAfter(text.as_bytes())) {
            Err(ImportError::TooManyRows { limit }) => assert_eq!(limit, MAX_ROWS),
            other => panic!("expected TooManyRows, got {other:?}"),
        }
    }

    #[test]
    fn read_error_fails_the_upload() {
        let text = format!("{HEADER}\nINV-1,B,2024-01-01,2024-02-01,EUR,1,\nINV-2,B,2024-");
        match parse_csv(FailAfter(text.as_bytes())) {
            Err(ImportError::Read(error)) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
            other => panic!("expected Read, got {other:?}"),
        }
    }
}
