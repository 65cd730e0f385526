//! Prometheus metrics: request counts and latencies per route, served as
//! text at `/metrics`. One registry per application, not a global, so that
//! test servers in one process do not share counters.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use super::error::ApiError;
use super::state::AppState;
use crate::store::batcher::{BatchObserver, BatchPath};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    batches: IntCounterVec,
    unsequenced: IntGauge,
    oldest_unsequenced: Gauge,
    database_up: IntGauge,
    witness_cosigned_size: IntGaugeVec,
    witness_lag: IntGaugeVec,
    witness_failures: IntCounterVec,
    witness_last_success: GaugeVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("anchorfin".to_owned()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by route and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency, by route").buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let batches = IntCounterVec::new(
            Opts::new(
                "decision_batches_total",
                "Committed batches of decisions, by kind and by how they were decided \
                 (set_based; declined, after_failure or one_by_one: a savepoint per request)",
            ),
            &["kind", "path"],
        )?;
        let unsequenced = IntGauge::new(
            "ledger_unsequenced_entries",
            "Ledger entries appended but not yet in a signed tree head",
        )?;
        let oldest_unsequenced = Gauge::new(
            "ledger_oldest_unsequenced_seconds",
            "How long the oldest entry not yet in a signed tree head has waited",
        )?;
        let database_up = IntGauge::new(
            "database_up",
            "1 while the database takes writes (the last probe committed), 0 while requests are answered 503",
        )?;
        let witness_cosigned_size = IntGaugeVec::new(
            Opts::new(
                "witness_cosigned_size",
                "The largest tree size each witness has cosigned, as this process knows",
            ),
            &["witness"],
        )?;
        let witness_lag = IntGaugeVec::new(
            Opts::new(
                "witness_lag_entries",
                "How many entries the latest signed head is ahead of what each witness has cosigned",
            ),
            &["witness"],
        )?;
        let witness_failures = IntCounterVec::new(
            Opts::new(
                "witness_failures_total",
                "Failed submissions to each witness, by reason (unreachable, refused, bad_cosignature, \
                 inconsistent, database)",
            ),
            &["witness", "reason"],
        )?;
        let witness_last_success = GaugeVec::new(
            Opts::new(
                "witness_last_success_timestamp_seconds",
                "When each witness last cosigned a head for this process (seconds since the epoch)",
            ),
            &["witness"],
        )?;
        registry.register(Box::new(witness_cosigned_size.clone()))?;
        registry.register(Box::new(witness_lag.clone()))?;
        registry.register(Box::new(witness_failures.clone()))?;
        registry.register(Box::new(witness_last_success.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(batches.clone()))?;
        registry.register(Box::new(unsequenced.clone()))?;
        registry.register(Box::new(oldest_unsequenced.clone()))?;
        registry.register(Box::new(database_up.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            batches,
            unsequenced,
            oldest_unsequenced,
            database_up,
            witness_cosigned_size,
            witness_lag,
            witness_failures,
            witness_last_success,
        })
    }

    /// Records each submission to a witness.
    pub fn witness_observer(&self) -> crate::tlog::WitnessObserver {
        let metrics = self.clone();
        Arc::new(move |report: &crate::tlog::WitnessReport| {
            let witness = report.witness.as_str();
            let cosigned = report.cosigned_size.unwrap_or(0);
            metrics
                .witness_cosigned_size
                .with_label_values(&[witness])
                .set(cosigned as i64);
            metrics
                .witness_lag
                .with_label_values(&[witness])
                .set(report.head_size.saturating_sub(cosigned) as i64);
            match report.failure {
                Some(reason) => metrics.witness_failures.with_label_values(&[witness, reason]).inc(),
                None => metrics
                    .witness_last_success
                    .with_label_values(&[witness])
                    .set(chrono::Utc::now().timestamp_millis() as f64 / 1000.0),
            }
        })
    }

    /// Records each measure of the ledger's lag.
    pub fn lag_observer(&self) -> crate::tlog::LagObserver {
        let (unsequenced, oldest) = (self.unsequenced.clone(), self.oldest_unsequenced.clone());
        Arc::new(move |lag: crate::tlog::Lag| {
            unsequenced.set(lag.unsequenced);
            oldest.set(lag.oldest_seconds);
        })
    }

    /// Counts the committed batches of `kind` (registration, confirmation,
    /// financing) by how each was decided.
    pub fn batch_observer(&self, kind: &'static str) -> BatchObserver {
        let batches = self.batches.clone();
        Arc::new(move |path: BatchPath| batches.with_label_values(&[kind, path.as_str()]).inc())
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }
}

/// Middleware: times every request, counts it by route pattern (not by raw
/// path, so ids do not explode the label set) and logs it.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().to_string();
    let metrics = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    let response = next.call(request).await?;
    // Asked once routed, the pattern is the matched resource's (asked
    // before, it would match the path against every route again).
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status, elapsed.as_secs_f64());
    }
    tracing::info!(
        method = %method,
        route = %route,
        status,
        duration_us = elapsed.as_micros() as u64,
        "request"
    );
    Ok(response)
}

/// `GET /metrics`, for the operator's key only: request counts by route
/// and how decisions were batched say how busy each part of the business
/// is, which is nobody else's to read.
pub async fn render(caller: super::auth::Authenticated, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require_organization(crate::domain::Role::Operator)?;
    let up = state.database.health().down_reason().is_none();
    state.metrics.database_up.set(i64::from(up));
    let mut buffer = Vec::new();
    TextEncoder::new()
        .encode(&state.metrics.registry().gather(), &mut buffer)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(buffer))
}
