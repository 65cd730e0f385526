//! `POST /v1/pledges` and `POST /v1/assignments` — a bank's signed request
//! for a lien (or a true sale), under an `Idempotency-Key` that is also the
//! signed message's nonce. A retry with the same key and body gets the first
//! answer, whatever it was.
//!
//! The caller's API key is checked in the decision's transaction (a batch's
//! keys in one query): a request without a bearer token is 401 at once; one
//! whose token is not a valid bank key is 401 or 403 once its body parsed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::auth::BearerToken;
use crate::api::error::ApiError;
use crate::api::json::JsonBody;
use crate::api::state::AppState;
use crate::domain::{Nonce, Role, Signature};
use crate::lending::{request_hash, Denied, FinanceRequest, LienKind, Outcome, Target};
use crate::validation::{field, FieldError};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FinanceBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    asset_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purchase_order_id: Option<String>,
    amount: String,
    signature: String,
}

fn parse(request: &HttpRequest, body: &FinanceBody, kind: LienKind) -> Result<FinanceRequest, FieldError> {
    let key = request
        .headers()
        .get("idempotency-key")
        .ok_or_else(|| {
            FieldError::new(
                "Idempotency-Key",
                "the header is required: it makes retries safe and is the signed nonce",
            )
        })?
        .to_str()
        .map_err(|_| FieldError::new("Idempotency-Key", "must be visible ASCII"))?;
    let nonce = field("Idempotency-Key", Nonce::parse(key))?;
    let uuid = |name: &str, raw: &str| field(name, Uuid::parse_str(raw).map_err(|_| "must be a UUID"));
    let target = match (&body.asset_id, &body.purchase_order_id) {
        (Some(asset), None) => Target::Asset(uuid("asset_id", asset)?),
        (None, Some(order)) => Target::PurchaseOrder(uuid("purchase_order_id", order)?),
        _ => {
            return Err(FieldError::new(
                "asset_id",
                "exactly one of asset_id and purchase_order_id is required",
            ))
        }
    };
    let signature = field("signature", Signature::parse_hex(&body.signature))?;
    let action = kind.as_str();
    let canonical = serde_json::to_value(body).map_err(|error| FieldError::new("body", error))?;
    Ok(FinanceRequest {
        kind,
        target,
        amount: body.amount.clone(),
        signature,
        nonce,
        request_hash: request_hash(action, &canonical),
    })
}

async fn decide(
    request: HttpRequest,
    BearerToken(token): BearerToken,
    state: web::Data<AppState>,
    body: FinanceBody,
    kind: LienKind,
) -> Result<HttpResponse, ApiError> {
    let finance_request = parse(&request, &body, kind)?;
    let decision = state.financing.run((token, finance_request)).await??;
    state.sequencer.wake();
    let outcome = match decision {
        Ok(outcome) => outcome,
        Err(Denied::Unauthenticated) => return Err(ApiError::Unauthorized),
        Err(Denied::NotABank) => {
            return Err(ApiError::Forbidden(format!(
                "this action needs an API key of an organisation with the role {}",
                Role::Bank.as_str()
            )))
        }
    };
    match outcome {
        Outcome::Created { body } => Ok(HttpResponse::Created().json(body)),
        Outcome::Refused {
            status,
            code,
            detail,
            field,
        } => Err(ApiError::Decided {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            detail,
            field,
        }),
    }
}

pub async fn pledge(
    request: HttpRequest,
    caller: BearerToken,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<FinanceBody>,
) -> Result<HttpResponse, ApiError> {
    decide(request, caller, state, body, LienKind::Pledge).await
}

pub async fn assign(
    request: HttpRequest,
    caller: BearerToken,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<FinanceBody>,
) -> Result<HttpResponse, ApiError> {
    decide(request, caller, state, body, LienKind::Assignment).await
}
