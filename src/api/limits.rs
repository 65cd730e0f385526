//! Rate limits: a token bucket per organisation for every authenticated
//! request, a stricter one for encumbrance look-ups (the call that, made in
//! bulk, enumerates a supplier's invoices), and one per client address for
//! anonymous reads. Over the limit a request is answered 429 with
//! `Retry-After`, before any work is done for it.
//!
//! Buckets live in each server process's memory: with several processes
//! behind a balancer a client may get up to that many times the rate. What
//! must hold across processes — the look-ups' audit trail and the
//! enumeration alert — is in the database (`lending::lookup`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::ApiError;
use crate::organizations::Principal;

/// How many requests a key may make: `per_second` on average, up to
/// `burst` at once. A rate of 0 means unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets by key.
#[derive(Debug)]
pub struct RateLimiter {
    rate: Rate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Past this many buckets, full ones are forgotten (they would be full
/// again anyway).
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or says how long until one is there.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.rate.per_second == 0 {
            return Ok(());
        }
        let per_second = f64::from(self.rate.per_second);
        let burst = f64::from(self.rate.burst.max(1));
        let mut buckets = match self.buckets.lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, bucket| {
                bucket.tokens + now.saturating_duration_since(bucket.updated).as_secs_f64() * per_second < burst
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

/// The service's limiters.
#[derive(Debug)]
pub struct RateLimits {
    /// Every authenticated request, per organisation.
    pub requests: RateLimiter,
    /// Encumbrance look-ups, per organisation.
    pub lookups: RateLimiter,
    /// Requests without an API key, per client address.
    pub anonymous: RateLimiter,
}

impl RateLimits {
    pub fn new(requests: Rate, lookups: Rate) -> Self {
        Self {
            requests: RateLimiter::new(requests),
            lookups: RateLimiter::new(lookups),
            anonymous: RateLimiter::new(requests),
        }
    }

    /// Admits one request of an authenticated caller, or answers 429.
    pub fn admit(&self, caller: &Principal) -> Result<(), ApiError> {
        limited(self.requests.check(&caller.organization_id.to_string()))
    }

    /// Admits one encumbrance look-up of the caller's organisation.
    pub fn admit_lookup(&self, caller: &Principal) -> Result<(), ApiError> {
        limited(self.lookups.check(&caller.organization_id.to_string()))
    }
}

fn limited(checked: Result<(), Duration>) -> Result<(), ApiError> {
    checked.map_err(|wait| ApiError::RateLimited {
        retry_after_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
    })
}

/// Requests without an API key, and every read of the public ledger (whose
/// routes ignore a key, so a made-up one must not lift the limit), per
/// client address; health probes and the portal's pages are not limited
/// here.
pub async fn limit_anonymous(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::ResponseError;
    let anonymous = !request.headers().contains_key(actix_web::http::header::AUTHORIZATION);
    let public = request.path().starts_with("/v1/ledger/");
    let probe = matches!(request.path(), "/healthz" | "/readyz");
    // The portal limits its own: sign-in attempts per address, pages per
    // signed-in organisation (a browser sends no API key). Asked last: it
    // compares the path with every page's.
    if (anonymous || public) && !probe && !crate::portal::serves(request.path()) {
        let state = request
            .app_data::<actix_web::web::Data<super::state::AppState>>()
            .cloned();
        let address = request
            .peer_addr()
            .map_or_else(|| "unknown".to_owned(), |address| address.ip().to_string());
        if let Some(state) = state {
            if let Err(error) = limited(state.limits.anonymous.check(&address)) {
                return Ok(request.into_response(error.error_response()));
            }
        }
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let limiter = RateLimiter::new(Rate {
            per_second: 10,
            burst: 3,
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at("bank", start), Ok(()));
        }
        let wait = limiter.check_at("bank", start).unwrap_err();
        assert!(
            wait > Duration::from_millis(90) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        // Other keys have their own bucket.
        assert_eq!(limiter.check_at("other", start), Ok(()));
        // A tenth of a second later, one more.
        let later = start + Duration::from_millis(100);
        assert_eq!(limiter.check_at("bank", later), Ok(()));
        assert!(limiter.check_at("bank", later).is_err());
        // Refilled, never beyond the burst.
        let much_later = start + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.check_at("bank", much_later), Ok(()));
        }
        assert!(limiter.check_at("bank", much_later).is_err());
    }

    #[test]
    fn a_rate_of_zero_is_unlimited() {
        let limiter = RateLimiter::new(Rate {
            per_second: 0,
            burst: 0,
        });
        for _ in 0..10_000 {
            assert_eq!(limiter.check("bank"), Ok(()));
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert!(matches!(
            limited(Err(Duration::from_millis(1))),
            Err(ApiError::RateLimited { retry_after_seconds: 1 })
        ));
        assert!(matches!(
            limited(Err(Duration::from_secs(2))),
            Err(ApiError::RateLimited { retry_after_seconds: 2 })
        ));
    }
}
