//! `anchorfin key gen` and `anchorfin sign`.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use ed25519_dalek::Signer;

use super::CliError;
use crate::keyfile;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Write a new ed25519 secret key (32-byte seed, hex, mode 0600); print its public key as hex.
    Gen(KeyGenArgs),
}

#[derive(Debug, Args)]
pub struct KeyGenArgs {
    /// The key file to create (never overwritten).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The secret key file written by `anchorfin key gen`.
    #[arg(long)]
    key: PathBuf,
}

pub fn run_key(command: KeyCommand) -> Result<(), CliError> {
    let KeyCommand::Gen(args) = command;
    let key = keyfile::generate(&args.out)?;
    println!("{}", hex::encode(key.verifying_key().to_bytes()));
    Ok(())
}

pub fn sign(args: SignArgs) -> Result<(), CliError> {
    let key = keyfile::load(&args.key)?;
    let mut message = Vec::new();
    std::io::stdin().read_to_end(&mut message)?;
    println!("{}", hex::encode(key.sign(&message).to_bytes()));
    Ok(())
}
