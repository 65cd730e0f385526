//! `GET /v1/encumbrance/{fingerprint}/certificate` — for banks: the
//! look-up's answer as a statement the log signs, with the checkpoint it
//! speaks for and the entries it rests on (`lending::certificate`). Asked,
//! limited, recorded and watched exactly as a look-up is (`look_up_for`).

use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::encumbrance::{admit_lookup, look_up_for};
use crate::api::auth::BearerToken;
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::lending::{certificate as certify, CertificateRequest, CertifiedEntry};
use crate::tlog::ProofError;

/// How long a request waits for a signed head that includes every entry
/// about the fingerprint before it answers 503 (Retry-After: 1), when no
/// witness quorum is configured; with one, it waits as long as
/// `?wait=cosigned` does (`--witness-wait-seconds`) for that head's
/// cosignatures. No connection is held while it waits.
const WAIT_FOR_HEAD: Duration = Duration::from_secs(3);
const POLL_EVERY: Duration = Duration::from_millis(50);

pub async fn certificate(
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (bank_id, fingerprint) = admit_lookup(&state, token, path.into_inner()).await?;
    look_up_for(&state, bank_id.clone(), &fingerprint).await?;
    let request = CertificateRequest {
        bank_id,
        fingerprint: *fingerprint.as_bytes(),
        stored: state.fingerprint_key.stored(&fingerprint),
        origin: state.settings.ledger.origin.clone(),
        witnesses: crate::tlog::witness_keys(&state.settings.witnesses),
        quorum: state.settings.witnesses.quorum,
    };
    let wait = match request.quorum {
        0 => WAIT_FOR_HEAD,
        _ => WAIT_FOR_HEAD.max(state.settings.witnesses.wait_timeout),
    };
    let deadline = Instant::now() + wait;
    let certificate = loop {
        let (published, request) = (state.published.clone(), request.clone());
        let made = state
            .database
            .run(move |connection| certify(connection, &published, &request))
            .await?
            .map_err(|error| match error {
                ProofError::Database(error) => error.into(),
                other => ApiError::internal(other),
            })?;
        if let Some(certificate) = made {
            break certificate;
        }
        if Instant::now() >= deadline {
            return Err(ApiError::HeadPending);
        }
        state.sequencer.wake();
        tokio::time::sleep(POLL_EVERY).await;
    };
    let (statement, _) = crate::ledger::sign_note(
        &certificate.statement.text(),
        &certificate.statement.origin,
        &state.platform_key,
    );
    Ok(HttpResponse::Ok().json(json!({
        "statement": statement,
        "checkpoint": certificate.checkpoint,
        "entries": certificate.entries.iter().map(entry_json).collect::<Vec<_>>(),
    })))
}

fn entry_json(certified: &CertifiedEntry) -> Value {
    let entry = &certified.entry;
    let mut json = json!({
        "index": entry.index,
        "leaf_hash": hex::encode(&entry.leaf_hash),
        "entry": hex::encode(&entry.entry),
        "inclusion_proof": certified.inclusion_proof.iter().map(hex::encode).collect::<Vec<_>>(),
    });
    if let Some(details) = &entry.details {
        json["details"] = json!({ "salt": details["salt"], "json": details["json"] });
    }
    json
}
