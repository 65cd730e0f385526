//! Who is told of an alert, and what each copy says. The operator's risk
//! officers get every alert in full; a bank's risk officers get the alerts
//! about assets it holds a lien on or tried to finance, without the other
//! bank's identity. Audiences and the outbox messages are written in the
//! transaction that raises the alert.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use uuid::Uuid;

use super::record::AlertKind;
use crate::domain::Role;
use crate::domain::{AlertStatus, DeliveryStatus};
use crate::store::alerts::{self as repository, AlertRow, AudienceRow, DeliveryRow};
use crate::store::organizations::{self as organizations_repository, RiskOfficerRow};
use crate::store::{format_time, DbConnection};

/// Names of the organisations an alert mentions, for the people reading it.
pub type Names = HashMap<String, String>;

/// Looks up the names of the organisations `alerts` mention.
pub fn names_of<'a>(
    connection: &mut DbConnection,
    alerts: impl IntoIterator<Item = &'a AlertRow>,
) -> diesel::QueryResult<Names> {
    organizations_repository::names(connection, &parties_of(alerts))
}

/// The organisations `alerts` mention (attempting and existing parties).
fn parties_of<'a>(alerts: impl IntoIterator<Item = &'a AlertRow>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for alert in alerts {
        ids.push(alert.attempting_org_id.clone());
        ids.extend(alert.existing_party_id.clone());
    }
    ids.sort();
    ids.dedup();
    ids
}

/// The alert as one audience may see it: with `redacted`, the identities
/// (ids and names) of organisations other than `viewer` are left out —
/// except, when the attempt was a holder offering what it had financed
/// already, the holder itself, which the lienholder knows as its borrower.
/// Whom the holder offered it to (`offered_to`) only the operator's
/// complete copy says.
pub fn alert_copy(alert: &AlertRow, viewer: &str, redacted: bool, names: &Names) -> Value {
    let mut facts: Value = serde_json::from_str(&alert.details).unwrap_or(Value::Null);
    let by_holder = facts["attempt"] == "offer";
    let shown = |id: &str| !redacted || id == viewer || (by_holder && id == alert.attempting_org_id);
    let visible = |id: &Option<String>| match id {
        Some(id) if shown(id) => Value::from(id.clone()),
        _ => Value::Null,
    };
    let visible_name = |id: &Option<String>| match id {
        Some(id) if shown(id) => names.get(id).map_or(Value::Null, |name| Value::from(name.clone())),
        _ => Value::Null,
    };
    if let Some(facts) = facts.as_object_mut() {
        let offered_to = facts.get("offered_to").and_then(Value::as_str).map(str::to_owned);
        if offered_to.is_some_and(|offered_to| !shown(&offered_to)) {
            facts.remove("offered_to");
        }
    }
    json!({
        "id": alert.id,
        "kind": alert.kind,
        "created_at": format_time(alert.created_at),
        "fingerprint": alert.fingerprint.as_ref().map(hex::encode),
        "subject_id": alert.subject_id,
        "attempting_org_id": visible(&Some(alert.attempting_org_id.clone())),
        "attempting_org_name": visible_name(&Some(alert.attempting_org_id.clone())),
        "existing_party_id": visible(&alert.existing_party_id),
        "existing_party_name": visible_name(&alert.existing_party_id),
        "facts": facts,
        "ledger": { "leaf_hash": hex::encode(&alert.leaf_hash) },
    })
}

