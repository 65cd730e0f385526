//! `anchorfin-fill`: appends `--entries` filler entries to a migrated
//! database's ledger and sequences them, for `scripts/bench-growth.sh`.
//!
//! The entries go through the crate's own ledger code, as a use case's
//! would: `tlog::prepare` and `tlog::append_prepared` queue them (sealed
//! entries, readable by `--party` and the operator), and
//! `tlog::sequence_batch` gives them indexes, stores the perfect subtrees
//! they complete and signs a tree head per batch with the platform key of
//! `--data-dir` — so the server started on that data dir afterwards
//! accepts the log and serves proofs from it. The registry's tables are
//! filled with SQL by the script; the ledger is the one part whose rows
//! must hash into each other.
//!
//! Prints one JSON line: entries, tree size and seconds taken.

use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use serde_json::json;

use anchorfin::keyfile;
use anchorfin::store::{migrations, write_transaction, DatabaseUrl};
use anchorfin::tlog::{self, NewEntry, Visibility};

/// Entries queued per transaction.
const APPEND_CHUNK: usize = 5_000;
/// Queued entries integrated per signed tree head (the ledger benchmark's batch).
const SEQUENCE_BATCH: i64 = 2_000;

#[derive(Debug, Parser)]
#[command(name = "anchorfin-fill")]
struct Args {
    /// The database to fill (postgres://… or sqlite://…); migrated first.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// The server's data dir: its platform-signing.key signs the tree heads
    /// (created there if missing, as `anchorfin serve` would).
    #[arg(long)]
    data_dir: std::path::PathBuf,
    /// The ledger's origin line, as the server is started with.
    #[arg(long, default_value = "anchorfin.local/ledger")]
    origin: String,
    /// Entries to append.
    #[arg(long, default_value_t = 1_000_000)]
    entries: usize,
    /// The organisation that may read the entries' details.
    #[arg(long)]
    party: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = DatabaseUrl::parse(&args.database_url).context("--database-url")?;
    let mut connection = url.establish().context("connect")?;
    migrations::run_pending(&mut connection).context("migrate")?;
    let signing_key = keyfile::load_or_generate(&args.data_dir.join("platform-signing.key"))
        .context("cannot load or create the platform signing key")?;

    let started = Instant::now();
    let now = anchorfin::store::now();
    let mut appended = 0;
    while appended < args.entries {
        let count = APPEND_CHUNK.min(args.entries - appended);
        let prepared = (appended..appended + count)
            .map(|index| {
                tlog::prepare(
                    NewEntry {
                        kind: "growth_filler",
                        subjects: vec![format!("filler-{index}")],
                        fingerprint: None,
                        actor: Some(args.party.clone()),
                        signature: None,
                        details: json!({ "index": index, "note": "growth benchmark filler entry" }),
                        visibility: Visibility::Parties(vec![args.party.clone()]),
                    },
                    now,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        write_transaction(&mut connection, |connection| {
            tlog::append_prepared(connection, &prepared)
        })?;
        appended += count;
    }
    let appended_seconds = started.elapsed().as_secs_f64();

    let mut heads = 0;
    let mut tree_size = 0;
    while let Some(head) = tlog::sequence_batch(&mut connection, &signing_key, &args.origin, SEQUENCE_BATCH)
        .map_err(|error| anyhow::anyhow!("sequencing: {error}"))?
    {
        heads += 1;
        tree_size = head.tree_size;
        if anchorfin::store::ledger::queue_length(&mut connection)? == 0 {
            break;
        }
    }
    println!(
        "{}",
        json!({
            "entries": appended,
            "tree_size": tree_size,
            "tree_heads": heads,
            "append_seconds": appended_seconds,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}
