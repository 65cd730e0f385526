//! Typed settings, built once from flags and `ANCHORFIN_*` / `DATABASE_URL`
//! environment variables by the CLI and passed into `Application::build`.
//! Never a global; secrets are wrapped so they never print.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::store::{DatabaseUrl, DatabaseUrlError};

#[derive(Clone, Debug)]
pub struct Settings {
    /// Address to listen on, e.g. `127.0.0.1:8080` (port 0 picks a free one).
    pub bind: String,
    /// Holds the platform signing key and, by default, the SQLite database.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub alerts: AlertSettings,
    pub ledger: LedgerSettings,
    pub lending: LendingSettings,
    pub limits: LimitSettings,
    pub uploads: UploadSettings,
    pub portal: PortalSettings,
    /// Where people reach this service, e.g. `https://anchorfin.example.com`
    /// (no trailing slash): alert e-mails link to the portal under it, and
    /// an `https` URL marks the portal's cookie `Secure` (TLS ends at a
    /// proxy in front of us). `None` when not configured.
    pub public_url: Option<PublicUrl>,
}

/// Large uploads, run as jobs (docs/DOCUMENTS.md, "Large uploads").
#[derive(Clone, Debug)]
pub struct UploadSettings {
    /// How long a process holds an upload without committing a chunk
    /// before another may take it over (after a crash, say).
    pub lease: Duration,
    /// How often the worker looks for uploads another process left.
    pub poll: Duration,
}

#[derive(Clone, Debug)]
pub struct PortalSettings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however much it is used.
    pub session_lifetime: Duration,
}

/// The service's public base URL: `http://` or `https://`, a host, an
/// optional path, no query, no fragment; kept without its trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the public URL must be http:// or https:// followed by a host, without a query or fragment, such as https://anchorfin.example.com")]
pub struct PublicUrlError;

impl PublicUrl {
    pub fn parse(raw: &str) -> Result<PublicUrl, PublicUrlError> {
        let trimmed = raw.trim().trim_end_matches('/');
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"))
            .ok_or(PublicUrlError)?;
        let host = rest.split('/').next().unwrap_or_default();
        let acceptable =
            |character: char| character.is_ascii_graphic() && !matches!(character, '?' | '#' | '"' | '<' | '>' | '\\');
        if host.is_empty() || !trimmed.chars().all(acceptable) {
            return Err(PublicUrlError);
        }
        Ok(PublicUrl(trimmed.to_owned()))
    }

    /// Whether people reach the service over TLS.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// The URL of `path` (which starts with `/`) under this base.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[derive(Clone, Debug)]
pub struct LimitSettings {
    /// Every authenticated organisation's requests (and anonymous ones per
    /// client address): on average, and at once. 0 means unlimited.
    pub requests_per_second: u32,
    pub request_burst: u32,
    /// Encumbrance look-ups per organisation.
    pub lookups_per_second: u32,
    pub lookup_burst: u32,
    /// This many look-ups of unregistered fingerprints by one organisation
    /// within the window raise a `lookup_enumeration` alert.
    pub enumeration_misses: u32,
    pub enumeration_window: Duration,
}

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`; `None` means the SQLite file in the
    /// data directory.
    pub url: Option<SecretString>,
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before it is
    /// answered 503.
    pub checkout_timeout: Duration,
    /// How often the database is probed with a committed write; while a
    /// probe fails, requests are answered 503 at once.
    pub probe_interval: Duration,
    /// A probe slower than this counts as failed.
    pub probe_timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// How long in-flight requests may finish after SIGTERM/SIGINT.
    pub shutdown_timeout: Duration,
    /// How long a request body may take to arrive; slower ones get 408.
    pub body_read_timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct AlertSettings {
    /// `smtp://host:port`, `smtps://…`; credentials may be in the URL.
    pub smtp_url: Option<SecretString>,
    pub from_address: String,
    /// How often the outbox looks for due messages.
    pub outbox_poll: Duration,
    /// The longest wait between two attempts to send one message.
    pub max_retry_backoff: Duration,
}

#[derive(Clone, Debug)]
pub struct LedgerSettings {
    /// The log's origin line in its signed checkpoints.
    pub origin: String,
    /// How often the ledger's lag is measured.
    pub watch_interval: Duration,
    /// An entry waiting longer than this for a signed tree head raises a
    /// `ledger_stalled` alert.
    pub stall_threshold: Duration,
}

