//! `POST /v1/orgs` — the operator onboards an organisation.

use actix_web::{web, HttpResponse};

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::json::JsonBody;
use crate::api::state::AppState;
use crate::domain::Role;
use crate::organizations::{onboard, OnboardError, OnboardedView, OrganizationRequest};
use crate::refusal::Refusal;

pub async fn create(
    caller: Authenticated,
    key: Idempotent,
    state: web::Data<AppState>,
    JsonBody(request): JsonBody<OrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let operator = caller.require_organization(Role::Operator)?.organization_id.to_string();
    let new = request.parse()?;
    let answer = decide(&state, &key, move |connection| {
        let onboarded = onboard(connection, new, Some(&operator)).map_err(|error| match error {
            OnboardError::DuplicateLegalId => ApiError::refused(Refusal::DuplicateLegalId, error),
            OnboardError::DuplicateIdentifier(_) => ApiError::refused(Refusal::DuplicateIdentifier, error),
            OnboardError::PublicKeyTaken(_) => ApiError::refused(Refusal::PublicKeyTaken, error),
            OnboardError::Database(error) => error.into(),
        })?;
        Ok(Reply::created(OnboardedView::from(&onboarded)))
    })
    .await;
    state.sequencer.wake();
    answer
}
