//! `POST /v1/offers` — the holder's signed offer to one bank, under an
//! `Idempotency-Key` that is also the signed nonce; the answer is stored
//! with the offer, so a retry gets it again and the signed message cannot
//! make a second offer.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::json::JsonBody;
use crate::api::signed::{answer, nonce, request_hash};
use crate::api::state::AppState;
use crate::domain::{Currency, Nonce, Signature, Subject, UtcSecond};
use crate::lending::{make_offer, LienKind, OfferRequest};
use crate::validation::{field, FieldError};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) asset_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) purchase_order_id: Option<String>,
    pub(crate) bank_id: String,
    pub(crate) kind: String,
    pub(crate) amount: String,
    pub(crate) currency: String,
    pub(crate) expires_at: String,
    pub(crate) signature: String,
}

fn uuid(name: &str, raw: &str) -> Result<Uuid, FieldError> {
    field(name, Uuid::parse_str(raw).map_err(|_| "must be a UUID"))
}

pub(crate) fn parse(request: &HttpRequest, body: &OfferBody) -> Result<OfferRequest, FieldError> {
    parse_with(nonce(request)?, body)
}

/// [`parse`] with the nonce given (the portal's form carries it).
pub(crate) fn parse_with(nonce: Nonce, body: &OfferBody) -> Result<OfferRequest, FieldError> {
    let subject = match (&body.asset_id, &body.purchase_order_id) {
        (Some(asset), None) => Subject::Asset(uuid("asset_id", asset)?),
        (None, Some(order)) => Subject::PurchaseOrder(uuid("purchase_order_id", order)?),
        _ => {
            return Err(FieldError::new(
                "asset_id",
                "exactly one of asset_id and purchase_order_id is required",
            ))
        }
    };
    Ok(OfferRequest {
        subject,
        bank_id: uuid("bank_id", &body.bank_id)?,
        kind: LienKind::parse(&body.kind).ok_or_else(|| FieldError::new("kind", "must be pledge or assignment"))?,
        amount: body.amount.clone(),
        currency: field("currency", Currency::parse(&body.currency))?,
        expires_at: field("expires_at", UtcSecond::parse(&body.expires_at))?,
        signature: field("signature", Signature::parse_hex(&body.signature))?,
        nonce,
        request_hash: request_hash("offer", body)?,
    })
}

pub async fn create(
    request: HttpRequest,
    caller: Authenticated,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<OfferBody>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let offer = parse(&request, &body)?;
    let outcome = state
        .database
        .run(move |connection| make_offer(connection, &viewer, &offer))
        .await??;
    state.sequencer.wake();
    answer(outcome)
}
