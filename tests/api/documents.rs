//! Documents that change what is owed (credit notes, corrected invoices),
//! purchase orders by upload, order references that name nothing
//! registered, form uploads, and what an upload leaves behind: its report
//! (JSON and CSV), a replay of the same bytes that decides nothing, and one
//! alert for the duplicates of an upload.

use anchorfin::store::schema::{alert_audiences, alerts};
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use serde_json::Value;

use crate::helpers::{assert_problem, TestApp};
use crate::lending::{bank, confirmed_asset, financed};
use crate::registry::{confirm, deal, registered, Deal};

crate::on_both_backends!(
    credit_notes_lower_what_is_owed_and_dilution_is_alerted,
    corrected_invoices_replace_only_unconfirmed_ones,
    the_same_upload_again_replays_its_report_and_duplicates_raise_one_alert,
    orders_by_upload_and_order_references_that_name_nothing_registered,
    form_uploads_are_read_like_raw_ones,
    peppol_documents_register_by_their_parties_identifiers,
    chinese_spreadsheets_in_gbk_with_semicolons_register_row_by_row,
    renumbered_invoices_raise_one_near_duplicate_alert_per_upload,
);

pub const SELLER: &str = "91440300MA5F000001";
pub const BUYER: &str = "91110000100000000X";

const NAMESPACES: &str = r#"xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2""#;

fn parties(seller_role: &str, buyer_role: &str) -> String {
    format!(
        "<cac:{seller_role}><cac:Party><cac:PartyLegalEntity><cbc:CompanyID>{SELLER}</cbc:CompanyID>\
         </cac:PartyLegalEntity></cac:Party></cac:{seller_role}>\
         <cac:{buyer_role}><cac:Party><cac:PartyLegalEntity><cbc:CompanyID>{BUYER}</cbc:CompanyID>\
         </cac:PartyLegalEntity></cac:Party></cac:{buyer_role}>"
    )
}

/// A UBL 2.1 invoice of `type_code` (380 invoice, 384 corrected invoice).
pub fn ubl_invoice(number: &str, type_code: &str, billing: Option<&str>, order: Option<&str>, amount: &str) -> String {
    let order = order.map_or(String::new(), |order| {
        format!("<cac:OrderReference><cbc:ID>{order}</cbc:ID></cac:OrderReference>")
    });
    let billing = billing.map_or(String::new(), |billing| {
        format!("<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{billing}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>")
    });
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" {NAMESPACES}>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-11-01</cbc:IssueDate>
  <cbc:DueDate>2027-03-31</cbc:DueDate>
  <cbc:InvoiceTypeCode>{type_code}</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>CNY</cbc:DocumentCurrencyCode>
  {order}{billing}{parties}
  <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="CNY">{amount}</cbc:PayableAmount></cac:LegalMonetaryTotal>
</Invoice>"#,
        parties = parties("AccountingSupplierParty", "AccountingCustomerParty"),
    )
}

/// A UBL 2.1 credit note crediting invoice `invoice`.
pub fn ubl_credit_note(number: &str, invoice: &str, amount: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2" {NAMESPACES}>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-11-20</cbc:IssueDate>
  <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>
  <cbc:DocumentCurrencyCode>CNY</cbc:DocumentCurrencyCode>
  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{invoice}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>
  {parties}
  <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="CNY">{amount}</cbc:PayableAmount></cac:LegalMonetaryTotal>
</CreditNote>"#,
        parties = parties("AccountingSupplierParty", "AccountingCustomerParty"),
    )
}

/// A UBL 2.1 order the buyer placed with the supplier.
fn ubl_order(number: &str, amount: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2" {NAMESPACES}>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-10-01</cbc:IssueDate>
  <cbc:DocumentCurrencyCode>CNY</cbc:DocumentCurrencyCode>
  {parties}
  <cac:AnticipatedMonetaryTotal><cbc:PayableAmount currencyID="CNY">{amount}</cbc:PayableAmount></cac:AnticipatedMonetaryTotal>
</Order>"#,
        parties = parties("SellerSupplierParty", "BuyerCustomerParty"),
    )
}

