//! `POST /v1/receivables` — a supplier registers an invoice it issued.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::api::auth::{Authenticated, BearerToken};
use crate::api::error::ApiError;
use crate::api::idempotency::{storable, Idempotent, Reply};
use crate::api::json::JsonBody;
use crate::api::state::AppState;
use crate::domain::{Currency, InvoiceNumber, Money, Role};
use crate::registry::{invoice_dates, receivable_view, NewReceivable, RegistrationJob, RegistrationResult};
use crate::store::replays::StoredAnswer;
use crate::validation::{field, FieldError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivableRequest {
    buyer_id: String,
    invoice_number: String,
    issue_date: String,
    due_date: String,
    currency: String,
    amount: String,
    #[serde(default)]
    purchase_order_id: Option<String>,
}

impl ReceivableRequest {
    pub(crate) fn parse(self) -> Result<NewReceivable, FieldError> {
        let buyer_id = field(
            "buyer_id",
            Uuid::parse_str(&self.buyer_id).map_err(|_| "must be a UUID"),
        )?;
        let invoice_number = field("invoice_number", InvoiceNumber::parse(&self.invoice_number))?;
        let (issue_date, due_date) = invoice_dates(&self.issue_date, &self.due_date)?;
        let currency = field("currency", Currency::parse(&self.currency))?;
        let amount = field("amount", Money::parse(&self.amount, currency))?;
        let purchase_order_id = match self.purchase_order_id {
            None => None,
            Some(raw) => Some(field(
                "purchase_order_id",
                Uuid::parse_str(&raw).map_err(|_| "must be a UUID"),
            )?),
        };
        Ok(NewReceivable {
            buyer_id,
            invoice_number,
            issue_date,
            due_date,
            amount,
            purchase_order_id,
            order_reference: None,
        })
    }
}

pub async fn create(
    caller: Authenticated,
    BearerToken(token): BearerToken,
    key: Idempotent,
    state: web::Data<AppState>,
    JsonBody(request): JsonBody<ReceivableRequest>,
) -> Result<HttpResponse, ApiError> {
    let supplier = caller.require_organization(Role::Supplier)?.organization_id.to_string();
    let new = request.parse()?;
    let job = RegistrationJob {
        supplier_id: supplier,
        receivable: new,
        fingerprint_key: state.fingerprint_key,
        token: Some(token),
    };
    let answered = state.registrations.run_keyed(job, key.keyed(answer)).await?;
    // A refusal writes its alert to the ledger too.
    state.sequencer.wake();
    key.answer(answered, answer, |result| match result {
        Ok(_) => ApiError::internal(anyhow::anyhow!("a registration had no answer")),
        Err(error) => error.into(),
    })
}

/// A registration's answer: 201 with the receivable (and a warning naming
/// a near-duplicate alert), or its refusal; `None` for a failure.
fn answer(result: &RegistrationResult) -> Option<StoredAnswer> {
    storable(match result {
        Ok(registered) => {
            let mut body = receivable_view(&registered.receivable, &registered.fingerprint, None);
            if let Some(alert) = &registered.near_duplicate_alert {
                body["warnings"] = serde_json::json!([{
                    "code": crate::alerts::AlertKind::NearDuplicateRegistration.as_str(),
                    "alert_id": alert.id,
                    "detail": "an invoice with the same buyer, amount and issue date is already registered under another number; risk officers were alerted",
                }]);
            }
            Ok(Reply::created(body))
        }
        Err(error) => Err(ApiError::of_refusal(error)?),
    })
}
