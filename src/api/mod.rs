//! The REST API under `/v1`, health and metrics. One action per file;
//! handlers parse requests into domain types, call a use case and map its
//! errors to problem documents.

pub mod alerts;
pub mod assets;
pub mod auth;
pub mod error;
pub mod health;
pub mod json;
pub mod ledger;
pub mod lending;
pub mod metrics;
pub mod orgs;
pub mod purchase_orders;
pub mod query;
pub mod receivables;
mod registry_error;
pub mod state;

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

/// Every route of the service. `api-spec/openapi.yaml` describes the same set.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(resource("/healthz", vec![web::get().to(health::healthz)]))
        .service(resource("/readyz", vec![web::get().to(health::readyz)]))
        .service(resource("/metrics", vec![web::get().to(metrics::render)]))
        .service(resource("/v1/orgs", vec![web::post().to(orgs::create)]))
        .service(resource(
            "/v1/purchase-orders",
            vec![web::post().to(purchase_orders::create)],
        ))
        .service(resource(
            "/v1/purchase-orders/{id}",
            vec![web::get().to(purchase_orders::show)],
        ))
        .service(resource(
            "/v1/purchase-orders/{id}/acknowledgement",
            vec![web::post().to(purchase_orders::acknowledge)],
        ))
        .service(resource("/v1/receivables", vec![web::post().to(receivables::create)]))
        .service(resource(
            "/v1/receivables/import",
            vec![web::post().to(receivables::import)],
        ))
        .service(resource("/v1/receivables/{id}", vec![web::get().to(receivables::show)]))
        .service(resource(
            "/v1/receivables/{id}/confirmation",
            vec![web::post().to(receivables::confirm)],
        ))
        .service(resource(
            "/v1/receivables/{id}/dispute",
            vec![web::post().to(receivables::dispute)],
        ))
        .service(resource("/v1/assets/{id}", vec![web::get().to(assets::show)]))
        .service(resource("/v1/assets/{id}/split", vec![web::post().to(assets::split)]))
        .service(resource("/v1/assets/{id}/payments", vec![web::post().to(lending::pay)]))
        .service(resource(
            "/v1/encumbrance/{fingerprint}",
            vec![web::get().to(lending::encumbrance)],
        ))
        .service(resource("/v1/pledges", vec![web::post().to(lending::pledge)]))
        .service(resource(
            "/v1/pledges/{id}/release",
            vec![web::post().to(lending::release)],
        ))
        .service(resource("/v1/assignments", vec![web::post().to(lending::assign)]))
        .service(resource("/v1/alerts", vec![web::get().to(alerts::list)]))
        .service(resource(
            "/v1/alerts/{id}/acknowledgement",
            vec![web::post().to(alerts::acknowledge)],
        ))
        .service(resource("/v1/ledger/head", vec![web::get().to(ledger::head)]))
        .service(resource(
            "/v1/ledger/public-key",
            vec![web::get().to(ledger::public_key)],
        ))
        .service(resource("/v1/ledger/entries", vec![web::get().to(ledger::entries)]))
        .service(resource(
            "/v1/ledger/leaves/{leaf_hash}",
            vec![web::get().to(ledger::leaf)],
        ))
        .service(resource(
            "/v1/ledger/proofs/inclusion",
            vec![web::get().to(ledger::inclusion)],
        ))
        .service(resource(
            "/v1/ledger/proofs/consistency",
            vec![web::get().to(ledger::consistency)],
        ));
}

/// A resource id from the path; one that is not a UUID names nothing (404).
pub fn path_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

/// A resource whose unsupported methods answer 405 as a problem document.
fn resource(path: &str, routes: Vec<Route>) -> actix_web::Resource {
    routes
        .into_iter()
        .fold(web::resource(path), |resource, route| resource.route(route))
        .default_service(web::to(|| async { Err::<HttpResponse, _>(ApiError::MethodNotAllowed) }))
}

/// Anything that matched no route.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
