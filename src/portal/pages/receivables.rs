//! Receivables: `GET /receivables` (a supplier's own, or the invoices a
//! core enterprise owes — its queue to confirm is the `registered` filter —
//! newest first, filtered by status, a page at a time by keyset on
//! `(created_at, id)`) and `GET /receivables/{id}` (one receivable as the
//! API shows it: `registry::visible_receivable`, the same check as
//! `GET /v1/receivables/{id}`). To the buyer of a registered receivable
//! the page shows the confirmation and dispute messages to sign in the
//! browser; `POST /receivables/{id}/confirmation` and
//! `POST /receivables/{id}/dispute` decide them as the API does.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::listing::{self, ListQuery, StatusOption};
use super::signing::{signature, with_signer, Signing};
use super::{amount, field_problem, html, refusal_text, see_other, Fact};
use crate::api::state::AppState;
use crate::domain::{ReceivableStatus, Role};
use crate::portal::caller::{field, Caller};
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::messages;
use crate::refusal::UseCaseError;
use crate::registry::{
    buyer_messages, dispute_receivable, of_receivable, visible_receivable, ConfirmationJob, DisputeReason,
};
use crate::store::organizations::names;
use crate::store::registry::{self as repository, receivables_of, ReceivableRow, Side};

#[derive(Template)]
#[template(path = "receivables.html")]
struct ListPage {
    frame: Frame,
    /// "Buyer" in a supplier's list, "Supplier" in a buyer's.
    counterparty_label: &'static str,
    statuses: Vec<StatusOption>,
    rows: Vec<ListRow>,
    next: Option<String>,
    first: Option<String>,
    /// A supplier registers an invoice from here.
    can_register: bool,
}

struct ListRow {
    id: String,
    invoice_number: String,
    counterparty: String,
    issue_date: String,
    due_date: String,
    amount: String,
    outstanding: String,
    status: &'static str,
}

pub async fn receivables(
    caller: Caller,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let t = caller.lang;
    // The form offers only known statuses; anything else filters nothing.
    let status = query.status.as_deref().and_then(ReceivableStatus::parse);
    let page = listing::page(
        &caller,
        &state,
        "/receivables",
        &query,
        status.map(ReceivableStatus::as_str),
        move |connection, side, party, after, limit| receivables_of(connection, side, party, status, after, limit),
    )
    .await?;
    let rows = page
        .rows
        .iter()
        .map(|row| ListRow {
            id: row.id.clone(),
            invoice_number: row.invoice_number.clone(),
            counterparty: page.counterparty(row),
            issue_date: t.format_date(row.issue_date),
            due_date: t.format_date(row.due_date),
            amount: amount(t, row.amount_minor, &row.currency),
            outstanding: amount(t, row.amount_minor - row.credited_minor, &row.currency),
            status: messages::receivable_status(t, row.status),
        })
        .collect();
    html(&ListPage {
        frame: caller.frame(t.receivables(), "/receivables"),
        counterparty_label: page.counterparty_label(t),
        statuses: listing::statuses(ReceivableStatus::ALL, status, ReceivableStatus::as_str, |status| {
            messages::receivable_status(t, status)
        }),
        rows,
        can_register: page.side == Side::Supplier,
        next: page.next,
        first: page.first,
    })
}

#[derive(Template)]
#[template(path = "receivable.html")]
struct DetailPage {
    frame: Frame,
    invoice_number: String,
    facts: Vec<Fact>,
    /// A refusal of what was just signed.
    problem: Option<String>,
    /// The buyer's signing forms while the receivable is registered.
    signings: Vec<Signing>,
    back: &'static str,
}

pub async fn receivable(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    detail(&caller, &path, &state, None).await
}