/// Uploads `body` as `content_type` with the supplier's key; the report.
pub async fn upload(app: &TestApp, api_key: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Value {
    let response = app
        .client
        .post(app.url("/v1/receivables/import"))
        .bearer_auth(api_key)
        .header("Content-Type", content_type)
        .body(body.into())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "upload");
    response.json().await.unwrap()
}

/// The single row of a one-document upload.
fn only(report: &Value) -> &Value {
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{report}");
    &results[0]
}

/// Kinds, parties told, and facts of the alerts of `kind`.
async fn alerts_of(app: &TestApp, kind: &'static str) -> Vec<(String, Option<String>, Value, Vec<String>)> {
    app.query(move |connection| {
        let rows: Vec<(String, Option<String>, String)> = alerts::table
            .filter(alerts::kind.eq(kind))
            .order(alerts::created_at)
            .select((alerts::id, alerts::existing_party_id, alerts::details))
            .load(connection)?;
        rows.into_iter()
            .map(|(id, existing, details)| {
                let told: Vec<String> = alert_audiences::table
                    .filter(alert_audiences::alert_id.eq(&id))
                    .select(alert_audiences::organization_id)
                    .load(connection)?;
                Ok((id, existing, serde_json::from_str(&details).unwrap(), told))
            })
            .collect()
    })
    .await
}

async fn credit_notes_lower_what_is_owed_and_dilution_is_alerted(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);

    // Before confirmation: no alert, and the buyer confirms what is owed.
    let open = registered(&app, &deal, "INV-CN-OPEN", "500.00").await;
    let row = only(
        &upload(
            &app,
            &supplier,
            "application/xml",
            ubl_credit_note("CN-OPEN", "INV-CN-OPEN", "100.00"),
        )
        .await,
    )
    .clone();
    assert_eq!(row["status"], "created", "{row}");
    assert_eq!(row["kind"], "credit_note");
    assert_eq!(row["receivable_id"], open["id"]);
    let shown = app
        .get_json(
            &format!("/v1/receivables/{}", open["id"].as_str().unwrap()),
            Some(&supplier),
        )
        .await;
    assert_eq!(
        (
            shown["amount"].as_str(),
            shown["credited"].as_str(),
            shown["outstanding"].as_str()
        ),
        (Some("500.00"), Some("100.00"), Some("400.00"))
    );
    // The buyer signs what is owed, not the invoice's face amount.
    let mut stale = shown.clone();
    assert_problem(confirm(&app, &deal, &stale).await, 422, "invalid_signature").await;
    stale["amount"] = shown["outstanding"].clone();
    let confirmed: Value = confirm(&app, &deal, &stale).await.json().await.unwrap();
    let asset = app
        .get_json(
            &format!("/v1/assets/{}", confirmed["asset_id"].as_str().unwrap()),
            Some(&supplier),
        )
        .await;
    assert_eq!(asset["face_value"], "400.00", "{asset}");
    assert!(alerts_of(&app, "dilution").await.is_empty());

    // After confirmation and financing: the lienholder and the operator are told.
    let asset = confirmed_asset(&app, &deal, "INV-CN-1", "1000.00").await;
    let lender = bank(&app, "Bank Dilute", 41).await;
    financed(&app, &deal, &lender, &asset, "800.00").await;
    let mark = app.ledger_mark().await;
    let row = only(
        &upload(
            &app,
            &supplier,
            "application/xml",
            ubl_credit_note("CN-1", "INV-CN-1", "200.00"),
        )
        .await,
    )
    .clone();
    assert_eq!(row["status"], "created", "{row}");
    let receivable = app
        .get_json(
            &format!("/v1/receivables/{}", row["receivable_id"].as_str().unwrap()),
            Some(&supplier),
        )
        .await;
    assert_eq!(receivable["outstanding"], "800.00");
    let kinds = app.kinds_since(mark).await;
    assert!(
        kinds.contains(&"credit_note_recorded".to_owned()) && kinds.contains(&"alert_raised".to_owned()),
        "{kinds:?}"
    );
    let dilutions = alerts_of(&app, "dilution").await;
    assert_eq!(dilutions.len(), 1, "{dilutions:?}");
    let (_, existing, details, told) = &dilutions[0];
    assert_eq!(existing.as_deref(), Some(lender.id().as_str()));
    assert_eq!(details["outstanding_before"], "1000.00");
    assert_eq!(details["outstanding_after"], "800.00");
    assert!(
        told.contains(&lender.id()) && told.contains(&app.operator_id),
        "{told:?}"
    );

    // More than is owed, an invoice that is not registered, the same credit note again.
    let refused = upload(
        &app,
        &supplier,
        "application/xml",
        ubl_credit_note("CN-2", "INV-CN-1", "800.01"),
    )
    .await;
    assert_eq!(only(&refused)["code"], "exceeds_outstanding", "{refused}");
    let refused = upload(
        &app,
        &supplier,
        "application/xml",
        ubl_credit_note("CN-3", "INV-NOWHERE", "1.00"),
    )
    .await;
    assert_eq!(
        (only(&refused)["code"].as_str(), only(&refused)["field"].as_str()),
        (Some("invalid_field"), Some("billing_reference")),
        "{refused}"
    );
    let again = format!("{}\n", ubl_credit_note("CN-1", "INV-CN-1", "200.00"));
    let refused = upload(&app, &supplier, "application/xml", again).await;
    assert_eq!(only(&refused)["code"], "duplicate_registration", "{refused}");
    assert_eq!(only(&refused)["id"], row["id"]);
    let receivable = app
        .get_json(
            &format!("/v1/receivables/{}", row["receivable_id"].as_str().unwrap()),
            Some(&supplier),
        )
        .await;
    assert_eq!(receivable["outstanding"], "800.00", "refusals change nothing");

    // Another supplier cannot dilute this invoice: not with a credit note
    // in its own name (it names no invoice of its own), nor with one that
    // claims to come from this invoice's seller.
    let stranger = Deal::key(&deal.second_supplier);
    let own_name = format!(
        "invoice_number,buyer_legal_id,issue_date,currency,amount,document_type,billing_reference\n\
         CN-X,{BUYER},2026-11-20,CNY,10.00,credit_note,INV-CN-1\n"
    );
    let refused = upload(&app, &stranger, "text/csv", own_name).await;
    assert_eq!(
        (only(&refused)["code"].as_str(), only(&refused)["field"].as_str()),
        (Some("invalid_field"), Some("billing_reference")),
        "{refused}"
    );
    let refused = upload(
        &app,
        &stranger,
        "application/xml",
        ubl_credit_note("CN-Y", "INV-CN-1", "10.00"),
    )
    .await;
    assert_eq!(
        (only(&refused)["code"].as_str(), only(&refused)["field"].as_str()),
        (Some("invalid_field"), Some("seller")),
        "{refused}"
    );
    let receivable = app
        .get_json(
            &format!("/v1/receivables/{}", row["receivable_id"].as_str().unwrap()),
            Some(&supplier),
        )
        .await;
    assert_eq!(
        receivable["outstanding"], "800.00",
        "a stranger's credit notes change nothing"
    );
}

