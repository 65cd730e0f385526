//! Every JSON request body, parsed as its handler parses it: serde (errors
//! naming the field), then the domain types, up to the first database read.
//!
//! Input: one byte choosing the body, one byte for the `Idempotency-Key`
//! header (0: none; 255: a valid key; n: the next n bytes), then the body.
//!
//! Properties: it never panics; a failure is a client error (400
//! `malformed_body` or 422 `invalid_field`, never a 500), and a body that is
//! valid JSON is never called malformed; a field error carries no parser
//! position, and names an unknown or missing field of the body as sent; the result depends on the JSON value, not
//! on its spelling (whitespace, key order, escapes), request hashes
//! included; and a parsed body written back in its canonical form (every
//! value as the domain type writes it) parses to the same values.

#![no_main]

use anchorfin::api::error::ApiError;
use anchorfin::fuzzing::{parse_body, Body, Parsed};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use uuid::Uuid;

fuzz_target!(|data: &[u8]| {
    let [selector, key_length, rest @ ..] = data else {
        return;
    };
    let body = Body::ALL[usize::from(*selector) % Body::ALL.len()];
    let (key, bytes): (Option<&[u8]>, &[u8]) = match usize::from(*key_length) {
        0 => (None, rest),
        255 => (Some(b"fuzz-key-0001"), rest),
        length => {
            let length = length.min(rest.len());
            (Some(&rest[..length]), &rest[length..])
        }
    };
    let value = serde_json::from_slice::<Value>(bytes).ok();
    let parsed = match parse_body(body, bytes, key) {
        Ok(parsed) => parsed,
        Err(error) => return check_error(&error, value.as_ref()),
    };
    let Some(value) = value else {
        panic!("{body:?} accepted a body that is not JSON")
    };

    // Another spelling of the same JSON value parses to the same thing.
    let respelled = serde_json::to_vec_pretty(&value).expect("a value serialises");
    let again = parse_body(body, &respelled, key).unwrap_or_else(|error| panic!("{body:?}, respelled: {error}"));
    assert_eq!(
        format!("{parsed:?}"),
        format!("{again:?}"),
        "{body:?}: the spelling changed the result"
    );

    // The canonical form parses to the same values (request hashes aside:
    // they cover the body as sent).
    let canonical = serde_json::to_vec(&canonical(&parsed)).expect("a value serialises");
    let again = parse_body(body, &canonical, key).unwrap_or_else(|error| {
        panic!(
            "{body:?}, canonical form {}: {error}",
            String::from_utf8_lossy(&canonical)
        )
    });
    assert_eq!(
        comparable(&parsed),
        comparable(&again),
        "{body:?}: the canonical form {} parses differently",
        String::from_utf8_lossy(&canonical)
    );
});

/// `value` is the body as JSON, when it is JSON.
fn check_error(error: &ApiError, value: Option<&Value>) {
    // Only these two (400 and 422) may answer a body that does not parse.
    match error {
        ApiError::MalformedBody(detail) => {
            assert!(value.is_none(), "valid JSON called malformed: {detail}");
        }
        ApiError::InvalidField { field, detail } => {
            assert!(!detail.is_empty(), "{error:?}");
            assert!(!detail.contains(" at line "), "a parser position leaked: {detail}");
            // A field of the body itself (not nested) is named as sent:
            // an unknown one is among the body's keys, a missing one not.
            let keys = value.and_then(Value::as_object);
            if let Some(keys) = keys.filter(|_| !field.contains(['.', '['])) {
                if detail.starts_with("unknown field") {
                    assert!(keys.contains_key(field), "unknown field {field:?} is not in the body");
                }
                if detail.starts_with("missing field") {
                    assert!(!keys.contains_key(field), "missing field {field:?} is in the body");
                }
            }
        }
        other => panic!("a body parse failed with {other:?}"),
    }
}

fn id(id: &Uuid) -> Value {
    Value::String(id.to_string())
}

fn date(date: &chrono::NaiveDate) -> Value {
    Value::String(date.format("%Y-%m-%d").to_string())
}

fn subject(subject: &anchorfin::domain::Subject, body: &mut Map<String, Value>) {
    let (name, value) = match subject {
        anchorfin::domain::Subject::Asset(asset) => ("asset_id", asset),
        anchorfin::domain::Subject::PurchaseOrder(order) => ("purchase_order_id", order),
    };
    body.insert(name.to_owned(), id(value));
}

