//! A lien after it is granted: `GET /v1/pledges/{id}` (with its loan), the
//! lienholder's signed receipt of its share of the buyer's payment
//! (`POST /v1/pledges/{id}/receipt`), and the loan it records against the
//! lien (`POST /v1/pledges/{id}/disbursements`, `…/repayments`, each under
//! an `Idempotency-Key` that is also the signed nonce).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::auth::{read_by_id, Authenticated, BearerToken};
use crate::api::error::ApiError;
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::json::JsonBody;
use crate::api::path_id;
use crate::api::signed::{answer, nonce, request_hash};
use crate::api::state::AppState;
use crate::domain::{LoanReference, Nonce, Signature};
use crate::lending::{confirm_receipt, record_loan, show_lien, LoanRecordKind, LoanRecordRequest};
use crate::validation::{field, iso_date, FieldError};

pub async fn show(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let lien = read_by_id(&state, token, path.into_inner(), move |connection, viewer, id| {
        Ok(show_lien(connection, &viewer, id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(lien))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    amount: String,
    signature: String,
}

impl ReceiptRequest {
    /// The amount is read by the use case, in the lien's currency.
    pub(crate) fn parse(self) -> Result<(String, Signature), FieldError> {
        let signature = field("signature", Signature::parse_hex(&self.signature))?;
        Ok((self.amount, signature))
    }
}

pub async fn receipt(
    caller: Authenticated,
    key: Idempotent,
    path: web::Path<String>,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<ReceiptRequest>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?;
    let (amount, signature) = body.parse()?;
    let answer = decide(&state, &key, move |connection| {
        Ok(Reply::ok(confirm_receipt(
            connection, &viewer, id, &amount, &signature,
        )?))
    })
    .await;
    state.sequencer.wake();
    answer
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoanRecordBody {
    pub(crate) amount: String,
    pub(crate) value_date: String,
    pub(crate) reference: String,
    pub(crate) signature: String,
}

/// The body of a loan record on lien `id`, with the request's nonce.
pub(crate) fn parse_loan_record(
    request: &HttpRequest,
    id: Uuid,
    body: &LoanRecordBody,
    kind: LoanRecordKind,
) -> Result<LoanRecordRequest, FieldError> {
    parse_loan_record_with(nonce(request)?, id, body, kind)
}

/// [`parse_loan_record`] with the nonce given (the portal's form carries it).
pub(crate) fn parse_loan_record_with(
    nonce: Nonce,
    id: Uuid,
    body: &LoanRecordBody,
    kind: LoanRecordKind,
) -> Result<LoanRecordRequest, FieldError> {
    Ok(LoanRecordRequest {
        kind,
        amount: body.amount.clone(),
        value_date: field("value_date", iso_date(&body.value_date))?,
        reference: field("reference", LoanReference::parse(&body.reference))?,
        signature: field("signature", Signature::parse_hex(&body.signature))?,
        nonce,
        request_hash: request_hash(&format!("{}:{id}", kind.as_str()), body)?,
    })
}

async fn record(
    request: HttpRequest,
    caller: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
    body: LoanRecordBody,
    kind: LoanRecordKind,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?;
    let loan_record = parse_loan_record(&request, id, &body, kind)?;
    let outcome = state
        .database
        .run(move |connection| record_loan(connection, &viewer, id, &loan_record))
        .await??;
    state.sequencer.wake();
    answer(outcome)
}

pub async fn disburse(
    request: HttpRequest,
    caller: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<LoanRecordBody>,
) -> Result<HttpResponse, ApiError> {
    record(request, caller, path, state, body, LoanRecordKind::Disbursement).await
}

pub async fn repay(
    request: HttpRequest,
    caller: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<LoanRecordBody>,
) -> Result<HttpResponse, ApiError> {
    record(request, caller, path, state, body, LoanRecordKind::Repayment).await
}
