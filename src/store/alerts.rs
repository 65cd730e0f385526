//! Rows and repository functions of alerts, their audiences and the e-mail
//! outbox.

use crate::domain::{AlertStatus, DeliveryStatus};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{alert_audiences, alert_deliveries, alerts};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = alerts)]
pub struct AlertRow {
    pub id: String,
    pub kind: String,
    pub fingerprint: Option<Vec<u8>>,
    pub subject_id: Option<String>,
    pub attempting_org_id: String,
    pub existing_party_id: Option<String>,
    pub details: String,
    pub leaf_hash: Vec<u8>,
    pub status: AlertStatus,
    pub created_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
}

pub fn insert_alerts(connection: &mut DbConnection, rows: &[AlertRow]) -> QueryResult<()> {
    insert_many!(connection, alerts::table, rows).map(|_| ())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = alert_audiences)]
pub struct AudienceRow {
    pub alert_id: String,
    pub organization_id: String,
    pub redacted: bool,
    pub status: AlertStatus,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = alert_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub alert_id: String,
    pub risk_officer_id: String,
    pub recipient: String,
    pub message_id: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub leased_until: Option<NaiveDateTime>,
    pub leased_by: Option<String>,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn insert_audiences(connection: &mut DbConnection, rows: &[AudienceRow]) -> QueryResult<()> {
    insert_many!(connection, alert_audiences::table, rows).map(|_| ())
}

pub fn insert_deliveries(connection: &mut DbConnection, rows: &[DeliveryRow]) -> QueryResult<()> {
    insert_many!(connection, alert_deliveries::table, rows).map(|_| ())
}

/// Alerts an organisation is told of, newest first, after the cursor
/// `(created_at, id)`, optionally filtered.
/// Which of an organisation's alerts [`alerts_for`] reads.
pub struct AlertsFor<'a> {
    pub kind: Option<&'a str>,
    pub status: Option<AlertStatus>,
    /// Strictly older than this `(created_at, id)`.
    pub before: Option<(NaiveDateTime, String)>,
    pub limit: i64,
    /// Whether to read the alerts' details; without them, `details` is
    /// `{}` (a list that shows none need not read tens of kilobytes an
    /// alert).
    pub with_details: bool,
}

pub fn alerts_for(
    connection: &mut DbConnection,
    organization_id: &str,
    which: &AlertsFor<'_>,
) -> QueryResult<Vec<(AlertRow, AudienceRow)>> {
    let mut query = alerts::table
        .inner_join(alert_audiences::table)
        .filter(alert_audiences::organization_id.eq(organization_id))
        .into_boxed();
    if let Some(kind) = which.kind {
        query = query.filter(alerts::kind.eq(kind.to_owned()));
    }
    if let Some(status) = which.status {
        query = query.filter(alert_audiences::status.eq(status));
    }
    if let Some((created_at, id)) = which.before.clone() {
        // `created_at <= cursor` says no more than the disjunction after
        // it, but gives the index its bound: without it, PostgreSQL read
        // the index down from the newest alert to the cursor on every page
        // (docs/BENCHMARKS.md, "Growth").
        query = query.filter(alerts::created_at.le(created_at)).filter(
            alerts::created_at
                .lt(created_at)
                .or(alerts::created_at.eq(created_at).and(alerts::id.lt(id))),
        );
    }
    let query = query
        .order((alerts::created_at.desc(), alerts::id.desc()))
        .limit(which.limit);
    if which.with_details {
        return query
            .select((AlertRow::as_select(), AudienceRow::as_select()))
            .load(connection);
    }
    let rows: Vec<(AlertSummaryRow, AudienceRow)> = query
        .select((AlertSummaryRow::as_select(), AudienceRow::as_select()))
        .load(connection)?;
    Ok(rows
        .into_iter()
        .map(|(alert, audience)| (alert.without_details(), audience))
        .collect())
}

/// An alert without its details.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alerts)]
struct AlertSummaryRow {
    id: String,
    kind: String,
    fingerprint: Option<Vec<u8>>,
    subject_id: Option<String>,
    attempting_org_id: String,
    existing_party_id: Option<String>,
    leaf_hash: Vec<u8>,
    status: AlertStatus,
    created_at: NaiveDateTime,
    acknowledged_at: Option<NaiveDateTime>,
    acknowledged_by: Option<String>,
}

