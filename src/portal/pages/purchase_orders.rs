//! Purchase orders: `GET /purchase-orders` (a supplier's own, or those a
//! core enterprise placed — its queue to acknowledge is the `registered`
//! filter — newest first, filtered by status, a page at a time as
//! `/receivables` is) and `GET /purchase-orders/{id}` (one order as
//! `GET /v1/purchase-orders/{id}` shows it, with the same visibility
//! check). To the buyer of a registered order the page shows the
//! `acknowledge_po` message to sign in the browser;
//! `POST /purchase-orders/{id}/acknowledgement` decides it as the API does.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::listing::{self, ListQuery, StatusOption};
use super::signing::{signature, with_signer, Signing};
use super::{amount, field_problem, html, refusal_text, see_other, Fact};
use crate::api::state::AppState;
use crate::domain::{PurchaseOrderStatus, Role};
use crate::portal::caller::Caller;
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::messages;
use crate::refusal::UseCaseError;
use crate::registry::{acknowledge_purchase_order, acknowledgement_message, of_purchase_order, visible_purchase_order};
use crate::store::organizations::names;
use crate::store::registry::{purchase_orders_of, Side};

/// The core enterprise's queue: orders it has yet to acknowledge.
pub const TO_ACKNOWLEDGE: &str = "/purchase-orders?status=registered";

#[derive(Template)]
#[template(path = "purchase_orders.html")]
struct ListPage {
    frame: Frame,
    /// "Buyer" in a supplier's list, "Supplier" in a buyer's.
    counterparty_label: &'static str,
    statuses: Vec<StatusOption>,
    rows: Vec<ListRow>,
    next: Option<String>,
    first: Option<String>,
    /// A supplier registers an order from here.
    can_register: bool,
}

struct ListRow {
    id: String,
    po_number: String,
    counterparty: String,
    issue_date: String,
    amount: String,
    invoiced: String,
    status: &'static str,
}

pub async fn purchase_orders(
    caller: Caller,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let t = caller.lang;
    // The form offers only known statuses; anything else filters nothing.
    let status = query.status.as_deref().and_then(PurchaseOrderStatus::parse);
    let page = listing::page(
        &caller,
        &state,
        "/purchase-orders",
        &query,
        status.map(PurchaseOrderStatus::as_str),
        move |connection, side, party, after, limit| purchase_orders_of(connection, side, party, status, after, limit),
    )
    .await?;
    let rows = page
        .rows
        .iter()
        .map(|row| ListRow {
            id: row.id.clone(),
            po_number: row.po_number.clone(),
            counterparty: page.counterparty(row),
            issue_date: t.format_date(row.issue_date),
            amount: amount(t, row.amount_minor, &row.currency),
            invoiced: amount(t, row.invoiced_minor, &row.currency),
            status: messages::purchase_order_status(t, row.status),
        })
        .collect();
    // The buyer's queue is its own entry of the navigation.
    let queue = page.side == Side::Buyer && status == Some(PurchaseOrderStatus::Registered) && page.is_first();
    html(&ListPage {
        frame: caller.frame(
            t.purchase_orders(),
            if queue { TO_ACKNOWLEDGE } else { "/purchase-orders" },
        ),
        counterparty_label: page.counterparty_label(t),
        statuses: listing::statuses(
            PurchaseOrderStatus::ALL,
            status,
            PurchaseOrderStatus::as_str,
            |status| messages::purchase_order_status(t, status),
        ),
        rows,
        can_register: page.side == Side::Supplier,
        next: page.next,
        first: page.first,
    })
}

#[derive(Template)]
#[template(path = "purchase_order.html")]
struct DetailPage {
    frame: Frame,
    po_number: String,
    facts: Vec<Fact>,
    /// A refusal of what was just signed.
    problem: Option<String>,
    /// The buyer's acknowledgement while the order is registered.
    signing: Option<Signing>,
    back: &'static str,
}

pub async fn purchase_order(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    detail(&caller, &path, &state, None).await
}

/// The order's page for `caller`, with `problem` (a refusal of what was
/// just sent) above its form.
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
    let (order, fingerprint, names) = state
        .database
        .run(move |connection| -> Result<_, UseCaseError> {
            let Some(order) = visible_purchase_order(connection, &viewer, &id)? else {
                return Ok(None);
            };
            let fingerprint = of_purchase_order(connection, &order)?;
            let names = names(connection, &[order.supplier_id.clone(), order.buyer_id.clone()])?;
            Ok(Some((order, fingerprint, names)))
        })
        .await??
        .ok_or(PortalError::NotFound)?;
    let named = |id: &str| match names.get(id) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_owned(),
    };
    let currency = &order.currency;
    let mut facts = vec![
        Fact::text(t.po_number(), order.po_number.clone()),
        Fact::text(t.supplier(), named(&order.supplier_id)),
        Fact::text(t.buyer(), named(&order.buyer_id)),
        Fact::text(t.issue_date(), t.format_date(order.issue_date)),
        Fact::text(t.amount(), amount(t, order.amount_minor, currency)),
        Fact::text(t.invoiced(), amount(t, order.invoiced_minor, currency)),
        Fact::text(t.status(), messages::purchase_order_status(t, order.status).to_owned()),
        Fact::text(t.registered_at(), t.format_time(order.created_at)),
    ];
    if let Some(acknowledged_at) = order.acknowledged_at {
        facts.push(Fact::text(t.acknowledged_at(), t.format_time(acknowledged_at)));
    }
    facts.push(Fact::code(t.fingerprint(), fingerprint.to_hex()));
    facts.push(Fact::code(t.ledger_leaf(), hex::encode(&order.leaf_hash)));
    let signing = if order.buyer_id == me && order.status == PurchaseOrderStatus::Registered {
        Some(Signing {
            id: "acknowledge",
            action: format!("/purchase-orders/{}/acknowledgement", order.id),
            message: acknowledgement_message(&order, &fingerprint)?,
            fields: Vec::new(),
            reason: false,
            submit: t.acknowledge_purchase_order(),
        })
    } else {
        None
    };
    let frame = caller.frame(&order.po_number, "/purchase-orders");
    html(&DetailPage {
        frame: if signing.is_some() { with_signer(frame) } else { frame },
        po_number: order.po_number.clone(),
        facts,
        problem,
        signing,
        back: if matches!(caller.principal.role, Role::Supplier | Role::CoreEnterprise) {
            "/purchase-orders"
        } else {
            "/"
        },
    })
}

/// `POST /purchase-orders/{id}/acknowledgement`: the buyer's signed
/// acknowledgement, decided as `POST /v1/…/acknowledgement` is.
pub async fn acknowledge_order(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let viewer = caller.viewer()?;
    let id = uuid::Uuid::parse_str(&path).map_err(|_| PortalError::NotFound)?;
    let signature = match signature(&caller) {
        Ok(signature) => signature,
        Err(problem) => {
            let problem = field_problem(caller.lang, "signature", &problem);
            return detail(&caller, &path, &state, Some(problem)).await;
        }
    };
    let decided = state
        .database
        .run(move |connection| {
            Ok::<_, diesel::result::Error>(acknowledge_purchase_order(connection, &viewer, id, &signature))
        })
        .await??;
    state.sequencer.wake();
    match decided {
        Ok(_) => Ok(see_other(&format!("/purchase-orders/{id}"))),
        Err(error) => match refusal_text(caller.lang, &error) {
            Some(problem) => detail(&caller, &path, &state, Some(problem)).await,
            None => Err(error.into()),
        },
    }
}
