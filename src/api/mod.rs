//! The REST API under `/v1`, health and metrics. One action per file;
//! handlers parse requests into domain types, call a use case and map its
//! errors to problem documents.

pub mod alerts;
pub mod assets;
pub mod auth;
pub mod error;
pub mod gate;
pub mod health;
pub mod idempotency;
pub mod json;
pub mod ledger;
pub mod lending;
pub mod limits;
pub mod metrics;
pub mod offers;
pub mod orgs;
pub mod purchase_orders;
pub mod query;
pub mod receivables;
mod registry_error;
pub mod signed;
pub mod state;
pub mod uploads;
pub mod wait;

use actix_web::{web, HttpResponse, Route};

use error::ApiError;

impl From<crate::validation::FieldError> for ApiError {
    fn from(error: crate::validation::FieldError) -> Self {
        ApiError::InvalidField {
            field: error.field,
            detail: error.detail,
        }
    }
}

/// Declares a route table once: `routes` registers it and `ROUTES` lists
/// it, so the list cannot drift from what is served. A test checks
/// `api-spec/openapi.yaml` against this module's `ROUTES`; the portal
/// declares its own table with the same macro.
/// A path answering several methods is one resource (so that each of its
/// methods is reached and others are 405): `"/p" => get a | post b`. Each
/// is built by the `resource(path, routes, methods)` function of the
/// module that declares the table, and each route by its
/// `route(method, standard)`, given `actix_web::web::get()` and the like
/// (the API keeps it; the portal's GET answers HEAD as well).
macro_rules! route_table {
    ($($path:literal => $($method:ident $handler:path)|+),* $(,)?) => {
        /// Every (method, path) of this table, as registered.
        pub const ROUTES: &[(&str, &str)] = &[$($((stringify!($method), $path)),+),*];

        /// Registers every route of this table.
        pub fn routes(config: &mut actix_web::web::ServiceConfig) {
            $(config.service(resource(
                $path,
                vec![$(route(stringify!($method), actix_web::web::$method()).to($handler)),+],
                &[$(stringify!($method)),+],
            ));)*
        }
    };
}
pub(crate) use route_table;

// The router tries the resources in this order, matching a path with a
// parameter by a regular expression: the calls banks and suppliers make
// most come first, so that they are not matched against the others first
// (about 200 k instructions a request when a look-up came 19th). No two
// of them match the same path, and none matches a path of a later one.
route_table! {
    "/v1/encumbrance/{fingerprint}" => get lending::encumbrance,
    "/v1/pledges" => post lending::pledge,
    "/v1/receivables/{id}/confirmation" => post receivables::confirm,
    "/v1/receivables" => post receivables::create,
    "/v1/offers" => post offers::create | get offers::list,
    "/v1/assignments" => post lending::assign,
    "/healthz" => get health::healthz,
    "/readyz" => get health::readyz,
    "/metrics" => get metrics::render,
    "/v1/orgs" => post orgs::create,
    "/v1/purchase-orders" => post purchase_orders::create,
    "/v1/purchase-orders/{id}" => get purchase_orders::show,
    "/v1/purchase-orders/{id}/acknowledgement" => post purchase_orders::acknowledge,
    "/v1/receivables/import" => post receivables::import,
    "/v1/uploads/{id}" => get uploads::show,
    "/v1/uploads/{id}/report.csv" => get uploads::report_csv,
    "/v1/receivables/{id}" => get receivables::show,
    "/v1/receivables/{id}/lookups" => get receivables::lookups,
    "/v1/receivables/{id}/dispute" => post receivables::dispute,
    "/v1/assets/{id}" => get assets::show,
    "/v1/assets/{id}/split" => post assets::split,
    "/v1/assets/{id}/payments" => post lending::pay,
    "/v1/encumbrance/{fingerprint}/certificate" => get lending::certificate,
    "/v1/offers/{id}" => get offers::show,
    "/v1/offers/{id}/withdrawal" => post offers::withdraw,
    "/v1/pledges/{id}" => get lending::show_lien,
    "/v1/pledges/{id}/receipt" => post lending::receipt,
    "/v1/pledges/{id}/disbursements" => post lending::disburse,
    "/v1/pledges/{id}/repayments" => post lending::repay,
    "/v1/pledges/{id}/release" => post lending::release,
    "/v1/alerts" => get alerts::list,
    "/v1/alerts/{id}/acknowledgement" => post alerts::acknowledge,
    "/v1/ledger/head" => get ledger::head,
    "/v1/ledger/public-key" => get ledger::public_key,
    "/v1/ledger/vkey" => get ledger::vkey,
    "/v1/ledger/checkpoint" => get ledger::checkpoint,
    "/v1/ledger/entries" => get ledger::entries,
    "/v1/ledger/leaves/{leaf_hash}" => get ledger::leaf,
    "/v1/ledger/proofs/inclusion" => get ledger::inclusion,
    "/v1/ledger/proofs/consistency" => get ledger::consistency,
}

/// A resource id from the path; one that is not a UUID names nothing (404).
pub fn path_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

/// A resource whose unsupported methods answer 405 as a problem document.
/// Its 405 says which methods it answers (`Allow`, RFC 9110 §15.5.6).
fn resource(path: &str, routes: Vec<Route>, methods: &[&str]) -> actix_web::Resource {
    let allow = allow(methods);
    routed(path, routes).default_service(web::to(move || {
        let allow = allow.clone();
        async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow }) }
    }))
}

/// The API's routes answer exactly the method they are declared with.
fn route(_method: &str, standard: Route) -> Route {
    standard
}

/// The `Allow` header of a resource answering `methods`.
pub(crate) fn allow(methods: &[&str]) -> String {
    methods
        .iter()
        .map(|method| method.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A resource at `path` answering `routes`.
pub(crate) fn routed(path: &str, routes: Vec<Route>) -> actix_web::Resource {
    routes
        .into_iter()
        .fold(web::resource(path), |resource, route| resource.route(route))
}

/// What an unknown path is answered with (a 404 like any other, with its
/// own detail so that a missing route can be told from a missing resource).
pub const NO_ROUTE: &str = "no route matches this path";

/// Anything under the API's paths that matched no route (elsewhere the
/// portal answers with its page: `portal::unmatched`).
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::refused(crate::refusal::Refusal::NotFound, NO_ROUTE))
}

/// Whether `path` is the API's: `/v1` and what is under it, the probes and
/// the metrics. An unknown one is answered as a problem document.
pub fn owns(path: &str) -> bool {
    ["/v1", "/healthz", "/readyz", "/metrics"].iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

#[cfg(test)]
mod tests {
    use super::owns;

    #[test]
    fn the_apis_paths_are_told_from_the_rest() {
        for path in [
            "/v1",
            "/v1/",
            "/v1/nothing",
            "/healthz",
            "/readyz",
            "/metrics",
            "/metrics/x",
        ] {
            assert!(owns(path), "{path}");
        }
        for path in [
            "/",
            "/nothing",
            "/v1x",
            "/v10/receivables",
            "/healthzz",
            "/receivables",
            "/static/x",
        ] {
            assert!(!owns(path), "{path}");
        }
    }
}
