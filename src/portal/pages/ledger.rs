//! `GET /ledger`: the latest signed tree head and the most recent entries
//! as the API shows them to the signed-in organisation (`tlog::entries`
//! with the same reader as `/v1/ledger/entries`: sealed entries it is no
//! party to show only as `business`), each with a link to its inclusion
//! proof in the API. Without JavaScript that link is all; with it,
//! `static/ledger.js` adds a Check button to each row that checks the
//! entry in the browser (WebCrypto only): the entry's bytes hash to the
//! leaf hash shown, the latest signed note opens with the platform key
//! and origin this page states, and the inclusion proof leads to the
//! root it signs. The page hands the script that key, the origin and
//! every text it shows, in the reader's language, as `data-` attributes
//! (the Content-Security-Policy allows no inline script).

use actix_web::{web, HttpResponse};
use askama::Template;

use super::html;
use crate::api::state::AppState;
use crate::domain::Role;
use crate::portal::assets::assets;
use crate::portal::caller::Caller;
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::tlog::{self, Reader};

/// Entries shown, newest first.
const RECENT: u64 = 20;

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    frame: Frame,
    head: Option<Head>,
    public_key: String,
    origin: String,
    entries: Vec<Entry>,
}

struct Head {
    tree_size: i64,
    root_hash: String,
    signed_at: String,
    signature: String,
    checkpoint: String,
}

struct Entry {
    index: u64,
    kind: String,
    leaf_hash: String,
    proof: String,
}

pub async fn ledger(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, PortalError> {
    let principal = caller.organization()?;
    let reader = match principal.role {
        Role::Operator => Reader::Operator,
        _ => Reader::Organization(principal.organization_id.to_string()),
    };
    let t = caller.lang;
    let (head, entries) = state
        .database
        .run(move |connection| -> diesel::QueryResult<_> {
            let Some(head) = tlog::latest_head(connection)? else {
                return Ok((None, Vec::new()));
            };
            let size = u64::try_from(head.tree_size).unwrap_or(0);
            let entries = if size > 0 {
                tlog::entries(connection, size.saturating_sub(RECENT), size, &reader)?
            } else {
                Vec::new()
            };
            Ok((Some(head), entries))
        })
        .await??;
    let head = head.map(|head| Head {
        tree_size: head.tree_size,
        root_hash: hex::encode(&head.root_hash),
        signed_at: chrono::DateTime::from_timestamp_millis(head.timestamp_ms)
            .map_or_else(|| head.timestamp_ms.to_string(), |time| t.format_time(time.naive_utc())),
        signature: hex::encode(&head.signature),
        checkpoint: head.checkpoint.clone(),
    });
    let tree_size = head.as_ref().map_or(0, |head| head.tree_size);
    let mut frame = caller.frame(t.ledger(), "/ledger");
    frame.scripts.push(assets().ledger.path.as_str());
    html(&LedgerPage {
        frame,
        public_key: hex::encode(state.platform_key.verifying_key().to_bytes()),
        origin: state.settings.ledger.origin.clone(),
        entries: entries
            .into_iter()
            .rev()
            .map(|entry| Entry {
                proof: format!(
                    "/v1/ledger/proofs/inclusion?index={}&tree_size={tree_size}",
                    entry.index
                ),
                index: entry.index,
                kind: entry.kind,
                leaf_hash: hex::encode(&entry.leaf_hash),
            })
            .collect(),
        head,
    })
}