async fn corrected_invoices_replace_only_unconfirmed_ones(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);

    let original = registered(&app, &deal, "INV-OR-1", "700.00").await;
    let row = only(
        &upload(
            &app,
            &supplier,
            "application/xml",
            ubl_invoice("INV-OR-1C", "384", Some("INV-OR-1"), None, "650.00"),
        )
        .await,
    )
    .clone();
    assert_eq!(
        (row["status"].as_str(), row["kind"].as_str()),
        (Some("created"), Some("corrected_invoice")),
        "{row}"
    );
    assert_eq!(row["receivable_id"], original["id"]);
    let replaced = app
        .get_json(
            &format!("/v1/receivables/{}", original["id"].as_str().unwrap()),
            Some(&supplier),
        )
        .await;
    assert_eq!(replaced["superseded_by"], row["id"]);
    assert_problem(confirm(&app, &deal, &replaced).await, 409, "superseded").await;
    // Replaced once: a second correction of the same original is refused.
    let again = upload(
        &app,
        &supplier,
        "application/xml",
        ubl_invoice("INV-OR-1D", "384", Some("INV-OR-1"), None, "640.00"),
    )
    .await;
    assert_eq!(only(&again)["code"], "superseded", "{again}");

    // Confirmed: the original stands, the attempt is alerted.
    confirmed_asset(&app, &deal, "INV-OR-2", "300.00").await;
    let refused = upload(
        &app,
        &supplier,
        "application/xml",
        ubl_invoice("INV-OR-2C", "384", Some("INV-OR-2"), None, "290.00"),
    )
    .await;
    assert_eq!(only(&refused)["code"], "original_confirmed", "{refused}");
    let late = alerts_of(&app, "late_correction").await;
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0].2["corrected_invoice_number"], "INV-OR-2C");
    // The refused correction was not registered.
    let retry = upload(
        &app,
        &supplier,
        "application/xml",
        ubl_invoice("INV-OR-2C", "380", None, None, "290.00"),
    )
    .await;
    assert_eq!(only(&retry)["status"], "created", "{retry}");
}

