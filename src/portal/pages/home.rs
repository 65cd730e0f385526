//! `GET /`: the role's home page. A supplier sees its receivables and
//! purchase orders counted and summed by status; the other roles a
//! landing page until their pages exist; a risk officer's key opens only
//! the alert inbox, where this sends it.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::{html, see_other};
use crate::api::state::AppState;
use crate::domain::Role;
use crate::portal::caller::Caller;
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::i18n::Lang;
use crate::portal::messages;
use crate::registry::{supplier_summary, StatusTotal};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    frame: Frame,
    organization_name: String,
    role: &'static str,
    landing: Option<&'static str>,
    totals: Vec<TotalsTable>,
}

struct TotalsTable {
    heading: &'static str,
    rows: Vec<TotalRow>,
}

struct TotalRow {
    status: &'static str,
    count: i64,
    amount: String,
}

pub async fn home(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, PortalError> {
    if caller.is_risk_officer() {
        return Ok(see_other("/alerts"));
    }
    let t = caller.lang;
    let principal = caller.organization()?;
    let (landing, totals) = match principal.role {
        Role::Supplier => {
            let supplier = principal.organization_id.to_string();
            let summary = state
                .database
                .run(move |connection| supplier_summary(connection, &supplier))
                .await??;
            let receivables = table(t, t.receivables(), &summary.receivables, messages::receivable_status);
            let orders = table(
                t,
                t.purchase_orders(),
                &summary.purchase_orders,
                messages::purchase_order_status,
            );
            (None, vec![receivables, orders])
        }
        Role::CoreEnterprise => (Some(t.landing_core_enterprise()), Vec::new()),
        Role::Bank => (Some(t.landing_bank()), Vec::new()),
        Role::Operator => (Some(t.landing_operator()), Vec::new()),
    };
    html(&HomePage {
        frame: caller.frame(t.home(), "/"),
        organization_name: caller.organization_name.clone(),
        role: messages::role(t, caller.role()),
        landing,
        totals,
    })
}

fn table<Status: Copy>(
    t: Lang,
    heading: &'static str,
    totals: &[StatusTotal<Status>],
    name: fn(Lang, Status) -> &'static str,
) -> TotalsTable {
    TotalsTable {
        heading,
        rows: totals
            .iter()
            .map(|total| TotalRow {
                status: name(t, total.status),
                count: total.count,
                amount: t.format_amount(total.total_minor, total.currency),
            })
            .collect(),
    }
}
