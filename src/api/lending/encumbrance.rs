//! `GET /v1/encumbrance/{fingerprint}` — for banks: registered, confirmed,
//! encumbered; never by whom. Each look-up is rate limited per
//! organisation (429 beyond it) and recorded with its answer, in the commit
//! that answers it (`lending::look_up_all`), where the bank's key is
//! authenticated too, with the other keys of the batch in one query.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use std::sync::Arc;

use crate::api::auth::{run_authenticated, Authenticated, BearerToken};
use crate::api::error::ApiError;
use crate::api::limits::RateLimits;
use crate::api::state::AppState;
use crate::domain::{Fingerprint, Role};
use crate::lending::{Admission, Encumbrance, EnumerationPolicy, LookupCaller, LookupJob};

pub async fn encumbrance(
    request: HttpRequest,
    BearerToken(token): BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let wait = crate::api::wait::requested(&request)?;
    let raw = path.into_inner();
    let fingerprint = match Fingerprint::parse_hex(&raw) {
        Ok(fingerprint) => fingerprint,
        Err(error) => {
            // A caller that may not look up is told so before what is wrong
            // with its fingerprint.
            let limits = state.limits.clone();
            run_authenticated(&state, BearerToken(token), move |_, caller| {
                admit_bank(&limits, &caller)
            })
            .await?;
            return Err(ApiError::invalid_field("fingerprint", error));
        }
    };
    // The key is authenticated, and the look-up admitted, in the batch
    // that answers it: one query for all the batch's keys.
    let limits = state.limits.clone();
    let admit: Admission<ApiError> = Arc::new(move |caller| {
        let caller = caller.ok_or(ApiError::Unauthorized)?;
        limits.admit(caller)?;
        admit_bank(&limits, &Authenticated(caller.clone()))
    });
    let found = run_lookup(&state, LookupCaller::Key { token, admit }, &fingerprint).await?;
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

/// The bank behind an authenticated caller, if it may look up now (an
/// organisation's own key, not a risk officer's; within its look-up rate):
/// its organisation id.
fn admit_bank(limits: &RateLimits, caller: &Authenticated) -> Result<String, ApiError> {
    let bank = caller.require_organization(Role::Bank)?;
    limits.admit_lookup(bank)?;
    Ok(bank.organization_id.to_string())
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
        let bank_id = admit_bank(&limits, &caller)?;
        let fingerprint =
            Fingerprint::parse_hex(&raw).map_err(|error| ApiError::invalid_field("fingerprint", error))?;
        Ok((bank_id, fingerprint))
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
    run_lookup(state, LookupCaller::Bank(bank_id), fingerprint).await
}

async fn run_lookup(
    state: &AppState,
    caller: LookupCaller<ApiError>,
    fingerprint: &Fingerprint,
) -> Result<Encumbrance, ApiError> {
    let policy = EnumerationPolicy {
        misses: i64::from(state.settings.limits.enumeration_misses),
        window_seconds: state.settings.limits.enumeration_window.as_secs() as i64,
    };
    let looked = state
        .lookups
        .run(LookupJob {
            caller,
            stored: state.fingerprint_key.stored(fingerprint),
            policy,
        })
        .await???;
    if looked.ledger_appended {
        state.sequencer.wake();
    }
    Ok(looked.encumbrance)
}