pub fn csv(rows: &[(&str, &str)]) -> String {
    let mut text = String::from("invoice_number,buyer_legal_id,issue_date,due_date,currency,amount,po_number\n");
    for (number, amount) in rows {
        text.push_str(&format!("{number},{BUYER},2026-11-01,2027-03-31,CNY,{amount},\n"));
    }
    text
}

async fn the_same_upload_again_replays_its_report_and_duplicates_raise_one_alert(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let file = csv(&[("INV-RU-1", "10.00"), ("INV-RU-2", "20.00"), ("INV-RU-3", "30.00")]);
    let first = upload(&app, &supplier, "text/csv", file.clone()).await;
    assert_eq!(
        (first["created"].as_u64(), first["replayed"].as_bool()),
        (Some(3), Some(false)),
        "{first}"
    );
    let lines: Vec<u64> = first["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3, 4], "spreadsheet lines, the header being line 1");

    let mark = app.ledger_mark().await;
    let replay = upload(&app, &supplier, "text/csv", file).await;
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["upload_id"], first["upload_id"]);
    assert_eq!(replay["results"], first["results"]);
    assert!(app.kinds_since(mark).await.is_empty(), "a replay decides nothing");
    assert!(alerts_of(&app, "duplicate_registration").await.is_empty());

    // Other bytes: two invoices registered before, one twice in the file.
    let file = csv(&[
        ("INV-RU-1", "10.00"),
        ("INV-RU-4", "40.00"),
        ("inv ru 4", "40.00"),
        ("INV-RU-2", "20.00"),
    ]);
    let second = upload(&app, &supplier, "text/csv", file).await;
    assert_eq!(
        (second["created"].as_u64(), second["rejected"].as_u64()),
        (Some(1), Some(3)),
        "{second}"
    );
    let codes: Vec<&str> = second["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["code"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        codes,
        [
            "duplicate_registration",
            "-",
            "duplicate_registration",
            "duplicate_registration"
        ]
    );
    assert_eq!(
        second["results"][0]["id"], first["results"][0]["id"],
        "the supplier learns its own receivable"
    );
    let raised = alerts_of(&app, "duplicate_registration").await;
    assert_eq!(raised.len(), 1, "one alert for the upload: {raised:?}");
    let facts = &raised[0].2;
    assert_eq!(facts["count"], 3);
    assert_eq!(facts["upload_id"], second["upload_id"]);
    let listed: Vec<&str> = facts["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["invoice_number"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["INV-RU-1", "inv ru 4", "INV-RU-2"]);

    // The report again, as JSON and as CSV; to no one else.
    let id = second["upload_id"].as_str().unwrap();
    let shown = app.get_json(&format!("/v1/uploads/{id}"), Some(&supplier)).await;
    assert_eq!(shown["results"], second["results"]);
    let response = app.get(&format!("/v1/uploads/{id}/report.csv"), Some(&supplier)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with("row,line,document,path,kind,invoice_number,status,code,field,value,detail"));
    assert!(
        lines[1].starts_with("2,2,,,invoice,INV-RU-1,rejected,duplicate_registration,"),
        "{text}"
    );
    // Two uploads of the same new file at once: one decides, the other
    // replays its report.
    let file = csv(&[("INV-RU-9", "9.00")]);
    let (one, two) = tokio::join!(
        upload(&app, &supplier, "text/csv", file.clone()),
        upload(&app, &supplier, "text/csv", file.clone())
    );
    assert_eq!(one["upload_id"], two["upload_id"], "{one} {two}");
    let replays = [&one, &two].iter().filter(|report| report["replayed"] == true).count();
    assert_eq!(replays, 1);
    assert_eq!(one["results"], two["results"]);

    // A file refused as a whole leaves nothing behind: the same bytes are
    // refused again, not replayed.
    let numbers: Vec<String> = (0..100_001).map(|i| format!("INV-BIG-{i}")).collect();
    let rows: Vec<(&str, &str)> = numbers.iter().map(|number| (number.as_str(), "1.00")).collect();
    let big = csv(&rows);
    for _ in 0..2 {
        let response = app
            .client
            .post(app.url("/v1/receivables/import"))
            .bearer_auth(&supplier)
            .header("Content-Type", "text/csv")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_problem(response, 413, "too_many_rows").await;
    }

    let other = Deal::key(&deal.second_supplier);
    assert_problem(
        app.get(&format!("/v1/uploads/{id}"), Some(&other)).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/v1/uploads/{id}/report.csv"), Some(&other)).await,
        404,
        "not_found",
    )
    .await;
}

async fn orders_by_upload_and_order_references_that_name_nothing_registered(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let row = only(&upload(&app, &supplier, "application/xml", ubl_order("PO-UP-1", "5000.00")).await).clone();
    assert_eq!(
        (row["status"].as_str(), row["kind"].as_str()),
        (Some("created"), Some("purchase_order")),
        "{row}"
    );
    let order = app
        .get_json(
            &format!("/v1/purchase-orders/{}", row["id"].as_str().unwrap()),
            Some(&supplier),
        )
        .await;
    assert_eq!(
        (order["po_number"].as_str(), order["amount"].as_str()),
        (Some("PO-UP-1"), Some("5000.00")),
        "{order}"
    );

    // An invoice naming it is linked; one naming an unknown order keeps
    // the reference, unlinked; Peppol's "NA" names no order at all.
    let linked = only(
        &upload(
            &app,
            &supplier,
            "application/xml",
            ubl_invoice("INV-PO-1", "380", None, Some("po up 1"), "100.00"),
        )
        .await,
    )
    .clone();
    assert_eq!(
        (linked["status"].as_str(), linked.get("note")),
        (Some("created"), None),
        "{linked}"
    );
    let shown = app
        .get_json(
            &format!("/v1/receivables/{}", linked["id"].as_str().unwrap()),
            Some(&supplier),
        )
        .await;
    assert_eq!(shown["purchase_order_id"], row["id"]);
    let unlinked = only(
        &upload(
            &app,
            &supplier,
            "application/xml",
            ubl_invoice("INV-PO-2", "380", None, Some("PO-ELSEWHERE-9"), "100.00"),
        )
        .await,
    )
    .clone();
    assert_eq!(
        (unlinked["status"].as_str(), unlinked["note"].as_str()),
        (Some("created"), Some("not_linked")),
        "{unlinked}"
    );
    let shown = app
        .get_json(
            &format!("/v1/receivables/{}", unlinked["id"].as_str().unwrap()),
            Some(&supplier),
        )
        .await;
    assert_eq!(
        (shown["purchase_order_id"].clone(), shown["order_reference"].as_str()),
        (Value::Null, Some("PO-ELSEWHERE-9"))
    );
    let none = only(
        &upload(
            &app,
            &supplier,
            "application/xml",
            ubl_invoice("INV-PO-3", "380", None, Some("NA"), "100.00"),
        )
        .await,
    )
    .clone();
    assert_eq!(
        (none["status"].as_str(), none.get("note")),
        (Some("created"), None),
        "{none}"
    );
    // The same order again is a duplicate.
    let again = upload(
        &app,
        &supplier,
        "application/xml",
        format!("{}\n", ubl_order("PO-UP-1", "5000.00")),
    )
    .await;
    assert_eq!(only(&again)["code"], "duplicate_registration", "{again}");
}

async fn form_uploads_are_read_like_raw_ones(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let boundary = "----anchorfin-test-boundary";
    let file = csv(&[("INV-FORM-1", "12.50")]);
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nnot the file\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"invoices.csv\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{file}\r\n--{boundary}--\r\n"
    );
    let report = upload(
        &app,
        &supplier,
        &format!("multipart/form-data; boundary={boundary}"),
        body,
    )
    .await;
    assert_eq!(only(&report)["status"], "created", "{report}");
    assert_eq!(only(&report)["invoice_number"], "INV-FORM-1");

    // A form without a file, and a body of no accepted kind.
    let body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n--{boundary}--\r\n");
    let response = app
        .client
        .post(app.url("/v1/receivables/import"))
        .bearer_auth(&supplier)
        .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = app
        .client
        .post(app.url("/v1/receivables/import"))
        .bearer_auth(&supplier)
        .header("Content-Type", "image/png")
        .body(vec![0x89, b'P', b'N', b'G'])
        .send()
        .await
        .unwrap();
    assert_problem(response, 415, "unsupported_media_type").await;
}

