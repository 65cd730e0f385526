//! Registering a receivable (an invoice a supplier issued to a core
//! enterprise). The fingerprint's unique index makes the same invoice
//! registrable once, by anyone, in any formatting; a second attempt is
//! refused and leaves a durable `duplicate_registration` alert. The same
//! seller, buyer, amount and date under another number is accepted and
//! leaves a `near_duplicate_registration` alert.

use chrono::NaiveDate;
use serde_json::json;
use uuid::Uuid;

use super::error::{committing_refusals, Refusal, UseCaseError};
use super::parties::{self, Party};
use super::rules::{exceeds_order, plan_registration, RegistrationPlan};
use crate::alerts::{self, AlertKind, NewAlert};
use crate::domain::{Fingerprint, FingerprintKey, InvoiceNumber, Money, ReceivableStatus, Role};
use crate::store::alerts::AlertRow;
use crate::store::registry::{self as repository, ReceivableRow};
use crate::store::{self, DbConnection};
use crate::tlog::{self, NewEntry, Visibility};
use crate::validation::{field, iso_date, FieldError};

#[derive(Debug, Clone)]
pub struct NewReceivable {
    pub buyer_id: Uuid,
    pub invoice_number: InvoiceNumber,
    /// Not before `issue_date` ([`invoice_dates`]).
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub amount: Money,
    pub purchase_order_id: Option<Uuid>,
    /// An order number the invoice names that is not a purchase order
    /// registered here (kept, not linked).
    pub order_reference: Option<String>,
}

/// An invoice's issue and due dates as written (ISO 8601); the due date may
/// not come before the issue date.
pub fn invoice_dates(issue_date: &str, due_date: &str) -> Result<(NaiveDate, NaiveDate), FieldError> {
    let issue_date = field("issue_date", iso_date(issue_date))?;
    let due_date = field("due_date", iso_date(due_date))?;
    if due_date < issue_date {
        return Err(FieldError::new("due_date", "must not be before issue_date"));
    }
    Ok((issue_date, due_date))
}

#[derive(Debug)]
pub struct Registered {
    pub receivable: ReceivableRow,
    /// The plain fingerprint (the row keeps only its keyed form).
    pub fingerprint: Fingerprint,
    pub near_duplicate_alert: Option<AlertRow>,
    /// The earlier receivable this one looks like (same seller, buyer,
    /// issue date, currency and amount), if any.
    pub near_duplicate_of: Option<String>,
}

pub fn register_receivable(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier_id: &str,
    new: &NewReceivable,
) -> Result<Registered, UseCaseError> {
    committing_refusals(connection, |connection| {
        register_once(connection, key, supplier_id, new)
    })
}

/// `Ok(Err(_))` is a refusal whose alert must commit.
fn register_once(
    connection: &mut DbConnection,
    key: &FingerprintKey,
    supplier_id: &str,
    new: &NewReceivable,
) -> Result<Result<Registered, UseCaseError>, UseCaseError> {
    let now = store::now();
    let supplier = parties::load(connection, supplier_id)?.ok_or(UseCaseError::NotFound)?;
    let buyer = parties::load_with_role(connection, "buyer_id", new.buyer_id, Role::CoreEnterprise)?;
    let fingerprint = Fingerprint::receivable(&supplier.legal_id, &buyer.legal_id, &new.invoice_number);
    let stored = key.stored(&fingerprint);

    // What the rules look at, read first; then the rules, in their order.
    let existing = repository::find_receivable_by_fingerprint(connection, &stored)?;
    let order = match new.purchase_order_id {
        Some(id) => repository::find_purchase_order(connection, &id.to_string())?,
        None => None,
    };
    let near = repository::near_duplicates(
        connection,
        supplier_id,
        buyer.id(),
        new.issue_date,
        new.amount.currency().code(),
        new.amount.minor_units(),
    )?;
    let near_duplicate_of = match plan_registration(
        supplier_id,
        buyer.id(),
        new,
        existing.as_ref(),
        order.as_ref(),
        near.first(),
    )? {
        RegistrationPlan::Duplicate { existing } => {
            return refuse_duplicate(
                connection,
                &stored,
                (&existing.id, &existing.supplier_id),
                supplier_id,
                facts(new, &buyer),
                already_registered(&fingerprint),
            )
            .map(Err);
        }
        RegistrationPlan::Register { near_duplicate_of } => near_duplicate_of,
    };
    if let Some(order) = &order {
        // The check the rules made on the order as read, made again by
        // the database against a racing invoice.
        if !repository::add_invoiced(connection, &order.id, new.amount.minor_units())? {
            return Err(exceeds_order(order, &new.amount));
        }
    }

    let (entry, mut receivable) = new_receivable(supplier_id, new, &buyer, &stored, now);
    receivable.leaf_hash = tlog::append(connection, entry, now)?.leaf_hash.to_vec();
    repository::insert_receivable(connection, &receivable)?;
    let near_duplicate_alert = match near_duplicate_of {
        None => None,
        Some(earlier) => Some(alerts::raise(
            connection,
            near_duplicate(&receivable, new, &buyer, earlier),
            now,
        )?),
    };
    Ok(Ok(Registered {
        receivable,
        fingerprint,
        near_duplicate_alert,
        near_duplicate_of: near_duplicate_of.map(|earlier| earlier.id.clone()),
    }))
}

