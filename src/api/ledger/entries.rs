//! `GET /v1/ledger/entries?start=&end=` and `GET /v1/ledger/leaves/{leaf_hash}`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::api::auth::MaybeAuthenticated;
use crate::api::error::ApiError;
use crate::api::query::QueryParameters;
use crate::api::state::AppState;
use crate::domain::Role;
use crate::tlog::{self, Reader, MAX_ENTRIES_PER_PAGE};

pub async fn entries(
    request: HttpRequest,
    caller: MaybeAuthenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = QueryParameters::from_request(&request)?;
    let start = query.u64("start")?;
    let end = query.u64("end")?;
    if end <= start {
        return Err(ApiError::invalid_field("end", "must be greater than start"));
    }
    // At most a page; a client pages on from the last index it received.
    let end = end.min(start.saturating_add(MAX_ENTRIES_PER_PAGE));
    let reader = match caller.0 {
        // A risk officer's key authenticates the person, for alerts: the
        // organisation's ledger details are read with its own key.
        Some(principal) if principal.risk_officer_id.is_some() => {
            return Err(ApiError::Forbidden(
                "a risk officer's API key reads alerts; the ledger's details are read with the organisation's key"
                    .to_owned(),
            ))
        }
        Some(principal) if principal.role == Role::Operator => Reader::Operator,
        Some(principal) => Reader::Organization(principal.organization_id.to_string()),
        None => Reader::Anonymous,
    };
    let (tree_size, entries) = state
        .database
        .run(move |connection| -> diesel::QueryResult<_> {
            let tree_size = tlog::latest_head(connection)?.map_or(0, |head| head.tree_size as u64);
            let end = end.min(tree_size);
            let entries = if start < end {
                tlog::entries(connection, start, end, &reader)?
            } else {
                Vec::new()
            };
            Ok((tree_size, entries))
        })
        .await??;
    if start >= tree_size {
        return Err(ApiError::invalid_field(
            "start",
            format!("is beyond the latest signed tree head ({tree_size} entries)"),
        ));
    }
    let entries: Vec<_> = entries
        .into_iter()
        .map(|entry| {
            json!({
                "index": entry.index,
                "leaf_hash": hex::encode(&entry.leaf_hash),
                "kind": entry.kind,
                "entry": hex::encode(&entry.entry),
                "details": entry.details,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "tree_size": tree_size, "entries": entries })))
}

pub async fn leaf(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let leaf_hash: [u8; 32] = hex::decode(&raw)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| ApiError::invalid_field("leaf_hash", "must be 64 hexadecimal characters"))?;
    let index = state
        .database
        .run(move |connection| tlog::leaf_index(connection, &leaf_hash))
        .await??
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(json!({ "index": index, "leaf_hash": hex::encode(leaf_hash) })))
}
