//! `POST /v1/receivables/{id}/confirmation` — the buyer signs that it owes
//! the invoice; the receivable becomes an asset held by the supplier.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::idempotency::{storable, Idempotent, Reply};
use crate::api::json::JsonBody;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::domain::Signature;
use crate::registry::{receivable_view, ConfirmationJob, ConfirmationResult};
use crate::store::replays::StoredAnswer;
use crate::validation::{field, FieldError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationRequest {
    signature: String,
}

impl ConfirmationRequest {
    pub(crate) fn parse(&self) -> Result<Signature, FieldError> {
        field("signature", Signature::parse_hex(&self.signature))
    }
}

pub async fn confirm(
    caller: Authenticated,
    key: Idempotent,
    path: web::Path<String>,
    state: web::Data<AppState>,
    JsonBody(request): JsonBody<ConfirmationRequest>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?;
    let signature = request.parse()?;
    let job = ConfirmationJob {
        buyer: viewer,
        receivable_id: id,
        signature,
    };
    let answered = state.confirmations.run_keyed(job, key.keyed(answer)).await?;
    state.sequencer.wake();
    key.answer(answered, answer, |result| match result {
        Ok(_) => ApiError::internal(anyhow::anyhow!("a confirmation had no answer")),
        Err(error) => error.into(),
    })
}

/// A confirmation's answer: 200 with the receivable and its new asset, or
/// its refusal; `None` for a failure.
fn answer(result: &ConfirmationResult) -> Option<StoredAnswer> {
    storable(match result {
        Ok(confirmed) => {
            let mut body = receivable_view(&confirmed.receivable, &confirmed.fingerprint, Some(&confirmed.asset.id));
            body["ledger"]["leaf_hash"] = serde_json::json!(hex::encode(&confirmed.asset.leaf_hash));
            Ok(Reply::ok(body))
        }
        Err(error) => Err(ApiError::of_refusal(error)?),
    })
}
