//! The supplier's receivables: `GET /receivables` (its own, newest first,
//! filtered by status, a page at a time by keyset on `(created_at, id)`)
//! and `GET /receivables/{id}` (one receivable as the API shows it:
//! `registry::visible_receivable`, the same check as
//! `GET /v1/receivables/{id}`).

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;

use super::html;
use crate::api::state::AppState;
use crate::domain::{Currency, ReceivableStatus};
use crate::portal::caller::Caller;
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::i18n::Lang;
use crate::portal::messages;
use crate::refusal::UseCaseError;
use crate::registry::{of_receivable, visible_receivable, Viewer};
use crate::store::organizations::names;
use crate::store::registry::{receivables_of_supplier, ReceivableRow};

/// Receivables per page.
const PAGE: i64 = 50;

/// How a cursor writes a creation time (to the microsecond, as stored).
const CURSOR_TIME: &str = "%Y-%m-%dT%H:%M:%S%.6f";

#[derive(Template)]
#[template(path = "receivables.html")]
struct ListPage {
    frame: Frame,
    statuses: Vec<StatusOption>,
    rows: Vec<ListRow>,
    next: Option<String>,
    first: Option<String>,
}

struct StatusOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

struct ListRow {
    id: String,
    invoice_number: String,
    buyer: String,
    issue_date: String,
    due_date: String,
    amount: String,
    outstanding: String,
    status: &'static str,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    /// The last `(created_at, id)` of the page before: `<time>_<id>`.
    after: Option<String>,
}

