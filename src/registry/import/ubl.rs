//! UBL 2.1 Invoice uploads: one `Invoice` document, or a batch root element
//! (any name, any namespace) whose child elements are all `Invoice`s.
//!
//! Elements are matched by namespace URI and local name, never by prefix, and
//! only along the exact paths listed in [`Slot::at`]: an `InvoiceLine`'s own
//! `cbc:ID`, a `PartyTaxScheme`'s `cbc:CompanyID` and the like are ignored.
//! A DOCTYPE is refused (quick-xml expands no external entity anyway), as is
//! a declared encoding other than UTF-8.

use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::{
    ImportError, ImportRow, ParsedRow, RowRejection, CURRENCY_MISMATCH, DUPLICATE_FIELD, MAX_ROWS, MISSING_FIELD,
};

const NS_INVOICE: &[u8] = b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const NS_CBC: &[u8] = b"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
const NS_CAC: &[u8] = b"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";

/// Deeper nesting than this is refused; real invoices stay far below it.
const MAX_DEPTH: usize = 256;

/// The elements below an `Invoice` that matter; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum El {
    // cbc
    Id,
    IssueDate,
    DueDate,
    PaymentDueDate,
    DocumentCurrencyCode,
    PayableAmount,
    CompanyId,
    // cac
    PaymentMeans,
    LegalMonetaryTotal,
    OrderReference,
    AccountingSupplierParty,
    AccountingCustomerParty,
    Party,
    PartyLegalEntity,
    PartyIdentification,
    Other,
}

impl El {
    fn classify(namespace: &[u8], local: &[u8]) -> El {
        match (namespace, local) {
            (NS_CBC, b"ID") => El::Id,
            (NS_CBC, b"IssueDate") => El::IssueDate,
            (NS_CBC, b"DueDate") => El::DueDate,
            (NS_CBC, b"PaymentDueDate") => El::PaymentDueDate,
            (NS_CBC, b"DocumentCurrencyCode") => El::DocumentCurrencyCode,
            (NS_CBC, b"PayableAmount") => El::PayableAmount,
            (NS_CBC, b"CompanyID") => El::CompanyId,
            (NS_CAC, b"PaymentMeans") => El::PaymentMeans,
            (NS_CAC, b"LegalMonetaryTotal") => El::LegalMonetaryTotal,
            (NS_CAC, b"OrderReference") => El::OrderReference,
            (NS_CAC, b"AccountingSupplierParty") => El::AccountingSupplierParty,
            (NS_CAC, b"AccountingCustomerParty") => El::AccountingCustomerParty,
            (NS_CAC, b"Party") => El::Party,
            (NS_CAC, b"PartyLegalEntity") => El::PartyLegalEntity,
            (NS_CAC, b"PartyIdentification") => El::PartyIdentification,
            _ => El::Other,
        }
    }
}

/// A value read from one path below `Invoice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    InvoiceNumber,
    IssueDate,
    DueDate,
    PaymentDueDate,
    Currency,
    Amount,
    PoNumber,
    BuyerCompanyId,
    BuyerPartyId,
    SellerCompanyId,
    SellerPartyId,
}

impl Slot {
    const COUNT: usize = 11;

    /// The slot read from the element at `path` (relative to `Invoice`).
    fn at(path: &[El]) -> Option<Slot> {
        use El::*;
        Some(match path {
            [Id] => Slot::InvoiceNumber,
            [IssueDate] => Slot::IssueDate,
            [DueDate] => Slot::DueDate,
            [PaymentMeans, PaymentDueDate] => Slot::PaymentDueDate,
            [DocumentCurrencyCode] => Slot::Currency,
            [LegalMonetaryTotal, PayableAmount] => Slot::Amount,
            [OrderReference, Id] => Slot::PoNumber,
            [AccountingCustomerParty, Party, PartyLegalEntity, CompanyId] => Slot::BuyerCompanyId,
            [AccountingCustomerParty, Party, PartyIdentification, Id] => Slot::BuyerPartyId,
            [AccountingSupplierParty, Party, PartyLegalEntity, CompanyId] => Slot::SellerCompanyId,
            [AccountingSupplierParty, Party, PartyIdentification, Id] => Slot::SellerPartyId,
            _ => return None,
        })
    }
}

