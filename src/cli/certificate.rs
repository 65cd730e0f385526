//! `anchorfin certificate verify FILE --log-key HEX [--witness-key VKEY …
//! --witness-quorum N]`: checks a certificate of non-encumbrance (the JSON
//! of `GET /v1/encumbrance/{fingerprint}/certificate`) offline, trusting
//! only the keys on the command line. In order, the first failure named:
//!
//! 1. the statement is a signed note by the log key under the origin it
//!    names, and its text a statement (`ledger::certificate`);
//! 2. the checkpoint is signed by the same key under the same origin;
//! 3. at least N of the given witnesses cosigned the checkpoint;
//! 4. the statement's tree size and root hash are the checkpoint's;
//! 5. the entries given are exactly those the statement lists;
//! 6. each entry's bytes hash to its leaf hash, and its inclusion proof
//!    leads to the root;
//! 7. each entry's details (where given) open its header, and name one of
//!    the statement's ledger fingerprints and a kind it may rest on;
//! 8. the claims agree with the entries, as far as the details given show:
//!    `registered no` rests on no entry; `registered yes` on at least one;
//!    `confirmed yes` needs a confirmation among the opened entries or an
//!    entry this bank cannot open; `encumbered yes` a lien not ended after
//!    it, or an entry it cannot open; `encumbered no` is false when an
//!    opened lien is ended by nothing after it; amounts' currency is that
//!    of every opened entry that names one.
//!
//! What this bank cannot open, a replay of the log up to the statement's
//! size with every detail (the operator's, or an auditor's) decides.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};

use super::verify::Witnesses;
use super::CliError;
use crate::ledger::certificate::{Statement, CONFIRMING_KINDS, LIEN_ENDING_KINDS, LIEN_KINDS, STATE_KINDS};
use crate::ledger::{self, open_checkpoint, open_note, valid_cosigners, Entry, Hash};

#[derive(Debug, Subcommand)]
pub enum CertificateCommand {
    /// Check a certificate of non-encumbrance offline; exit non-zero naming the first failed check.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The certificate: the JSON the server answered.
    file: PathBuf,
    /// The log's ed25519 public key (hex), obtained out of band.
    #[arg(long)]
    log_key: String,
    /// A witness's verifier key (name+keyid+base64, type 0x04); repeatable.
    #[arg(long = "witness-key")]
    witness_keys: Vec<String>,
    /// How many of the given witnesses must have cosigned the checkpoint
    /// (default: all of them).
    #[arg(long)]
    witness_quorum: Option<usize>,
}

pub fn run(command: CertificateCommand) -> Result<(), CliError> {
    let CertificateCommand::Verify(args) = command;
    let log_key = super::public_key_argument("--log-key", &args.log_key)?;
    let witnesses = Witnesses::parse(&args.witness_keys, args.witness_quorum).map_err(CliError::Usage)?;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|error| CliError::Usage(format!("{}: {error}", args.file.display())))?;
    let certificate: Value =
        serde_json::from_str(&text).map_err(|error| CliError::Usage(format!("{}: {error}", args.file.display())))?;
    let summary = verify(&certificate, &log_key, &witnesses)
        .map_err(|failure| CliError::Failed(anyhow::anyhow!("certificate refused: {failure}")))?;
    super::print_json(&summary)
}

