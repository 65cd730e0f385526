//! Real public UBL documents (tests/fixtures/ubl/, sources in its README)
//! read by the parser. Every expected value was read off the file by hand.

use super::{parse, DocumentKind, ImportFormat, ImportRow, Location, ParsedRow, MISSING_FIELD};
use crate::domain::PartyReference;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/ubl/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn single(name: &str) -> ParsedRow {
    let rows = parse(ImportFormat::Ubl, &fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(rows.len(), 1, "{name}: {rows:?}");
    rows.into_iter().next().unwrap()
}

fn accepted(name: &str) -> ImportRow {
    let row = single(name);
    let root = match &row.location {
        Location::Element { document: 1, path } => path.clone(),
        other => panic!("{name}: located at {other:?}"),
    };
    let parsed = row.outcome.unwrap_or_else(|rejection| panic!("{name}: {rejection:?}"));
    assert_eq!(row.invoice_number.as_deref(), Some(parsed.invoice_number.as_str()));
    assert!(["Invoice", "CreditNote", "Order"].contains(&root.as_str()), "{root}");
    parsed
}

fn party(scheme: Option<&str>, value: &str, source: &str) -> PartyReference {
    PartyReference::new(scheme, value, source)
}

fn text(value: &str) -> String {
    value.to_owned()
}

/// The parties of the Peppol BIS 3 base examples (invoice and credit note).
fn peppol_base_buyer() -> Vec<PartyReference> {
    vec![
        party(Some("0002"), "FR23342", "AccountingCustomerParty/Party/EndpointID"),
        party(
            Some("0002"),
            "FR23342",
            "AccountingCustomerParty/Party/PartyIdentification/ID",
        ),
        party(
            Some("VAT"),
            "SE4598375937",
            "AccountingCustomerParty/Party/PartyTaxScheme/CompanyID",
        ),
        party(
            Some("0183"),
            "39937423947",
            "AccountingCustomerParty/Party/PartyLegalEntity/CompanyID",
        ),
    ]
}

fn peppol_base_seller() -> Vec<PartyReference> {
    vec![
        party(
            Some("0088"),
            "9482348239847239874",
            "AccountingSupplierParty/Party/EndpointID",
        ),
        party(None, "99887766", "AccountingSupplierParty/Party/PartyIdentification/ID"),
        party(
            Some("VAT"),
            "GB1232434",
            "AccountingSupplierParty/Party/PartyTaxScheme/CompanyID",
        ),
        party(
            None,
            "GB983294",
            "AccountingSupplierParty/Party/PartyLegalEntity/CompanyID",
        ),
    ]
}

#[test]
fn peppol_bis3_base_invoice() {
    assert_eq!(
        accepted("peppol-bis3-base-example.xml"),
        ImportRow {
            kind: DocumentKind::Invoice,
            invoice_number: text("Snippet1"),
            buyer: peppol_base_buyer(),
            seller: peppol_base_seller(),
            issue_date: text("2017-11-13"),
            due_date: Some(text("2017-12-01")),
            currency: text("EUR"),
            // Not the lines' 2800 / -1500 nor TaxInclusiveAmount's twin.
            amount: text("1656.25"),
            order_reference: None,
            billing_reference: None,
        }
    );
}

#[test]
fn peppol_bis3_credit_note() {
    assert_eq!(
        accepted("peppol-bis3-base-creditnote-correction.xml"),
        ImportRow {
            kind: DocumentKind::CreditNote,
            invoice_number: text("Snippet1"),
            buyer: peppol_base_buyer(),
            seller: peppol_base_seller(),
            issue_date: text("2017-11-13"),
            due_date: None,
            currency: text("EUR"),
            amount: text("1656.25"),
            order_reference: None,
            billing_reference: Some(text("Snippet1")),
        }
    );
}

#[test]
fn peppol_bis3_buyer_known_by_endpoint_only() {
    assert_eq!(
        accepted("peppol-bis3-vat-category-Z.xml"),
        ImportRow {
            kind: DocumentKind::Invoice,
            invoice_number: text("Vat-Z"),
            buyer: vec![party(
                Some("0184"),
                "12345678",
                "AccountingCustomerParty/Party/EndpointID"
            )],
            seller: vec![
                party(
                    Some("0088"),
                    "7300010000001",
                    "AccountingSupplierParty/Party/EndpointID"
                ),
                party(
                    None,
                    "7300010000001",
                    "AccountingSupplierParty/Party/PartyIdentification/ID"
                ),
                party(
                    Some("VAT"),
                    "GB928741974",
                    "AccountingSupplierParty/Party/PartyTaxScheme/CompanyID"
                ),
            ],
            issue_date: text("2018-08-30"),
            // Only a PaymentTerms/Note ("Payment within 30 days").
            due_date: None,
            currency: text("GBP"),
            amount: text("1200.00"),
            order_reference: None,
            billing_reference: None,
        }
    );
}

#[test]
fn en16931_credit_note() {
    assert_eq!(
        accepted("en16931-ubl-tc434-creditnote1.xml"),
        ImportRow {
            kind: DocumentKind::CreditNote,
            invoice_number: text("018304 / 28865"),
            buyer: vec![
                party(Some("9956"), "0000000295", "AccountingCustomerParty/Party/EndpointID"),
                party(
                    Some("VAT"),
                    "BE0000000295",
                    "AccountingCustomerParty/Party/PartyTaxScheme/CompanyID"
                ),
                party(
                    None,
                    "0000000295",
                    "AccountingCustomerParty/Party/PartyLegalEntity/CompanyID"
                ),
            ],
            seller: vec![
                party(Some("9956"), "0000000196", "AccountingSupplierParty/Party/EndpointID"),
                party(
                    Some("VAT"),
                    "BE0000000196",
                    "AccountingSupplierParty/Party/PartyTaxScheme/CompanyID"
                ),
                party(
                    None,
                    "0000000196",
                    "AccountingSupplierParty/Party/PartyLegalEntity/CompanyID"
                ),
            ],
            issue_date: text("2019-09-23"),
            due_date: None,
            currency: text("EUR"),
            amount: text("100.11"),
            order_reference: None,
            billing_reference: None,
        }
    );
}

#[test]
fn en16931_invoice_whose_buyer_has_no_identifier_is_rejected() {
    // The buyer has only a postal address and a RegistrationName.
    let row = single("en16931-ubl-tc434-example9.xml");
    assert_eq!(row.invoice_number.as_deref(), Some("20150483"));
    assert_eq!(
        row.location,
        Location::Element {
            document: 1,
            path: text("Invoice")
        }
    );
    let rejection = row.outcome.unwrap_err();
    assert_eq!(rejection.code, MISSING_FIELD);
    assert_eq!(
        rejection.field.as_deref(),
        Some("Invoice/AccountingCustomerParty/Party")
    );
    assert!(
        rejection
            .detail
            .starts_with("missing required element(s): Invoice/AccountingCustomerParty/Party (an EndpointID"),
        "{}",
        rejection.detail
    );
    assert!(!rejection.detail.contains("IssueDate"), "{}", rejection.detail);
}

/// The parties of the OASIS UBL 2.0 examples: a tax scheme named by text only.
fn oasis_20_buyer() -> Vec<PartyReference> {
    vec![party(
        Some("UK VAT"),
        "12356478",
        "AccountingCustomerParty/Party/PartyTaxScheme/CompanyID",
    )]
}

fn oasis_20_seller() -> Vec<PartyReference> {
    vec![party(
        Some("VAT"),
        "175 269 2355",
        "AccountingSupplierParty/Party/PartyTaxScheme/CompanyID",
    )]
}

#[test]
fn oasis_ubl_20_invoice() {
    assert_eq!(
        accepted("oasis-UBL-Invoice-2.0-Example.xml"),
        ImportRow {
            // InvoiceTypeCode "SalesInvoice" (UBL 2.0 free text).
            kind: DocumentKind::Invoice,
            invoice_number: text("A00095678"),
            buyer: oasis_20_buyer(),
            seller: oasis_20_seller(),
            issue_date: text("2005-06-21"),
            // No cbc:DueDate: PaymentMeans/PaymentDueDate.
            due_date: Some(text("2005-07-21")),
            // No DocumentCurrencyCode: PayableAmount/@currencyID.
            currency: text("GBP"),
            amount: text("107.50"),
            order_reference: Some(text("AEG012345")),
            billing_reference: None,
        }
    );
}

#[test]
fn oasis_ubl_20_credit_note() {
    assert_eq!(
        accepted("oasis-UBL-CreditNote-2.0-Example.xml"),
        ImportRow {
            kind: DocumentKind::CreditNote,
            invoice_number: text("CN758494"),
            buyer: oasis_20_buyer(),
            seller: oasis_20_seller(),
            issue_date: text("2005-06-25"),
            due_date: None,
            currency: text("GBP"),
            amount: text("107.50"),
            order_reference: None,
            // Its BillingReference (A00095678) is inside the CreditNoteLine.
            billing_reference: None,
        }
    );
}

#[test]
fn oasis_ubl_21_invoice() {
    assert_eq!(
        accepted("oasis-UBL-Invoice-2.1-Example.xml"),
        ImportRow {
            kind: DocumentKind::Invoice,
            invoice_number: text("TOSL108"),
            buyer: vec![
                party(Some("GLN"), "1234567987654", "AccountingCustomerParty/Party/EndpointID"),
                party(
                    Some("ZZZ"),
                    "345KS5324",
                    "AccountingCustomerParty/Party/PartyIdentification/ID"
                ),
                // The CompanyID's own schemeID wins over TaxScheme/ID ("VAT").
                party(
                    Some("BEVAT"),
                    "BE54321",
                    "AccountingCustomerParty/Party/PartyTaxScheme/CompanyID"
                ),
                party(
                    Some("ZZZ"),
                    "5645342123",
                    "AccountingCustomerParty/Party/PartyLegalEntity/CompanyID"
                ),
            ],
            // Not the PayeeParty's ids.
            seller: vec![
                party(Some("GLN"), "1234567890123", "AccountingSupplierParty/Party/EndpointID"),
                party(
                    Some("ZZZ"),
                    "Supp123",
                    "AccountingSupplierParty/Party/PartyIdentification/ID"
                ),
                party(
                    Some("DKVAT"),
                    "DK12345",
                    "AccountingSupplierParty/Party/PartyTaxScheme/CompanyID"
                ),
                party(
                    Some("CVR"),
                    "5402697509",
                    "AccountingSupplierParty/Party/PartyLegalEntity/CompanyID"
                ),
            ],
            issue_date: text("2009-12-15"),
            due_date: Some(text("2009-12-31")),
            currency: text("EUR"),
            // PayableAmount, after the 1000 prepaid: not TaxInclusiveAmount (1729).
            amount: text("729"),
            order_reference: Some(text("123")),
            billing_reference: None,
        }
    );
}

#[test]
fn oasis_ubl_21_order() {
    assert_eq!(
        accepted("oasis-UBL-Order-2.1-Example.xml"),
        ImportRow {
            kind: DocumentKind::Order,
            invoice_number: text("34"),
            buyer: vec![
                party(Some("GLN"), "7300072311115", "BuyerCustomerParty/Party/EndpointID"),
                party(
                    Some("GLN"),
                    "7300070011115",
                    "BuyerCustomerParty/Party/PartyIdentification/ID"
                ),
                party(None, "PartyID123", "BuyerCustomerParty/Party/PartyIdentification/ID"),
                // TaxScheme/ID's text, not its schemeID attribute ("UN/ECE 5153").
                party(
                    Some("VAT"),
                    "SE1234567801",
                    "BuyerCustomerParty/Party/PartyTaxScheme/CompanyID"
                ),
                party(
                    Some("SE:ORGNR"),
                    "5532331183",
                    "BuyerCustomerParty/Party/PartyLegalEntity/CompanyID"
                ),
            ],
            // Not the OriginatorCustomerParty's nor the DeliveryParty's ids.
            seller: vec![
                party(Some("GLN"), "7302347231111", "SellerSupplierParty/Party/EndpointID"),
                party(
                    None,
                    "SellerPartyID123",
                    "SellerSupplierParty/Party/PartyIdentification/ID"
                ),
                party(
                    Some("SE:ORGNR"),
                    "5532332283",
                    "SellerSupplierParty/Party/PartyLegalEntity/CompanyID"
                ),
            ],
            issue_date: text("2010-01-20"),
            due_date: None,
            currency: text("SEK"),
            amount: text("6225"),
            order_reference: None,
            billing_reference: None,
        }
    );
}

#[test]
fn peppol_order() {
    assert_eq!(
        accepted("peppol-poacc-UC1_Order.xml"),
        ImportRow {
            kind: DocumentKind::Order,
            invoice_number: text("1"),
            buyer: vec![
                party(
                    Some("SE:ORGNR"),
                    "5541277711",
                    "BuyerCustomerParty/Party/PartyIdentification/ID"
                ),
                party(
                    Some("SE:ORGNR"),
                    "5541277711",
                    "BuyerCustomerParty/Party/PartyLegalEntity/CompanyID"
                ),
            ],
            seller: vec![party(
                Some("SE:ORGNR"),
                "5546577799",
                "SellerSupplierParty/Party/PartyIdentification/ID",
            )],
            issue_date: text("2013-07-01"),
            due_date: None,
            currency: text("EUR"),
            // AnticipatedMonetaryTotal/PayableAmount, not its LineExtensionAmount (115).
            amount: text("143.75"),
            order_reference: None,
            billing_reference: None,
        }
    );
}

#[test]
fn fixtures_batched_under_one_root_keep_their_order() {
    let names = [
        "peppol-bis3-base-example.xml",
        "oasis-UBL-CreditNote-2.0-Example.xml",
        "en16931-ubl-tc434-example9.xml",
        "peppol-poacc-UC1_Order.xml",
    ];
    let mut batch = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Batch>\n");
    for name in names {
        let document = String::from_utf8(fixture(name)).unwrap();
        // Each file's own XML declaration cannot stay inside the batch.
        let body = match document.split_once("?>") {
            Some((_, body)) if document.starts_with("<?xml") => body.to_owned(),
            _ => document,
        };
        batch.push_str(&body);
    }
    batch.push_str("</Batch>\n");
    let rows = parse(ImportFormat::Ubl, batch.as_bytes()).unwrap();
    let summary: Vec<(usize, Option<&str>, bool)> = rows
        .iter()
        .map(|row| {
            (
                row.location.number(),
                row.invoice_number.as_deref(),
                row.outcome.is_ok(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, Some("Snippet1"), true),
            (2, Some("CN758494"), true),
            (3, Some("20150483"), false),
            (4, Some("1"), true),
        ]
    );
}
