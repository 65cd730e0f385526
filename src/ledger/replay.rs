//! The replay of one served ledger entry, as an auditor (`anchorfin
//! verify`) and a witness's mirror (`anchorfin witness`) check it: the
//! entry bytes against their leaf hash, the header decoded, and the private
//! details the reader is given against the salted hash that commits to
//! them (for a sealed entry, the signature inside against a key its actor
//! registered on the log earlier).
//!
//! An entry is the JSON object `GET /v1/ledger/entries` serves:
//! `{index, leaf_hash, kind, entry, details}` (`details` = `{salt, json}`
//! when the reader may see them).

use serde_json::Value;

use super::{self as ledger, Entry, EntryHeader, Hash, KeyChain, ROTATION_KIND};

/// A checked entry: its leaf hash and what it shows the reader.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedEntry {
    pub leaf: Hash,
    pub shown: Shown,
}

/// What an entry tells its reader: everything of a public entry; of a
/// sealed one, only its time and kind `business` unless the reader was
/// given its body. (The details themselves are the served entry's.)
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub kind: String,
    pub subjects: Vec<String>,
    /// Hex.
    pub fingerprint: Option<String>,
    /// Microseconds since the epoch, UTC (a sealed header unopened: whole seconds).
    pub time_micros: i64,
}

/// Why the log does not check out.
#[derive(Debug)]
pub struct Failure {
    /// The first bad entry, when known.
    pub index: Option<u64>,
    pub reason: String,
}

impl Failure {
    pub fn at(index: u64, reason: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            reason: reason.into(),
        }
    }

    pub fn general(reason: impl Into<String>) -> Self {
        Self {
            index: None,
            reason: reason.into(),
        }
    }
}

/// The organisations' signing keys, as the log's own public
/// `key_registered` entries published them: a sealed entry's signature
/// must be by a key its actor registered earlier in the log.
#[derive(Debug, Clone, Default)]
pub struct PublishedKeys(std::collections::HashMap<String, Vec<String>>);

impl PublishedKeys {
    pub fn learn(&mut self, header: &EntryHeader, details: Option<&Value>) {
        if header.kind != "key_registered" {
            return;
        }
        let key = details
            .and_then(|details| details["data"]["public_key"].as_str())
            .map(str::to_owned);
        if let (Some(organization), Some(key)) = (header.subjects.first(), key) {
            self.0.entry(organization.clone()).or_default().push(key);
        }
    }

    pub fn registered(&self, organization: &str, key: &str) -> bool {
        self.0
            .get(organization)
            .is_some_and(|keys| keys.iter().any(|known| known == key))
    }
}

/// The details' salt and JSON, as served.
fn salt_and_json<'a>(
    details: &'a serde_json::Map<String, Value>,
    at: &dyn Fn(&str) -> Failure,
) -> Result<([u8; 32], &'a str), Failure> {
    let salt: [u8; 32] = details
        .get("salt")
        .and_then(Value::as_str)
        .and_then(|text| hex::decode(text).ok())
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| at("the details' salt is malformed"))?;
    let json = details
        .get("json")
        .and_then(Value::as_str)
        .ok_or_else(|| at("the details carry no canonical JSON"))?;
    Ok((salt, json))
}

/// Checks one entry against itself (and, for the details this caller may
/// see, against its header and the signature inside); returns its leaf
/// hash and what the entry shows this caller.
pub fn check_entry(
    entry: &Value,
    expected_index: u64,
    origin: &str,
    keys: &mut PublishedKeys,
    chain: &mut KeyChain,
) -> Result<CheckedEntry, Failure> {
    let at = |reason: &str| Failure::at(expected_index, reason);
    if entry["index"].as_u64() != Some(expected_index) {
        return Err(at("the server skipped or reordered this index"));
    }
    let bytes = entry["entry"]
        .as_str()
        .and_then(|text| hex::decode(text).ok())
        .ok_or_else(|| at("the entry bytes are not hex"))?;
    let leaf = ledger::leaf_hash(&bytes);
    if entry["leaf_hash"].as_str() != Some(&hex::encode(leaf)) {
        return Err(at("the entry bytes do not hash to its leaf hash"));
    }
    let decoded = Entry::decode(&bytes).map_err(|error| at(&format!("the entry does not decode: {error}")))?;
    let details = entry["details"].as_object();
    let shown = match decoded {
        Entry::Public(header) => {
            if entry["kind"].as_str() != Some(header.kind.as_str()) {
                return Err(at("the entry's kind disagrees with its header"));
            }
            if let Some(details) = details {
                let (salt, json) = salt_and_json(details, &at)?;
                if ledger::details_hash(&salt, json.as_bytes()) != header.details_hash {
                    return Err(at("the details do not match the hash in the header"));
                }
            }
            keys.learn(&header, entry["details"].as_object().map(|_| &entry["details"]));
            Shown {
                kind: header.kind,
                subjects: header.subjects,
                fingerprint: header.fingerprint.map(hex::encode),
                time_micros: header.time_micros,
            }
        }
        Entry::Rotation(rotation) => {
            if entry["kind"].as_str() != Some(ROTATION_KIND) {
                return Err(at("the entry's kind disagrees with its header"));
            }
            chain
                .follow(&rotation, expected_index, origin)
                .map_err(|error| at(&format!("key rotation: {error}")))?;
            Shown {
                kind: ROTATION_KIND.to_owned(),
                subjects: Vec::new(),
                fingerprint: None,
                time_micros: rotation.time_micros,
            }
        }
        Entry::Sealed(header) => match details {
            None => {
                if entry["kind"].as_str() != Some(ledger::BUSINESS_KIND) {
                    return Err(at("a sealed entry's kind is shown to a reader who may not open it"));
                }
                Shown {
                    kind: ledger::BUSINESS_KIND.to_owned(),
                    subjects: Vec::new(),
                    fingerprint: None,
                    time_micros: header.time_seconds.saturating_mul(1_000_000),
                }
            }
            Some(details) => {
                let (salt, json) = salt_and_json(details, &at)?;
                let body = ledger::open_sealed(&header, &salt, json)
                    .map_err(|error| at(&format!("the sealed entry does not open: {error}")))?;
                if entry["kind"].as_str() != Some(body.kind.as_str()) {
                    return Err(at("the entry's kind disagrees with its sealed body"));
                }
                if let (Some(actor), Some(key)) = (&body.actor, &body.signer_key) {
                    if !keys.registered(actor, key) {
                        return Err(at(
                            "the entry is signed with a key its actor never registered on the log",
                        ));
                    }
                }
                Shown {
                    kind: body.kind,
                    subjects: body.subjects,
                    fingerprint: body.fingerprint,
                    time_micros: body.time_micros,
                }
            }
        },
    };
    Ok(CheckedEntry { leaf, shown })
}
