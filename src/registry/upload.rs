//! Bulk registration of documents: every row of a CSV or spreadsheet, every
//! UBL invoice, credit note or order of an upload is decided by the same
//! rules as alone — invoices set-based, many rows per statement — and a
//! bad row is reported with what to fix while the others are kept. This
//! module decides rows; `upload_job` runs an upload through it chunk by
//! chunk, each chunk committed with its share of the report.
//!
//! Order within an upload: purchase orders first (so that invoices of the
//! same upload can name them), then invoices, then corrected invoices and
//! credit notes (which name invoices, perhaps of this upload).
//!
//! Invoices registered before (or twice in one
//! file) are reported as duplicates and raise one `duplicate_registration`
//! alert per upload that lists them, not one each (raised when the upload
//! is complete).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::batcher::RegistrationJob;
use super::credit_note::{record_credit_note, register_correction, NewCreditNote};
use super::error::{Refusal, UseCaseError};
use super::import::{DocumentKind, ImportError, ImportRow, Location, ParsedRow};
use super::parties::{self, Party};
use super::purchase_order::{register_purchase_order, NewPurchaseOrder};
use super::receivable::{invoice_dates, register_receivable, NewReceivable, Registered};
use super::set_based::{register_many_with, NearDuplicates};
use crate::alerts::{self, AlertKind, NewAlert};
use crate::domain::{Currency, Fingerprint, FingerprintKey, InvoiceNumber, Money, PartyReference, PoNumber, Role};
use crate::store::batcher::Bulk;
use crate::store::registry as repository;
use crate::store::{self, write_transaction, DbConnection};
use crate::validation::{field, iso_date, FieldError};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportResult {
    /// The spreadsheet line (CSV, xlsx) or the document's index in the
    /// upload (XML).
    pub row: usize,
    /// CSV and xlsx: the line as a spreadsheet shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// XML: the document's 1-based index in the upload and the path of
    /// the element at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `invoice`, `credit_note`, `corrected_invoice` or `purchase_order`,
    /// once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The document's number as written (invoice, credit note or order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// `created` or `rejected`.
    pub status: String,
    /// The receivable, credit note or purchase order created (or, for a
    /// supplier's own duplicate, the one registered before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// A corrected invoice: the receivable it replaced. A credit note:
    /// the receivable it credited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receivable_id: Option<String>,
    /// `not_linked`: the invoice names an order that is no purchase order
    /// registered here; the reference is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A created invoice that looks like an earlier receivable of the
    /// supplier (same buyer, issue date, currency and amount): that one.
    /// The upload raises one `near_duplicate_registration` alert listing
    /// them all (an invoice linked to a purchase order, or a correction,
    /// is registered alone and raises its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near_duplicate_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The offending value as the upload gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportReport {
    /// The upload, whose report `GET /v1/uploads/{id}` (JSON) and
    /// `GET /v1/uploads/{id}/report.csv` give again.
    pub upload_id: String,
    /// `done`: every row is decided and reported.
    #[serde(default = "done")]
    pub status: String,
    /// True when these bytes were uploaded before: this is that report,
    /// and nothing was decided again.
    pub replayed: bool,
    pub created: usize,
    pub rejected: usize,
    pub results: Vec<ImportResult>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error(transparent)]
    Upload(#[from] ImportError),
    #[error(transparent)]
    Registry(#[from] UseCaseError),
    /// Another process took the upload over (this one's lease ran out):
    /// what this one was deciding rolled back.
    #[error("another process took this upload over")]
    Taken,
    /// The process is stopping: the rest of the upload is left to the
    /// next process that takes it up.
    #[error("the process is stopping; the upload goes on in the next one")]
    Stopped,
}

fn done() -> String {
    "done".to_owned()
}

impl From<diesel::result::Error> for ImportFailure {
    fn from(error: diesel::result::Error) -> Self {
        ImportFailure::Registry(error.into())
    }
}

pub(super) const CREATED: &str = "created";
const REJECTED: &str = "rejected";

/// How many invoices are registered set-based at a time.
const CHUNK: usize = 500;

/// The most duplicates one alert lists (it counts them all).
const LISTED_DUPLICATES: usize = 1_000;

/// A party's references as a key: the field they are reported under, and
/// each scheme and value.
type ReferenceKey = (String, Vec<(Option<String>, String)>);

/// An invoice read and resolved: its report line, registration, note,
/// and fingerprint plain and stored.
type Resolved = (usize, NewReceivable, Option<&'static str>, Fingerprint, [u8; 32]);

/// Decides the rows of one upload, a chunk at a time.
pub(super) struct Upload {
    key: FingerprintKey,
    supplier: Party,
    /// Parties resolved so far, by the field and references that named them.
    parties: HashMap<ReferenceKey, Result<Party, FieldError>>,
    /// The chunk's report lines, in its order.
    results: Vec<ImportResult>,
    /// Each report line's document, to quote the value at fault.
    rows: Vec<Option<ImportRow>>,
}

/// A row waiting for its turn: its place in the report and its fields.
struct Pending {
    index: usize,
    row: ImportRow,
}

impl Upload {
    pub(super) fn new(key: FingerprintKey, supplier: Party) -> Self {
        Upload {
            key,
            supplier,
            parties: HashMap::new(),
            results: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// Decides `rows` in the caller's transaction; their report lines, in
    /// the same order. Purchase orders first, then invoices, then credit
    /// notes and corrections.
    pub(super) fn decide(
        &mut self,
        connection: &mut DbConnection,
        rows: Vec<ParsedRow>,
    ) -> Result<Vec<ImportResult>, ImportFailure> {
        self.results.clear();
        self.rows.clear();
        let mut orders = Vec::new();
        let mut invoices = Vec::new();
        let mut later = Vec::new();
        for ParsedRow {
            location,
            invoice_number,
            outcome,
        } in rows
        {
            let index = self.results.len();
            let mut result = located(&location);
            result.invoice_number = invoice_number;
            match outcome {
                Err(rejection) => {
                    result.status = REJECTED.to_owned();
                    result.code = Some(rejection.code.to_owned());
                    result.field = rejection.field;
                    result.value = rejection.value;
                    result.detail = Some(rejection.detail);
                    self.results.push(result);
                    self.rows.push(None);
                }
                Ok(row) => {
                    result.kind = Some(row.kind.as_str().to_owned());
                    result.invoice_number = Some(row.invoice_number.clone());
                    self.results.push(result);
                    self.rows.push(Some(row.clone()));
                    let pending = Pending { index, row };
                    match pending.row.kind {
                        DocumentKind::Order => orders.push(pending),
                        DocumentKind::Invoice => invoices.push(pending),
                        DocumentKind::CreditNote | DocumentKind::CorrectedInvoice => later.push(pending),
                    }
                }
            }
        }
        for pending in orders {
            let outcome = self.order(connection, &pending.row);
            self.settle(pending.index, outcome)?;
        }
        self.invoices(connection, invoices)?;
        for pending in later {
            let outcome = match pending.row.kind {
                DocumentKind::CreditNote => self.credit_note(connection, &pending.row),
                _ => self.correction(connection, &pending.row),
            };
            self.settle(pending.index, outcome)?;
        }
        self.rows.clear();
        Ok(std::mem::take(&mut self.results))
    }

    /// Writes a row's outcome into its report line; a failure of the
    /// database or of the caller fails the whole upload.
    fn settle(&mut self, index: usize, outcome: Result<Outcome, UseCaseError>) -> Result<(), ImportFailure> {
        let result = &mut self.results[index];
        match outcome {
            Ok(outcome) => {
                result.status = CREATED.to_owned();
                result.id = Some(outcome.id);
                result.fingerprint = Some(outcome.fingerprint.to_hex());
                result.receivable_id = outcome.receivable_id;
                result.note = outcome.note.map(str::to_owned);
                result.near_duplicate_of = outcome.near_duplicate_of;
            }
            Err(error) => {
                result.status = REJECTED.to_owned();
                match error {
                    UseCaseError::InvalidField(error) => {
                        result.code = Some(Refusal::InvalidField.code().to_owned());
                        result.value = self.rows[index].as_ref().and_then(|row| value_of(row, &error.field));
                        result.field = Some(error.field);
                        result.detail = Some(error.detail);
                    }
                    UseCaseError::Refused {
                        refusal,
                        detail,
                        existing_id,
                    } => {
                        result.code = Some(refusal.code().to_owned());
                        result.detail = Some(detail);
                        result.id = existing_id;
                    }
                    error @ (UseCaseError::Database(_)
                    | UseCaseError::NotFound
                    | UseCaseError::Forbidden(_)
                    | UseCaseError::Unauthenticated) => return Err(ImportFailure::Registry(error)),
                }
            }
        }
        Ok(())
    }

    fn order(&mut self, connection: &mut DbConnection, row: &ImportRow) -> Result<Outcome, UseCaseError> {
        self.check_seller(connection, row)?;
        let buyer = self.buyer(connection, row)?;
        let po_number = field("invoice_number", PoNumber::parse(&row.invoice_number))?;
        let issue_date = field("issue_date", iso_date(&row.issue_date))?;
        let amount = money(row)?;
        let (order, fingerprint) = register_purchase_order(
            connection,
            &self.key,
            self.supplier.id(),
            NewPurchaseOrder {
                buyer_id: uuid(buyer.id())?,
                po_number,
                issue_date,
                amount,
            },
        )?;
        Ok(Outcome {
            id: order.id,
            fingerprint,
            receivable_id: None,
            note: None,
            near_duplicate_of: None,
        })
    }

    fn credit_note(&mut self, connection: &mut DbConnection, row: &ImportRow) -> Result<Outcome, UseCaseError> {
        self.check_seller(connection, row)?;
        let buyer = self.buyer(connection, row)?;
        let number = field("invoice_number", InvoiceNumber::parse(&row.invoice_number))?;
        let issue_date = field("issue_date", iso_date(&row.issue_date))?;
        let amount = money(row)?;
        let invoice = billing_reference(row, "a credit note names the invoice it credits")?;
        let credited = record_credit_note(
            connection,
            &self.key,
            self.supplier.id(),
            &NewCreditNote {
                buyer_id: uuid(buyer.id())?,
                number,
                issue_date,
                amount,
                invoice,
            },
        )?;
        Ok(Outcome {
            id: credited.credit_note.id,
            fingerprint: credited.fingerprint,
            receivable_id: Some(credited.receivable.id),
            note: None,
            near_duplicate_of: None,
        })
    }

    fn correction(&mut self, connection: &mut DbConnection, row: &ImportRow) -> Result<Outcome, UseCaseError> {
        let original = billing_reference(row, "a corrected invoice names the invoice it replaces")?;
        let (new, note, _) = self.receivable(connection, row)?;
        let corrected = register_correction(connection, &self.key, self.supplier.id(), &new, &original)?;
        Ok(Outcome {
            id: corrected.registered.receivable.id,
            fingerprint: corrected.registered.fingerprint,
            receivable_id: Some(corrected.replaced_id),
            note,
            // Alerted alone, as a correction is registered one by one.
            near_duplicate_of: None,
        })
    }

    /// Invoices: each resolved to a registration (or rejected); those
    /// registered before, or twice in this upload, reported as duplicates
    /// without deciding them again; the rest registered in chunks.
    fn invoices(&mut self, connection: &mut DbConnection, invoices: Vec<Pending>) -> Result<(), ImportFailure> {
        let mut resolved: Vec<Resolved> = Vec::new();
        for Pending { index, row } in invoices {
            let outcome = self.receivable(connection, &row).map(|(new, note, buyer)| {
                let fingerprint =
                    Fingerprint::receivable(&self.supplier.legal_id, &buyer.legal_id, &new.invoice_number);
                (new, note, fingerprint)
            });
            match outcome {
                Ok((new, note, fingerprint)) => {
                    let stored = self.key.stored(&fingerprint);
                    resolved.push((index, new, note, fingerprint, stored));
                }
                Err(error) => self.settle(index, Err(error))?,
            }
        }

        let fingerprints: Vec<Vec<u8>> = resolved.iter().map(|(.., stored)| stored.to_vec()).collect();
        let registered: HashMap<Vec<u8>, String> =
            repository::find_receivables_by_fingerprints(connection, &fingerprints)?
                .into_iter()
                .filter(|receivable| receivable.supplier_id == self.supplier.id())
                .map(|receivable| (receivable.fingerprint, receivable.id))
                .collect();
        let mut seen: HashSet<[u8; 32]> = HashSet::new();
        let mut fresh: Vec<(usize, Option<&'static str>, RegistrationJob)> = Vec::new();
        let mut linked: Vec<(usize, Option<&'static str>, NewReceivable)> = Vec::new();
        for (index, new, note, fingerprint, stored) in resolved {
            let before = registered.get(stored.as_slice()).cloned();
            if before.is_some() || !seen.insert(stored) {
                let result = &mut self.results[index];
                result.status = REJECTED.to_owned();
                result.code = Some(Refusal::DuplicateRegistration.code().to_owned());
                result.detail = Some(super::receivable::already_registered(&fingerprint));
                result.id = before;
                continue;
            }
            if new.purchase_order_id.is_some() {
                // Each consumes its order's remaining amount: one by one.
                linked.push((index, note, new));
            } else {
                fresh.push((
                    index,
                    note,
                    RegistrationJob {
                        supplier_id: self.supplier.id().to_owned(),
                        receivable: new,
                        fingerprint_key: self.key,
                        token: None,
                    },
                ));
            }
        }
        for chunk in fresh.chunks(CHUNK) {
            let jobs: Vec<RegistrationJob> = chunk.iter().map(|(_, _, job)| job.clone()).collect();
            for ((index, note, _), registered) in chunk.iter().zip(register_chunk(connection, &jobs)?) {
                self.settle(
                    *index,
                    registered.map(|registered| Outcome::registered(registered, *note)),
                )?;
            }
        }
        for (index, note, new) in linked {
            let registered = register_receivable(connection, &self.key, self.supplier.id(), &new);
            self.settle(
                index,
                registered.map(|registered| Outcome::registered(registered, note)),
            )?;
        }
        Ok(())
    }

    /// Reads an invoice's fields into a registration: its buyer resolved
    /// from the identifiers the document gives, its order linked when it
    /// is a purchase order registered here (else kept as a reference).
    fn receivable(
        &mut self,
        connection: &mut DbConnection,
        row: &ImportRow,
    ) -> Result<(NewReceivable, Option<&'static str>, Party), UseCaseError> {
        self.check_seller(connection, row)?;
        let buyer = self.buyer(connection, row)?;
        let invoice_number = field("invoice_number", InvoiceNumber::parse(&row.invoice_number))?;
        let due_date = row.due_date.as_deref().ok_or_else(|| {
            UseCaseError::field(
                "due_date",
                "the invoice states no due date (DueDate, PaymentMeans/PaymentDueDate or PaymentTerms/PaymentDueDate)",
            )
        })?;
        let (issue_date, due_date) = invoice_dates(&row.issue_date, due_date)?;
        let amount = money(row)?;
        let (purchase_order_id, order_reference, note) = match row.order_reference.as_deref().map(str::trim) {
            None => (None, None, None),
            // Peppol's placeholder for "no order".
            Some(reference) if reference.is_empty() || reference.eq_ignore_ascii_case("NA") => (None, None, None),
            Some(reference) => {
                let order = match PoNumber::parse(reference) {
                    Ok(po_number) => {
                        let fingerprint =
                            Fingerprint::purchase_order(&buyer.legal_id, &self.supplier.legal_id, &po_number);
                        repository::find_purchase_order_by_fingerprint(connection, &self.key.stored(&fingerprint))?
                    }
                    Err(_) => None,
                };
                match order {
                    Some(order) => (Some(uuid(&order.id)?), None, None),
                    None => (None, Some(reference.to_owned()), Some("not_linked")),
                }
            }
        };
        Ok((
            NewReceivable {
                buyer_id: uuid(buyer.id())?,
                invoice_number,
                issue_date,
                due_date,
                amount,
                purchase_order_id,
                order_reference,
            },
            note,
            buyer,
        ))
    }

    /// The buyer the row names, resolved once per set of references.
    /// The organisation `references` name, resolved once per upload for
    /// each set of references; a field error names `field`.
    fn party(
        &mut self,
        connection: &mut DbConnection,
        references: &[PartyReference],
        field: &str,
    ) -> Result<Result<Party, FieldError>, UseCaseError> {
        let key: ReferenceKey = (
            field.to_owned(),
            references
                .iter()
                .map(|reference| (reference.scheme.clone(), reference.value.clone()))
                .collect(),
        );
        if let Some(known) = self.parties.get(&key) {
            return Ok(known.clone());
        }
        let resolved = match parties::resolve(connection, references, field) {
            Ok(party) => Ok(party),
            Err(UseCaseError::InvalidField(error)) => Err(error),
            Err(error) => return Err(error),
        };
        self.parties.insert(key, resolved.clone());
        Ok(resolved)
    }

    /// The buyer the row names, which must be a core enterprise.
    fn buyer(&mut self, connection: &mut DbConnection, row: &ImportRow) -> Result<Party, UseCaseError> {
        // Reported under the column or element the buyer came from.
        let name = row.buyer.first().map_or("buyer", |reference| reference.source.as_str());
        let party = self
            .party(connection, &row.buyer, name)?
            .map_err(UseCaseError::InvalidField)?;
        parties::with_role(Some(party), name, Role::CoreEnterprise)
    }

    /// A document that names its seller must name the uploader.
    fn check_seller(&mut self, connection: &mut DbConnection, row: &ImportRow) -> Result<(), UseCaseError> {
        if row.seller.is_empty() {
            return Ok(());
        }
        match self.party(connection, &row.seller, "seller")? {
            Ok(party) if party.id() == self.supplier.id() => Ok(()),
            Ok(_) => Err(UseCaseError::field(
                "seller",
                "the document's seller is another organisation, not the one uploading it",
            )),
            Err(error) => Err(UseCaseError::field(
                "seller",
                format!(
                    "{}; the seller must be the organisation uploading it (add its identifiers to your organisation)",
                    error.detail
                ),
            )),
        }
    }
}

/// The upload's alerts, one of each kind at most: `duplicate_registration`
/// listing the invoices it tried to register again (those registered
/// before, or earlier in the same upload), and
/// `near_duplicate_registration` listing those that look like an earlier
/// receivable of the supplier.
pub(super) fn raise_upload_alerts(
    connection: &mut DbConnection,
    supplier_id: &str,
    upload_id: &str,
    results: &[ImportResult],
) -> Result<(), diesel::result::Error> {
    let duplicate = Refusal::DuplicateRegistration.code();
    let duplicates: Vec<(&ImportResult, serde_json::Value)> = results
        .iter()
        .filter(|result| result.code.as_deref() == Some(duplicate))
        .map(|result| {
            let listed = json!({
                "row": result.row,
                "invoice_number": result.invoice_number,
                "receivable_id": result.id,
            });
            (result, listed)
        })
        .collect();
    raise_listing(
        connection,
        AlertKind::DuplicateRegistration,
        supplier_id,
        upload_id,
        "duplicates",
        duplicates,
    )?;
    let near: Vec<(&ImportResult, serde_json::Value)> = results
        .iter()
        .filter_map(|result| {
            let earlier = result.near_duplicate_of.as_ref()?;
            let listed = json!({
                "row": result.row,
                "invoice_number": result.invoice_number,
                "receivable_id": result.id,
                "earlier_receivable_id": earlier,
            });
            Some((result, listed))
        })
        .collect();
    raise_listing(
        connection,
        AlertKind::NearDuplicateRegistration,
        supplier_id,
        upload_id,
        "near_duplicates",
        near,
    )
}

/// One alert of `kind` for an upload, listing (the first 1,000 of) `rows`
/// under `list` and counting them all; none when there are none.
fn raise_listing(
    connection: &mut DbConnection,
    kind: AlertKind,
    supplier_id: &str,
    upload_id: &str,
    list: &str,
    rows: Vec<(&ImportResult, serde_json::Value)>,
) -> Result<(), diesel::result::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    // Duplicates of rows earlier in the same upload have no id.
    let subject_id = rows.iter().find_map(|(result, _)| result.id.clone());
    let count = rows.len();
    let listed: Vec<serde_json::Value> = rows
        .into_iter()
        .take(LISTED_DUPLICATES)
        .map(|(_, listed)| listed)
        .collect();
    alerts::raise(
        connection,
        NewAlert {
            kind,
            fingerprint: None,
            subject_id,
            attempting_org_id: supplier_id.to_owned(),
            existing_party_id: Some(supplier_id.to_owned()),
            details: json!({
                "document": "upload",
                "upload_id": upload_id,
                "count": count,
                list: listed,
            }),
        },
        store::now(),
    )?;
    Ok(())
}

/// The value a row gave for `field`, to quote in its report line.
fn value_of(row: &ImportRow, field: &str) -> Option<String> {
    let references = |references: &[PartyReference]| {
        let listed: Vec<String> = references
            .iter()
            .map(|reference| match &reference.scheme {
                Some(scheme) => format!("{scheme}:{}", reference.value),
                None => reference.value.clone(),
            })
            .collect();
        (!listed.is_empty()).then(|| listed.join(", "))
    };
    match field {
        "invoice_number" => Some(row.invoice_number.clone()),
        "issue_date" => Some(row.issue_date.clone()),
        "due_date" => row.due_date.clone(),
        "currency" => Some(row.currency.clone()),
        "amount" => Some(row.amount.clone()),
        "billing_reference" => row.billing_reference.clone(),
        "seller" => references(&row.seller),
        _ if row.buyer.iter().any(|reference| reference.source == field) || field == "buyer" => references(&row.buyer),
        _ => None,
    }
}

struct Outcome {
    id: String,
    fingerprint: Fingerprint,
    receivable_id: Option<String>,
    note: Option<&'static str>,
    near_duplicate_of: Option<String>,
}

impl Outcome {
    fn registered(registered: Registered, note: Option<&'static str>) -> Outcome {
        Outcome {
            id: registered.receivable.id,
            fingerprint: registered.fingerprint,
            receivable_id: None,
            note,
            // Only those not alerted alone (registered set-based) are
            // listed in the upload's one alert.
            near_duplicate_of: match registered.near_duplicate_alert {
                None => registered.near_duplicate_of,
                Some(_) => None,
            },
        }
    }
}

fn money(row: &ImportRow) -> Result<Money, UseCaseError> {
    let currency = field("currency", Currency::parse(&row.currency))?;
    Ok(field("amount", Money::parse(&row.amount, currency))?)
}

fn billing_reference(row: &ImportRow, missing: &str) -> Result<InvoiceNumber, UseCaseError> {
    let reference = row
        .billing_reference
        .as_deref()
        .ok_or_else(|| UseCaseError::field("billing_reference", missing))?;
    Ok(field("billing_reference", InvoiceNumber::parse(reference))?)
}

fn uuid(id: &str) -> Result<Uuid, UseCaseError> {
    Uuid::parse_str(id).map_err(|_| super::error::corrupt("organisation id"))
}

fn located(location: &Location) -> ImportResult {
    match location {
        Location::Line(line) => ImportResult {
            row: *line,
            line: Some(*line),
            ..ImportResult::default()
        },
        Location::Element { document, path } => ImportResult {
            row: *document,
            document: Some(*document),
            path: Some(path.clone()),
            ..ImportResult::default()
        },
    }
}

/// Registers a chunk of invoices: set-based in a savepoint, or — when that
/// path declines the chunk or fails — one by one, as the batcher does.
fn register_chunk(
    connection: &mut DbConnection,
    jobs: &[RegistrationJob],
) -> Result<Vec<Result<Registered, UseCaseError>>, diesel::result::Error> {
    match write_transaction(connection, |connection| -> Result<_, Bulk> {
        register_many_with(connection, jobs, NearDuplicates::Report)?.ok_or(Bulk::Declined)
    }) {
        Ok(results) => Ok(results),
        Err(Bulk::Failed(error)) if crate::store::is_connection_lost(&error) => Err(error),
        Err(_) => Ok(jobs
            .iter()
            .map(|job| register_receivable(connection, &job.fingerprint_key, &job.supplier_id, &job.receivable))
            .collect()),
    }
}