/// Records who is told of each alert and queues one e-mail per risk
/// officer, with a fixed number of statements for any number of alerts.
pub fn address(
    connection: &mut DbConnection,
    alerts: &[AlertRow],
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    let operators = organizations_repository::organizations_with_role(connection, Role::Operator.as_str())?;
    let mentioned = organizations_repository::find_organizations(connection, &parties_of(alerts))?;
    let names: Names = mentioned
        .iter()
        .map(|organization| (organization.id.clone(), organization.name.clone()))
        .collect();
    let banks: HashSet<&str> = mentioned
        .iter()
        .filter(|organization| organization.role == Role::Bank.as_str())
        .map(|organization| organization.id.as_str())
        .collect();

    // The operator sees every alert in full; each bank party a redacted copy.
    let audiences: Vec<Vec<(String, bool)>> = alerts
        .iter()
        .map(|alert| {
            let mut audience: Vec<(String, bool)> = operators.iter().map(|id| (id.clone(), false)).collect();
            // An enumeration is about the bank that made it, a stalled ledger
            // about the platform: the operator's alone.
            if AlertKind::parse(&alert.kind).is_none_or(AlertKind::operator_only) {
                return audience;
            }
            for party in std::iter::once(&alert.attempting_org_id).chain(alert.existing_party_id.as_ref()) {
                if banks.contains(party.as_str()) && !audience.iter().any(|(id, _)| id == party) {
                    audience.push((party.clone(), true));
                }
            }
            audience
        })
        .collect();
    let mut told: Vec<String> = audiences.iter().flatten().map(|(id, _)| id.clone()).collect();
    told.sort();
    told.dedup();
    let mut officers: HashMap<String, Vec<RiskOfficerRow>> = HashMap::new();
    for officer in organizations_repository::risk_officers_of_many(connection, &told)? {
        officers
            .entry(officer.organization_id.clone())
            .or_default()
            .push(officer);
    }

    let mut audience_rows = Vec::new();
    let mut deliveries = Vec::new();
    for (alert, audience) in alerts.iter().zip(audiences) {
        for (organization_id, redacted) in audience {
            let copy = alert_copy(alert, &organization_id, redacted, &names);
            for officer in officers.get(&organization_id).into_iter().flatten() {
                let (subject, text, html) = render(&copy);
                deliveries.push(DeliveryRow {
                    message_id: format!("<alert-{}-{}@anchorfin>", alert.id, officer.id),
                    id: Uuid::new_v4().to_string(),
                    alert_id: alert.id.clone(),
                    risk_officer_id: officer.id.clone(),
                    recipient: officer.email.clone(),
                    subject,
                    body_text: text,
                    body_html: html,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_attempt_at: now,
                    leased_until: None,
                    leased_by: None,
                    last_error: None,
                    sent_at: None,
                    created_at: now,
                });
            }
            audience_rows.push(AudienceRow {
                alert_id: alert.id.clone(),
                organization_id,
                redacted,
                status: AlertStatus::Open,
                acknowledged_at: None,
                acknowledged_by: None,
            });
        }
    }
    repository::insert_audiences(connection, &audience_rows)?;
    repository::insert_deliveries(connection, &deliveries)
}

fn headline(kind: &str) -> &'static str {
    AlertKind::parse(kind).map_or("An alert", AlertKind::headline)
}

/// Subject, plain text and HTML of one copy.
pub fn render(copy: &Value) -> (String, String, String) {
    let kind = copy["kind"].as_str().unwrap_or_default();
    let subject = format!(
        "[Anchorfin alert] {kind}: {}",
        copy["subject_id"].as_str().unwrap_or("(no subject)")
    );
    let rows: Vec<(&str, String)> = vec![
        ("Alert", copy["id"].as_str().unwrap_or_default().to_owned()),
        ("Kind", kind.to_owned()),
        ("Time (UTC)", copy["created_at"].as_str().unwrap_or_default().to_owned()),
        ("Subject", copy["subject_id"].as_str().unwrap_or("-").to_owned()),
        (
            "Fingerprint (keyed)",
            copy["fingerprint"].as_str().unwrap_or("-").to_owned(),
        ),
        (
            "Attempting organisation",
            party(&copy["attempting_org_name"], &copy["attempting_org_id"], "(withheld)"),
        ),
        (
            "Existing party",
            party(
                &copy["existing_party_name"],
                &copy["existing_party_id"],
                "(withheld or none)",
            ),
        ),
        (
            "Ledger leaf",
            copy["ledger"]["leaf_hash"].as_str().unwrap_or_default().to_owned(),
        ),
        ("Facts", copy["facts"].to_string()),
    ];
    let mut text = format!("{}.\n\n", headline(kind));
    for (label, value) in &rows {
        text.push_str(&format!("{label}: {value}\n"));
    }
    text.push_str("\nAcknowledge it with POST /v1/alerts/{id}/acknowledgement using your risk-officer API key.\n");
    let mut html = format!("<!DOCTYPE html><html><body><p>{}.</p><table>", escape(headline(kind)));
    for (label, value) in &rows {
        html.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td><code>{}</code></td></tr>",
            escape(label),
            escape(value)
        ));
    }
    html.push_str("</table></body></html>");
    (subject, text, html)
}

