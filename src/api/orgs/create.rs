//! `POST /v1/orgs` — the operator onboards an organisation.

use actix_web::{web, HttpResponse};

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::json::JsonBody;
use crate::api::state::AppState;
use crate::domain::Role;
use crate::organizations::{onboard, OnboardError, OnboardedView, OrganizationRequest};
use crate::refusal::Refusal;

pub async fn create(
    caller: Authenticated,
    state: web::Data<AppState>,
    JsonBody(request): JsonBody<OrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let operator = caller.require_organization(Role::Operator)?.organization_id.to_string();
    let new = request.parse()?;
    let onboarded = state
        .database
        .run(move |connection| onboard(connection, new, Some(&operator)))
        .await?
        .map_err(|error| match error {
            OnboardError::DuplicateLegalId => ApiError::refused(Refusal::DuplicateLegalId, error),
            OnboardError::PublicKeyTaken(_) => ApiError::refused(Refusal::PublicKeyTaken, error),
            OnboardError::Database(error) => error.into(),
        })?;
    state.sequencer.wake();
    Ok(HttpResponse::Created().json(OnboardedView::from(&onboarded)))
}