/// The receivable's page for `caller`, with `problem` (a refusal of what
/// was just sent) above its forms.
async fn detail(
    caller: &Caller,
    id: &str,
    state: &AppState,
    problem: Option<String>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let t = caller.lang;
    let id = uuid::Uuid::parse_str(id)
        .map_err(|_| PortalError::NotFound)?
        .to_string();
    let me = viewer.organization_id.clone();
    let is_buyer = move |receivable: &ReceivableRow| receivable.buyer_id == me;
    let (receivable, fingerprint, names, asset) = state
        .database
        .run(move |connection| -> Result<_, UseCaseError> {
            let Some(receivable) = visible_receivable(connection, &viewer, &id)? else {
                return Ok(None);
            };
            let fingerprint = of_receivable(connection, &receivable)?;
            let names = names(
                connection,
                &[receivable.supplier_id.clone(), receivable.buyer_id.clone()],
            )?;
            let asset = repository::root_asset_of(connection, &receivable.id)?;
            Ok(Some((receivable, fingerprint, names, asset)))
        })
        .await??
        .ok_or(PortalError::NotFound)?;
    let named = |id: &str| match names.get(id) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_owned(),
    };
    let currency = &receivable.currency;
    let mut facts = vec![
        Fact::text(t.invoice_number(), receivable.invoice_number.clone()),
        Fact::text(t.supplier(), named(&receivable.supplier_id)),
        Fact::text(t.buyer(), named(&receivable.buyer_id)),
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
        facts.push(Fact::link(
            t.superseded_by(),
            successor.clone(),
            format!("/receivables/{successor}"),
        ));
    }
    if let Some(asset) = &asset {
        facts.push(Fact::link(t.asset(), asset.id.clone(), format!("/assets/{}", asset.id)));
    }
    facts.push(Fact::code(t.fingerprint(), fingerprint.to_hex()));
    facts.push(Fact::code(t.ledger_leaf(), hex::encode(&receivable.leaf_hash)));
    let mut signings = Vec::new();
    if is_buyer(&receivable) && receivable.status == ReceivableStatus::Registered {
        let (confirm, dispute) = buyer_messages(&receivable, &fingerprint)?;
        signings.push(Signing {
            id: "confirm",
            action: format!("/receivables/{}/confirmation", receivable.id),
            message: confirm,
            fields: Vec::new(),
            reason: false,
            submit: t.confirm_receivable(),
        });
        signings.push(Signing {
            id: "dispute",
            action: format!("/receivables/{}/dispute", receivable.id),
            message: dispute,
            fields: Vec::new(),
            reason: true,
            submit: t.dispute_receivable(),
        });
    }
    let frame = caller.frame(&receivable.invoice_number, "/receivables");
    html(&DetailPage {
        frame: if signings.is_empty() { frame } else { with_signer(frame) },
        invoice_number: receivable.invoice_number.clone(),
        facts,
        problem,
        signings,
        back: if caller.principal.role == Role::Supplier || caller.principal.role == Role::CoreEnterprise {
            "/receivables"
        } else {
            "/"
        },
    })
}

/// `POST /receivables/{id}/confirmation`: the buyer's signed confirmation,
/// decided by the confirmations' batcher as `POST /v1/…/confirmation` is.
pub async fn confirm(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let buyer = caller.viewer()?;
    let receivable_id = uuid::Uuid::parse_str(&path).map_err(|_| PortalError::NotFound)?;
    let signature = match signature(&caller) {
        Ok(signature) => signature,
        Err(problem) => {
            return detail(
                &caller,
                &path,
                &state,
                Some(field_problem(caller.lang, "signature", &problem)),
            )
            .await
        }
    };
    let job = ConfirmationJob {
        buyer,
        receivable_id,
        signature,
    };
    let decided = state
        .confirmations
        .run(job)
        .await
        .map_err(|error| PortalError::Internal(error.into()))?;
    state.sequencer.wake();
    match decided {
        Ok(_) => Ok(see_other(&format!("/receivables/{receivable_id}"))),
        Err(error) => refused(&caller, &path, &state, error).await,
    }
}

/// `POST /receivables/{id}/dispute`: the buyer's signed dispute, with its
/// reason, decided as `POST /v1/…/dispute` is.
pub async fn dispute(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let receivable_id = uuid::Uuid::parse_str(&path).map_err(|_| PortalError::NotFound)?;
    let t = caller.lang;
    let reason = match DisputeReason::parse(field(&caller.form, "reason").unwrap_or_default()) {
        Ok(reason) => reason,
        Err(problem) => return detail(&caller, &path, &state, Some(field_problem(t, "reason", problem))).await,
    };
    let signature = match signature(&caller) {
        Ok(signature) => signature,
        Err(problem) => return detail(&caller, &path, &state, Some(field_problem(t, "signature", &problem))).await,
    };
    let decided = state
        .database
        .run(move |connection| {
            Ok::<_, diesel::result::Error>(dispute_receivable(
                connection,
                &viewer,
                receivable_id,
                &reason,
                &signature,
            ))
        })
        .await??;
    state.sequencer.wake();
    match decided {
        Ok(_) => Ok(see_other(&format!("/receivables/{receivable_id}"))),
        Err(error) => refused(&caller, &path, &state, error).await,
    }
}

/// The page again with the refusal of what was sent; a fault is an error.
async fn refused(
    caller: &Caller,
    id: &str,
    state: &AppState,
    error: UseCaseError,
) -> Result<HttpResponse, PortalError> {
    match refusal_text(caller.lang, &error) {
        Some(problem) => detail(caller, id, state, Some(problem)).await,
        None => Err(error.into()),
    }
}
