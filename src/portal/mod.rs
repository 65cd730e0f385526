//! The web portal under `/` (the API is under `/v1`): server-rendered
//! pages from compiled askama templates (`templates/`), embedded static
//! files (`static/`), sessions signed in with an API key
//! (`organizations::session`), CSRF tokens on every form, a strict
//! Content-Security-Policy, English and Simplified Chinese. Like `api/`,
//! it parses requests and calls the same use cases the API's handlers
//! call, so a page never shows a party more than the API would.
//! See docs/ARCHITECTURE.md, "Portal".

pub mod assets;
pub mod caller;
pub mod cookies;
pub mod error;
pub mod frame;
pub mod i18n;
pub mod messages;
mod pages;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{from_fn, Next};
use actix_web::{guard, web, HttpRequest, HttpResponse, Route};

use crate::config::Settings;
use crate::organizations::session::SessionLimits;

// The portal's routes, each wrapped in [`frame::secure`] (by `resource`
// below). They are not the API's: `api::ROUTES` is what
// `api-spec/openapi.yaml` describes.
crate::api::route_table! {
    "/" => get pages::home,
    "/sign-in" => get pages::sign_in_form | post pages::sign_in,
    "/sign-out" => post pages::sign_out,
    "/language/{code}" => get pages::switch_language,
    "/alerts" => get pages::inbox,
    "/alerts/{id}" => get pages::alert,
    "/alerts/{id}/acknowledgement" => post pages::acknowledge,
    "/ledger" => get pages::ledger,
    "/receivables" => get pages::receivables,
    "/receivables/new" => get pages::receivable_form | post pages::register_receivable,
    "/receivables/{id}" => get pages::receivable,
    "/receivables/{id}/confirmation" => post pages::confirm,
    "/receivables/{id}/dispute" => post pages::dispute,
    "/assets/{id}" => get pages::asset,
    "/assets/{id}/offer" => get pages::offer_terms,
    "/assets/{id}/payment" => get pages::payment_terms,
    "/assets/{id}/payments" => post pages::record_payment,
    "/assets/{id}/split" => post pages::split,
    "/offers" => get pages::offers | post pages::create_offer,
    "/offers/{id}" => get pages::offer,
    "/offers/{id}/accept" => get pages::accept_terms,
    "/offers/{id}/acceptance" => post pages::accept,
    "/lookup" => get pages::lookup,
    "/pledges" => get pages::pledges,
    "/pledges/{id}" => get pages::pledge,
    "/pledges/{id}/release" => post pages::release_pledge,
    "/pledges/{id}/receipt" => post pages::receipt,
    "/pledges/{id}/loan" => get pages::loan_terms | post pages::record_loan_entry,
    "/uploads" => get pages::upload_form | post pages::upload,
    "/uploads/{id}" => get pages::upload_page,
    "/uploads/{id}/report.csv" => get pages::upload_csv,
    "/orgs" => get pages::organizations | post pages::onboard,
    "/orgs/new" => get pages::onboarding_form,
    "/orgs/{id}" => get pages::organization,
    "/orgs/{id}/risk-officers" => post pages::add_officer,
    "/static/{name}" => get assets::serve,
    "/purchase-orders" => get pages::purchase_orders,
    "/purchase-orders/new" => get pages::purchase_order_form | post pages::register_order,
    "/purchase-orders/{id}" => get pages::purchase_order,
    "/purchase-orders/{id}/acknowledgement" => post pages::acknowledge_order,
}

/// Whether `path` is one of the portal's (the API's anonymous limit
/// leaves them to the portal, which limits them itself).
pub fn serves(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES.iter().any(|(_, pattern)| {
        let pattern: Vec<&str> = pattern.split('/').collect();
        pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(&segments)
                .all(|(expected, actual)| (expected.starts_with('{') && !actual.is_empty()) || expected == actual)
    })
}

/// A page's GET answers HEAD too: the same status and headers, and no
/// body (RFC 9110 §9.3.2; the HTTP layer leaves the body out).
fn route(method: &str, standard: Route) -> Route {
    match method {
        "get" => web::route().guard(guard::Any(guard::Get()).or(guard::Head())),
        _ => standard,
    }
}

fn resource(path: &str, routes: Vec<Route>, methods: &[&str]) -> impl actix_web::dev::HttpServiceFactory {
    let mut answered = methods.to_vec();
    if methods.contains(&"get") {
        answered.push("head");
    }
    let allow = crate::api::allow(&answered);
    crate::api::routed(path, routes)
        .default_service(web::to(move || {
            let allow = allow.clone();
            async move {
                HttpResponse::MethodNotAllowed()
                    .insert_header((header::ALLOW, allow))
                    .finish()
            }
        }))
        .wrap(from_fn(frame::secure))
}

/// What answers a path no route matched: under the API's paths
/// (`api::owns`) its problem document, elsewhere the portal's 404 page in
/// the reader's language with the portal's headers — a person who mistypes
/// an address in a browser gets a page, not JSON.
pub fn unmatched() -> Route {
    web::to(not_found).wrap(from_fn(portal_headers_off_the_api))
}

async fn not_found(request: HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    if crate::api::owns(request.path()) {
        Ok(crate::api::not_found().await?)
    } else {
        Err(error::PortalError::NotFound.into())
    }
}

/// [`frame::secure`] around what is not the API's.
async fn portal_headers_off_the_api(
    request: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if crate::api::owns(request.path()) {
        next.call(request).await
    } else {
        frame::secure(request, next).await
    }
}

/// How long sessions last, from the settings.
pub fn session_limits(settings: &Settings) -> SessionLimits {
    SessionLimits {
        idle: settings.portal.session_idle,
        lifetime: settings.portal.session_lifetime,
    }
}

/// Whether cookies must be `Secure`: the request came over TLS, or people
/// reach the service at an `https` public URL (TLS ending at a proxy).
/// Forwarded headers are not trusted, as nowhere else in the service.
pub fn secure_cookies(request: &HttpRequest) -> bool {
    let behind_https = request
        .app_data::<web::Data<crate::api::state::AppState>>()
        .and_then(|state| state.settings.public_url.as_ref().map(|url| url.is_https()))
        .unwrap_or(false);
    request.app_config().secure() || behind_https
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_paths_are_told_from_the_apis() {
        for path in [
            "/",
            "/sign-in",
            "/alerts",
            "/alerts/abc",
            "/alerts/abc/acknowledgement",
            "/static/portal-1.css",
            "/receivables",
            "/receivables/abc",
            "/uploads",
            "/uploads/abc",
            "/uploads/abc/report.csv",
            "/orgs",
            "/orgs/new",
            "/orgs/abc",
            "/orgs/abc/risk-officers",
            "/purchase-orders",
            "/purchase-orders/new",
            "/purchase-orders/abc/acknowledgement",
            "/receivables/new",
        ] {
            assert!(serves(path), "{path}");
        }
        for path in [
            "/v1/alerts",
            "/healthz",
            "/metrics",
            "/alerts/",
            "/nothing",
            "/static/",
            "/ledger/x",
            "/orgs/",
            "/v1/orgs",
        ] {
            assert!(!serves(path), "{path}");
        }
    }

    #[test]
    fn portal_and_api_routes_do_not_overlap() {
        for (_, path) in ROUTES {
            assert!(!crate::api::ROUTES.iter().any(|(_, api)| api == path), "{path}");
        }
    }
}