/// Checks `certificate` as the module says; the summary, or the first
/// failed check.
pub fn verify(certificate: &Value, log_key: &VerifyingKey, witnesses: &Witnesses) -> Result<Value, String> {
    let note = certificate["statement"].as_str().ok_or("statement: missing")?;
    // The origin the statement names is the key name it must be signed under.
    let origin = ledger::note_text(note)
        .lines()
        .nth(1)
        .and_then(|line| line.strip_prefix("origin "))
        .ok_or("statement: no origin line")?;
    let text = open_note(note, origin, log_key).map_err(|error| format!("statement signature: {error}"))?;
    let statement = Statement::parse(text).map_err(|error| format!("statement: {error}"))?;

    let checkpoint_note = certificate["checkpoint"].as_str().ok_or("checkpoint: missing")?;
    let checkpoint = open_checkpoint(checkpoint_note, &statement.origin, log_key)
        .map_err(|error| format!("checkpoint signature: {error}"))?;
    let cosigners = valid_cosigners(checkpoint_note, &witnesses.keys);
    if cosigners.len() < witnesses.quorum {
        return Err(format!(
            "cosignature quorum: {} of the {} witness cosignatures required verify",
            cosigners.len(),
            witnesses.quorum
        ));
    }
    if statement.tree_size != checkpoint.size || statement.root_hash != checkpoint.root_hash {
        return Err(format!(
            "statement tree: the statement speaks for size {}, the checkpoint is of size {} (or another root)",
            statement.tree_size, checkpoint.size
        ));
    }

    let entries = certificate["entries"].as_array().ok_or("entries: missing")?;
    let given: Vec<Option<u64>> = entries.iter().map(|entry| entry["index"].as_u64()).collect();
    if given != statement.entries.iter().copied().map(Some).collect::<Vec<_>>() {
        return Err(format!(
            "entries: the statement lists {:?}, the certificate gives {:?}",
            statement.entries, given
        ));
    }
    let seen = entries
        .iter()
        .map(|entry| check_entry(entry, &statement, &checkpoint.root_hash))
        .collect::<Result<Vec<_>, _>>()?;
    check_claims(&statement, &seen)?;
    Ok(json!({
        "verified": true,
        "origin": statement.origin,
        "fingerprint": hex::encode(statement.fingerprint),
        "registered": statement.registered,
        "confirmed": statement.confirmed,
        "encumbered": statement.encumbered,
        "amounts": statement.amounts.as_ref().map(|amounts| json!({
            "currency": amounts.currency,
            "face_value": amounts.face_value,
            "outstanding": amounts.outstanding,
        })),
        "tree_size": statement.tree_size,
        "checkpoint_timestamp_ms": checkpoint.timestamp_ms,
        "issued_to": statement.issued_to,
        "issued_at": statement.issued_at,
        "entries": statement.entries.len(),
        "opened_entries": seen.iter().flatten().count(),
        "cosigned_by": cosigners.iter().map(|(witness, _)| witness.name.clone()).collect::<Vec<_>>(),
    }))
}

/// What an opened entry says: its kind and details.
struct Opened {
    kind: String,
    details: Value,
}

