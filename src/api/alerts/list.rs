//! `GET /v1/alerts?kind=&status=&cursor=&limit=` — newest first.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::officer;
use crate::alerts::AlertKind;
use crate::alerts::{decode_cursor, list_alerts, AlertFilter, MAX_PAGE};
use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::domain::AlertStatus;

pub async fn list(
    request: HttpRequest,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (organization, _) = officer(&caller)?;
    let query: Vec<(String, String)> = serde_urlencoded::from_str(request.query_string())
        .map_err(|_| ApiError::MalformedBody("the query string is not valid".to_owned()))?;
    let mut filter = AlertFilter {
        limit: 50,
        ..AlertFilter::default()
    };
    for (name, value) in query {
        match name.as_str() {
            "kind" if AlertKind::parse(&value).is_some() => filter.kind = Some(value),
            "kind" => {
                let kinds: Vec<&str> = AlertKind::ALL.iter().map(|kind| kind.as_str()).collect();
                return Err(ApiError::invalid_field(
                    "kind",
                    format!("must be one of {}", kinds.join(", ")),
                ));
            }
            "status" if AlertStatus::parse(&value).is_some() => filter.status = AlertStatus::parse(&value),
            "status" => return Err(ApiError::invalid_field("status", "must be open or acknowledged")),
            "cursor" => {
                filter.after = Some(
                    decode_cursor(&value)
                        .ok_or_else(|| ApiError::invalid_field("cursor", "is not a cursor this API returned"))?,
                )
            }
            "limit" => {
                filter.limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|limit| (1..=MAX_PAGE).contains(limit))
                    .ok_or_else(|| ApiError::invalid_field("limit", format!("must be 1 to {MAX_PAGE}")))?
            }
            other => return Err(ApiError::invalid_field(other, "is not a parameter of this list")),
        }
    }
    let page = state
        .database
        .run(move |connection| list_alerts(connection, &organization, &filter))
        .await??;
    Ok(HttpResponse::Ok().json(json!({ "items": page.items, "next_cursor": page.next_cursor })))
}
