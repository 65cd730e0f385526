//! `POST /v1/assets/{id}/split` — the holder divides an asset into parts
//! that sum exactly to its face value, optionally transferring parts to
//! other suppliers. The parent is retired.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;
use crate::api::idempotency::{decide, Idempotent, Reply};
use crate::api::json::JsonBody;
use crate::api::path_id;
use crate::api::state::AppState;
use crate::registry::{asset_view, split_asset, SplitPart};
use crate::validation::{field, FieldError};

/// At least two parts and at most this many.
const MAX_PARTS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    pub(crate) parts: Vec<PartRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartRequest {
    pub(crate) amount: String,
    #[serde(default)]
    pub(crate) transfer_to: Option<String>,
}

impl SplitRequest {
    /// Amounts are read by the use case, in the asset's currency.
    pub(crate) fn parse(self) -> Result<Vec<SplitPart>, FieldError> {
        if self.parts.len() < 2 || self.parts.len() > MAX_PARTS {
            return Err(FieldError::new(
                "parts",
                format!("must list between 2 and {MAX_PARTS} parts"),
            ));
        }
        parse_parts(self.parts)
    }
}

fn parse_parts(parts: Vec<PartRequest>) -> Result<Vec<SplitPart>, FieldError> {
    parts
        .into_iter()
        .enumerate()
        .map(|(index, part)| {
            let transfer_to = match &part.transfer_to {
                None => None,
                Some(raw) => Some(field(
                    &format!("parts[{index}].transfer_to"),
                    Uuid::parse_str(raw).map_err(|_| "must be a UUID"),
                )?),
            };
            Ok(SplitPart {
                amount: part.amount,
                transfer_to,
            })
        })
        .collect()
}

pub async fn split(
    caller: Authenticated,
    key: Idempotent,
    path: web::Path<String>,
    state: web::Data<AppState>,
    JsonBody(request): JsonBody<SplitRequest>,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.organization()?;
    let id = path_id(&path)?;
    let parts = request.parse()?;
    let answer = decide(&state, &key, move |connection| {
        let split = split_asset(connection, &viewer, id, &parts)?;
        let children: Vec<_> = split
            .children
            .iter()
            .map(|child| asset_view(child, &[], None))
            .collect();
        Ok(Reply::created(serde_json::json!({
            "parent": asset_view(&split.parent, &split.children, None),
            "children": children,
            "ledger": { "leaf_hash": hex::encode(split.leaf_hash) },
        })))
    })
    .await;
    state.sequencer.wake();
    answer
}