/// The name of the element at `path` if UBL 2.1 allows it at most once per
/// invoice and it leads to a value we read: a second one is ambiguous.
fn singular(path: &[El]) -> Option<&'static str> {
    use El::*;
    Some(match path {
        [Id] => "cbc:ID",
        [IssueDate] => "cbc:IssueDate",
        [DueDate] => "cbc:DueDate",
        [DocumentCurrencyCode] => "cbc:DocumentCurrencyCode",
        [LegalMonetaryTotal] => "cac:LegalMonetaryTotal",
        [LegalMonetaryTotal, PayableAmount] => "cac:LegalMonetaryTotal/cbc:PayableAmount",
        [OrderReference] => "cac:OrderReference",
        [OrderReference, Id] => "cac:OrderReference/cbc:ID",
        [AccountingCustomerParty] => "cac:AccountingCustomerParty",
        [AccountingCustomerParty, Party] => "cac:AccountingCustomerParty/cac:Party",
        [AccountingSupplierParty] => "cac:AccountingSupplierParty",
        [AccountingSupplierParty, Party] => "cac:AccountingSupplierParty/cac:Party",
        _ => return None,
    })
}

/// What is read of one `Invoice` element while it streams past.
#[derive(Debug, Default)]
struct InvoiceReader {
    /// Open elements below the `Invoice`.
    path: Vec<El>,
    /// First non-empty value of each slot.
    values: [Option<String>; Slot::COUNT],
    /// `currencyID` of the `PayableAmount`, when it has one.
    amount_currency: Option<String>,
    /// Singular elements seen so far, and the first one seen twice.
    seen: Vec<&'static str>,
    duplicate: Option<&'static str>,
    /// The slot whose element is open, its depth in `path`, and its text so far.
    capture: Option<(Slot, usize, String)>,
}

impl InvoiceReader {
    /// An element opens below the `Invoice`; `currency_id` is its
    /// `currencyID` attribute, if any.
    fn start(&mut self, element: El, currency_id: Option<String>) {
        self.path.push(element);
        if let Some(name) = singular(&self.path) {
            if self.seen.contains(&name) {
                self.duplicate.get_or_insert(name);
            } else {
                self.seen.push(name);
            }
        }
        if let Some(slot) = Slot::at(&self.path) {
            if slot == Slot::Amount && self.amount_currency.is_none() {
                self.amount_currency = currency_id;
            }
            self.capture = Some((slot, self.path.len(), String::new()));
        }
    }

    /// Text (unescaped) directly inside the innermost open element.
    fn text(&mut self, text: &str) {
        if let Some((_, depth, buffer)) = &mut self.capture {
            if *depth == self.path.len() {
                buffer.push_str(text);
            }
        }
    }

    fn end(&mut self) {
        if let Some((slot, depth, text)) = self.capture.take() {
            if depth == self.path.len() {
                let text = text.trim();
                let value = &mut self.values[slot as usize];
                if value.is_none() && !text.is_empty() {
                    *value = Some(text.to_owned());
                }
            } else {
                self.capture = Some((slot, depth, text));
            }
        }
        self.path.pop();
    }

