//! `GET /v1/encumbrance/{fingerprint}` — for banks: registered, confirmed,
//! encumbered; never by whom. Each look-up is rate limited per
//! organisation (429 beyond it) and recorded with its answer, in the commit
//! that answers it (`lending::look_up_all`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::api::auth::{run_authenticated, BearerToken};
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::domain::{Fingerprint, Role};
use crate::lending::{Encumbrance, EnumerationPolicy, LookupJob};

pub async fn encumbrance(
    request: HttpRequest,
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let wait = crate::api::wait::requested(&request)?;
    let (bank_id, fingerprint) = admit_lookup(&state, token, path.into_inner()).await?;
    let found = look_up_for(&state, bank_id, &fingerprint).await?;
    let mut body = json!({
        "fingerprint": fingerprint.to_hex(),
        "registered": found.registered,
        "confirmed": found.confirmed,
        "encumbered": found.encumbered,
    });
    if wait {
        crate::api::wait::add_to(&mut body, crate::api::wait::cosigned_checkpoint(&state).await);
    }
    Ok(HttpResponse::Ok().json(body))
}

/// A bank's look-up of the fingerprint `raw` in a path, authenticated and
/// admitted by the look-up rate limit: the bank's id and the fingerprint.
pub(crate) async fn admit_lookup(
    state: &AppState,
    token: BearerToken,
    raw: String,
) -> Result<(String, Fingerprint), ApiError> {
    let limits = state.limits.clone();
    run_authenticated(state, token, move |_, caller| {
        let bank = caller.require_organization(Role::Bank)?.clone();
        let fingerprint =
            Fingerprint::parse_hex(&raw).map_err(|error| ApiError::invalid_field("fingerprint", error))?;
        limits.admit_lookup(&bank)?;
        Ok((bank.organization_id.to_string(), fingerprint))
    })
    .await
}

/// `bank_id`'s look-up of `fingerprint` (admitted by the rate limit
/// already), recorded with its answer and watched for enumeration; the
/// portal's look-up page asks the same.
pub(crate) async fn look_up_for(
    state: &AppState,
    bank_id: String,
    fingerprint: &Fingerprint,
) -> Result<Encumbrance, ApiError> {
    let policy = EnumerationPolicy {
        misses: i64::from(state.settings.limits.enumeration_misses),
        window_seconds: state.settings.limits.enumeration_window.as_secs() as i64,
    };
    let found = state
        .lookups
        .run(LookupJob {
            bank_id,
            stored: state.fingerprint_key.stored(fingerprint),
            policy,
        })
        .await??;
    state.sequencer.wake();
    Ok(found)
}
