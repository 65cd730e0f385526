//! `GET /v1/receivables/{id}/lookups?cursor=&limit=` — which banks looked
//! the invoice up, when, and what they were told: for its supplier, its
//! buyer and the operator, newest first.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::alerts::decode_cursor;
use crate::api::auth::{read_by_id, BearerToken};
use crate::api::error::ApiError;
use crate::api::query::QueryParameters;
use crate::api::state::AppState;
use crate::lending::{lookups_of, MAX_LOOKUP_PAGE};

pub async fn lookups(
    request: HttpRequest,
    token: BearerToken,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = QueryParameters::from_request(&request)?;
    query.only(&["cursor", "limit"])?;
    let after = match query.text("cursor") {
        Some(cursor) => Some(
            decode_cursor(cursor)
                .ok_or_else(|| ApiError::invalid_field("cursor", "is not a cursor this API returned"))?,
        ),
        None => None,
    };
    let limit = match query.optional_u64("limit")? {
        Some(limit) if (1..=MAX_LOOKUP_PAGE as u64).contains(&limit) => limit as i64,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "limit",
                format!("must be 1 to {MAX_LOOKUP_PAGE}"),
            ))
        }
        None => 50,
    };
    let (items, next_cursor) = read_by_id(&state, token, path.into_inner(), move |connection, viewer, id| {
        Ok(lookups_of(connection, &viewer, id, after, limit)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next_cursor })))
}