    fn finish(mut self) -> Result<ImportRow, RowRejection> {
        if let Some(name) = self.duplicate {
            return Err(RowRejection::new(
                DUPLICATE_FIELD,
                format!("{name} appears more than once"),
            ));
        }
        let mut take = |slot: Slot| self.values[slot as usize].take();
        let invoice_number = take(Slot::InvoiceNumber);
        let buyer_legal_id = take(Slot::BuyerCompanyId).or_else(|| take(Slot::BuyerPartyId));
        let issue_date = take(Slot::IssueDate);
        let due_date = take(Slot::DueDate).or_else(|| take(Slot::PaymentDueDate));
        let currency = take(Slot::Currency);
        let amount = take(Slot::Amount);
        let po_number = take(Slot::PoNumber);
        let seller_legal_id = take(Slot::SellerCompanyId).or_else(|| take(Slot::SellerPartyId));

        let mut missing = Vec::new();
        let mut require = |value: Option<String>, element: &'static str| {
            value.unwrap_or_else(|| {
                missing.push(element);
                String::new()
            })
        };
        let row = ImportRow {
            invoice_number: require(invoice_number, "cbc:ID"),
            buyer_legal_id: require(
                buyer_legal_id,
                "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID \
                 (or cac:PartyIdentification/cbc:ID)",
            ),
            issue_date: require(issue_date, "cbc:IssueDate"),
            due_date: require(due_date, "cbc:DueDate (or cac:PaymentMeans/cbc:PaymentDueDate)"),
            currency: require(currency, "cbc:DocumentCurrencyCode"),
            amount: require(amount, "cac:LegalMonetaryTotal/cbc:PayableAmount"),
            po_number,
            seller_legal_id,
        };
        if !missing.is_empty() {
            return Err(RowRejection::new(
                MISSING_FIELD,
                format!("missing required element(s): {}", missing.join(", ")),
            ));
        }
        if let Some(amount_currency) = self.amount_currency.filter(|found| *found != row.currency) {
            return Err(RowRejection::new(
                CURRENCY_MISMATCH,
                format!(
                    "cbc:PayableAmount currencyID {amount_currency:?} differs from cbc:DocumentCurrencyCode {:?}",
                    row.currency
                ),
            ));
        }
        Ok(row)
    }
}

/// Checks every attribute of an element is well-formed (quick-xml parses
/// them lazily) and returns the trimmed, unescaped value of its unprefixed
/// `currencyID` attribute, the only one read, if present.
fn read_attributes(start: &BytesStart) -> Result<Option<String>, String> {
    let mut found = None;
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| error.to_string())?;
        let value = attribute.unescape_value().map_err(|error| error.to_string())?;
        if attribute.key.as_ref() == b"currencyID" && found.is_none() {
            found = Some(value.trim().to_owned());
        }
    }
    Ok(found)
}

/// What the root element turned out to be.
#[derive(Debug)]
enum Root {
    /// Not seen yet.
    Pending,
    /// A single `Invoice`.
    Invoice,
    /// A batch container, named so: its children must be `Invoice`s.
    Batch(String),
    /// Closed: only comments, processing instructions and whitespace may follow.
    Closed,
}