/// Onboards an organisation with identifiers; its answer.
async fn org_with(app: &TestApp, name: &str, role: &str, legal_id: &str, identifiers: &[(&str, &str)]) -> Value {
    let identifiers: Vec<Value> = identifiers
        .iter()
        .map(|(scheme, value)| serde_json::json!({"scheme": scheme, "value": value}))
        .collect();
    let response = app
        .post_json(
            "/v1/orgs",
            Some(&app.operator_key),
            &serde_json::json!({"name": name, "role": role, "legal_id": legal_id, "identifiers": identifiers}),
        )
        .await;
    assert_eq!(response.status(), 201, "onboard {name}");
    response.json().await.unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/ubl/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The public Peppol BIS Billing 3.0 example invoice and its credit note,
/// unchanged: the seller is known by its GLN endpoint and legal id, the
/// buyer by its VAT number and its ICD 0002 endpoint, none of them the
/// buyer's legal id.
async fn peppol_documents_register_by_their_parties_identifiers(app: TestApp) {
    let seller = org_with(
        &app,
        "SellerCompany",
        "supplier",
        "GB983294",
        &[("0088", "9482348239847239874")],
    )
    .await;
    let buyer = org_with(
        &app,
        "Buyer",
        "core_enterprise",
        "SE-ORG-556",
        &[("VAT", "SE4598375937"), ("0002", "FR23342")],
    )
    .await;
    let key = seller["api_key"].as_str().unwrap().to_owned();

    let row = only(&upload(&app, &key, "application/xml", fixture("peppol-bis3-base-example.xml")).await).clone();
    assert_eq!(
        (row["status"].as_str(), row["kind"].as_str()),
        (Some("created"), Some("invoice")),
        "{row}"
    );
    let receivable = app
        .get_json(&format!("/v1/receivables/{}", row["id"].as_str().unwrap()), Some(&key))
        .await;
    assert_eq!(receivable["invoice_number"], "Snippet1");
    assert_eq!(receivable["buyer_id"], buyer["id"]);
    assert_eq!(
        (receivable["amount"].as_str(), receivable["currency"].as_str()),
        (Some("1656.25"), Some("EUR"))
    );
    assert_eq!(
        (receivable["issue_date"].as_str(), receivable["due_date"].as_str()),
        (Some("2017-11-13"), Some("2017-12-01"))
    );

    // Its credit note (same number: a credit note is not an invoice) credits it whole.
    let row = only(
        &upload(
            &app,
            &key,
            "application/xml",
            fixture("peppol-bis3-base-creditnote-correction.xml"),
        )
        .await,
    )
    .clone();
    assert_eq!(
        (row["status"].as_str(), row["kind"].as_str()),
        (Some("created"), Some("credit_note")),
        "{row}"
    );
    let credited = app
        .get_json(
            &format!("/v1/receivables/{}", receivable["id"].as_str().unwrap()),
            Some(&key),
        )
        .await;
    assert_eq!(credited["outstanding"], "0.00");

    // Once another organisation's legal id is one of the buyer's
    // identifiers, the buyer is ambiguous: refused, never guessed.
    org_with(&app, "Lookalike", "core_enterprise", "FR23342", &[]).await;
    let renumbered = String::from_utf8(fixture("peppol-bis3-base-example.xml"))
        .unwrap()
        .replace("Snippet1", "Snippet2");
    let refused = only(&upload(&app, &key, "application/xml", renumbered).await).clone();
    assert_eq!(refused["code"], "invalid_field", "{refused}");
    assert!(
        refused["field"]
            .as_str()
            .unwrap()
            .starts_with("AccountingCustomerParty/"),
        "{refused}"
    );
    assert!(
        refused["detail"].as_str().unwrap().contains("different organisations"),
        "{refused}"
    );
    assert_eq!(refused["document"], 1);
}

/// What Excel on Chinese Windows writes: GBK, semicolons, Chinese header
/// names and dates; a line break inside a quoted amount and a quote never
/// closed are reported at their lines, not merged into other invoices.
async fn chinese_spreadsheets_in_gbk_with_semicolons_register_row_by_row(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let text = format!(
        "发票号码;买方统一社会信用代码;开票日期;到期日;币种;价税合计\r\n\
         INV-GBK-1;{BUYER};2026年11月1日;2027/3/31;人民币;1234.50\r\n\
         \r\n\
         INV-GBK-2;{BUYER};2026-11-01;2027-03-31;CNY;\"12\r\n34\"\r\n\
         INV-GBK-3;\"{BUYER};2026-11-01;2027-03-31;CNY;1.00\r\n\
         INV-GBK-4;{BUYER};2026-11-01;2027-03-31;CNY;2.00\r\n"
    );
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let report = upload(&app, &supplier, "text/csv", bytes.into_owned()).await;
    let results = report["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "created", "{report}");
    assert_eq!(results[0]["line"], 2);
    let receivable = app
        .get_json(
            &format!("/v1/receivables/{}", results[0]["id"].as_str().unwrap()),
            Some(&supplier),
        )
        .await;
    assert_eq!(
        (receivable["amount"].as_str(), receivable["currency"].as_str()),
        (Some("1234.50"), Some("CNY"))
    );
    assert_eq!(
        (receivable["issue_date"].as_str(), receivable["due_date"].as_str()),
        (Some("2026-11-01"), Some("2027-03-31"))
    );
    assert_eq!(
        (results[1]["line"].as_u64(), results[1]["code"].as_str()),
        (Some(4), Some("control_character")),
        "{report}"
    );
    assert_eq!(results[1]["invoice_number"], "INV-GBK-2");
    assert_eq!(
        (results[2]["line"].as_u64(), results[2]["code"].as_str()),
        (Some(6), Some("unclosed_quote")),
        "{report}"
    );
    assert_eq!(
        report["created"], 1,
        "no other row is made of pieces of these: {report}"
    );
}

async fn renumbered_invoices_raise_one_near_duplicate_alert_per_upload(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let first = upload(
        &app,
        &supplier,
        "text/csv",
        csv(&[("INV-ND-1", "10.00"), ("INV-ND-2", "20.00"), ("INV-ND-3", "30.00")]),
    )
    .await;
    assert_eq!(first["created"], 3);
    assert!(alerts_of(&app, "near_duplicate_registration").await.is_empty());

    // The same invoices under new numbers (and one that looks like none).
    let second = upload(
        &app,
        &supplier,
        "text/csv",
        csv(&[
            ("INV-ND-1B", "10.00"),
            ("INV-ND-2B", "20.00"),
            ("INV-ND-4", "40.00"),
            ("INV-ND-3B", "30.00"),
        ]),
    )
    .await;
    assert_eq!(second["created"], 4, "near duplicates are registered: {second}");
    let earlier: Vec<Value> = second["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["near_duplicate_of"].clone())
        .collect();
    let ids: Vec<Value> = first["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["id"].clone())
        .collect();
    assert_eq!(earlier, [ids[0].clone(), ids[1].clone(), Value::Null, ids[2].clone()]);

    let raised = alerts_of(&app, "near_duplicate_registration").await;
    assert_eq!(raised.len(), 1, "one alert for the upload, not one per row: {raised:?}");
    let facts = &raised[0].2;
    assert_eq!(
        (facts["count"].as_u64(), facts["upload_id"].as_str()),
        (Some(3), second["upload_id"].as_str())
    );
    let listed: Vec<(&str, &Value)> = facts["near_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["invoice_number"].as_str().unwrap(), &row["earlier_receivable_id"]))
        .collect();
    assert_eq!(
        listed,
        [("INV-ND-1B", &ids[0]), ("INV-ND-2B", &ids[1]), ("INV-ND-3B", &ids[2])]
    );
}
