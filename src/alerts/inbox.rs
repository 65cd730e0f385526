//! Risk officers' view of alerts: listed newest first with cursor
//! pagination, filtered by kind and status, and acknowledged — each
//! organisation's copy on its own, redacted as it was addressed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::audience::{alert_copy, names_of, Names};
use crate::domain::AlertStatus;
use crate::refusal::{Refusal, UseCaseError};
use crate::store::alerts::{self as repository, AlertRow, AudienceRow};
use crate::store::{self, format_time, write_transaction, DbConnection};

pub const MAX_PAGE: i64 = 100;

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub kind: Option<String>,
    pub status: Option<AlertStatus>,
    /// Items strictly after this position (older).
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
    /// Leave each alert's facts out (the portal's list shows none; an
    /// upload's near-duplicate alert carries one line per row, tens of
    /// kilobytes): the items' `facts` are then empty.
    pub without_facts: bool,
}

#[derive(Debug, Clone)]
pub struct AlertPage {
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
}

/// An opaque cursor: the position of the last item of a page.
pub fn encode_cursor(created_at: NaiveDateTime, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", created_at.and_utc().timestamp_micros()))
}

pub fn decode_cursor(raw: &str) -> Option<(NaiveDateTime, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (micros, id) = text.split_once(':')?;
    let time = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((time, id.to_owned()))
}

fn item(alert: &AlertRow, audience: &AudienceRow, names: &Names) -> Value {
    let mut copy = alert_copy(alert, &audience.organization_id, audience.redacted, names);
    copy["status"] = json!(audience.status);
    copy["acknowledged_at"] = json!(audience.acknowledged_at.map(format_time));
    copy
}

pub fn list_alerts(
    connection: &mut DbConnection,
    organization_id: &str,
    filter: &AlertFilter,
) -> diesel::QueryResult<AlertPage> {
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let mut rows = repository::alerts_for(
        connection,
        organization_id,
        &repository::AlertsFor {
            kind: filter.kind.as_deref(),
            status: filter.status,
            before: filter.after.clone(),
            limit: limit + 1,
            with_details: !filter.without_facts,
        },
    )?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|(alert, _)| encode_cursor(alert.created_at, &alert.id))
    } else {
        None
    };
    let names = names_of(connection, rows.iter().map(|(alert, _)| alert))?;
    Ok(AlertPage {
        items: rows
            .iter()
            .map(|(alert, audience)| item(alert, audience, &names))
            .collect(),
        next_cursor,
    })
}

/// The organisation's copy of one alert, as [`list_alerts`] shows it;
/// `None` if it was not told of the alert.
pub fn find_alert(
    connection: &mut DbConnection,
    organization_id: &str,
    alert_id: &str,
) -> diesel::QueryResult<Option<Value>> {
    let Some((alert, audience)) = repository::find_alert_for(connection, alert_id, organization_id)? else {
        return Ok(None);
    };
    let names = names_of(connection, [&alert])?;
    Ok(Some(item(&alert, &audience, &names)))
}

/// Acknowledges the organisation's copy of an alert for one of its officers.
pub fn acknowledge_alert(
    connection: &mut DbConnection,
    organization_id: &str,
    officer_id: &str,
    alert_id: &str,
) -> Result<Value, UseCaseError> {
    write_transaction(connection, |connection| {
        let now = store::now();
        let (alert, audience) =
            repository::find_alert_for(connection, alert_id, organization_id)?.ok_or(UseCaseError::NotFound)?;
        if !repository::acknowledge(connection, alert_id, organization_id, officer_id, now)? {
            return Err(UseCaseError::refused(
                Refusal::AlreadyAcknowledged,
                "this alert was acknowledged already",
            ));
        }
        let audience = AudienceRow {
            status: AlertStatus::Acknowledged,
            acknowledged_at: Some(now),
            acknowledged_by: Some(officer_id.to_owned()),
            ..audience
        };
        let names = names_of(connection, [&alert])?;
        Ok(item(&alert, &audience, &names))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let time = chrono::DateTime::from_timestamp_micros(1_764_000_000_123_456)
            .unwrap()
            .naive_utc();
        let cursor = encode_cursor(time, "abc-1");
        assert_eq!(decode_cursor(&cursor), Some((time, "abc-1".to_owned())));
        assert_eq!(decode_cursor("!!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("x:y")), None);
    }
}
