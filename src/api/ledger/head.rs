//! `GET /v1/ledger/head` and `GET /v1/ledger/public-key`.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::ledger::note_key_id;
use crate::tlog;

pub async fn head(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let head = state
        .database
        .run(tlog::latest_head)
        .await??
        // The sequencer signs the empty tree at start-up; until then, retry.
        .ok_or(ApiError::UNAVAILABLE)?;
    let timestamp = chrono::DateTime::from_timestamp_millis(head.timestamp_ms)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored tree head timestamp is out of range")))?;
    Ok(HttpResponse::Ok().json(json!({
        "tree_size": head.tree_size,
        "root_hash": hex::encode(&head.root_hash),
        "timestamp": timestamp,
        "timestamp_ms": head.timestamp_ms,
        "signature": hex::encode(&head.signature),
        "checkpoint": head.checkpoint,
    })))
}

/// The key that signs heads now, and every handover that led to it, so
/// that an auditor holding an older key knows where the log changed hands
/// (and checks each rotation entry itself: `anchorfin verify` does).
pub async fn public_key(state: web::Data<AppState>) -> HttpResponse {
    let key = state.platform_key.verifying_key();
    let origin = &state.settings.ledger.origin;
    let rotations: Vec<_> = state
        .key_rotations
        .iter()
        .map(|rotation| {
            json!({
                "index": rotation.index,
                "old_public_key": hex::encode(rotation.old_key),
                "new_public_key": hex::encode(rotation.new_key),
                "time": chrono::DateTime::from_timestamp_micros(rotation.time_micros)
                    .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "public_key": hex::encode(key.to_bytes()),
        "origin": origin,
        "key_id": hex::encode(note_key_id(origin, &key)),
        "rotations": rotations,
    }))
}