/// The body that says the same in each value's canonical spelling.
fn canonical(parsed: &Parsed) -> Value {
    match parsed {
        Parsed::Organization(organization) => json!({
            "name": organization.name.as_str(),
            "role": organization.role.as_str(),
            "legal_id": organization.legal_id.as_str(),
            "public_keys": organization.public_keys.iter().map(|key| key.to_hex()).collect::<Vec<_>>(),
            "risk_emails": organization.risk_emails.iter().map(|email| email.as_str()).collect::<Vec<_>>(),
        }),
        Parsed::Receivable(receivable) => {
            let mut body = json!({
                "buyer_id": id(&receivable.buyer_id),
                "invoice_number": receivable.invoice_number.as_str(),
                "issue_date": date(&receivable.issue_date),
                "due_date": date(&receivable.due_date),
                "currency": receivable.amount.currency().code(),
                "amount": receivable.amount.amount_string(),
            });
            if let Some(order) = &receivable.purchase_order_id {
                body["purchase_order_id"] = id(order);
            }
            body
        }
        Parsed::PurchaseOrder(order) => json!({
            "buyer_id": id(&order.buyer_id),
            "po_number": order.po_number.as_str(),
            "issue_date": date(&order.issue_date),
            "currency": order.amount.currency().code(),
            "amount": order.amount.amount_string(),
        }),
        Parsed::Signature(signature) => json!({ "signature": signature.to_hex() }),
        Parsed::Dispute(reason, signature) => json!({ "reason": reason.as_str(), "signature": signature.to_hex() }),
        Parsed::Split(parts) => json!({
            "parts": parts
                .iter()
                .map(|part| match &part.transfer_to {
                    Some(to) => json!({ "amount": part.amount, "transfer_to": id(to) }),
                    None => json!({ "amount": part.amount }),
                })
                .collect::<Vec<_>>(),
        }),
        Parsed::Offer(offer) => {
            let mut body = Map::new();
            subject(&offer.subject, &mut body);
            body.insert("bank_id".to_owned(), id(&offer.bank_id));
            body.insert("kind".to_owned(), json!(offer.kind.as_str()));
            body.insert("amount".to_owned(), json!(offer.amount));
            body.insert("currency".to_owned(), json!(offer.currency.code()));
            body.insert("expires_at".to_owned(), json!(offer.expires_at.to_string()));
            body.insert("signature".to_owned(), json!(offer.signature.to_hex()));
            Value::Object(body)
        }
        Parsed::Finance(finance) => {
            let mut body = Map::new();
            body.insert("offer_id".to_owned(), id(&finance.offer));
            subject(&finance.subject, &mut body);
            body.insert("amount".to_owned(), json!(finance.amount));
            body.insert("signature".to_owned(), json!(finance.signature.to_hex()));
            Value::Object(body)
        }
        Parsed::Receipt { amount, signature } => json!({ "amount": amount, "signature": signature.to_hex() }),
        Parsed::LoanRecord(record) => json!({
            "amount": record.amount,
            "value_date": date(&record.value_date),
            "reference": record.reference.as_str(),
            "signature": record.signature.to_hex(),
        }),
        Parsed::Payment(payment) => json!({
            "amount": payment.amount,
            "paid_on": date(&payment.paid_on),
            "signature": payment.signature.to_hex(),
        }),
    }
}

/// The parsed values, request hashes left out.
fn comparable(parsed: &Parsed) -> String {
    match parsed {
        Parsed::Offer(offer) => format!(
            "{:?}",
            anchorfin::lending::OfferRequest {
                request_hash: [0; 32],
                ..offer.clone()
            }
        ),
        Parsed::Finance(finance) => {
            format!(
                "{:?}",
                anchorfin::lending::FinanceRequest {
                    request_hash: [0; 32],
                    ..finance.clone()
                }
            )
        }
        Parsed::LoanRecord(record) => {
            format!(
                "{:?}",
                anchorfin::lending::LoanRecordRequest {
                    request_hash: [0; 32],
                    ..record.clone()
                }
            )
        }
        Parsed::Payment(payment) => {
            format!(
                "{:?}",
                anchorfin::lending::Payment {
                    request_hash: [0; 32],
                    ..payment.clone()
                }
            )
        }
        other => format!("{other:?}"),
    }
}