/// Parses a UBL 2.1 Invoice upload into one row per `Invoice`, numbered from
/// 1 in document order.
pub fn parse_ubl<R: BufRead>(reader: R) -> Result<Vec<ParsedRow>, ImportError> {
    let mut xml = NsReader::from_reader(reader);
    xml.config_mut().expand_empty_elements = true;
    xml.config_mut().check_end_names = true;

    let mut buf = Vec::new();
    // Namespace URI of the last start tag; empty when unbound.
    let mut namespace = Vec::new();
    let mut root = Root::Pending;
    // Open elements, the root included.
    let mut depth = 0usize;
    let mut invoice: Option<InvoiceReader> = None;
    let mut rows = Vec::new();

    loop {
        buf.clear();
        let (resolved, event) = match xml.read_resolved_event_into(&mut buf) {
            Ok((resolved, event)) => {
                namespace.clear();
                let resolved = match resolved {
                    ResolveResult::Bound(bound) => {
                        namespace.extend_from_slice(bound.as_ref());
                        Ok(())
                    }
                    ResolveResult::Unbound => Ok(()),
                    ResolveResult::Unknown(prefix) => Err(prefix),
                };
                (resolved, event)
            }
            Err(quick_xml::Error::Io(error)) => {
                return Err(ImportError::Read(std::io::Error::new(error.kind(), error.to_string())))
            }
            Err(error) => {
                return Err(malformed(format!(
                    "not well-formed XML at byte {}: {error}",
                    xml.error_position()
                )))
            }
        };
        let at = xml.buffer_position();
        let structural = |detail: String| malformed(format!("{detail} (at byte {at})"));
        let ill_formed = |error: String| structural(format!("not well-formed XML: {error}"));

        match event {
            Event::Start(start) => {
                if let Err(prefix) = resolved {
                    let prefix = String::from_utf8_lossy(&prefix);
                    return Err(structural(format!("namespace prefix {prefix:?} is not declared")));
                }
                let currency_id = read_attributes(&start).map_err(ill_formed)?;
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(structural(format!("elements nested deeper than {MAX_DEPTH}")));
                }
                let local = start.local_name();
                if let Some(reader) = &mut invoice {
                    reader.start(El::classify(&namespace, local.as_ref()), currency_id);
                    continue;
                }
                let is_invoice = namespace == NS_INVOICE && local.as_ref() == b"Invoice";
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                match &root {
                    Root::Pending if is_invoice => root = Root::Invoice,
                    Root::Pending if local.as_ref() == b"Invoice" => {
                        return Err(structural(format!(
                            "root element <{name}> is not a UBL 2.1 Invoice: its namespace is {}, not {}",
                            describe_namespace(&namespace),
                            String::from_utf8_lossy(NS_INVOICE)
                        )))
                    }
                    Root::Pending => {
                        root = Root::Batch(name);
                        continue;
                    }
                    Root::Batch(_) if is_invoice => {}
                    Root::Batch(root_name) => {
                        return Err(structural(format!(
                            "element <{name}> (namespace {}) inside the batch root <{root_name}> is not a UBL 2.1 \
                             Invoice",
                            describe_namespace(&namespace)
                        )))
                    }
                    // The invoice reader sees every element below a root Invoice.
                    Root::Invoice | Root::Closed => {
                        return Err(structural(format!("<{name}> is a second root element")))
                    }
                }
                if rows.len() == MAX_ROWS {
                    return Err(ImportError::TooManyRows { limit: MAX_ROWS });
                }
                invoice = Some(InvoiceReader::default());
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some(mut reader) = invoice.take() {
                    if reader.path.is_empty() {
                        rows.push(ParsedRow {
                            row: rows.len() + 1,
                            outcome: reader.finish(),
                        });
                    } else {
                        reader.end();
                        invoice = Some(reader);
                    }
                }
                if depth == 0 {
                    root = Root::Closed;
                }
            }
            Event::Text(text) => {
                let text = text.unescape().map_err(|error| ill_formed(error.to_string()))?;
                if depth == 0 && !text.trim().is_empty() {
                    return Err(structural("text outside the root element".to_owned()));
                }
                if let Some(reader) = &mut invoice {
                    reader.text(&text);
                }
            }
            Event::CData(cdata) => {
                let text = cdata.decode().map_err(|error| ill_formed(error.to_string()))?;
                if depth == 0 {
                    return Err(structural("CDATA outside the root element".to_owned()));
                }
                if let Some(reader) = &mut invoice {
                    reader.text(&text);
                }
            }
            Event::DocType(_) => return Err(structural("DOCTYPE declarations are not accepted".to_owned())),
            Event::Decl(decl) => {
                if let Some(encoding) = decl.encoding() {
                    let encoding = encoding.map_err(|error| ill_formed(error.to_string()))?;
                    if !encoding.eq_ignore_ascii_case(b"utf-8") {
                        return Err(structural(format!(
                            "encoding {:?} is not supported, only UTF-8",
                            String::from_utf8_lossy(&encoding)
                        )));
                    }
                }
            }
            // `Empty` does not occur: empty elements are expanded to Start + End.
            Event::Comment(_) | Event::PI(_) | Event::Empty(_) => {}
            Event::Eof => {
                if depth > 0 {
                    return Err(structural(
                        "the document ends inside an element that is not closed".to_owned(),
                    ));
                }
                if rows.is_empty() {
                    return Err(structural(format!(
                        "no UBL 2.1 Invoice element (namespace {})",
                        String::from_utf8_lossy(NS_INVOICE)
                    )));
                }
                return Ok(rows);
            }
        }
    }
}

fn malformed(detail: String) -> ImportError {
    ImportError::Malformed { detail }
}

