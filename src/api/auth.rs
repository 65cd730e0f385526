//! `Authenticated`: the caller behind `Authorization: Bearer <api key>`.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use super::state::AppState;
use crate::domain::Role;
use crate::organizations::{authenticate, Principal};
use crate::store::DbConnection;

pub struct Authenticated(pub Principal);

impl Authenticated {
    /// Any organisation acting through its own key (not a risk officer's),
    /// as the registry's viewer.
    pub fn organization(&self) -> Result<crate::registry::Viewer, ApiError> {
        let principal = &self.0;
        if principal.risk_officer_id.is_some() {
            return Err(ApiError::Forbidden(
                "a risk officer's API key reads alerts; this action needs the organisation's key".to_owned(),
            ));
        }
        Ok(crate::registry::Viewer {
            organization_id: principal.organization_id.to_string(),
            role: principal.role,
        })
    }

    /// The organisation itself (not one of its risk officers) with `role`.
    pub fn require_organization(&self, role: Role) -> Result<&Principal, ApiError> {
        let principal = &self.0;
        if principal.role != role || principal.risk_officer_id.is_some() {
            return Err(ApiError::Forbidden(format!(
                "this action needs an API key of an organisation with the role {}",
                role.as_str()
            )));
        }
        Ok(principal)
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The gate authenticated the caller of a POST already.
        if let Some(caller) = super::gate::gate_caller(request) {
            return Box::pin(async move { Ok(Authenticated(caller)) });
        }
        let token = bearer_token(request);
        let state = request.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token.ok_or(ApiError::Unauthorized)?;
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("application state is missing")))?;
            let principal = state
                .database
                .run(move |connection| authenticate(connection, &token))
                .await??
                .ok_or(ApiError::Unauthorized)?;
            state.limits.admit(&principal)?;
            Ok(Authenticated(principal))
        })
    }
}

/// `Authorization: Bearer <token>`'s token.
pub(super) fn bearer_token(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
        })
}

/// The bearer token, not yet checked: for requests decided in a batch,
/// whose transaction authenticates every caller of the batch in one query.
/// A request without one is refused 401 here.
pub struct BearerToken(pub String);

impl FromRequest for BearerToken {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(bearer_token(request).map(BearerToken).ok_or(ApiError::Unauthorized))
    }
}

/// Authenticates `token` and runs `work` for the caller on the same
/// connection: one trip through the blocking pool instead of two, for a
/// read whose only other cost is a query or two.
pub async fn run_authenticated<T, F>(state: &AppState, BearerToken(token): BearerToken, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection, Authenticated) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let limits = state.limits.clone();
    state
        .database
        .run(move |connection| {
            let caller = authenticate(connection, &token)?.ok_or(ApiError::Unauthorized)?;
            limits.admit(&caller)?;
            work(connection, Authenticated(caller))
        })
        .await?
}

/// A read of one thing by the id in its path: [`run_authenticated`], with
/// the calling organisation (a risk officer's key is 403) and the id (one
/// that is not a UUID names nothing: 404).
pub async fn read_by_id<T, F>(state: &AppState, token: BearerToken, path: String, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection, crate::registry::Viewer, uuid::Uuid) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run_authenticated(state, token, move |connection, caller| {
        let viewer = caller.organization()?;
        let id = super::path_id(&path)?;
        work(connection, viewer, id)
    })
    .await
}

/// The caller if it sent a key (which must then be valid), else anonymous.
pub struct MaybeAuthenticated(pub Option<Principal>);

impl FromRequest for MaybeAuthenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if request.headers().contains_key(header::AUTHORIZATION) {
            let authenticated = Authenticated::from_request(request, payload);
            Box::pin(async move { authenticated.await.map(|caller| Self(Some(caller.0))) })
        } else {
            Box::pin(async { Ok(Self(None)) })
        }
    }
}
