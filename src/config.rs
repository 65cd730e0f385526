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
    pub witnesses: WitnessSettings,
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

/// The witnesses the log submits its tree heads to (C2SP `tlog-witness`),
/// and how many cosignatures make a checkpoint count as cosigned.
#[derive(Clone, Debug)]
pub struct WitnessSettings {
    pub witnesses: Vec<WitnessPeer>,
    /// Cosignatures a checkpoint needs to be served as cosigned; 0 serves
    /// the newest head with whatever cosignatures it has.
    pub quorum: usize,
    /// How long `?wait=cosigned` waits for a cosigned checkpoint.
    pub wait_timeout: Duration,
    /// How long one submission to a witness may take.
    pub request_timeout: Duration,
    /// The longest pause between two attempts after failures.
    pub max_backoff: Duration,
    /// How often the submitter looks for a new signed head.
    pub poll: Duration,
}

/// One witness: its `cosignature/v1` verifier key and where it takes
/// submissions (`{url}/add-checkpoint`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessPeer {
    pub vkey: crate::ledger::VerifierKey,
    /// `http://host:port/prefix`, kept without its trailing slash.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessPeerError {
    #[error("a witness is VKEY=URL, e.g. bank1+1a2b3c4d+BAAA…=http://witness.bank1.example:8081")]
    Malformed,
    #[error("the witness's verifier key: {0}")]
    Key(#[from] crate::ledger::VerifierKeyError),
    #[error("{0} is not a witness's key: a witness cosigns with a cosignature/v1 key (type 0x04)")]
    NotACosigner(String),
    #[error("the witness URL must be http:// followed by a host (this build speaks plain HTTP; put TLS in a proxy)")]
    Url,
}

impl WitnessPeer {
    /// `VKEY=URL`, as `--witness` takes it.
    pub fn parse_flag(raw: &str) -> Result<Self, WitnessPeerError> {
        let split = raw.find("=http").ok_or(WitnessPeerError::Malformed)?;
        Self::new(&raw[..split], &raw[split + 1..])
    }

    pub fn new(vkey: &str, url: &str) -> Result<Self, WitnessPeerError> {
        let vkey = crate::ledger::VerifierKey::parse(vkey)?;
        if vkey.key_type != crate::ledger::KeyType::CosignatureV1 {
            return Err(WitnessPeerError::NotACosigner(vkey.to_string()));
        }
        let url = url.trim().trim_end_matches('/');
        let host = url.strip_prefix("http://").ok_or(WitnessPeerError::Url)?;
        if host.is_empty() || host.starts_with('/') || !url.chars().all(|character| character.is_ascii_graphic()) {
            return Err(WitnessPeerError::Url);
        }
        Ok(Self {
            vkey,
            url: url.to_owned(),
        })
    }

    /// Where submissions go.
    pub fn submission_url(&self) -> String {
        format!("{}/add-checkpoint", self.url)
    }
}

/// `serve --config FILE`: settings from a TOML file; flags win.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub witness_quorum: Option<usize>,
    #[serde(default)]
    pub witness_wait_seconds: Option<u64>,
    #[serde(default)]
    pub witness: Vec<WitnessEntry>,
}

/// A `[[witness]]` table of the configuration file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessEntry {
    pub vkey: String,
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not a valid configuration file: {source}")]
    Parse { path: String, source: toml::de::Error },
    #[error("{path}: witness {index}: {source}")]
    Witness {
        path: String,
        index: usize,
        source: WitnessPeerError,
    },
}

impl ConfigFile {
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigFileError> {
        toml::from_str(text).map_err(|source| ConfigFileError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// The file's witnesses, checked.
    pub fn witnesses(&self, path: &str) -> Result<Vec<WitnessPeer>, ConfigFileError> {
        self.witness
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                WitnessPeer::new(&entry.vkey, &entry.url).map_err(|source| ConfigFileError::Witness {
                    path: path.to_owned(),
                    index: index + 1,
                    source,
                })
            })
            .collect()
    }
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
            witnesses: WitnessSettings {
                witnesses: Vec::new(),
                quorum: 0,
                wait_timeout: Duration::from_secs(10),
                request_timeout: Duration::from_secs(5),
                max_backoff: Duration::from_secs(30),
                poll: Duration::from_millis(100),
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

    fn witness_key() -> String {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        crate::ledger::VerifierKey::witness("bank1.example/witness", key.verifying_key()).to_string()
    }

    #[test]
    fn a_witness_flag_is_a_cosigner_key_and_an_http_url() {
        let vkey = witness_key();
        let peer = WitnessPeer::parse_flag(&format!("{vkey}=http://127.0.0.1:8081/witness/")).unwrap();
        assert_eq!(peer.vkey.to_string(), vkey);
        assert_eq!(peer.submission_url(), "http://127.0.0.1:8081/witness/add-checkpoint");
        assert_eq!(WitnessPeer::parse_flag(&vkey), Err(WitnessPeerError::Malformed));
        assert_eq!(
            WitnessPeer::parse_flag(&format!("{vkey}=https://witness.example")),
            Err(WitnessPeerError::Url)
        );
        assert_eq!(WitnessPeer::new(&vkey, "ftp://x"), Err(WitnessPeerError::Url));
        assert_eq!(WitnessPeer::new(&vkey, "http://"), Err(WitnessPeerError::Url));
        let log_key = crate::ledger::VerifierKey::log(
            "anchorfin.local/ledger",
            ed25519_dalek::SigningKey::from_bytes(&[8; 32]).verifying_key(),
        );
        assert!(matches!(
            WitnessPeer::new(&log_key.to_string(), "http://127.0.0.1:1"),
            Err(WitnessPeerError::NotACosigner(_))
        ));
    }

    #[test]
    fn the_configuration_file_lists_witnesses_and_a_quorum() {
        let vkey = witness_key();
        let text = format!("witness_quorum = 1\nwitness_wait_seconds = 3\n\n[[witness]]\nvkey = \"{vkey}\"\nurl = \"http://127.0.0.1:8081\"\n");
        let file = ConfigFile::parse(&text, "anchorfin.toml").unwrap();
        assert_eq!(file.witness_quorum, Some(1));
        assert_eq!(file.witness_wait_seconds, Some(3));
        let peers = file.witnesses("anchorfin.toml").unwrap();
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0].url, "http://127.0.0.1:8081");
        let error = ConfigFile::parse("witness_qorum = 1\n", "anchorfin.toml").unwrap_err();
        assert!(error.to_string().contains("witness_qorum"), "{error}");
        let bad = ConfigFile::parse("[[witness]]\nvkey = \"x\"\nurl = \"http://a\"\n", "f.toml").unwrap();
        assert!(bad.witnesses("f.toml").unwrap_err().to_string().contains("witness 1"));
    }
}
