//! The risk officer's alert inbox: `GET /alerts` (open alerts first,
//! newest first, filtered by kind, paged by the API's cursors),
//! `GET /alerts/{id}` (one alert's facts) and
//! `POST /alerts/{id}/acknowledgement`. Each reads the officer's
//! organisation's copy through the same use cases as `/v1/alerts`, so a
//! bank's officer sees the redacted copy the API gives it. The inbox
//! reloads itself while open (`static/refresh.js`; without scripts, a
//! `<noscript>` refresh).

use actix_web::{web, HttpResponse};
use askama::Template;
use serde_json::Value;

use super::{html, see_other};
use crate::alerts::{acknowledge_alert, decode_cursor, find_alert, list_alerts, AlertFilter, AlertKind, AlertPage};
use crate::api::state::AppState;
use crate::domain::AlertStatus;
use crate::portal::assets::assets;
use crate::portal::caller::Caller;
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::i18n::Lang;
use crate::portal::messages;
use crate::refusal::{Refusal, UseCaseError};

/// Alerts per page of the inbox.
const PAGE: i64 = 25;
/// Acknowledged alerts shown under the open ones.
const RECENTLY_ACKNOWLEDGED: i64 = 5;
/// How often the open inbox reloads itself.
const REFRESH_SECONDS: u32 = 30;

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    frame: Frame,
    kinds: Vec<KindOption>,
    acknowledged_view: bool,
    sections: Vec<Section>,
}

struct KindOption {
    value: &'static str,
    label: String,
    selected: bool,
}

struct Section {
    heading: &'static str,
    empty: &'static str,
    alerts: Vec<AlertLine>,
    more: Option<Link>,
}

struct Link {
    href: String,
    label: &'static str,
}

struct AlertLine {
    id: String,
    time: String,
    kind: String,
    subject: String,
    status: &'static str,
    open: bool,
}

#[derive(serde::Deserialize)]
pub struct InboxQuery {
    kind: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
}

pub async fn inbox(
    caller: Caller,
    query: web::Query<InboxQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let (organization, _) = caller.risk_officer()?;
    let t = caller.lang;
    // The form offers only known kinds; anything else filters nothing.
    let kind = query.kind.as_deref().and_then(AlertKind::parse);
    let acknowledged_view = query.status.as_deref() == Some(AlertStatus::Acknowledged.as_str());
    let after = match query.cursor.as_deref().filter(|cursor| !cursor.is_empty()) {
        Some(cursor) => Some(decode_cursor(cursor).ok_or(PortalError::BadRequest)?),
        None => None,
    };
    let first_page = after.is_none();
    let listed = AlertFilter {
        kind: kind.map(|kind| kind.as_str().to_owned()),
        status: Some(if acknowledged_view {
            AlertStatus::Acknowledged
        } else {
            AlertStatus::Open
        }),
        after,
        limit: PAGE,
        without_facts: true,
    };
    let recent = AlertFilter {
        status: Some(AlertStatus::Acknowledged),
        after: None,
        limit: RECENTLY_ACKNOWLEDGED,
        ..listed.clone()
    };
    let (listed, recent) = state
        .database
        .run(move |connection| -> diesel::QueryResult<_> {
            let listed = list_alerts(connection, &organization, &listed)?;
            // Under the first page of open alerts, the latest acknowledged.
            let recent = if !acknowledged_view && first_page {
                Some(list_alerts(connection, &organization, &recent)?)
            } else {
                None
            };
            Ok((listed, recent))
        })
        .await??;

    let link = |status: Option<AlertStatus>, cursor: Option<&str>| {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(kind) = kind {
            query.push(("kind", kind.as_str()));
        }
        if let Some(status) = status {
            query.push(("status", status.as_str()));
        }
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        match serde_urlencoded::to_string(&query) {
            Ok(encoded) if !encoded.is_empty() => format!("/alerts?{encoded}"),
            _ => "/alerts".to_owned(),
        }
    };
    let older = |page: &AlertPage, status: Option<AlertStatus>| {
        page.next_cursor.as_deref().map(|cursor| Link {
            href: link(status, Some(cursor)),
            label: t.older(),
        })
    };
    let mut sections = Vec::new();
    if acknowledged_view {
        sections.push(Section {
            heading: t.acknowledged_alerts(),
            empty: t.no_acknowledged_alerts(),
            alerts: lines(t, &listed.items),
            more: older(&listed, Some(AlertStatus::Acknowledged)).or(Some(Link {
                href: link(None, None),
                label: t.show_open(),
            })),
        });
    } else {
        sections.push(Section {
            heading: t.open_alerts(),
            empty: t.no_open_alerts(),
            alerts: lines(t, &listed.items),
            more: older(&listed, None),
        });
        if let Some(recent) = recent {
            sections.push(Section {
                heading: t.acknowledged_alerts(),
                empty: t.no_acknowledged_alerts(),
                alerts: lines(t, &recent.items),
                more: Some(Link {
                    href: link(Some(AlertStatus::Acknowledged), None),
                    label: t.show_acknowledged(),
                }),
            });
        }
    }
    let mut frame = caller.frame(t.alert_inbox(), "/alerts");
    frame.scripts.push(assets().refresh.path.as_str());
    frame.refresh_seconds = Some(REFRESH_SECONDS);
    html(&InboxPage {
        frame,
        kinds: AlertKind::ALL
            .into_iter()
            .map(|option| KindOption {
                value: option.as_str(),
                label: messages::alert_kind(t, option.as_str()),
                selected: Some(option) == kind,
            })
            .collect(),
        acknowledged_view,
        sections,
    })
}

