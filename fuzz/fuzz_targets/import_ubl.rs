//! The UBL importer (`POST /v1/receivables/import`, XML).
//!
//! Properties: it never panics; a successful parse has 1 to `MAX_ROWS`
//! rows numbered 1, 2, 3…, no more than the times a document root name
//! ("Invoice", "CreditNote", "Order") is written; accepted rows hold
//! trimmed, non-empty values and only documented rejection codes appear
//! (see `check_rows`); and accepted rows written back as a UBL batch parse
//! to the same values (party references compared by scheme and value, the
//! element they came from being rewritten).

#![no_main]

use anchorfin::registry::import::{parse, DocumentKind, ImportFormat, ImportRow};
use anchorfin_fuzz::check_rows;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = parse(ImportFormat::Ubl, data) else {
        return;
    };
    assert!(!rows.is_empty(), "a document without an invoice is refused");
    let roots = [&b"Invoice"[..], b"CreditNote", b"Order"]
        .iter()
        .map(|name| data.windows(name.len()).filter(|window| window == name).count())
        .sum::<usize>();
    assert!(
        rows.len() <= roots,
        "{} rows, a root name written {roots} times",
        rows.len()
    );
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(row.location.number(), index + 1, "documents are numbered 1, 2, 3…");
    }
    let accepted = check_rows(&rows);

    if accepted.is_empty() {
        return;
    }
    let document = batch(&accepted);
    let again = parse(ImportFormat::Ubl, document.as_bytes()).unwrap_or_else(|error| panic!("{error}\n{document}"));
    let again: Vec<&ImportRow> = again
        .iter()
        .map(|row| row.outcome.as_ref().expect("a written document is accepted"))
        .collect();
    let comparable = |rows: &[&ImportRow]| -> Vec<ImportRow> {
        rows.iter()
            .map(|row| {
                let mut row = (*row).clone();
                for reference in row.buyer.iter_mut().chain(row.seller.iter_mut()) {
                    reference.source.clear();
                }
                row
            })
            .collect()
    };
    assert_eq!(
        comparable(&accepted),
        comparable(&again),
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

fn parties(element: &str, references: &[anchorfin::domain::PartyReference]) -> String {
    if references.is_empty() {
        return String::new();
    }
    let mut party = format!("<cac:{element}><cac:Party>");
    for reference in references {
        let scheme = reference
            .scheme
            .as_ref()
            .map(|scheme| format!(" schemeID=\"{}\"", escape(scheme)))
            .unwrap_or_default();
        party.push_str(&format!(
            "<cac:PartyIdentification><cbc:ID{scheme}>{}</cbc:ID></cac:PartyIdentification>",
            escape(&reference.value)
        ));
    }
    party.push_str(&format!("</cac:Party></cac:{element}>"));
    party
}

fn batch(rows: &[&ImportRow]) -> String {
    let mut document = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Batch>");
    for row in rows {
        let (root, type_code, buyer, seller, total) = match row.kind {
            DocumentKind::Order => (
                "Order",
                None,
                "BuyerCustomerParty",
                "SellerSupplierParty",
                "AnticipatedMonetaryTotal",
            ),
            DocumentKind::Invoice => (
                "Invoice",
                Some("380"),
                "AccountingCustomerParty",
                "AccountingSupplierParty",
                "LegalMonetaryTotal",
            ),
            DocumentKind::CreditNote => (
                "Invoice",
                Some("381"),
                "AccountingCustomerParty",
                "AccountingSupplierParty",
                "LegalMonetaryTotal",
            ),
            DocumentKind::CorrectedInvoice => (
                "Invoice",
                Some("384"),
                "AccountingCustomerParty",
                "AccountingSupplierParty",
                "LegalMonetaryTotal",
            ),
        };
        let mut text = format!(
            "<{root} xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:{root}-2\" \
             xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\" \
             xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\">\
             <cbc:ID>{}</cbc:ID><cbc:IssueDate>{}</cbc:IssueDate>",
            escape(&row.invoice_number),
            escape(&row.issue_date),
        );
        if let Some(due) = &row.due_date {
            text.push_str(&format!("<cbc:DueDate>{}</cbc:DueDate>", escape(due)));
        }
        if let Some(code) = type_code {
            text.push_str(&format!("<cbc:InvoiceTypeCode>{code}</cbc:InvoiceTypeCode>"));
        }
        text.push_str(&format!(
            "<cbc:DocumentCurrencyCode>{}</cbc:DocumentCurrencyCode>",
            escape(&row.currency)
        ));
        if let Some(order) = &row.order_reference {
            text.push_str(&format!(
                "<cac:OrderReference><cbc:ID>{}</cbc:ID></cac:OrderReference>",
                escape(order)
            ));
        }
        if let Some(billing) = &row.billing_reference {
            text.push_str(&format!(
                "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{}</cbc:ID>\
                 </cac:InvoiceDocumentReference></cac:BillingReference>",
                escape(billing)
            ));
        }
        text.push_str(&parties(seller, &row.seller));
        text.push_str(&parties(buyer, &row.buyer));
        text.push_str(&format!(
            "<cac:{total}><cbc:PayableAmount currencyID=\"{}\">{}</cbc:PayableAmount></cac:{total}></{root}>",
            escape(&row.currency),
            escape(&row.amount),
        ));
        document.push_str(&text);
    }
    document.push_str("</Batch>");
    document
}
