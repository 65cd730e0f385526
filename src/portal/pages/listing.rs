//! What the portal's lists share (`/receivables`, `/purchase-orders`): a
//! party's rows — a supplier's own, or a core enterprise's as their buyer
//! (`store::registry::Side`) — newest first, filtered by status, a page at
//! a time by keyset on `(created_at, id)`, each naming the other party,
//! with links to the next page and back to the first.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::api::state::AppState;
use crate::domain::Role;
use crate::portal::caller::Caller;
use crate::portal::error::PortalError;
use crate::portal::i18n::Lang;
use crate::store::organizations::names;
use crate::store::registry::{PurchaseOrderRow, ReceivableRow, Side};
use crate::store::DbConnection;

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

/// A list's query: `?status=…&after=…`.
#[derive(serde::Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    /// The last `(created_at, id)` of the page before: `<time>_<id>`.
    pub after: Option<String>,
}

/// A row of a party's list.
pub trait Listed: Send + 'static {
    fn created_at(&self) -> NaiveDateTime;
    fn id(&self) -> &str;
    fn supplier_id(&self) -> &str;
    fn buyer_id(&self) -> &str;

    /// The other party, seen from `side`.
    fn counterparty(&self, side: Side) -> &str {
        match side {
            Side::Supplier => self.buyer_id(),
            Side::Buyer => self.supplier_id(),
        }
    }
}

/// `Listed` for row types with the fields it reads.
macro_rules! listed {
    ($($row:ty),*) => {$(
        impl Listed for $row {
            fn created_at(&self) -> NaiveDateTime {
                self.created_at
            }
            fn id(&self) -> &str {
                &self.id
            }
            fn supplier_id(&self) -> &str {
                &self.supplier_id
            }
            fn buyer_id(&self) -> &str {
                &self.buyer_id
            }
        }
    )*};
}

listed!(ReceivableRow, PurchaseOrderRow);

/// One page of a party's list, with what its template needs.
pub struct Page<R> {
    pub side: Side,
    pub rows: Vec<R>,
    /// The counterparties' names by id.
    names: HashMap<String, String>,
    pub next: Option<String>,
    pub first: Option<String>,
}

impl<R: Listed> Page<R> {
    /// The other party of `row` by name (by id if it has none).
    pub fn counterparty(&self, row: &R) -> String {
        let id = row.counterparty(self.side);
        self.names.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// "Buyer" in a supplier's list, "Supplier" in a buyer's.
    pub fn counterparty_label(&self, t: Lang) -> &'static str {
        match self.side {
            Side::Supplier => t.buyer(),
            Side::Buyer => t.supplier(),
        }
    }

    pub fn is_first(&self) -> bool {
        self.first.is_none()
    }
}

/// The page of the list at `path` that `query` asks for, read by `fetch`
/// (a repository query taking the side, the party, the cursor and the
/// limit; the status filter, `status` as written, is the caller's) for a
/// supplier or a core enterprise; other roles are forbidden.
pub async fn page<R, F>(
    caller: &Caller,
    state: &AppState,
    path: &str,
    query: &ListQuery,
    status: Option<&'static str>,
    fetch: F,
) -> Result<Page<R>, PortalError>
where
    R: Listed,
    F: FnOnce(&mut DbConnection, Side, &str, Option<(NaiveDateTime, String)>, i64) -> diesel::QueryResult<Vec<R>>
        + Send
        + 'static,
{
    let principal = caller.party()?;
    let party = principal.organization_id.to_string();
    let side = if principal.role == Role::Supplier {
        Side::Supplier
    } else {
        Side::Buyer
    };
    let after = after(query.after.as_deref())?;
    let first_page = after.is_none();
    let (rows, more, names) = state
        .database
        .run(move |connection| -> diesel::QueryResult<_> {
            // One more than a page tells whether another follows.
            let mut rows = fetch(connection, side, &party, after, PAGE + 1)?;
            let more = rows.len() > PAGE as usize;
            rows.truncate(PAGE as usize);
            let mut counterparties: Vec<String> = rows.iter().map(|row| row.counterparty(side).to_owned()).collect();
            counterparties.sort_unstable();
            counterparties.dedup();
            let names = names(connection, &counterparties)?;
            Ok((rows, more, names))
        })
        .await??;
    let (next, first) = pager(
        path,
        status,
        rows.last().map(|last| (last.created_at(), last.id())),
        more,
        first_page,
    );
    Ok(Page {
        side,
        rows,
        names,
        next,
        first,
    })
}

/// The status filter's options: every status of `all`, `status` selected.
pub fn statuses<S: Copy + PartialEq>(
    all: &[S],
    status: Option<S>,
    value: fn(S) -> &'static str,
    label: impl Fn(S) -> &'static str,
) -> Vec<StatusOption> {
    all.iter()
        .map(|option| StatusOption {
            value: value(*option),
            label: label(*option),
            selected: Some(*option) == status,
        })
        .collect()
}

/// The `after` a list was asked for (the last `(created_at, id)` of the
/// page before): none for the first page; a cursor that does not parse is
/// a bad request.
fn after(query: Option<&str>) -> Result<Option<(NaiveDateTime, String)>, PortalError> {
    match query.filter(|after| !after.is_empty()) {
        Some(after) => Ok(Some(decode_cursor(after).ok_or(PortalError::BadRequest)?)),
        None => Ok(None),
    }
}

/// The links of a list at `path` filtered by `status`: to the page after
/// `last` (when `more` follow it) and, off the first page, to the first.
fn pager(
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

/// `<created_at>_<id>`: the time as the cursor writes it, then the id
/// (the organisations' list pages by the same keyset).
pub(super) fn encode_cursor(created_at: NaiveDateTime, id: &str) -> String {
    format!("{}_{id}", created_at.format(CURSOR_TIME))
}

pub(super) fn decode_cursor(cursor: &str) -> Option<(NaiveDateTime, String)> {
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
        assert_eq!(
            pager("/receivables", None, Some((time, "x")), false, true),
            (None, None)
        );
    }
}
