//! Answers from the witness's own copy, no network: for the read API and
//! `anchorfin witness show`.

use diesel::sqlite::SqliteConnection;
use diesel::QueryResult;
use serde_json::{json, Value};

use super::store::{self, CosignedRow, EntryRow};

/// What a question is about.
#[derive(Debug, Clone)]
pub enum About {
    /// A receivable's or purchase order's fingerprint, lowercase hex.
    Fingerprint(String),
    /// An id among the entries' subjects (an asset, a receivable, an organisation …).
    Subject(String),
}

impl About {
    /// 64 hex digits are a fingerprint; anything else an id.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        if text.len() == 64 && text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            About::Fingerprint(text.to_ascii_lowercase())
        } else {
            About::Subject(text.to_owned())
        }
    }
}

fn time(micros: i64) -> Value {
    chrono::DateTime::from_timestamp_micros(micros)
        .map_or(Value::Null, |time| json!(crate::store::format_time(time.naive_utc())))
}

/// One stored entry as the bank sees it.
pub fn entry_json(row: &EntryRow) -> Value {
    let details: Option<Value> = row.details.as_deref().and_then(|text| serde_json::from_str(text).ok());
    json!({
        "index": row.entry_index,
        "kind": row.kind,
        "time": time(row.time_micros),
        "fingerprint": row.fingerprint,
        "subjects": serde_json::from_str::<Value>(&row.subjects).unwrap_or(Value::Null),
        "leaf_hash": hex::encode(&row.leaf_hash),
        "details": details.map(|details| details["data"].clone()),
    })
}

fn checkpoint_json(row: &CosignedRow) -> Value {
    json!({
        "origin": row.origin,
        "tree_size": row.tree_size,
        "root_hash": hex::encode(&row.root_hash),
        "cosigned_at": crate::store::format_time(row.cosigned_at),
        "note": format!("{}{}", row.note, row.cosignature),
    })
}

/// The entries about something, and the latest cosigned checkpoint they
/// are part of.
pub fn about(connection: &mut SqliteConnection, about: &About) -> QueryResult<Value> {
    let rows = match about {
        About::Fingerprint(fingerprint) => store::entries_by_fingerprint(connection, fingerprint)?,
        About::Subject(subject) => store::entries_by_subject(connection, subject)?,
    };
    let latest = store::latest_cosigned(connection)?;
    Ok(json!({
        "entries": rows.iter().map(entry_json).collect::<Vec<_>>(),
        "checkpoint": latest.as_ref().map(checkpoint_json),
    }))
}

/// Every piece of evidence.
pub fn evidence(connection: &mut SqliteConnection) -> QueryResult<Value> {
    let rows = store::list_evidence(connection)?;
    let mail = store::list_mail(connection)?;
    Ok(json!({
        "evidence": rows.iter().map(|row| json!({
            "id": row.id,
            "origin": row.origin,
            "reason": row.reason,
            "note": row.note,
            "old_size": row.old_size,
            "proof": row.proof.lines().collect::<Vec<_>>(),
            "conflicting_note": row.conflicting_note,
            "recorded_at": crate::store::format_time(row.recorded_at),
            "emails": mail.iter().filter(|mail| mail.evidence_id == row.id).map(|mail| json!({
                "kind": mail.kind,
                "recipient": mail.recipient,
                "sent": mail.sent_at.is_some(),
                "attempts": mail.attempts,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))
}