fn lines(t: Lang, items: &[Value]) -> Vec<AlertLine> {
    items
        .iter()
        .map(|item| {
            let open = item["status"] == AlertStatus::Open.as_str();
            AlertLine {
                id: text(&item["id"]),
                time: time(t, &item["created_at"]),
                kind: messages::alert_kind(t, item["kind"].as_str().unwrap_or_default()),
                subject: item["subject_id"].as_str().unwrap_or("-").to_owned(),
                status: status(t, open),
                open,
            }
        })
        .collect()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// An API time (RFC 3339) written for the locale; as sent if it is not one.
fn time(t: Lang, value: &Value) -> String {
    let raw = value.as_str().unwrap_or_default();
    chrono::DateTime::parse_from_rfc3339(raw).map_or_else(|_| raw.to_owned(), |time| t.format_time(time.naive_utc()))
}

fn status(t: Lang, open: bool) -> &'static str {
    if open {
        t.status_open()
    } else {
        t.status_acknowledged()
    }
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertView {
    frame: Frame,
    id: String,
    kind: String,
    notice: Option<&'static str>,
    rows: Vec<Row>,
    facts: Vec<(String, String)>,
    open: bool,
    csrf: String,
}

struct Row {
    label: &'static str,
    value: String,
    /// Shown as code (ids, hashes).
    code: bool,
}

#[derive(serde::Deserialize)]
pub struct AlertQuery {
    done: Option<String>,
    already: Option<String>,
}

pub async fn alert(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<AlertQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let (organization, _) = caller.risk_officer()?;
    let t = caller.lang;
    let id = uuid::Uuid::parse_str(&path)
        .map_err(|_| PortalError::NotFound)?
        .to_string();
    let alert = state
        .database
        .run(move |connection| find_alert(connection, &organization, &id))
        .await??
        .ok_or(PortalError::NotFound)?;
    let open = alert["status"] == AlertStatus::Open.as_str();
    let party = |name: &Value, id: &Value| match (name.as_str(), id.as_str()) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (None, Some(id)) => id.to_owned(),
        _ => t.withheld().to_owned(),
    };
    let optional = |value: &Value| value.as_str().unwrap_or("-").to_owned();
    let mut rows = vec![
        Row {
            label: t.alert(),
            value: text(&alert["id"]),
            code: true,
        },
        Row {
            label: t.time(),
            value: time(t, &alert["created_at"]),
            code: false,
        },
        Row {
            label: t.status(),
            value: status(t, open).to_owned(),
            code: false,
        },
    ];
    if !alert["acknowledged_at"].is_null() {
        rows.push(Row {
            label: t.acknowledged_at(),
            value: time(t, &alert["acknowledged_at"]),
            code: false,
        });
    }
    rows.extend([
        Row {
            label: t.subject(),
            value: optional(&alert["subject_id"]),
            code: true,
        },
        Row {
            label: t.fingerprint_keyed(),
            value: optional(&alert["fingerprint"]),
            code: true,
        },
        Row {
            label: t.attempting_organization(),
            value: party(&alert["attempting_org_name"], &alert["attempting_org_id"]),
            code: false,
        },
        Row {
            label: t.existing_party(),
            value: party(&alert["existing_party_name"], &alert["existing_party_id"]),
            code: false,
        },
        Row {
            label: t.ledger_leaf(),
            value: optional(&alert["ledger"]["leaf_hash"]),
            code: true,
        },
    ]);
    let facts = alert["facts"]
        .as_object()
        .map(|facts| {
            facts
                .iter()
                .map(|(name, value)| {
                    let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                    (name.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default();
    let notice = if query.done.is_some() {
        Some(t.alert_acknowledged())
    } else if query.already.is_some() {
        Some(t.already_acknowledged())
    } else {
        None
    };
    let kind = messages::alert_kind(t, alert["kind"].as_str().unwrap_or_default());
    html(&AlertView {
        frame: caller.frame(&kind, "/alerts"),
        id: text(&alert["id"]),
        kind,
        notice,
        rows,
        facts,
        open,
        csrf: caller.csrf_token(),
    })
}

pub async fn acknowledge(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let (organization, officer) = caller.risk_officer()?;
    let id = uuid::Uuid::parse_str(&path)
        .map_err(|_| PortalError::NotFound)?
        .to_string();
    let alert = id.clone();
    let acknowledged = state
        .database
        .run(move |connection| acknowledge_alert(connection, &organization, &officer, &alert))
        .await?;
    match acknowledged {
        Ok(_) => Ok(see_other(&format!("/alerts/{id}?done=1"))),
        Err(UseCaseError::Refused {
            refusal: Refusal::AlreadyAcknowledged,
            ..
        }) => Ok(see_other(&format!("/alerts/{id}?already=1"))),
        Err(error) => Err(error.into()),
    }
}