/// Checks one entry's bytes, proof and details; its opened body, if its
/// details were given.
fn check_entry(entry: &Value, statement: &Statement, root: &Hash) -> Result<Option<Opened>, String> {
    let index = entry["index"].as_u64().unwrap_or_default();
    let at = |reason: String| format!("entry {index}: {reason}");
    let bytes = entry["entry"]
        .as_str()
        .and_then(|text| hex::decode(text).ok())
        .ok_or_else(|| at("the entry bytes are not hex".to_owned()))?;
    let leaf = ledger::leaf_hash(&bytes);
    if entry["leaf_hash"].as_str() != Some(hex::encode(leaf).as_str()) {
        return Err(at("leaf hash: the entry bytes do not hash to its leaf hash".to_owned()));
    }
    let proof = entry["inclusion_proof"]
        .as_array()
        .and_then(|hashes| {
            hashes
                .iter()
                .map(|hash| hash.as_str().and_then(|text| hex::decode(text).ok()))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| at("inclusion proof: not a list of hex hashes".to_owned()))?;
    ledger::verify_inclusion(&leaf, index, statement.tree_size, &proof, root)
        .map_err(|error| at(format!("inclusion proof: {error}")))?;
    let Some(details) = entry.get("details").filter(|details| !details.is_null()) else {
        return Ok(None);
    };
    let salt: [u8; 32] = details["salt"]
        .as_str()
        .and_then(|text| hex::decode(text).ok())
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| at("details: the salt is malformed".to_owned()))?;
    let body_json = details["json"]
        .as_str()
        .ok_or_else(|| at("details: no JSON".to_owned()))?;
    let decoded = Entry::decode(&bytes).map_err(|error| at(format!("the entry does not decode: {error}")))?;
    let (kind, fingerprint, details) = match decoded {
        Entry::Sealed(header) => {
            let body =
                ledger::open_sealed(&header, &salt, body_json).map_err(|error| at(format!("details: {error}")))?;
            let fingerprint = body.fingerprint.as_deref().and_then(|text| hex::decode(text).ok());
            (body.kind, fingerprint, body.details)
        }
        Entry::Public(header) => {
            if ledger::details_hash(&salt, body_json.as_bytes()) != header.details_hash {
                return Err(at("details: they do not match the hash in the header".to_owned()));
            }
            let details = serde_json::from_str(body_json).map_err(|error| at(format!("details: {error}")))?;
            (header.kind, header.fingerprint.map(|hash| hash.to_vec()), details)
        }
        Entry::Rotation(_) => return Err(at("a key rotation is about no fingerprint".to_owned())),
    };
    if !fingerprint.is_some_and(|fingerprint| {
        statement
            .ledger_fingerprints
            .iter()
            .any(|expected| expected[..] == fingerprint[..])
    }) {
        return Err(at(
            "fingerprint: the opened entry is about another fingerprint".to_owned()
        ));
    }
    if !STATE_KINDS.contains(&kind.as_str()) {
        return Err(at(format!("kind: a {kind} entry is not one a statement rests on")));
    }
    Ok(Some(Opened { kind, details }))
}

/// The claims against the entries, in the order of the log, each opened
/// or (`None`) not readable by this bank.
fn check_claims(statement: &Statement, seen: &[Option<Opened>]) -> Result<(), String> {
    let claim = |reason: &str| Err(format!("claims: {reason}"));
    let unopened = seen.iter().filter(|body| body.is_none()).count();
    if !statement.registered && (!seen.is_empty() || statement.confirmed || statement.encumbered) {
        return claim("registered no, yet entries or other claims are given");
    }
    if statement.registered && seen.is_empty() {
        return claim("registered yes rests on no entry");
    }
    let confirming = seen
        .iter()
        .flatten()
        .any(|body| CONFIRMING_KINDS.contains(&body.kind.as_str()));
    if statement.confirmed && unopened == 0 && !confirming {
        return claim("confirmed yes, yet no confirmation among the entries");
    }
    // A lien stands when nothing after it may have ended it: its release
    // or settlement, a payment, or an entry this bank cannot open.
    let lien_of = |body: &Opened| body.details["lien_id"].as_str().map(str::to_owned);
    let standing_lien = seen.iter().enumerate().any(|(position, body)| {
        body.as_ref().is_some_and(|lien| {
            LIEN_KINDS.contains(&lien.kind.as_str())
                && !seen[position + 1..].iter().any(|later| match later {
                    None => true,
                    Some(later) => {
                        later.kind == "asset_paid"
                            || (LIEN_ENDING_KINDS.contains(&later.kind.as_str()) && lien_of(later) == lien_of(lien))
                    }
                })
        })
    });
    if statement.encumbered && unopened == 0 && !standing_lien {
        return claim("encumbered yes, yet no lien stands among the entries");
    }
    if !statement.encumbered && standing_lien {
        return claim("encumbered no, yet a lien among the entries stands");
    }
    if let Some(amounts) = &statement.amounts {
        if let Some(other) = seen
            .iter()
            .flatten()
            .filter_map(|body| body.details["currency"].as_str())
            .find(|currency| *currency != amounts.currency)
        {
            return claim(&format!("currency {}, yet an entry is in {other}", amounts.currency));
        }
    }
    Ok(())
}