impl AlertSummaryRow {
    fn without_details(self) -> AlertRow {
        AlertRow {
            id: self.id,
            kind: self.kind,
            fingerprint: self.fingerprint,
            subject_id: self.subject_id,
            attempting_org_id: self.attempting_org_id,
            existing_party_id: self.existing_party_id,
            details: "{}".to_owned(),
            leaf_hash: self.leaf_hash,
            status: self.status,
            created_at: self.created_at,
            acknowledged_at: self.acknowledged_at,
            acknowledged_by: self.acknowledged_by,
        }
    }
}

pub fn find_alert_for(
    connection: &mut DbConnection,
    alert_id: &str,
    organization_id: &str,
) -> QueryResult<Option<(AlertRow, AudienceRow)>> {
    alerts::table
        .inner_join(alert_audiences::table)
        .filter(alerts::id.eq(alert_id))
        .filter(alert_audiences::organization_id.eq(organization_id))
        .select((AlertRow::as_select(), AudienceRow::as_select()))
        .first(connection)
        .optional()
}

/// `open → acknowledged` for one audience; false if it was acknowledged.
pub fn acknowledge(
    connection: &mut DbConnection,
    alert_id: &str,
    organization_id: &str,
    officer_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        alert_audiences::table
            .filter(alert_audiences::alert_id.eq(alert_id))
            .filter(alert_audiences::organization_id.eq(organization_id))
            .filter(alert_audiences::status.eq_any(AlertStatus::sources(AlertStatus::Acknowledged))),
    )
    .set((
        alert_audiences::status.eq(AlertStatus::Acknowledged),
        alert_audiences::acknowledged_at.eq(now),
        alert_audiences::acknowledged_by.eq(officer_id),
    ))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Claims up to `limit` due messages for `sender` until `lease_until`:
/// pending, due, and not leased by a live sender. The conditional UPDATE
/// makes a claim exclusive across processes.
pub fn claim_due(
    connection: &mut DbConnection,
    sender: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let due = || {
        alert_deliveries::table
            .filter(alert_deliveries::status.eq(DeliveryStatus::Pending))
            .filter(alert_deliveries::next_attempt_at.le(now))
            .filter(
                alert_deliveries::leased_until
                    .is_null()
                    .or(alert_deliveries::leased_until.lt(now)),
            )
    };
    let candidates: Vec<String> = due()
        .order(alert_deliveries::next_attempt_at.asc())
        .limit(limit)
        .select(alert_deliveries::id)
        .load(connection)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates {
        let updated = diesel::update(due().filter(alert_deliveries::id.eq(&id)))
            .set((
                alert_deliveries::leased_until.eq(lease_until),
                alert_deliveries::leased_by.eq(sender),
            ))
            .execute(connection)?;
        if updated == 1 {
            claimed.push(id);
        }
    }
    alert_deliveries::table
        .filter(alert_deliveries::id.eq_any(&claimed))
        .filter(alert_deliveries::leased_by.eq(sender))
        .select(DeliveryRow::as_select())
        .load(connection)
}

/// Marks a claimed message sent; false if the claim was lost meanwhile.
pub fn mark_sent(connection: &mut DbConnection, id: &str, sender: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        alert_deliveries::table
            .filter(alert_deliveries::id.eq(id))
            .filter(alert_deliveries::status.eq(DeliveryStatus::Pending))
            .filter(alert_deliveries::leased_by.eq(sender)),
    )
    .set((
        alert_deliveries::status.eq(DeliveryStatus::Sent),
        alert_deliveries::sent_at.eq(now),
        alert_deliveries::attempts.eq(alert_deliveries::attempts + 1),
        alert_deliveries::leased_until.eq(None::<NaiveDateTime>),
    ))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Records a failed attempt and when to try again; releases the claim.
pub fn mark_failed(
    connection: &mut DbConnection,
    id: &str,
    sender: &str,
    error: &str,
    next_attempt_at: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        alert_deliveries::table
            .filter(alert_deliveries::id.eq(id))
            .filter(alert_deliveries::status.eq(DeliveryStatus::Pending))
            .filter(alert_deliveries::leased_by.eq(sender)),
    )
    .set((
        alert_deliveries::attempts.eq(alert_deliveries::attempts + 1),
        alert_deliveries::last_error.eq(error),
        alert_deliveries::next_attempt_at.eq(next_attempt_at),
        alert_deliveries::leased_until.eq(None::<NaiveDateTime>),
        alert_deliveries::leased_by.eq(None::<String>),
    ))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Whether an alert of `kind` about `subject_id` exists.
pub fn exists(connection: &mut DbConnection, kind: &str, subject_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        alerts::table
            .filter(alerts::kind.eq(kind))
            .filter(alerts::subject_id.eq(subject_id)),
    ))
    .get_result(connection)
}
