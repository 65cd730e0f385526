//! `GET /v1/offers?status=&cursor=&limit=` — the offers the caller made or
//! received (the operator: all), newest first.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::alerts::decode_cursor;
use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::domain::OfferStatus;
use crate::lending::{list_offers, MAX_OFFER_PAGE};

pub async fn list(
    request: HttpRequest,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let query: Vec<(String, String)> = serde_urlencoded::from_str(request.query_string())
        .map_err(|_| ApiError::MalformedBody("the query string is not valid".to_owned()))?;
    let (mut status, mut after, mut limit) = (None, None, 50);
    for (name, value) in query {
        match name.as_str() {
            "status" => {
                status = Some(OfferStatus::parse(&value).ok_or_else(|| {
                    let statuses: Vec<&str> = OfferStatus::ALL.iter().map(|status| status.as_str()).collect();
                    ApiError::invalid_field("status", format!("must be one of {}", statuses.join(", ")))
                })?)
            }
            "cursor" => {
                after = Some(
                    decode_cursor(&value)
                        .ok_or_else(|| ApiError::invalid_field("cursor", "is not a cursor this API returned"))?,
                )
            }
            "limit" => {
                limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|limit| (1..=MAX_OFFER_PAGE).contains(limit))
                    .ok_or_else(|| ApiError::invalid_field("limit", format!("must be 1 to {MAX_OFFER_PAGE}")))?
            }
            other => return Err(ApiError::invalid_field(other, "is not a parameter of this list")),
        }
    }
    let (items, next_cursor) = state
        .database
        .run(move |connection| list_offers(connection, &viewer, status, after, limit))
        .await??;
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next_cursor })))
}
