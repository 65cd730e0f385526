//! `anchorfin verify --server URL --public-key HEX [--state FILE]`: audits a
//! running server from outside, trusting nothing it says but the platform
//! public key given on the command line.
//!
//! 1. The latest signed tree head is read (its signature is checked in 3,
//!    once the log has said which key must have signed it).
//! 2. Against the state saved by an earlier run: the tree must not shrink,
//!    must be consistent (RFC 9162 consistency proof) with the saved head,
//!    and every leaf verified before must be unchanged.
//! 3. Every entry is replayed: indexes gap-free, each leaf hash recomputed
//!    from the entry bytes, each header decoded (a public one, a sealed one
//!    that shows outsiders nothing but its second, or a key rotation),
//!    each visible detail checked against its salted hash — for a sealed
//!    entry the body its header commits to, the signature inside it over
//!    its message, and that the signing key is one its actor registered on
//!    the log earlier. Each key rotation must be signed by both its keys,
//!    name its own index and the log's origin, and hand over from the key
//!    the rotation before it handed to (`ledger::KeyChain`). The head must
//!    then carry a valid signature by the key in force: the trusted key
//!    when the log was never rotated, else the last rotation's new key —
//!    provided the trusted key is the log's first key or one a rotation
//!    handed it to. The head's fields must agree with its signed
//!    checkpoint, and the recomputed root must equal the signed one. Given
//!    a party's API key (`--api-key`), it so checks every entry that party
//!    is given.
//! 4. Inclusion proofs for a spread of entries must verify against the head.
//! 5. Given witness keys (`--witness-key`, C2SP vkeys of type 0x04), the
//!    log's cosigned checkpoint (`GET /v1/ledger/checkpoint`) must be signed
//!    by the log's key in force, consistent with the verified head, and carry
//!    valid `cosignature/v1` lines of at least `--witness-quorum` of them
//!    (all given, by default): what the banks' witnesses saw is what this
//!    auditor saw.
//!
//! On failure it names the first bad index: directly when an entry does not
//! match itself, else by bisection with consistency proofs against the
//! signed head.

use std::path::{Path, PathBuf};

use clap::Args;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::CliError;
use crate::ledger::{
    self, open_checkpoint, unverified_checkpoint, valid_cosigners, Entry, EntryHeader, Frontier, Hash, KeyChain,
    VerifierKey, ROTATION_KIND,
};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The server's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: String,
    /// The platform's ed25519 public key (hex), obtained out of band.
    #[arg(long)]
    public_key: String,
    /// Remembers the last verified head and leaves between runs.
    #[arg(long)]
    state: Option<PathBuf>,
    /// An API key, to also check the private details this caller may see.
    #[arg(long, env = "ANCHORFIN_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// A witness whose cosignature the log's checkpoint must carry: its
    /// verifier key (name+keyid+base64, type 0x04). Repeatable.
    #[arg(long = "witness-key", value_name = "VKEY")]
    witness_keys: Vec<String>,
    /// How many of the given witnesses must have cosigned (default: all).
    #[arg(long, value_name = "N")]
    witness_quorum: Option<usize>,
}

/// The witnesses an audit requires, and how many of them.
#[derive(Debug, Clone, Default)]
pub struct Witnesses {
    pub keys: Vec<VerifierKey>,
    pub quorum: usize,
}

