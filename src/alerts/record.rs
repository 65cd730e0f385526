//! Recording an alert: its row and its ledger entry, in the caller's
//! transaction.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::{AlertStatus, Role};
use crate::store::alerts::{self as repository, AlertRow};
use crate::store::DbConnection;
use crate::tlog::{self, NewEntry, Visibility};

/// The closed set of alert kinds (docs/PRODUCT.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    DuplicateRegistration,
    NearDuplicateRegistration,
    DuplicatePledge,
    PoDoubleFinancing,
    /// A burst of encumbrance look-ups for invoices that are not registered:
    /// someone guessing fingerprints. Told to the operator only.
    LookupEnumeration,
    /// Entries have waited for a signed tree head longer than the threshold:
    /// the sequencer is stuck. Told to the operator only.
    LedgerStalled,
    /// A credit note lowered what is owed on a receivable its buyer had
    /// confirmed: the collateral of any bank financing it shrank.
    Dilution,
    /// A corrected invoice tried to replace one its buyer had confirmed
    /// (or a bank finances): refused, the original stands.
    LateCorrection,
    /// A witness holds a tree head the log cannot prove consistent with its
    /// own (a larger one, or one its proof does not reach): somewhere the
    /// log was forked. Told to the operator only.
    LogInconsistency,
}