fn describe_namespace(namespace: &[u8]) -> String {
    if namespace.is_empty() {
        "none".to_owned()
    } else {
        String::from_utf8_lossy(namespace).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::super::FailAfter;
    use super::*;

    const SINGLE: &str = include_str!("../../../tests/data/import/ubl-invoice.xml");
    const BATCH: &str = include_str!("../../../tests/data/import/ubl-batch.xml");

    /// The body of a minimal valid invoice, prefixed cbc/cac.
    const FIELDS: &str = r#"
        <cbc:ID>X-1</cbc:ID>
        <cbc:IssueDate>2024-01-01</cbc:IssueDate>
        <cbc:DueDate>2024-02-01</cbc:DueDate>
        <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
        <cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity>
            <cbc:CompanyID>BUYER-1</cbc:CompanyID>
        </cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>
        <cac:LegalMonetaryTotal>
            <cbc:PayableAmount currencyID="EUR">10.00</cbc:PayableAmount>
        </cac:LegalMonetaryTotal>"#;

    fn invoice(fields: &str) -> String {
        format!(
            "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\" \
             xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\" \
             xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\">{fields}</Invoice>"
        )
    }

    fn parse(text: &str) -> Result<Vec<ParsedRow>, ImportError> {
        parse_ubl(text.as_bytes())
    }

    /// The outcome of a document holding exactly one invoice.
    fn single(text: &str) -> Result<ImportRow, RowRejection> {
        let rows = parse(text).unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].row, 1);
        rows.into_iter().next().unwrap().outcome
    }

    fn minimal_row() -> ImportRow {
        ImportRow {
            invoice_number: "X-1".to_owned(),
            buyer_legal_id: "BUYER-1".to_owned(),
            issue_date: "2024-01-01".to_owned(),
            due_date: "2024-02-01".to_owned(),
            currency: "EUR".to_owned(),
            amount: "10.00".to_owned(),
            po_number: None,
            seller_legal_id: None,
        }
    }

    fn malformed(text: &str) -> String {
        match parse(text) {
            Err(ImportError::Malformed { detail }) => detail,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn single_invoice_fixture_reads_every_field_from_its_own_path() {
        assert_eq!(
            single(SINGLE),
            Ok(ImportRow {
                // Not an InvoiceLine's cbc:ID ("1", "2"), nor an address's or a contact's.
                invoice_number: "INV-2024/0042".to_owned(),
                // PartyLegalEntity/CompanyID, trimmed; not PartyTaxScheme/CompanyID
                // (DE123456789) nor PartyIdentification/ID (CUST-0815).
                buyer_legal_id: "HRB 724411".to_owned(),
                issue_date: "2024-03-15".to_owned(),
                // cbc:DueDate wins over PaymentMeans/PaymentDueDate (2024-06-30).
                due_date: "2024-05-14".to_owned(),
                currency: "EUR".to_owned(),
                // Not TaxInclusiveAmount, LineExtensionAmount nor a line's amount.
                amount: "14814.00".to_owned(),
                // OrderReference/ID, not ContractDocumentReference/ID (FA-7).
                po_number: Some("PO-4500012345".to_owned()),
                seller_legal_id: Some("552100554".to_owned()),
            })
        );
    }

    #[test]
    fn batch_fixture_numbers_invoices_in_document_order() {
        let rows = parse(BATCH).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            ParsedRow {
                row: 1,
                outcome: Ok(ImportRow {
                    invoice_number: "B-1001".to_owned(),
                    buyer_legal_id: "NL-KVK-12345678".to_owned(),
                    issue_date: "2024-04-01".to_owned(),
                    due_date: "2024-05-31".to_owned(),
                    currency: "EUR".to_owned(),
                    amount: "1000.00".to_owned(),
                    po_number: Some("PO-1".to_owned()),
                    seller_legal_id: Some("SE5561234567".to_owned()),
                }),
            }
        );
        assert_eq!(
            rows[1],
            ParsedRow {
                row: 2,
                outcome: Ok(ImportRow {
                    invoice_number: "B-1002".to_owned(),
                    buyer_legal_id: "5569876543".to_owned(),
                    issue_date: "2024-04-02".to_owned(),
                    due_date: "2024-06-01".to_owned(),
                    currency: "SEK".to_owned(),
                    amount: "25000".to_owned(),
                    po_number: None,
                    seller_legal_id: Some("5561234567".to_owned()),
                }),
            }
        );
        assert_eq!(
            rows[2],
            ParsedRow {
                row: 3,
                outcome: Err(RowRejection::new(
                    MISSING_FIELD,
                    "missing required element(s): cac:LegalMonetaryTotal/cbc:PayableAmount"
                )),
            }
        );
    }

    #[test]
    fn minimal_invoice_parses() {
        assert_eq!(single(&invoice(FIELDS)), Ok(minimal_row()));
    }

    #[test]
    fn prefixes_do_not_matter_only_namespaces() {
        // cbc and cac swapped: a prefix-matching parser would find nothing.
        let swapped = invoice(FIELDS)
            .replace("xmlns:cbc=", "xmlns:TMP=")
            .replace("xmlns:cac=", "xmlns:cbc=")
            .replace("xmlns:TMP=", "xmlns:cac=")
            .replace("<cbc:", "<TMP:")
            .replace("</cbc:", "</TMP:")
            .replace("<cac:", "<cbc:")
            .replace("</cac:", "</cbc:")
            .replace("<TMP:", "<cac:")
            .replace("</TMP:", "</cac:");
        assert!(swapped.contains("<cac:ID>X-1</cac:ID>"), "{swapped}");
        assert_eq!(single(&swapped), Ok(minimal_row()));
    }

    #[test]
    fn elements_in_other_namespaces_are_ignored() {
        // Right local names and prefix, wrong namespace: not the invoice number.
        let fields = FIELDS.replace(
            "<cbc:ID>X-1</cbc:ID>",
            "<cbc:ID xmlns:cbc=\"urn:example:not-ubl\">X-1</cbc:ID>",
        );
        assert_eq!(
            single(&invoice(&fields)),
            Err(RowRejection::new(MISSING_FIELD, "missing required element(s): cbc:ID"))
        );
    }

    #[test]
    fn invoice_line_id_is_not_the_invoice_number() {
        let fields = FIELDS.replace("<cbc:ID>X-1</cbc:ID>", "")
            + "<cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine>\
               <cac:OrderReference><cbc:ID>PO-9</cbc:ID></cac:OrderReference>";
        assert_eq!(
            single(&invoice(&fields)),
            Err(RowRejection::new(MISSING_FIELD, "missing required element(s): cbc:ID"))
        );
    }

    #[test]
    fn every_missing_required_element_is_named() {
        let rejection = single(&invoice("<cbc:ID>X-1</cbc:ID>")).unwrap_err();
        assert_eq!(rejection.code, MISSING_FIELD);
        for element in [
            "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID",
            "cbc:IssueDate",
            "cbc:DueDate (or cac:PaymentMeans/cbc:PaymentDueDate)",
            "cbc:DocumentCurrencyCode",
            "cac:LegalMonetaryTotal/cbc:PayableAmount",
        ] {
            assert!(
                rejection.detail.contains(element),
                "{element} not in {}",
                rejection.detail
            );
        }
        assert!(!rejection.detail.contains("cbc:ID,"), "{}", rejection.detail);
    }

    #[test]
    fn empty_due_date_falls_back_to_payment_due_date() {
        let fields = FIELDS.replace("<cbc:DueDate>2024-02-01</cbc:DueDate>", "<cbc:DueDate/>")
            + "<cac:PaymentMeans><cbc:PaymentDueDate>2024-03-01</cbc:PaymentDueDate></cac:PaymentMeans>";
        assert_eq!(
            single(&invoice(&fields)).map(|row| row.due_date),
            Ok("2024-03-01".to_owned())
        );
        let without = FIELDS.replace("<cbc:DueDate>2024-02-01</cbc:DueDate>", "<cbc:DueDate>  </cbc:DueDate>");
        assert_eq!(
            single(&invoice(&without)).unwrap_err(),
            RowRejection::new(
                MISSING_FIELD,
                "missing required element(s): cbc:DueDate (or cac:PaymentMeans/cbc:PaymentDueDate)"
            )
        );
    }

    #[test]
    fn text_is_unescaped_and_cdata_read() {
        let fields = FIELDS
            .replace("X-1", " A&amp;B&#x2F;<!-- note -->C<![CDATA[<D>]]> ")
            .replace("BUYER-1", "&lt;BUYER&gt;");
        let row = single(&invoice(&fields)).unwrap();
        assert_eq!(row.invoice_number, "A&B/C<D>");
        assert_eq!(row.buyer_legal_id, "<BUYER>");
    }

    #[test]
    fn mismatched_currency_id_rejects_the_row() {
        let fields = FIELDS.replace("currencyID=\"EUR\"", "currencyID=\"USD\"");
        assert_eq!(
            single(&invoice(&fields)),
            Err(RowRejection::new(
                CURRENCY_MISMATCH,
                "cbc:PayableAmount currencyID \"USD\" differs from cbc:DocumentCurrencyCode \"EUR\""
            ))
        );
        let absent = FIELDS.replace(" currencyID=\"EUR\"", "");
        assert_eq!(single(&invoice(&absent)), Ok(minimal_row()));
    }

    #[test]
    fn duplicate_singular_element_rejects_the_row() {
        let fields = format!("{FIELDS}<cbc:ID>X-2</cbc:ID>");
        assert_eq!(
            single(&invoice(&fields)),
            Err(RowRejection::new(DUPLICATE_FIELD, "cbc:ID appears more than once"))
        );
        let fields = format!(
            "{FIELDS}<cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity>\
             <cbc:CompanyID>BUYER-2</cbc:CompanyID></cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>"
        );
        assert_eq!(single(&invoice(&fields)).unwrap_err().code, DUPLICATE_FIELD);
    }

    #[test]
    fn bad_rows_do_not_stop_the_batch() {
        let bad = invoice(&FIELDS.replace("<cbc:IssueDate>2024-01-01</cbc:IssueDate>", ""));
        let good = invoice(FIELDS);
        let rows = parse(&format!("<batch xmlns=\"urn:example:batch\">{good}{bad}{good}</batch>")).unwrap();
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(rows[0].outcome, Ok(minimal_row()));
        assert_eq!(
            rows[1].outcome,
            Err(RowRejection::new(
                MISSING_FIELD,
                "missing required element(s): cbc:IssueDate"
            ))
        );
        assert_eq!(rows[2].outcome, Ok(minimal_row()));
    }

    #[test]
    fn no_invoice_element_is_malformed() {
        assert!(malformed("<Invoices/>").contains("no UBL 2.1 Invoice element"));
        assert!(malformed("<Invoices>\n  <!-- nothing -->\n</Invoices>").contains("no UBL 2.1 Invoice element"));
        assert!(malformed("").contains("no UBL 2.1 Invoice element"));
        assert!(malformed("<?xml version=\"1.0\"?>\n").contains("no UBL 2.1 Invoice element"));
        let credit_note = "<CreditNote xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2\" \
             xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">\
             <cbc:ID>CN-1</cbc:ID></CreditNote>";
        assert!(
            malformed(credit_note).contains("<cbc:ID>"),
            "{}",
            malformed(credit_note)
        );
    }

    #[test]
    fn invoice_outside_the_ubl_namespace_is_malformed() {
        let detail =
            malformed(&invoice(FIELDS).replace("xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"", ""));
        assert!(
            detail.contains("root element <Invoice> is not a UBL 2.1 Invoice"),
            "{detail}"
        );
        let detail = malformed("<Invoices><Invoice xmlns=\"urn:example\"/></Invoices>");
        assert!(detail.contains("<Invoice> (namespace urn:example)"), "{detail}");
    }

    #[test]
    fn non_invoice_child_of_the_batch_root_is_malformed() {
        let detail = malformed(&format!("<Invoices>{}<Header/></Invoices>", invoice(FIELDS)));
        assert!(
            detail.contains("element <Header> (namespace none) inside the batch root <Invoices>"),
            "{detail}"
        );
    }

    #[test]
    fn xml_that_is_not_well_formed_is_malformed() {
        let detail = malformed(&format!(
            "<Invoices>{}",
            invoice(FIELDS).replace("</Invoice>", "</Invoices>")
        ));
        assert!(detail.starts_with("not well-formed XML at byte "), "{detail}");
        assert!(detail.contains("expected `</Invoice>`"), "{detail}");

        let detail = malformed(&invoice(FIELDS).replace("</Invoice>", ""));
        assert!(detail.contains("not closed"), "{detail}");

        let detail = malformed(&invoice(&FIELDS.replace("X-1", "X&nbsp;1")));
        assert!(detail.contains("not well-formed XML"), "{detail}");

        let detail = malformed(&invoice(
            &FIELDS.replace("<cbc:ID>X-1</cbc:ID>", "<foo:ID>X-1</foo:ID>"),
        ));
        assert!(detail.contains("namespace prefix \"foo\" is not declared"), "{detail}");

        let detail = malformed(&invoice(&FIELDS.replace("currencyID=\"EUR\"", "currencyID=EUR")));
        assert!(detail.contains("not well-formed XML"), "{detail}");

        let detail = malformed(&invoice(&FIELDS.replace("<cbc:ID>", "<cbc:ID a=\"1\" a=\"2\">")));
        assert!(detail.contains("not well-formed XML"), "{detail}");

        let detail = malformed(&format!("{}{}", invoice(FIELDS), invoice(FIELDS)));
        assert!(detail.contains("second root element"), "{detail}");

        let detail = malformed(&format!("{} trailing", invoice(FIELDS)));
        assert!(detail.contains("text outside the root element"), "{detail}");

        let detail = malformed("<Invoices");
        assert!(detail.starts_with("not well-formed XML at byte 0"), "{detail}");
    }

    #[test]
    fn doctype_is_refused() {
        let xxe = format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n{}",
            invoice(&FIELDS.replace("X-1", "&xxe;"))
        );
        assert!(malformed(&xxe).contains("DOCTYPE declarations are not accepted"));
        let plain = format!("<!DOCTYPE Invoice>{}", invoice(FIELDS));
        assert!(malformed(&plain).contains("DOCTYPE declarations are not accepted"));
    }

    #[test]
    fn only_utf8_is_accepted() {
        let latin1 = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{}", invoice(FIELDS));
        assert!(malformed(&latin1).contains("encoding \"ISO-8859-1\" is not supported"));
        let bom = format!("\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}", invoice(FIELDS));
        assert_eq!(single(&bom), Ok(minimal_row()));
    }

    fn batch_of(invoices: usize) -> String {
        let one = invoice(FIELDS);
        let mut text = String::with_capacity(invoices * one.len() + 32);
        text.push_str("<Invoices>");
        for _ in 0..invoices {
            text.push_str(&one);
        }
        text.push_str("</Invoices>");
        text
    }

    #[test]
    fn exactly_max_rows_invoices_are_accepted() {
        let rows = parse(&batch_of(MAX_ROWS)).unwrap();
        assert_eq!(rows.len(), MAX_ROWS);
        assert_eq!(
            rows[MAX_ROWS - 1],
            ParsedRow {
                row: MAX_ROWS,
                outcome: Ok(minimal_row())
            }
        );
    }

    #[test]
    fn more_than_max_rows_invoices_are_refused() {
        match parse(&batch_of(MAX_ROWS + 1)) {
            Err(ImportError::TooManyRows { limit }) => assert_eq!(limit, MAX_ROWS),
            other => panic!("expected TooManyRows, got {other:?}"),
        }
    }

    #[test]
    fn read_error_fails_the_upload() {
        let text = invoice(FIELDS);
        let reader = std::io::BufReader::new(FailAfter(&text.as_bytes()[..40]));
        match parse_ubl(reader) {
            Err(ImportError::Read(error)) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
            other => panic!("expected Read, got {other:?}"),
        }
    }
}
