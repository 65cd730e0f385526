//! `POST /v1/pledges` and `POST /v1/assignments` — a bank accepts an offer
//! addressed to it with a signed request for a lien (or a true sale), under
//! an `Idempotency-Key` that is also the signed message's nonce. A retry
//! with the same key and body gets the first answer, whatever it was.
//!
//! The gate (`api/gate.rs`) answers 401 before the body is read; the key is
//! checked again in the decision's transaction (a batch's keys in one
//! query), so a key revoked meanwhile decides nothing. A key that is not a
//! bank's is 403 if its organisation may see the offer it names, else 404.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::auth::BearerToken;
use crate::api::error::ApiError;
use crate::api::json::JsonBody;
use crate::api::signed::{answer, nonce, request_hash};
use crate::api::state::AppState;
use crate::domain::{Nonce, Role, Signature, Subject};
use crate::lending::{offer_visible_to, Denied, FinanceJob, FinanceRequest, LienKind};
use crate::registry::Viewer;
use crate::validation::{field, FieldError};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FinanceBody {
    pub(crate) offer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) asset_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) purchase_order_id: Option<String>,
    pub(crate) amount: String,
    pub(crate) signature: String,
}

fn uuid(name: &str, raw: &str) -> Result<Uuid, FieldError> {
    field(name, Uuid::parse_str(raw).map_err(|_| "must be a UUID"))
}

pub(crate) fn parse(request: &HttpRequest, body: &FinanceBody, kind: LienKind) -> Result<FinanceRequest, FieldError> {
    parse_with(nonce(request)?, body, kind)
}

/// [`parse`] with the nonce given (the portal's form carries it).
pub(crate) fn parse_with(nonce: Nonce, body: &FinanceBody, kind: LienKind) -> Result<FinanceRequest, FieldError> {
    let offer = uuid("offer_id", &body.offer_id)?;
    let subject = match (&body.asset_id, &body.purchase_order_id, kind) {
        (Some(asset), None, _) => Subject::Asset(uuid("asset_id", asset)?),
        (None, Some(order), LienKind::Pledge) => Subject::PurchaseOrder(uuid("purchase_order_id", order)?),
        (None, Some(_), LienKind::Assignment) => {
            return Err(FieldError::new(
                "purchase_order_id",
                "a purchase order can be pledged, not assigned: an assignment names an asset_id",
            ))
        }
        _ => {
            return Err(FieldError::new(
                "asset_id",
                "exactly one of asset_id and purchase_order_id is required",
            ))
        }
    };
    let signature = field("signature", Signature::parse_hex(&body.signature))?;
    Ok(FinanceRequest {
        kind,
        offer,
        subject,
        amount: body.amount.clone(),
        signature,
        nonce,
        request_hash: request_hash(kind.as_str(), body)?,
    })
}

async fn decide(
    request: HttpRequest,
    token: BearerToken,
    state: web::Data<AppState>,
    body: FinanceBody,
    kind: LienKind,
) -> Result<HttpResponse, ApiError> {
    let finance_request = parse(&request, &body, kind)?;
    let wait = crate::api::wait::requested(&request)?;
    let offer = finance_request.offer;
    let decision = state
        .financing
        .run(FinanceJob {
            token: token.0,
            request: finance_request,
        })
        .await??;
    state.sequencer.wake();
    match decision {
        Ok(outcome) if wait => answer(crate::api::wait::add_to_outcome(&state, outcome).await),
        Ok(outcome) => answer(outcome),
        Err(Denied::Unauthenticated) => Err(ApiError::Unauthorized),
        Err(Denied::NotABank(caller)) => {
            let viewer = Viewer {
                organization_id: caller.organization_id.to_string(),
                role: caller.role,
            };
            let visible = state
                .database
                .run(move |connection| offer_visible_to(connection, offer, &viewer))
                .await??;
            if !visible {
                return Err(ApiError::NotFound);
            }
            Err(ApiError::Forbidden(format!(
                "an offer is accepted with an API key of the bank it is addressed to (role {})",
                Role::Bank.as_str()
            )))
        }
    }
}

pub async fn pledge(
    request: HttpRequest,
    token: BearerToken,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<FinanceBody>,
) -> Result<HttpResponse, ApiError> {
    decide(request, token, state, body, LienKind::Pledge).await
}

pub async fn assign(
    request: HttpRequest,
    token: BearerToken,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<FinanceBody>,
) -> Result<HttpResponse, ApiError> {
    decide(request, token, state, body, LienKind::Assignment).await
}
