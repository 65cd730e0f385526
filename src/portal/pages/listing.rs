//! What the portal's lists share (`/receivables`, `/purchase-orders`): a
//! status filter, newest first, a page at a time by keyset on
//! `(created_at, id)`, with links to the next page and back to the first.

use chrono::NaiveDateTime;

use crate::portal::error::PortalError;

/// Rows per page.
pub const PAGE: i64 = 50;

/// How a cursor writes a creation time (to the microsecond, as stored).
const CURSOR_TIME: &str = "%Y-%m-%dT%H:%M:%S%.6f";

/// An option of a list's status filter.
pub struct StatusOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// The `after` a list was asked for (the last `(created_at, id)` of the
/// page before): none for the first page; a cursor that does not parse is
/// a bad request.
pub fn after(query: Option<&str>) -> Result<Option<(NaiveDateTime, String)>, PortalError> {
    match query.filter(|after| !after.is_empty()) {
        Some(after) => Ok(Some(decode_cursor(after).ok_or(PortalError::BadRequest)?)),
        None => Ok(None),
    }
}

/// The links of a list at `path` filtered by `status`: to the page after
/// `last` (when `more` follow it) and, off the first page, to the first.
pub fn pager(
    path: &str,
    status: Option<&str>,
    last: Option<(NaiveDateTime, &str)>,
    more: bool,
    first_page: bool,
) -> (Option<String>, Option<String>) {
    let link = |after: Option<String>| {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(status) = status {
            query.push(("status", status.to_owned()));
        }
        if let Some(after) = after {
            query.push(("after", after));
        }
        match serde_urlencoded::to_string(&query) {
            Ok(encoded) if !encoded.is_empty() => format!("{path}?{encoded}"),
            _ => path.to_owned(),
        }
    };
    let next = more
        .then(|| last.map(|(created_at, id)| link(Some(encode_cursor(created_at, id)))))
        .flatten();
    (next, (!first_page).then(|| link(None)))
}

/// `<created_at>_<id>`: the time as the cursor writes it, then the id.
fn encode_cursor(created_at: NaiveDateTime, id: &str) -> String {
    format!("{}_{id}", created_at.format(CURSOR_TIME))
}

fn decode_cursor(cursor: &str) -> Option<(NaiveDateTime, String)> {
    let (time, id) = cursor.split_once('_')?;
    let time = NaiveDateTime::parse_from_str(time, CURSOR_TIME).ok()?;
    let id = uuid::Uuid::parse_str(id).ok()?.to_string();
    Some((time, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_carry_the_time_to_the_microsecond_and_the_id() {
        let time = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_micro_opt(9, 41, 5, 123_456)
            .unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        let cursor = encode_cursor(time, &id);
        assert_eq!(decode_cursor(&cursor), Some((time, id)));
        assert_eq!(decode_cursor("2026-12-01T09:41:05.123456_nonsense"), None);
        assert_eq!(decode_cursor("yesterday_0"), None);
    }

    #[test]
    fn pager_links_keep_the_filter() {
        let time = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let (next, first) = pager("/purchase-orders", Some("registered"), Some((time, "x")), true, false);
        assert_eq!(
            next.as_deref(),
            Some("/purchase-orders?status=registered&after=2026-12-01T09%3A00%3A00.000000_x")
        );
        assert_eq!(first.as_deref(), Some("/purchase-orders?status=registered"));
        assert_eq!(pager("/receivables", None, Some((time, "x")), false, true), (None, None));
    }
}