#[derive(Clone, Debug)]
pub struct LendingSettings {
    /// How often overdue assets are looked for and marked defaulted.
    pub default_sweep_interval: Duration,
    /// Workers (per kind: registrations, confirmations, pledges and
    /// assignments) running one batch at a time; always one on SQLite.
    /// Set-based batches cost a fixed number of statements each, so fewer,
    /// larger batches do more: measured on 2 cores, two workers beat four
    /// for every kind (pledges about 10% more and half the p99).
    pub decision_workers: usize,
    /// The most requests one commit carries.
    pub max_decisions_per_commit: usize,
}

impl Settings {
    /// Settings for a data directory with every other value at its default.
    pub fn with_data_dir(data_dir: PathBuf) -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            data_dir,
            database: DatabaseSettings {
                url: None,
                max_connections: 16,
                checkout_timeout: Duration::from_secs(5),
                probe_interval: Duration::from_secs(1),
                probe_timeout: Duration::from_secs(2),
            },
            http: HttpSettings {
                max_body_bytes: 10 * 1024 * 1024,
                workers: None,
                shutdown_timeout: Duration::from_secs(30),
                body_read_timeout: Duration::from_secs(10),
            },
            alerts: AlertSettings {
                smtp_url: None,
                from_address: "Anchorfin alerts <alerts@anchorfin.invalid>".to_owned(),
                outbox_poll: Duration::from_millis(500),
                max_retry_backoff: Duration::from_secs(300),
            },
            ledger: LedgerSettings {
                origin: "anchorfin.local/ledger".to_owned(),
                watch_interval: Duration::from_secs(1),
                stall_threshold: Duration::from_secs(10),
            },
            lending: LendingSettings {
                default_sweep_interval: Duration::from_secs(60),
                decision_workers: 2,
                max_decisions_per_commit: 64,
            },
            limits: LimitSettings {
                requests_per_second: 100,
                request_burst: 200,
                lookups_per_second: 20,
                lookup_burst: 100,
                enumeration_misses: 20,
                enumeration_window: Duration::from_secs(60),
            },
            uploads: UploadSettings {
                lease: Duration::from_secs(30),
                poll: Duration::from_secs(2),
            },
            portal: PortalSettings {
                session_idle: Duration::from_secs(30 * 60),
                session_lifetime: Duration::from_secs(12 * 60 * 60),
            },
            public_url: None,
        }
    }

    /// Where the database is: the configured URL, or the SQLite file in the
    /// data directory.
    pub fn database_url(&self) -> Result<DatabaseUrl, DatabaseUrlError> {
        use secrecy::ExposeSecret;
        match &self.database.url {
            Some(url) if !url.expose_secret().trim().is_empty() => DatabaseUrl::parse(url.expose_secret()),
            _ => Ok(DatabaseUrl::sqlite_in(&self.data_dir)),
        }
    }

    pub fn platform_key_path(&self) -> PathBuf {
        self.data_dir.join("platform-signing.key")
    }

    /// The secret fingerprints are stored under (`identity`).
    pub fn fingerprint_key_path(&self) -> PathBuf {
        self.data_dir.join("fingerprint.key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_http_or_https_with_a_host() {
        let url = PublicUrl::parse("https://anchorfin.example.com/").unwrap();
        assert_eq!(url.to_string(), "https://anchorfin.example.com");
        assert!(url.is_https());
        assert_eq!(url.join("/alerts/1"), "https://anchorfin.example.com/alerts/1");
        let url = PublicUrl::parse("http://127.0.0.1:8080/anchorfin").unwrap();
        assert!(!url.is_https());
        assert_eq!(url.join("/x"), "http://127.0.0.1:8080/anchorfin/x");
        for bad in [
            "",
            "anchorfin.example.com",
            "ftp://example.com",
            "https://",
            "https:///path",
            "https://example.com/?q=1",
            "https://example.com/#top",
            "https://exa mple.com",
            "https://example.com/\"<script>",
        ] {
            assert_eq!(PublicUrl::parse(bad), Err(PublicUrlError), "{bad:?}");
        }
    }
}
