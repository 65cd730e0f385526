//! Portal sessions: a person signs in with an API key (theirs as a risk
//! officer, or their organisation's) and the browser then holds a session
//! id instead of the key. The id is 32 random bytes from the operating
//! system; the database keeps only its SHA-256, with the key it was signed
//! in with. Every use reads the session joined to that key, so revoking
//! the key (or replacing its secret) ends the session at once. A session
//! ends when unused for the idle time, and at the latest its lifetime
//! after sign-in.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use super::authenticate::{authenticate_key, principal_of_key};
use super::Principal;
use crate::store::portal_sessions::{self as repository, PortalSessionRow};
use crate::store::{self, write_transaction, DbConnection};

const ID_BYTES: usize = 32;

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Unused this long, a session ends.
    pub idle: Duration,
    /// This long after sign-in, a session ends however much it is used.
    pub lifetime: Duration,
}

/// A session's id, as the browser's cookie holds it. Never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId([u8; ID_BYTES]);

impl SessionId {
    fn generate() -> Self {
        let mut bytes = [0u8; ID_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The id a cookie carries (base64url, 43 characters), if it has our shape.
    pub fn parse(encoded: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(encoded.trim()).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    /// The cookie's value.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// What the database keeps.
    fn sha256(&self) -> [u8; 32] {
        Sha256::digest(self.0).into()
    }

    /// A secret bound to this session: HMAC-SHA256 keyed by the id over
    /// `purpose`. Only a holder of the id can compute it, and it changes
    /// with every session (the portal's CSRF tokens).
    pub fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        // An HMAC takes a key of any length: this cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts any key length"),
        };
        mac.update(purpose);
        mac.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SessionId([REDACTED])")
    }
}

/// A session just begun.
#[derive(Debug)]
pub struct SignedIn {
    pub id: SessionId,
    pub principal: Principal,
}

/// Who a live session is for.
#[derive(Debug, Clone)]
pub struct SessionHolder {
    pub principal: Principal,
    /// The organisation's name, for the page's header.
    pub organization_name: String,
}

/// Begins a session for the holder of `api_key`; `None` for a key that is
/// unknown, revoked or malformed (the caller says which no more than the
/// API does). Sessions already expired are deleted on the way.
pub fn sign_in(
    connection: &mut DbConnection,
    api_key: &str,
    limits: SessionLimits,
) -> diesel::QueryResult<Option<SignedIn>> {
    write_transaction(connection, |connection| {
        let now = store::now();
        repository::delete_expired_sessions(connection, now)?;
        let Some((principal, key)) = authenticate_key(connection, api_key)? else {
            return Ok(None);
        };
        let id = SessionId::generate();
        let expires_at = now + chrono_duration(limits.lifetime);
        repository::insert_session(
            connection,
            &PortalSessionRow {
                id_sha256: id.sha256().to_vec(),
                organization_id: key.organization_id.clone(),
                risk_officer_id: key.risk_officer_id.clone(),
                api_key_id: key.id.clone(),
                api_key_secret_sha256: key.secret_sha256.clone(),
                created_at: now,
                last_seen_at: now,
                idle_expires_at: idle_until(now, limits, expires_at),
                expires_at,
            },
        )?;
        Ok(Some(SignedIn { id, principal }))
    })
}

/// Who is behind a live session, which this use keeps alive; `None` for a
/// session that is unknown, idle, past its lifetime, or whose key was
/// revoked.
pub fn resume(
    connection: &mut DbConnection,
    id: &SessionId,
    limits: SessionLimits,
) -> diesel::QueryResult<Option<SessionHolder>> {
    let now = store::now();
    let hash = id.sha256();
    let Some((session, key, role, organization_name)) = repository::find_live_session(connection, &hash, now)? else {
        return Ok(None);
    };
    let Some(principal) = principal_of_key(&key, &role) else {
        return Ok(None);
    };
    // A page and the requests it makes at once need not each write.
    // Through the write gate, like every write: on SQLite a bare UPDATE
    // only polls for the lock and can starve behind an upload's chunks.
    if now - session.last_seen_at >= chrono_duration(touch_interval(limits.idle)) {
        write_transaction(connection, |connection| {
            repository::touch_session(connection, &hash, now, idle_until(now, limits, session.expires_at))
        })?;
    }
    Ok(Some(SessionHolder {
        principal,
        organization_name,
    }))
}

/// Ends the session (signing out); ending one that is gone already is no
/// error.
pub fn sign_out(connection: &mut DbConnection, id: &SessionId) -> diesel::QueryResult<()> {
    repository::delete_session(connection, &id.sha256())
}

/// A use within this long of the last recorded one is not recorded: the
/// idle expiry is exact to within a tenth of the idle time, at most 30 s.
fn touch_interval(idle: Duration) -> Duration {
    (idle / 10).min(Duration::from_secs(30))
}

fn idle_until(now: NaiveDateTime, limits: SessionLimits, expires_at: NaiveDateTime) -> NaiveDateTime {
    (now + chrono_duration(limits.idle)).min(expires_at)
}

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_the_cookie_and_nothing_else_parses() {
        let id = SessionId::generate();
        let encoded = id.encode();
        assert_eq!(encoded.len(), 43);
        assert_eq!(SessionId::parse(&encoded), Some(id.clone()));
        assert_ne!(SessionId::generate(), id);
        for bad in ["", "x", &encoded[1..], &format!("{encoded}A"), "!!!!"] {
            assert_eq!(SessionId::parse(bad), None, "{bad:?}");
        }
        assert!(!format!("{id:?}").contains(&encoded));
    }

    #[test]
    fn derived_secrets_depend_on_the_session_and_the_purpose() {
        let one = SessionId::generate();
        let other = SessionId::generate();
        assert_eq!(one.derive(b"csrf"), one.derive(b"csrf"));
        assert_ne!(one.derive(b"csrf"), other.derive(b"csrf"));
        assert_ne!(one.derive(b"csrf"), one.derive(b"other"));
        assert_ne!(one.derive(b"csrf"), one.sha256());
    }

    #[test]
    fn touches_are_spaced_by_a_tenth_of_the_idle_time_at_most_30_seconds() {
        assert_eq!(touch_interval(Duration::from_secs(30 * 60)), Duration::from_secs(30));
        assert_eq!(touch_interval(Duration::from_secs(2)), Duration::from_millis(200));
    }
}
