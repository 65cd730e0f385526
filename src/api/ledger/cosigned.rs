//! `GET /v1/ledger/vkey` and `GET /v1/ledger/checkpoint`: the log's
//! verifier key line and its newest checkpoint cosigned by a quorum of
//! witnesses, both as text, for C2SP-speaking clients.

use actix_web::{web, HttpResponse};

use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::ledger::VerifierKey;
use crate::tlog;

const TEXT: &str = "text/plain; charset=utf-8";

/// The log's verifier key (type 0x01, named by the origin), one line.
pub async fn vkey(state: web::Data<AppState>) -> HttpResponse {
    let key = VerifierKey::log(&state.settings.ledger.origin, state.platform_key.verifying_key());
    HttpResponse::Ok().content_type(TEXT).body(format!("{key}\n"))
}

/// The newest head with at least the quorum of valid cosignatures, as a
/// signed note: the log's signature line, then every cosignature stored
/// for it. 503 until there is one.
pub async fn checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let witnesses = tlog::witness_keys(&state.settings.witnesses);
    let quorum = state.settings.witnesses.quorum;
    let cosigned = state
        .database
        .run(move |connection| tlog::cosigned_checkpoint(connection, &witnesses, quorum))
        .await??
        .ok_or_else(|| {
            ApiError::NotReady(format!(
                "no tree head has {quorum} witness cosignature(s) yet; retry later"
            ))
        })?;
    Ok(HttpResponse::Ok().content_type(TEXT).body(cosigned.note))
}
