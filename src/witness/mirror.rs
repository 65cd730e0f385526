//! The witness's copy of the log: entries fetched from the platform's
//! `GET /v1/ledger/entries`, with the bank's API key when it has one (so
//! the private details it is entitled to come too), each checked as
//! `anchorfin verify` checks it (`ledger::replay`).

use std::time::Duration;

use serde_json::Value;

use crate::ledger::replay::{check_entry, CheckedEntry, Failure, PublishedKeys};
use crate::ledger::{Frontier, KeyChain};

/// Talks to the platform.
#[derive(Debug, Clone)]
pub struct MirrorClient {
    base: String,
    api_key: Option<String>,
    http: reqwest::Client,
}

/// Why entries could not be fetched: the platform could not be reached or
/// did not serve the range (a head not yet published, say). The log
/// retries; whether what it serves checks out is [`Replay::push`]'s call.
#[derive(Debug)]
pub struct Unavailable(pub String);

/// The replay state carried from one fetch to the next: the tree so far
/// (its frontier: cheap to clone, so that a fetch that fails leaves the
/// state as it was) and what the entries so far established (the
/// organisations' keys, the log's key rotations).
#[derive(Debug, Clone, Default)]
pub struct Replay {
    pub frontier: Frontier,
    pub keys: PublishedKeys,
    pub chain: KeyChain,
}

impl Replay {
    /// Checks `entry` as the next one and appends it.
    pub fn push(&mut self, entry: &Value, origin: &str) -> Result<CheckedEntry, Failure> {
        let index = self.frontier.size();
        let checked = check_entry(entry, index, origin, &mut self.keys, &mut self.chain)?;
        self.frontier
            .append(checked.leaf)
            .map_err(|error| Failure::at(index, error.to_string()))?;
        Ok(checked)
    }
}

impl MirrorClient {
    pub fn new(base: &str, api_key: Option<String>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            api_key,
            http,
        })
    }

    /// The served entries `[start, end)`, paging as the platform pages.
    pub async fn fetch(&self, start: u64, end: u64) -> Result<Vec<Value>, Unavailable> {
        let mut entries = Vec::new();
        let mut next = start;
        while next < end {
            let url = format!("{}/v1/ledger/entries?start={next}&end={end}", self.base);
            let mut request = self.http.get(&url);
            if let Some(key) = &self.api_key {
                request = request.bearer_auth(key);
            }
            let response = request
                .send()
                .await
                .map_err(|error| Unavailable(format!("cannot reach {}: {error}", self.base)))?;
            let status = response.status();
            if !status.is_success() {
                return Err(Unavailable(format!(
                    "the platform answered {status} for entries from {next}"
                )));
            }
            let page: Value = response
                .json()
                .await
                .map_err(|error| Unavailable(format!("the entries are not JSON: {error}")))?;
            let served = page["entries"]
                .as_array()
                .filter(|served| !served.is_empty())
                .ok_or_else(|| Unavailable(format!("the platform served no entry from index {next}")))?;
            for entry in served.iter().take((end - next) as usize) {
                entries.push(entry.clone());
            }
            next = start + entries.len() as u64;
        }
        Ok(entries)
    }
}
