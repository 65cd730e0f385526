//! `POST /v1/purchase-orders` — a supplier registers an order a core
//! enterprise placed with it.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::json::JsonBody;
use crate::api::state::AppState;
use crate::domain::{Currency, Money, PoNumber, Role};
use crate::registry::{purchase_order_view, register_purchase_order, NewPurchaseOrder};
use crate::validation::{field, iso_date, FieldError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderRequest {
    buyer_id: String,
    po_number: String,
    issue_date: String,
    currency: String,
    amount: String,
}

impl PurchaseOrderRequest {
    pub(crate) fn parse(self) -> Result<NewPurchaseOrder, FieldError> {
        let buyer_id = field(
            "buyer_id",
            Uuid::parse_str(&self.buyer_id).map_err(|_| "must be a UUID"),
        )?;
        let po_number = field("po_number", PoNumber::parse(&self.po_number))?;
        let issue_date = field("issue_date", iso_date(&self.issue_date))?;
        let currency = field("currency", Currency::parse(&self.currency))?;
        let amount = field("amount", Money::parse(&self.amount, currency))?;
        Ok(NewPurchaseOrder {
            buyer_id,
            po_number,
            issue_date,
            amount,
        })
    }
}

pub async fn create(
    caller: Authenticated,
    key: Idempotent,
    state: web::Data<AppState>,
    JsonBody(request): JsonBody<PurchaseOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let supplier = caller.require_organization(Role::Supplier)?.organization_id.to_string();
    let new = request.parse()?;
    let fingerprint_key = state.fingerprint_key;
    let answer = decide(&state, &key, move |connection| {
        let (order, fingerprint) = register_purchase_order(connection, &fingerprint_key, &supplier, new)?;
        Ok(Reply::created(purchase_order_view(&order, &fingerprint)))
    })
    .await;
    // A refusal may have written an alert to the ledger too.
    state.sequencer.wake();
    answer
}
