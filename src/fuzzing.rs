//! Entry points for the `cargo fuzz` targets in `fuzz/` (run by
//! `scripts/fuzz.sh`): parsers that are private to their handler or module,
//! reached without a server or a database. Hidden from the docs and not an
//! API: only `fuzz/` calls it.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::test::TestRequest;
use uuid::Uuid;

use crate::api::error::ApiError;
use crate::api::{assets, json, lending as lending_api, offers, purchase_orders, receivables};
use crate::domain::Signature;
use crate::ledger::{Checkpoint, CheckpointError};
use crate::lending::{FinanceRequest, LienKind, LoanRecordKind, LoanRecordRequest, OfferRequest, Payment};
use crate::organizations::{NewOrganization, OrganizationRequest};
use crate::registry::{DisputeReason, NewPurchaseOrder, NewReceivable, SplitPart};

/// Parses a checkpoint's note text, as [`crate::ledger::open_checkpoint`]
/// does once the signature has verified.
pub fn checkpoint_text(text: &str) -> Result<Checkpoint, CheckpointError> {
    Checkpoint::parse(text)
}

/// Every JSON request body the API reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Organization,
    Receivable,
    PurchaseOrder,
    PurchaseOrderAcknowledgement,
    Confirmation,
    Dispute,
    Split,
    Offer,
    Withdrawal,
    Pledge,
    Assignment,
    Receipt,
    Disbursement,
    Repayment,
    Payment,
}

impl Body {
    pub const ALL: [Body; 15] = [
        Body::Organization,
        Body::Receivable,
        Body::PurchaseOrder,
        Body::PurchaseOrderAcknowledgement,
        Body::Confirmation,
        Body::Dispute,
        Body::Split,
        Body::Offer,
        Body::Withdrawal,
        Body::Pledge,
        Body::Assignment,
        Body::Receipt,
        Body::Disbursement,
        Body::Repayment,
        Body::Payment,
    ];
}

/// A body as its handler holds it once parsed, before any database read.
#[derive(Debug)]
pub enum Parsed {
    Organization(NewOrganization),
    Receivable(NewReceivable),
    PurchaseOrder(NewPurchaseOrder),
    /// Acknowledgement, confirmation and withdrawal carry only a signature.
    Signature(Signature),
    Dispute(DisputeReason, Signature),
    Split(Vec<SplitPart>),
    Offer(OfferRequest),
    Finance(FinanceRequest),
    Receipt {
        amount: String,
        signature: Signature,
    },
    LoanRecord(LoanRecordRequest),
    Payment(Payment),
}

/// The `{id}` in the path of the routes whose request hash includes it.
pub const PATH_ID: Uuid = Uuid::from_u128(0x0b9e_5a4c_8d1f_4a57_9a3e_2f6c_1d7e_8b90);

/// Parses `bytes` as the handler of `body` does: JSON whose failures name
/// the field, then domain types. `idempotency_key` is the raw value of the
/// request's `Idempotency-Key` header; a value no HTTP request can carry (a
/// control character) is left out, like an absent header.
pub fn parse_body(body: Body, bytes: &[u8], idempotency_key: Option<&[u8]>) -> Result<Parsed, ApiError> {
    let mut request = TestRequest::default();
    if let Some(value) = idempotency_key.and_then(|key| HeaderValue::from_bytes(key).ok()) {
        request = request.insert_header((HeaderName::from_static("idempotency-key"), value));
    }
    let request = request.to_http_request();
    Ok(match body {
        Body::Organization => Parsed::Organization(json::parse::<OrganizationRequest>(bytes)?.parse()?),
        Body::Receivable => Parsed::Receivable(json::parse::<receivables::ReceivableRequest>(bytes)?.parse()?),
        Body::PurchaseOrder => {
            Parsed::PurchaseOrder(json::parse::<purchase_orders::PurchaseOrderRequest>(bytes)?.parse()?)
        }
        Body::PurchaseOrderAcknowledgement => {
            Parsed::Signature(json::parse::<purchase_orders::AcknowledgementRequest>(bytes)?.parse()?)
        }
        Body::Confirmation => Parsed::Signature(json::parse::<receivables::ConfirmationRequest>(bytes)?.parse()?),
        Body::Dispute => {
            let (reason, signature) = json::parse::<receivables::DisputeRequest>(bytes)?.parse()?;
            Parsed::Dispute(reason, signature)
        }
        Body::Split => Parsed::Split(json::parse::<assets::SplitRequest>(bytes)?.parse()?),
        Body::Offer => Parsed::Offer(offers::parse_offer(&request, &json::parse(bytes)?)?),
        Body::Withdrawal => Parsed::Signature(json::parse::<offers::WithdrawalRequest>(bytes)?.parse()?),
        Body::Pledge => Parsed::Finance(lending_api::parse_finance(
            &request,
            &json::parse(bytes)?,
            LienKind::Pledge,
        )?),
        Body::Assignment => Parsed::Finance(lending_api::parse_finance(
            &request,
            &json::parse(bytes)?,
            LienKind::Assignment,
        )?),
        Body::Receipt => {
            let (amount, signature) = json::parse::<lending_api::ReceiptRequest>(bytes)?.parse()?;
            Parsed::Receipt { amount, signature }
        }
        Body::Disbursement => Parsed::LoanRecord(lending_api::parse_loan_record(
            &request,
            PATH_ID,
            &json::parse(bytes)?,
            LoanRecordKind::Disbursement,
        )?),
        Body::Repayment => Parsed::LoanRecord(lending_api::parse_loan_record(
            &request,
            PATH_ID,
            &json::parse(bytes)?,
            LoanRecordKind::Repayment,
        )?),
        Body::Payment => Parsed::Payment(lending_api::parse_payment(&request, PATH_ID, &json::parse(bytes)?)?),
    })
}
