//! The UBL 2.1 Invoice importer (`POST /v1/receivables/import`, XML).
//!
//! Properties: it never panics; a successful parse has 1 to `MAX_ROWS`
//! rows numbered 1, 2, 3…, no more than the times "Invoice" is written;
//! accepted rows hold trimmed, non-empty required values and only
//! documented rejection codes appear; the result (errors and their byte
//! positions included) does not depend on how the body is split into reads;
//! and accepted rows written back as a UBL batch parse to themselves.

#![no_main]

use anchorfin::registry::import::{parse_ubl, ImportRow};
use anchorfin_fuzz::{check_rows, Pieces};
use libfuzzer_sys::fuzz_target;

const CODES: [&str; 4] = ["malformed_row", "missing_field", "duplicate_field", "currency_mismatch"];

fuzz_target!(|data: &[u8]| {
    let parsed = parse_ubl(data);

    let streamed = parse_ubl(Pieces::new(data, data));
    assert_eq!(
        format!("{parsed:?}"),
        format!("{streamed:?}"),
        "reading in pieces changed the result"
    );

    let Ok(rows) = parsed else { return };
    assert!(!rows.is_empty(), "a document without an invoice is refused");
    let written_invoice = data.windows(7).filter(|window| *window == b"Invoice").count();
    assert!(
        rows.len() <= written_invoice,
        "{} rows, \"Invoice\" written {written_invoice} times",
        rows.len()
    );
    let accepted = check_rows(&rows, &CODES);

    if accepted.is_empty() {
        return;
    }
    let document = batch(&accepted);
    let again = parse_ubl(document.as_bytes()).unwrap_or_else(|error| panic!("{error}\n{document}"));
    let again: Vec<&ImportRow> = again
        .iter()
        .map(|row| row.outcome.as_ref().expect("a written invoice is accepted"))
        .collect();
    assert_eq!(
        accepted, again,
        "accepted rows do not survive a round trip:\n{document}"
    );
});

/// Text or attribute content: every character that is markup, or that XML
/// would not keep as it is, written as a reference.
fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\r' | '\n' | '\t' => escaped.push_str(&format!("&#{};", u32::from(c))),
            c => escaped.push(c),
        }
    }
    escaped
}

fn batch(rows: &[&ImportRow]) -> String {
    let mut document = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Batch>");
    for row in rows {
        let mut invoice = format!(
            "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\" \
             xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\" \
             xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\">\
             <cbc:ID>{}</cbc:ID><cbc:IssueDate>{}</cbc:IssueDate><cbc:DueDate>{}</cbc:DueDate>\
             <cbc:DocumentCurrencyCode>{}</cbc:DocumentCurrencyCode>",
            escape(&row.invoice_number),
            escape(&row.issue_date),
            escape(&row.due_date),
            escape(&row.currency),
        );
        if let Some(po) = &row.po_number {
            invoice.push_str(&format!(
                "<cac:OrderReference><cbc:ID>{}</cbc:ID></cac:OrderReference>",
                escape(po)
            ));
        }
        if let Some(seller) = &row.seller_legal_id {
            invoice.push_str(&format!(
                "<cac:AccountingSupplierParty><cac:Party><cac:PartyLegalEntity><cbc:CompanyID>{}</cbc:CompanyID>\
                 </cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>",
                escape(seller)
            ));
        }
        invoice.push_str(&format!(
            "<cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity><cbc:CompanyID>{}</cbc:CompanyID>\
             </cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>\
             <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID=\"{}\">{}</cbc:PayableAmount>\
             </cac:LegalMonetaryTotal></Invoice>",
            escape(&row.buyer_legal_id),
            escape(&row.currency),
            escape(&row.amount),
        ));
        document.push_str(&invoice);
    }
    document.push_str("</Batch>");
    document
}