/// "Name (id)" as far as the copy shows them.
fn party(name: &Value, id: &Value, otherwise: &str) -> String {
    match (name.as_str(), id.as_str()) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (None, Some(id)) => id.to_owned(),
        _ => otherwise.to_owned(),
    }
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> AlertRow {
        AlertRow {
            id: "a1".to_owned(),
            kind: "duplicate_pledge".to_owned(),
            fingerprint: Some(vec![1; 32]),
            subject_id: Some("asset-1".to_owned()),
            attempting_org_id: "bank-b".to_owned(),
            existing_party_id: Some("bank-a".to_owned()),
            details: r#"{"amount":"<b>1.00</b>"}"#.to_owned(),
            leaf_hash: vec![2; 32],
            status: AlertStatus::Open,
            created_at: chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap().naive_utc(),
            acknowledged_at: None,
            acknowledged_by: None,
        }
    }

    fn names() -> Names {
        [("bank-a", "Bank A"), ("bank-b", "Bank B")]
            .into_iter()
            .map(|(id, name)| (id.to_owned(), name.to_owned()))
            .collect()
    }

    #[test]
    fn a_banks_copy_leaves_out_the_other_bank() {
        let full = alert_copy(&alert(), "operator", false, &names());
        assert_eq!(full["attempting_org_name"], "Bank B");
        assert_eq!(full["existing_party_name"], "Bank A");
        assert_eq!(full["attempting_org_id"], "bank-b");
        assert_eq!(full["existing_party_id"], "bank-a");
        let lienholder = alert_copy(&alert(), "bank-a", true, &names());
        assert_eq!(lienholder["attempting_org_name"], Value::Null);
        assert_eq!(lienholder["attempting_org_id"], Value::Null);
        assert_eq!(lienholder["existing_party_id"], "bank-a");
        let attempting = alert_copy(&alert(), "bank-b", true, &names());
        assert_eq!(attempting["existing_party_name"], Value::Null);
        assert_eq!(attempting["attempting_org_id"], "bank-b");
        assert_eq!(attempting["existing_party_id"], Value::Null);
        let (_, text, html) = render(&attempting);
        assert!(!text.contains("bank-a") && !html.contains("bank-a"));
        assert!(!text.contains("Bank A") && !html.contains("Bank A"));
        assert!(text.contains("Bank B (bank-b)"), "{text}");
    }

    #[test]
    fn a_lienholders_copy_of_a_holders_attempt_names_the_holder_not_the_other_bank() {
        let by_holder = AlertRow {
            attempting_org_id: "supplier".to_owned(),
            details: r#"{"attempt":"offer","offered_to":"bank-b","amount":"1.00"}"#.to_owned(),
            ..alert()
        };
        let mut names = names();
        names.insert("supplier".to_owned(), "Supplier S".to_owned());
        let lienholder = alert_copy(&by_holder, "bank-a", true, &names);
        assert_eq!(lienholder["attempting_org_id"], "supplier");
        assert_eq!(lienholder["attempting_org_name"], "Supplier S");
        assert_eq!(lienholder["existing_party_id"], "bank-a");
        assert_eq!(lienholder["facts"], json!({"attempt": "offer", "amount": "1.00"}));
        let (_, text, html) = render(&lienholder);
        assert!(!text.contains("bank-b") && !html.contains("bank-b"));
        let full = alert_copy(&by_holder, "operator", false, &names);
        assert_eq!(full["facts"]["offered_to"], "bank-b");
        // A bank's attempt (an acceptance) stays redacted for the lienholder.
        let accepted = AlertRow {
            details: r#"{"attempt":"acceptance"}"#.to_owned(),
            ..alert()
        };
        assert_eq!(
            alert_copy(&accepted, "bank-a", true, &names)["attempting_org_id"],
            Value::Null
        );
    }

    #[test]
    fn html_is_escaped() {
        let (subject, text, html) = render(&alert_copy(&alert(), "operator", false, &names()));
        assert_eq!(subject, "[Anchorfin alert] duplicate_pledge: asset-1");
        assert!(text.contains("<b>1.00</b>"));
        assert!(html.contains("&lt;b&gt;1.00&lt;/b&gt;") && !html.contains("<b>1.00"));
    }
}