impl AlertKind {
    pub const ALL: [AlertKind; 9] = [
        AlertKind::DuplicateRegistration,
        AlertKind::NearDuplicateRegistration,
        AlertKind::DuplicatePledge,
        AlertKind::PoDoubleFinancing,
        AlertKind::LookupEnumeration,
        AlertKind::LedgerStalled,
        AlertKind::Dilution,
        AlertKind::LateCorrection,
        AlertKind::LogInconsistency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::DuplicateRegistration => "duplicate_registration",
            AlertKind::NearDuplicateRegistration => "near_duplicate_registration",
            AlertKind::DuplicatePledge => "duplicate_pledge",
            AlertKind::PoDoubleFinancing => "po_double_financing",
            AlertKind::LookupEnumeration => "lookup_enumeration",
            AlertKind::LedgerStalled => "ledger_stalled",
            AlertKind::Dilution => "dilution",
            AlertKind::LateCorrection => "late_correction",
            AlertKind::LogInconsistency => "log_inconsistency",
        }
    }

    pub fn parse(text: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Whether only the operator's risk officers are told: the alert is
    /// about the platform, or about the very bank it would be told to.
    pub fn operator_only(self) -> bool {
        matches!(
            self,
            AlertKind::LookupEnumeration | AlertKind::LedgerStalled | AlertKind::LogInconsistency
        )
    }

    /// The e-mail's headline.
    pub fn headline(self) -> &'static str {
        match self {
            AlertKind::DuplicatePledge => "An attempt to finance an asset that is already encumbered",
            AlertKind::PoDoubleFinancing => {
                "An attempt to finance a receivable (or order) reserved by a purchase-order lien"
            }
            AlertKind::DuplicateRegistration => "An attempt to register an invoice or purchase order a second time",
            AlertKind::NearDuplicateRegistration => {
                "An invoice registered with the same seller, buyer, amount and date as another"
            }
            AlertKind::LookupEnumeration => "A burst of encumbrance look-ups for invoices that are not registered",
            AlertKind::LedgerStalled => "Ledger entries are waiting for a signed tree head: the sequencer is stuck",
            AlertKind::Dilution => "A credit note lowered what is owed on a confirmed receivable",
            AlertKind::LateCorrection => "A corrected invoice tried to replace a confirmed receivable",
            AlertKind::LogInconsistency => {
                "A witness holds a tree head inconsistent with the ledger's: the log was forked somewhere"
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub fingerprint: Option<[u8; 32]>,
    /// The receivable, asset or purchase order the attempt was about.
    pub subject_id: Option<String>,
    pub attempting_org_id: String,
    /// Who already holds what was attempted (first registrant, lienholder).
    pub existing_party_id: Option<String>,
    /// Facts for the risk officer (amounts, numbers as submitted).
    pub details: Value,
}

/// Stores the alert and its `alert_raised` ledger entry; returns the row.
pub fn raise(
    connection: &mut DbConnection,
    alert: NewAlert,
    now: chrono::NaiveDateTime,
) -> Result<AlertRow, diesel::result::Error> {
    let prepared = prepare(alert, now)?;
    tlog::append_prepared(connection, std::slice::from_ref(&prepared.entry))?;
    store_prepared(connection, std::slice::from_ref(&prepared.row), now)?;
    Ok(prepared.row)
}

/// Raises a platform alert of `kind` about `subject` (the platform's first
/// operator is its party, so its risk officers are told) unless one was
/// raised already: at most one per subject, whichever server process sees
/// it first (each such kind has a unique index on its subject). Returns
/// whether this call raised it.
pub fn raise_once_for_operator(
    connection: &mut DbConnection,
    kind: AlertKind,
    subject: String,
    details: Value,
    now: chrono::NaiveDateTime,
) -> Result<bool, diesel::result::Error> {
    let raised = crate::store::write_transaction(connection, |connection| -> Result<bool, diesel::result::Error> {
        if repository::exists(connection, kind.as_str(), &subject)? {
            return Ok(false);
        }
        let operator = crate::store::organizations::organizations_with_role(connection, Role::Operator.as_str())?;
        let Some(operator) = operator.into_iter().next() else {
            return Ok(false);
        };
        raise(
            connection,
            NewAlert {
                kind,
                fingerprint: None,
                subject_id: Some(subject),
                attempting_org_id: operator,
                existing_party_id: None,
                details,
            },
            now,
        )?;
        Ok(true)
    });
    match raised {
        // Another process raised it first.
        Err(error) if crate::store::is_unique_violation(&error) => Ok(false),
        other => other,
    }
}

/// An alert ready to be stored: its row (with its id) and its ledger entry.
#[derive(Debug, Clone)]
pub struct PreparedAlert {
    pub row: AlertRow,
    pub entry: tlog::Prepared,
}

/// Gives the alert its id and `alert_raised` entry without writing
/// anything, so that a batch of decisions can name it in its answers and
/// store all its alerts at once.
pub fn prepare(alert: NewAlert, now: chrono::NaiveDateTime) -> Result<PreparedAlert, diesel::result::Error> {
    let id = Uuid::new_v4().to_string();
    let details = json!({
        "alert_id": id,
        "kind": alert.kind.as_str(),
        "subject_id": alert.subject_id,
        "attempting_org_id": alert.attempting_org_id,
        "existing_party_id": alert.existing_party_id,
        "facts": alert.details,
    });
    let mut subjects = vec![id.clone()];
    subjects.extend(alert.subject_id.clone());
    let entry = tlog::prepare(
        NewEntry {
            kind: "alert_raised",
            subjects,
            fingerprint: alert.fingerprint,
            actor: Some(alert.attempting_org_id.clone()),
            signature: None,
            details,
            // The entry names both sides of the attempt: only the operator
            // reads it. Each audience reads its own redacted copy through
            // the alerts API instead.
            visibility: Visibility::Parties(Vec::new()),
        },
        now,
    )?;
    let row = AlertRow {
        id,
        kind: alert.kind.as_str().to_owned(),
        fingerprint: alert.fingerprint.map(|fingerprint| fingerprint.to_vec()),
        subject_id: alert.subject_id,
        attempting_org_id: alert.attempting_org_id,
        existing_party_id: alert.existing_party_id,
        details: alert.details.to_string(),
        leaf_hash: entry.leaf_hash.to_vec(),
        status: AlertStatus::Open,
        created_at: now,
        acknowledged_at: None,
        acknowledged_by: None,
    };
    Ok(PreparedAlert { row, entry })
}

/// Stores prepared alerts, their audiences and their e-mails, whose ledger
/// entries the caller queues in the same transaction.
pub fn store_prepared(
    connection: &mut DbConnection,
    alerts: &[AlertRow],
    now: chrono::NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    if alerts.is_empty() {
        return Ok(());
    }
    repository::insert_alerts(connection, alerts)?;
    super::audience::address(connection, alerts, now)
}