impl Witnesses {
    /// From `--witness-key` values and `--witness-quorum`.
    pub fn parse(keys: &[String], quorum: Option<usize>) -> Result<Self, String> {
        let keys = keys
            .iter()
            .map(|text| {
                let key = VerifierKey::parse(text).map_err(|error| format!("--witness-key {text:?}: {error}"))?;
                if key.key_type != ledger::KeyType::CosignatureV1 {
                    return Err(format!(
                        "--witness-key {text:?}: not a witness's cosignature/v1 key (type 0x04)"
                    ));
                }
                Ok(key)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let quorum = quorum.unwrap_or(keys.len());
        if quorum > keys.len() {
            return Err(format!(
                "--witness-quorum {quorum}: only {} witness key(s) given",
                keys.len()
            ));
        }
        Ok(Self { keys, quorum })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedState {
    origin: String,
    tree_size: u64,
    root_hash: String,
}

/// Why the log does not check out.
#[derive(Debug)]
pub struct Failure {
    /// The first bad entry, when known.
    pub index: Option<u64>,
    pub reason: String,
}

impl Failure {
    fn at(index: u64, reason: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            reason: reason.into(),
        }
    }

    fn general(reason: impl Into<String>) -> Self {
        Self {
            index: None,
            reason: reason.into(),
        }
    }
}

pub fn run(args: VerifyArgs) -> Result<(), CliError> {
    let key = super::public_key_argument("--public-key", &args.public_key)?;
    let witnesses = Witnesses::parse(&args.witness_keys, args.witness_quorum).map_err(CliError::Usage)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let summary = runtime
        .block_on(verify_server(
            &args.server,
            &key,
            args.state.as_deref(),
            args.api_key,
            &witnesses,
        ))
        .map_err(|error| CliError::Failed(anyhow::anyhow!("{error}")))?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// Audits the server at `server` (its base URL) as `anchorfin verify` does,
/// trusting only `trusted`, the platform key obtained out of band; with
/// `state`, against the head a run saved there before (and saves this
/// one); with `api_key`, also the details that caller is given; with
/// `witnesses`, that the log's cosigned checkpoint carries their quorum.
/// Returns the summary printed on success.
pub async fn verify_server(
    server: &str,
    trusted: &VerifyingKey,
    state: Option<&Path>,
    api_key: Option<String>,
    witnesses: &Witnesses,
) -> Result<Value, VerifyError> {
    verify(&Client::new(server, api_key), trusted, state, witnesses).await
}

/// Why an audit did not pass.
#[derive(Debug)]
pub enum VerifyError {
    /// The log does not check out.
    Failed(Failure),
    /// The check could not be done (server unreachable, state unreadable).
    Error(anyhow::Error),
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Failed(Failure {
                index: Some(index),
                reason,
            }) => write!(formatter, "verification failed: first bad index {index}: {reason}"),
            Self::Failed(Failure { index: None, reason }) => write!(formatter, "verification failed: {reason}"),
            Self::Error(error) => write!(formatter, "{error:#}"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<Failure> for VerifyError {
    fn from(failure: Failure) -> Self {
        Self::Failed(failure)
    }
}

impl From<anyhow::Error> for VerifyError {
    fn from(error: anyhow::Error) -> Self {
        Self::Error(error)
    }
}

async fn verify(
    client: &Client,
    trusted: &VerifyingKey,
    state_path: Option<&Path>,
    witnesses: &Witnesses,
) -> Result<Value, VerifyError> {
    // 1. The latest head, as the server states it: which key must have
    // signed it, the log itself says (3).
    let head = client.get("/v1/ledger/head").await?;
    let note = head["checkpoint"]
        .as_str()
        .ok_or_else(|| Failure::general("the tree head has no checkpoint"))?;
    let origin = note.lines().next().unwrap_or_default().to_owned();
    let stated = unverified_checkpoint(note)
        .map_err(|error| Failure::general(format!("the tree head is not a checkpoint: {error}")))?;
    let size = stated.size;

    // 2. The saved state.
    let saved = match state_path {
        Some(path) => load_state(path)?,
        None => None,
    };
    let saved_leaves = match state_path {
        Some(path) if saved.is_some() => load_leaves(&leaves_path(path))?,
        _ => Vec::new(),
    };

    // 3. Replay every entry, then check the head's signature.
    let mut leaves: Vec<Hash> = Vec::with_capacity(size as usize);
    let mut keys = PublishedKeys::default();
    let mut chain = KeyChain::default();
    let mut details_checked: u64 = 0;
    let mut frontier = Frontier::empty();
    let mut next: u64 = 0;
    while next < size {
        let page = client
            .get(&format!("/v1/ledger/entries?start={next}&end={size}"))
            .await?;
        let entries = page["entries"]
            .as_array()
            .filter(|entries| !entries.is_empty())
            .ok_or_else(|| Failure::at(next, "the server returned no entry for this index"))?;
        for entry in entries {
            let leaf = check_entry(entry, next, &origin, &mut keys, &mut chain)?;
            if entry["details"].is_object() {
                details_checked += 1;
            }
            if let Some(saved_leaf) = saved_leaves.get(next as usize) {
                if *saved_leaf != leaf {
                    return Err(Failure::at(next, "this entry differs from the one verified by an earlier run").into());
                }
            }
            frontier
                .append(leaf)
                .map_err(|error| Failure::at(next, error.to_string()))?;
            leaves.push(leaf);
            next += 1;
        }
    }
    let signer = chain
        .key_in_force(&trusted.to_bytes())
        .map_err(|error| Failure::general(error.to_string()))?;
    let checkpoint = open_head(note, &origin, &chain, &trusted.to_bytes(), &signer)?;
    let root = checkpoint.root_hash;
    if head["tree_size"].as_u64() != Some(checkpoint.size) || head["root_hash"].as_str() != Some(&hex::encode(root)) {
        return Err(Failure::general("the tree head's fields disagree with its signed checkpoint").into());
    }
    if let Some(saved) = &saved {
        if saved.origin != origin {
            return Err(Failure::general(format!(
                "the log's origin changed from {:?} to {origin:?}",
                saved.origin
            ))
            .into());
        }
        if saved.tree_size > size {
            return Err(Failure::general(format!(
                "the tree shrank from {} to {size} entries: history was rewritten",
                saved.tree_size
            ))
            .into());
        }
    }
    if frontier.root() != root {
        let index = first_bad_index(client, &leaves, size, &root).await?;
        return Err(Failure::at(index, "the entries do not hash to the signed root").into());
    }

    if let Some(saved) = &saved {
        let saved_root =
            parse_hash(&saved.root_hash).ok_or_else(|| anyhow::anyhow!("the state file's root hash is malformed"))?;
        if saved.tree_size > 0 && saved.tree_size < size {
            let proof = client
                .hashes(&format!(
                    "/v1/ledger/proofs/consistency?first={}&second={size}",
                    saved.tree_size
                ))
                .await?;
            ledger::verify_consistency(saved.tree_size, size, &saved_root, &root, &proof).map_err(|error| {
                Failure::general(format!(
                    "the tree is not consistent with the head of size {} verified before: {error}",
                    saved.tree_size
                ))
            })?;
        } else if saved.tree_size == size && saved_root != root {
            return Err(Failure::general("the root changed while the size did not: history was rewritten").into());
        }
    }

    // 4. Inclusion proofs for a spread of entries.
    let mut checked = 0;
    for index in sample_indexes(size, 64) {
        let proof = client
            .hashes(&format!("/v1/ledger/proofs/inclusion?index={index}&tree_size={size}"))
            .await?;
        ledger::verify_inclusion(&leaves[index as usize], index, size, &proof, &root)
            .map_err(|error| Failure::at(index, format!("its inclusion proof does not verify: {error}")))?;
        checked += 1;
    }

    // 5. The witnesses' cosignatures.
    let cosigned = if witnesses.keys.is_empty() {
        None
    } else {
        Some(check_cosigned(client, &origin, &signer, size, &leaves, witnesses).await?)
    };

    if let Some(path) = state_path {
        save_state(
            path,
            &SavedState {
                origin: origin.clone(),
                tree_size: size,
                root_hash: hex::encode(root),
            },
            &leaves,
        )?;
    }
    Ok(serde_json::json!({
        "status": "ok",
        "origin": origin,
        "tree_size": size,
        "root_hash": hex::encode(root),
        "entries_replayed": leaves.len(),
        "details_checked": details_checked,
        "inclusion_proofs_checked": checked,
        "signing_key": hex::encode(signer),
        "key_rotations_followed": chain.len(),
        "consistent_with_saved_size": saved.map(|saved| saved.tree_size),
        "cosigned": cosigned,
    }))
}

/// Checks the log's cosigned checkpoint: signed by the key in force,
/// consistent with the `leaves` just replayed (a size within them must have
/// their root; a later one is checked at the next run), cosigned by a
/// quorum of `witnesses`. Returns what was found.
async fn check_cosigned(
    client: &Client,
    origin: &str,
    signer: &[u8; 32],
    size: u64,
    leaves: &[Hash],
    witnesses: &Witnesses,
) -> Result<Value, VerifyError> {
    let note = client.text("/v1/ledger/checkpoint").await?;
    let key = VerifyingKey::from_bytes(signer)
        .map_err(|_| Failure::general("the log's key in force is not an ed25519 key"))?;
    let checkpoint = open_checkpoint(&note, origin, &key)
        .map_err(|error| Failure::general(format!("the cosigned checkpoint is not signed by the log: {error}")))?;
    let inconsistent = |detail: String| {
        Failure::general(format!(
            "the cosigned checkpoint of size {} disagrees with the entries replayed ({detail}): \
             the witnesses were shown another history",
            checkpoint.size
        ))
    };
    if checkpoint.size <= size {
        if ledger::root_from_leaf_hashes(&leaves[..checkpoint.size as usize]) != checkpoint.root_hash {
            return Err(inconsistent("another root at that size".to_owned()).into());
        }
    } else {
        // Signed after the head this audit replayed: it must extend it.
        let proof = client
            .hashes(&format!(
                "/v1/ledger/proofs/consistency?first={size}&second={}",
                checkpoint.size
            ))
            .await?;
        let root = ledger::root_from_leaf_hashes(leaves);
        ledger::verify_consistency(size, checkpoint.size, &root, &checkpoint.root_hash, &proof)
            .map_err(|error| inconsistent(error.to_string()))?;
    }
    let valid = valid_cosigners(&note, &witnesses.keys);
    if valid.len() < witnesses.quorum {
        let missing: Vec<&str> = witnesses
            .keys
            .iter()
            .filter(|key| {
                !valid
                    .iter()
                    .any(|(found, _)| found.name == key.name && found.key == key.key)
            })
            .map(|key| key.name.as_str())
            .collect();
        return Err(Failure::general(format!(
            "the checkpoint of size {} carries {} valid cosignature(s) of the {} required; missing: {}",
            checkpoint.size,
            valid.len(),
            witnesses.quorum,
            missing.join(", ")
        ))
        .into());
    }
    Ok(serde_json::json!({
        "tree_size": checkpoint.size,
        "root_hash": hex::encode(checkpoint.root_hash),
        "witnesses": valid.iter().map(|(key, time)| serde_json::json!({"name": key.name, "time": time})).collect::<Vec<_>>(),
        "quorum": witnesses.quorum,
    }))
}

/// Opens the head's signed note with `signer`, the key in force after the
/// log's rotations; on failure, says whether a retired key signed it.
fn open_head(
    note: &str,
    origin: &str,
    chain: &KeyChain,
    trusted: &[u8; 32],
    signer: &[u8; 32],
) -> Result<ledger::Checkpoint, Failure> {
    let key = VerifyingKey::from_bytes(signer)
        .map_err(|_| Failure::general(format!("the log's key {} is not an ed25519 key", hex::encode(signer))))?;
    open_checkpoint(note, origin, &key).map_err(|error| {
        let retired = chain.keys().into_iter().filter(|old| old != signer).find_map(|old| {
            let old_key = VerifyingKey::from_bytes(&old).ok()?;
            open_checkpoint(note, origin, &old_key).ok()?;
            chain.retired(&old).map(|(index, new)| (old, index, new))
        });
        let which = match chain.last_index() {
            Some(index) if signer != trusted => format!("handed the log by the rotation at index {index}"),
            _ => "the key you trust".to_owned(),
        };
        Failure::general(match retired {
            Some((old, index, new)) => format!(
                "the tree head is signed with {}, which the log handed over to {} at index {index}: \
                 a head after a rotation must be signed with its new key",
                hex::encode(old),
                hex::encode(new)
            ),
            None => format!(
                "the tree head's signature does not verify with the log's key {} ({which}): {error}",
                hex::encode(signer)
            ),
        })
    })
}

/// The organisations' signing keys, as the log's own public
/// `key_registered` entries published them: a sealed entry's signature
/// must be by a key its actor registered earlier in the log.
#[derive(Debug, Default)]
struct PublishedKeys(std::collections::HashMap<String, Vec<String>>);

impl PublishedKeys {
    fn learn(&mut self, header: &EntryHeader, details: Option<&Value>) {
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

    fn registered(&self, organization: &str, key: &str) -> bool {
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
/// hash.
fn check_entry(
    entry: &Value,
    expected_index: u64,
    origin: &str,
    keys: &mut PublishedKeys,
    chain: &mut KeyChain,
) -> Result<Hash, Failure> {
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
    match decoded {
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
        }
        Entry::Rotation(rotation) => {
            if entry["kind"].as_str() != Some(ROTATION_KIND) {
                return Err(at("the entry's kind disagrees with its header"));
            }
            chain
                .follow(&rotation, expected_index, origin)
                .map_err(|error| at(&format!("key rotation: {error}")))?;
        }
        Entry::Sealed(header) => match details {
            None => {
                if entry["kind"].as_str() != Some(ledger::BUSINESS_KIND) {
                    return Err(at("a sealed entry's kind is shown to a reader who may not open it"));
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
            }
        },
    }
    Ok(leaf)
}

/// The longest prefix of our leaves that the signed tree contains, found by
/// bisection with consistency proofs: the leaf after it is the first bad one.
async fn first_bad_index(client: &Client, leaves: &[Hash], size: u64, root: &Hash) -> Result<u64, VerifyError> {
    let (mut good, mut bad) = (0u64, size);
    while bad - good > 1 {
        let middle = good + (bad - good) / 2;
        let prefix_root = ledger::root_from_leaf_hashes(&leaves[..middle as usize]);
        let consistent = match client
            .hashes(&format!("/v1/ledger/proofs/consistency?first={middle}&second={size}"))
            .await
        {
            Ok(proof) => ledger::verify_consistency(middle, size, &prefix_root, root, &proof).is_ok(),
            Err(VerifyError::Failed(_)) => false,
            Err(error) => return Err(error),
        };
        if consistent {
            good = middle;
        } else {
            bad = middle;
        }
    }
    Ok(good)
}

/// Up to `count` indexes spread over `[0, size)`, always the first and last.
fn sample_indexes(size: u64, count: u64) -> Vec<u64> {
    if size == 0 {
        return Vec::new();
    }
    if size <= count {
        return (0..size).collect();
    }
    let mut indexes: Vec<u64> = (0..count).map(|step| step * (size - 1) / (count - 1)).collect();
    indexes.dedup();
    indexes
}

fn parse_hash(text: &str) -> Option<Hash> {
    hex::decode(text).ok()?.try_into().ok()
}

fn leaves_path(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".leaves");
    PathBuf::from(name)
}

fn load_state(path: &Path) -> Result<Option<SavedState>, VerifyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| anyhow::anyhow!("state file {} is malformed: {error}", path.display()).into()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(anyhow::anyhow!("cannot read state file {}: {error}", path.display()).into()),
    }
}

/// The leaf hashes verified before, 32 bytes each.
fn load_leaves(path: &Path) -> Result<Vec<Hash>, VerifyError> {
    let bytes = std::fs::read(path).map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
    if bytes.len() % 32 != 0 {
        return Err(anyhow::anyhow!("{} is truncated", path.display()).into());
    }
    Ok(bytes
        .chunks_exact(32)
        .filter_map(|chunk| chunk.try_into().ok())
        .collect())
}

/// Written to temporary files then renamed, so a crash never leaves a
/// half-written state.
fn save_state(path: &Path, state: &SavedState, leaves: &[Hash]) -> Result<(), VerifyError> {
    let write = |target: &Path, bytes: &[u8]| -> anyhow::Result<()> {
        let mut temporary = target.as_os_str().to_owned();
        temporary.push(".tmp");
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, target)?;
        Ok(())
    };
    write(&leaves_path(path), &leaves.concat()).map_err(VerifyError::Error)?;
    write(
        path,
        serde_json::to_string_pretty(state)
            .map_err(anyhow::Error::from)?
            .as_bytes(),
    )
    .map_err(VerifyError::Error)?;
    Ok(())
}

/// A thin HTTP client for the ledger endpoints.
struct Client {
    base: String,
    http: reqwest::Client,
    api_key: Option<String>,
}

impl Client {
    fn new(base: &str, api_key: Option<String>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            api_key,
        }
    }

    async fn get(&self, path: &str) -> Result<Value, VerifyError> {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|error| anyhow::anyhow!("cannot reach {}: {error}", self.base))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|error| anyhow::anyhow!("{path}: the answer is not JSON: {error}"))?;
        if status.is_server_error() {
            return Err(anyhow::anyhow!("{path}: the server answered {status}").into());
        }
        if !status.is_success() {
            return Err(Failure::general(format!("{path}: the server answered {status}: {}", body["detail"])).into());
        }
        Ok(body)
    }

    /// A plain-text answer (a signed note).
    async fn text(&self, path: &str) -> Result<String, VerifyError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|error| anyhow::anyhow!("cannot reach {}: {error}", self.base))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|error| anyhow::anyhow!("{path}: unreadable answer: {error}"))?;
        if status.is_success() {
            Ok(body)
        } else if status.is_server_error() {
            Err(anyhow::anyhow!("{path}: the server answered {status}").into())
        } else {
            Err(Failure::general(format!("{path}: the server answered {status}")).into())
        }
    }

    async fn hashes(&self, path: &str) -> Result<Vec<Hash>, VerifyError> {
        let body = self.get(path).await?;
        body["hashes"]
            .as_array()
            .and_then(|hashes| {
                hashes
                    .iter()
                    .map(|hash| hash.as_str().and_then(parse_hash))
                    .collect::<Option<Vec<Hash>>>()
            })
            .ok_or_else(|| Failure::general(format!("{path}: malformed proof")).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_cover_both_ends_without_repeats() {
        assert_eq!(sample_indexes(0, 64), Vec::<u64>::new());
        assert_eq!(sample_indexes(3, 64), vec![0, 1, 2]);
        let spread = sample_indexes(1_000_000, 64);
        assert_eq!(spread.len(), 64);
        assert_eq!(spread.first(), Some(&0));
        assert_eq!(spread.last(), Some(&999_999));
        assert!(spread.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
