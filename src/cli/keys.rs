//! `anchorfin key gen`, `anchorfin key rotate` and `anchorfin sign`.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;

use super::{print_json, serve, CliError, DatabaseArgs};
use crate::keyfile;
use crate::tlog::{self, RotateError};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Write a new ed25519 secret key (32-byte seed, hex, mode 0600); print its public key as hex.
    Gen(KeyGenArgs),
    /// Hand the ledger to a new platform signing key, with every server on the
    /// database stopped: appends a rotation entry signed by the current and the
    /// new key, records the new key as the log's, and installs it as the data
    /// directory's platform-signing.key (the old one is kept beside it as
    /// platform-signing.key.retired-<key prefix>). Run it again after an
    /// interruption: it finishes what the last run started.
    Rotate(KeyRotateArgs),
}

#[derive(Debug, Args)]
pub struct KeyGenArgs {
    /// The key file to create (never overwritten).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct KeyRotateArgs {
    /// The current key is the data directory's platform-signing.key, as `serve` finds it.
    #[command(flatten)]
    database: DatabaseArgs,
    /// The new key file: used if it exists (e.g. made by `anchorfin key gen`),
    /// created (0600) if not. Without it, a new key is generated in the data
    /// directory.
    #[arg(long)]
    new_key: Option<PathBuf>,
    /// The ledger's origin line, as the servers are given it.
    #[arg(long, env = "ANCHORFIN_LEDGER_ORIGIN")]
    ledger_origin: Option<String>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The secret key file written by `anchorfin key gen`.
    #[arg(long)]
    key: PathBuf,
}

pub fn run_key(command: KeyCommand) -> Result<(), CliError> {
    match command {
        KeyCommand::Gen(args) => {
            let key = keyfile::generate(&args.out)?;
            println!("{}", hex::encode(key.verifying_key().to_bytes()));
            Ok(())
        }
        KeyCommand::Rotate(args) => rotate(args),
    }
}

/// `key rotate`. The new key reaches the data directory before the
/// database records it and is installed only after, so that whatever
/// interrupts it, running it again completes it:
///
/// 1. the new key is staged as `platform-signing.key.next`;
/// 2. the rotation commits (`tlog::rotate_signing_key`) — or had committed
///    in an interrupted run, which the database says;
/// 3. the old key is copied to `platform-signing.key.retired-<prefix>` and
///    the staged key renamed over `platform-signing.key`.
fn rotate(args: KeyRotateArgs) -> Result<(), CliError> {
    let settings = args.database.settings();
    let origin = args.ledger_origin.unwrap_or_else(|| settings.ledger.origin.clone());
    let key_path = settings.platform_key_path();
    let staged_path = with_suffix(&key_path, ".next");
    let old = keyfile::load_if_present(&key_path)?.ok_or_else(|| {
        CliError::Usage(format!(
            "no platform key at {}: give the data directory the servers run with",
            key_path.display()
        ))
    })?;
    let mut connection = serve::open(&args.database)?;
    let staged_before = staged_path.exists();
    let new = match &args.new_key {
        Some(path) => {
            let new = keyfile::load_or_generate(path)?;
            stage(&staged_path, &new)?;
            new
        }
        None => keyfile::load_or_generate(&staged_path)?,
    };
    let old_public = hex::encode(old.verifying_key().to_bytes());
    let new_public = hex::encode(new.verifying_key().to_bytes());
    let rotated = match tlog::rotate_signing_key(&mut connection, &old, &new, &origin) {
        Ok(rotated) => Some(rotated),
        // An earlier run committed and was interrupted before installing.
        Err(RotateError::AlreadyRotated(_)) => None,
        // Refused before anything was written: a key staged by this run
        // was never the log's, and must not be taken up by the next run.
        Err(
            error @ (RotateError::NoRecordedKey
            | RotateError::NotTheLogsKey { .. }
            | RotateError::SameKey(_)
            | RotateError::RetiredKey { .. }
            | RotateError::OriginMismatch { .. }
            | RotateError::Entry(_)),
        ) => {
            if !staged_before {
                std::fs::remove_file(&staged_path)?;
            }
            return Err(CliError::Usage(error.to_string()));
        }
        Err(error) => return Err(error.into()),
    };

    let retired_path = with_suffix(&key_path, &format!(".retired-{}", &old_public[..16]));
    match keyfile::load_if_present(&retired_path)? {
        None => keyfile::save(&retired_path, &old)?,
        Some(retired) if retired.to_bytes() == old.to_bytes() => {}
        Some(_) => {
            return Err(CliError::Usage(format!(
                "{} exists and holds another key: move it away and run this again",
                retired_path.display()
            )))
        }
    }
    std::fs::rename(&staged_path, &key_path).map_err(|error| {
        anyhow::anyhow!(
            "the log is now signed with {new_public}, but {} could not be renamed to {}: {error}",
            staged_path.display(),
            key_path.display()
        )
    })?;
    eprintln!(
        "the log's signing key is now {new_public}; copy {} into the data directory of every other \
         process on this database before starting it (a process with the old key refuses to start)",
        key_path.display()
    );
    print_json(&json!({
        "old_public_key": old_public,
        "new_public_key": new_public,
        "index": rotated.map(|rotated| rotated.index),
        "tree_size": rotated.map(|rotated| rotated.tree_size),
        "key_file": key_path,
        "retired_key_file": retired_path,
    }))
}

/// Puts a copy of `key` at `staged`, unless an unfinished rotation left
/// another key there.
fn stage(staged: &Path, key: &SigningKey) -> Result<(), CliError> {
    match keyfile::load_if_present(staged)? {
        None => Ok(keyfile::save(staged, key)?),
        Some(present) if present.to_bytes() == key.to_bytes() => Ok(()),
        Some(_) => Err(CliError::Usage(format!(
            "{} holds another new key, left by an unfinished rotation: finish that one (run \
             `anchorfin key rotate` again without --new-key) or remove the file",
            staged.display()
        ))),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub fn sign(args: SignArgs) -> Result<(), CliError> {
    let key = keyfile::load(&args.key)?;
    let mut message = Vec::new();
    std::io::stdin().read_to_end(&mut message)?;
    println!("{}", hex::encode(key.sign(&message).to_bytes()));
    Ok(())
}
