//! The portal's pages, one file a page (or a page and its form).

mod alerts;
mod home;
mod language;
mod ledger;
mod receivables;
mod sign_in;
mod uploads;

pub use alerts::{acknowledge, alert, inbox};
pub use home::home;
pub use language::switch_language;
pub use ledger::ledger;
pub use receivables::{receivable, receivables};
pub use sign_in::{sign_in, sign_in_form, sign_out};
pub use uploads::{upload, upload_csv, upload_form, upload_page};

use actix_web::HttpResponse;
use askama::Template;

use super::error::PortalError;

/// A rendered page.
fn html(page: &impl Template) -> Result<HttpResponse, PortalError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// 303 to a page of the portal.
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}
