//! `GET /v1/ledger/proofs/inclusion?index=&tree_size=` and
//! `GET /v1/ledger/proofs/consistency?first=&second=` (RFC 9162 §2.1.3, §2.1.4).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::api::error::ApiError;
use crate::api::query::QueryParameters;
use crate::api::state::AppState;
use crate::tlog::{self, ProofError};

pub async fn inclusion(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = QueryParameters::from_request(&request)?;
    let index = query.u64("index")?;
    let tree_size = query.u64("tree_size")?;
    if tree_size == 0 {
        return Err(ApiError::invalid_field("tree_size", "the empty tree includes nothing"));
    }
    if index >= tree_size {
        return Err(ApiError::invalid_field("index", "must be less than tree_size"));
    }
    let published = state.published.clone();
    let hashes = state
        .database
        .run(move |connection| tlog::inclusion_proof(connection, &published, index, tree_size))
        .await?
        .map_err(|error| proof_error("tree_size", error))?;
    Ok(HttpResponse::Ok().json(json!({
        "index": index,
        "tree_size": tree_size,
        "hashes": hashes.iter().map(hex::encode).collect::<Vec<_>>(),
    })))
}

pub async fn consistency(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = QueryParameters::from_request(&request)?;
    let first = query.u64("first")?;
    let second = query.u64("second")?;
    if first == 0 {
        return Err(ApiError::invalid_field(
            "first",
            "must be at least 1: every tree extends the empty one",
        ));
    }
    if first > second {
        return Err(ApiError::invalid_field("first", "must not be greater than second"));
    }
    let published = state.published.clone();
    let hashes = state
        .database
        .run(move |connection| tlog::consistency_proof(connection, &published, first, second))
        .await?
        .map_err(|error| proof_error("second", error))?;
    Ok(HttpResponse::Ok().json(json!({
        "first": first,
        "second": second,
        "hashes": hashes.iter().map(hex::encode).collect::<Vec<_>>(),
    })))
}

fn proof_error(size_field: &str, error: ProofError) -> ApiError {
    match error {
        ProofError::Invalid(detail) => ApiError::invalid_field(size_field, detail),
        ProofError::Corrupt(_) => ApiError::internal(error),
        ProofError::Database(error) => error.into(),
    }
}
