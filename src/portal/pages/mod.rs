//! The portal's pages, one file a page (or a page and its form).

mod alerts;
mod home;
mod language;
mod ledger;
mod liens;
mod listing;
mod lookup;
mod offers;
mod orgs;
mod purchase_orders;
mod receivables;
mod registration;
mod sign_in;
mod signing;
mod uploads;

pub use alerts::{acknowledge, alert, inbox};
pub use home::home;
pub use language::switch_language;
pub use ledger::ledger;
pub use liens::{loan_terms, pledge, pledges, receipt, record_loan_entry, release_pledge};
pub use lookup::lookup;
pub use offers::{
    accept, accept_terms, asset, create_offer, offer, offer_terms, offers, payment_terms, record_payment, split,
};
pub use orgs::{add_officer, onboard, onboarding_form, organization, organizations};
pub use purchase_orders::{acknowledge_order, purchase_order, purchase_orders, TO_ACKNOWLEDGE};
pub use receivables::{confirm, dispute, receivable, receivables};
pub use registration::{purchase_order_form, receivable_form, register_order, register_receivable};
pub use sign_in::{sign_in, sign_in_form, sign_out};
pub use uploads::{upload, upload_csv, upload_form, upload_page};

use actix_web::HttpResponse;
use askama::Template;

use super::error::PortalError;
use super::i18n::Lang;
use crate::refusal::UseCaseError;

/// A rendered page.
fn html(page: &impl Template) -> Result<HttpResponse, PortalError> {
    html_with(actix_web::http::StatusCode::OK, page)
}

/// A rendered page answered with `status` (a form shown again, refused).
fn html_with(status: actix_web::http::StatusCode, page: &impl Template) -> Result<HttpResponse, PortalError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// A fact of a page's `<dl class="facts">` (`templates/facts.html`).
struct Fact {
    label: &'static str,
    value: String,
    /// Shown as code (ids, hashes).
    code: bool,
    /// A link to another page.
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

    /// A code fact linking to `href`.
    fn link(label: &'static str, value: String, href: String) -> Self {
        Fact {
            href: Some(href),
            ..Fact::code(label, value)
        }
    }
}

/// A refusal to show on the page that sent it: the decision's reason and
/// its stable code (as the API's problem document has them); `None` for a
/// fault or "not found", which are errors.
fn refusal_text(lang: Lang, error: &UseCaseError) -> Option<String> {
    if matches!(error, UseCaseError::NotFound | UseCaseError::Forbidden(_)) {
        return None;
    }
    // A field's refusal (`invalid_field`) names the field in its detail.
    let (refusal, detail, _) = error.refusal()?;
    Some(refusal_line(lang, refusal, None, &detail))
}

/// How a page shows a decision's refusal: "Refused:", the field if the
/// detail does not name it, the detail, and the stable code.
fn refusal_line(lang: Lang, refusal: crate::refusal::Refusal, field: Option<&str>, detail: &str) -> String {
    match field {
        Some(field) => format!("{} {field}: {detail} ({})", lang.refused(), refusal.code()),
        None => format!("{} {detail} ({})", lang.refused(), refusal.code()),
    }
}

/// A form field the page refused before deciding anything.
fn field_problem(lang: Lang, field: &str, problem: &str) -> String {
    format!("{} {field}: {problem}", lang.refused())
}

/// An amount for the locale; a stored currency that does not parse (never
/// written so) in plain minor units rather than a failed page.
fn amount(t: Lang, minor_units: i64, currency: &str) -> String {
    crate::domain::Currency::parse(currency).map_or_else(
        |_| format!("{minor_units} {currency}"),
        |currency| t.format_amount(minor_units, currency),
    )
}

/// 303 to a page of the portal.
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}