pub async fn receivables(
    caller: Caller,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let supplier = caller.supplier()?.organization_id.to_string();
    let t = caller.lang;
    // The form offers only known statuses; anything else filters nothing.
    let status = query.status.as_deref().and_then(ReceivableStatus::parse);
    let after = match query.after.as_deref().filter(|after| !after.is_empty()) {
        Some(after) => Some(decode_cursor(after).ok_or(PortalError::BadRequest)?),
        None => None,
    };
    let first_page = after.is_none();
    let (page, buyers) = state
        .database
        .run(move |connection| -> diesel::QueryResult<_> {
            // One more than a page tells whether another follows.
            let mut page = receivables_of_supplier(connection, &supplier, status, after, PAGE + 1)?;
            let more = page.len() > PAGE as usize;
            page.truncate(PAGE as usize);
            let mut buyer_ids: Vec<String> = page.iter().map(|row| row.buyer_id.clone()).collect();
            buyer_ids.sort_unstable();
            buyer_ids.dedup();
            let buyers = names(connection, &buyer_ids)?;
            Ok(((page, more), buyers))
        })
        .await??;
    let (page, more) = page;
    let link = |after: Option<String>| {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(status) = status {
            query.push(("status", status.as_str().to_owned()));
        }
        if let Some(after) = after {
            query.push(("after", after));
        }
        match serde_urlencoded::to_string(&query) {
            Ok(encoded) if !encoded.is_empty() => format!("/receivables?{encoded}"),
            _ => "/receivables".to_owned(),
        }
    };
    let next = more
        .then(|| {
            page.last()
                .map(|last| link(Some(encode_cursor(last.created_at, &last.id))))
        })
        .flatten();
    let rows = page
        .iter()
        .map(|row| ListRow {
            id: row.id.clone(),
            invoice_number: row.invoice_number.clone(),
            buyer: buyers
                .get(&row.buyer_id)
                .cloned()
                .unwrap_or_else(|| row.buyer_id.clone()),
            issue_date: t.format_date(row.issue_date),
            due_date: t.format_date(row.due_date),
            amount: amount(t, row.amount_minor, &row.currency),
            outstanding: amount(t, row.amount_minor - row.credited_minor, &row.currency),
            status: messages::receivable_status(t, row.status),
        })
        .collect();
    html(&ListPage {
        frame: caller.frame(t.receivables(), "/receivables"),
        statuses: ReceivableStatus::ALL
            .iter()
            .map(|option| StatusOption {
                value: option.as_str(),
                label: messages::receivable_status(t, *option),
                selected: Some(*option) == status,
            })
            .collect(),
        rows,
        next,
        first: (!first_page).then(|| link(None)),
    })
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

/// An amount for the locale; a stored currency that does not parse (never
/// written so) in plain minor units rather than a failed page.
fn amount(t: Lang, minor_units: i64, currency: &str) -> String {
    Currency::parse(currency).map_or_else(
        |_| format!("{minor_units} {currency}"),
        |currency| t.format_amount(minor_units, currency),
    )
}

#[derive(Template)]
#[template(path = "receivable.html")]
struct DetailPage {
    frame: Frame,
    invoice_number: String,
    facts: Vec<Fact>,
}

struct Fact {
    label: &'static str,
    value: String,
    /// Shown as code (ids, hashes).
    code: bool,
    /// A link to another receivable's page.
    href: Option<String>,
}

impl Fact {
    fn text(label: &'static str, value: String) -> Self {
        Fact {
            label,
            value,
            code: false,
            href: None,
        }
    }

    fn code(label: &'static str, value: String) -> Self {
        Fact {
            label,
            value,
            code: true,
            href: None,
        }
    }
}

pub async fn receivable(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let principal = caller.supplier()?;
    let viewer = Viewer {
        organization_id: principal.organization_id.to_string(),
        role: principal.role,
    };
    let t = caller.lang;
    let id = uuid::Uuid::parse_str(&path)
        .map_err(|_| PortalError::NotFound)?
        .to_string();
    let (receivable, fingerprint, buyer): (ReceivableRow, _, _) = state
        .database
        .run(move |connection| -> Result<_, UseCaseError> {
            let Some(receivable) = visible_receivable(connection, &viewer, &id)? else {
                return Ok(None);
            };
            let fingerprint = of_receivable(connection, &receivable)?;
            let buyer = names(connection, std::slice::from_ref(&receivable.buyer_id))?.remove(&receivable.buyer_id);
            Ok(Some((receivable, fingerprint, buyer)))
        })
        .await??
        .ok_or(PortalError::NotFound)?;
    let currency = &receivable.currency;
    let mut facts = vec![
        Fact::text(t.invoice_number(), receivable.invoice_number.clone()),
        Fact::text(
            t.buyer(),
            match buyer {
                Some(name) => format!("{name} ({})", receivable.buyer_id),
                None => receivable.buyer_id.clone(),
            },
        ),
        Fact::text(t.issue_date(), t.format_date(receivable.issue_date)),
        Fact::text(t.due_date(), t.format_date(receivable.due_date)),
        Fact::text(t.amount(), amount(t, receivable.amount_minor, currency)),
        Fact::text(t.credited(), amount(t, receivable.credited_minor, currency)),
        Fact::text(
            t.outstanding(),
            amount(t, receivable.amount_minor - receivable.credited_minor, currency),
        ),
        Fact::text(t.status(), messages::receivable_status(t, receivable.status).to_owned()),
        Fact::text(t.registered_at(), t.format_time(receivable.created_at)),
    ];
    if let Some(reference) = &receivable.order_reference {
        facts.push(Fact::text(t.order_reference(), reference.clone()));
    }
    if let Some(successor) = &receivable.superseded_by {
        facts.push(Fact {
            href: Some(format!("/receivables/{successor}")),
            ..Fact::code(t.superseded_by(), successor.clone())
        });
    }
    facts.push(Fact::code(t.fingerprint(), fingerprint.to_hex()));
    facts.push(Fact::code(t.ledger_leaf(), hex::encode(&receivable.leaf_hash)));
    html(&DetailPage {
        frame: caller.frame(&receivable.invoice_number, "/receivables"),
        invoice_number: receivable.invoice_number.clone(),
        facts,
    })
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
}