/// Why a registration of an already registered invoice is refused.
pub(super) fn already_registered(fingerprint: &Fingerprint) -> String {
    format!(
        "this invoice is already registered (fingerprint {}); an invoice can be registered once, however it is written",
        fingerprint.to_hex()
    )
}

/// A new receivable's ledger entry and row (its leaf hash set once the
/// entry is queued), with its fingerprint in its stored (keyed) form.
pub(super) fn new_receivable(
    supplier_id: &str,
    new: &NewReceivable,
    buyer: &Party,
    stored: &[u8; 32],
    now: chrono::NaiveDateTime,
) -> (NewEntry, ReceivableRow) {
    let id = Uuid::new_v4().to_string();
    let mut details = facts(new, buyer);
    details["supplier_id"] = json!(supplier_id);
    let entry = NewEntry {
        kind: "receivable_registered",
        subjects: vec![id.clone()],
        fingerprint: Some(*stored),
        actor: Some(supplier_id.to_owned()),
        signature: None,
        details,
        visibility: Visibility::Parties(vec![supplier_id.to_owned(), buyer.id().to_owned()]),
    };
    let receivable = ReceivableRow {
        id,
        fingerprint: stored.to_vec(),
        supplier_id: supplier_id.to_owned(),
        buyer_id: buyer.id().to_owned(),
        invoice_number: new.invoice_number.as_str().to_owned(),
        purchase_order_id: new.purchase_order_id.map(|id| id.to_string()),
        issue_date: new.issue_date,
        due_date: new.due_date,
        currency: new.amount.currency().code().to_owned(),
        amount_minor: new.amount.minor_units(),
        status: ReceivableStatus::Registered,
        dispute_reason: None,
        leaf_hash: Vec::new(),
        created_at: now,
        decided_at: None,
        credited_minor: 0,
        superseded_by: None,
        order_reference: new.order_reference.clone(),
    };
    (entry, receivable)
}

/// The `near_duplicate_registration` alert of `receivable`, which has the
/// same seller, buyer, amount and issue date as `earlier`.
pub(super) fn near_duplicate(
    receivable: &ReceivableRow,
    new: &NewReceivable,
    buyer: &Party,
    earlier: &ReceivableRow,
) -> NewAlert {
    NewAlert {
        kind: AlertKind::NearDuplicateRegistration,
        fingerprint: receivable.fingerprint.as_slice().try_into().ok(),
        subject_id: Some(receivable.id.clone()),
        attempting_org_id: receivable.supplier_id.clone(),
        existing_party_id: Some(earlier.supplier_id.clone()),
        details: json!({
            "invoice_number": new.invoice_number.as_str(),
            "earlier_receivable_id": earlier.id,
            "earlier_invoice_number": earlier.invoice_number,
            "buyer_id": buyer.id(),
            "issue_date": new.issue_date.to_string(),
            "amount": new.amount.amount_string(),
            "currency": receivable.currency,
        }),
    }
}

/// Records the `duplicate_registration` alert of an attempt to register
/// `existing` (its id and first registrant) again, and returns the refusal
/// for the caller to answer once the alert has committed.
/// A supplier registering its own document again is told its id.
pub(super) fn refuse_duplicate(
    connection: &mut DbConnection,
    stored: &[u8; 32],
    (existing_id, first_registrant): (&str, &str),
    attempting: &str,
    facts: serde_json::Value,
    detail: String,
) -> Result<UseCaseError, UseCaseError> {
    alerts::raise(
        connection,
        duplicate(stored, (existing_id, first_registrant), attempting, facts),
        store::now(),
    )?;
    Ok(duplicate_refusal((existing_id, first_registrant), attempting, detail))
}

/// The refusal of a document registered before: its id is told to the
/// supplier that registered it, and to no one else.
pub(super) fn duplicate_refusal(
    (existing_id, first_registrant): (&str, &str),
    attempting: &str,
    detail: String,
) -> UseCaseError {
    UseCaseError::Refused {
        refusal: Refusal::DuplicateRegistration,
        detail,
        existing_id: (first_registrant == attempting).then(|| existing_id.to_owned()),
    }
}

/// The `duplicate_registration` alert of an attempt to register `existing`
/// (its id and first registrant) again.
pub(super) fn duplicate(
    stored: &[u8; 32],
    (existing_id, first_registrant): (&str, &str),
    attempting: &str,
    facts: serde_json::Value,
) -> NewAlert {
    NewAlert {
        kind: AlertKind::DuplicateRegistration,
        fingerprint: Some(*stored),
        subject_id: Some(existing_id.to_owned()),
        attempting_org_id: attempting.to_owned(),
        existing_party_id: Some(first_registrant.to_owned()),
        details: facts,
    }
}

pub(super) fn facts(new: &NewReceivable, buyer: &Party) -> serde_json::Value {
    json!({
        "invoice_number": new.invoice_number.as_str(),
        "buyer_id": buyer.id(),
        "issue_date": new.issue_date.to_string(),
        "due_date": new.due_date.to_string(),
        "amount": new.amount.amount_string(),
        "currency": new.amount.currency().code(),
        "purchase_order_id": new.purchase_order_id.map(|id| id.to_string()),
    })
}
