//! `anchorfin-ledger-bench`: the ledger's micro-benchmarks (docs/PRODUCT.md §9),
//! each beside the raw database's figure for the same reads or writes.
//!
//! 1. Hashing: leaf hashes of 256-byte entries, and node hashes.
//! 2. A tree of `--leaves` leaves (10 million by default) built with the
//!    sequencer's `Frontier` and stored as the sequencer stores it (every
//!    perfect subtree once) in a scratch database.
//! 3. Inclusion proofs served from it through the same code the API uses
//!    (`tlog::inclusion_proof`), beside the bare SQL read of the same nodes.
//! 4. Sequencer throughput: `--sequence` entries appended through
//!    `tlog::append`, then integrated by `tlog::sequence_batch` on top of
//!    that tree, beside plain multi-row inserts of the same rows.
//!
//! Prints one JSON report. Use a scratch database: it is written to.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use diesel::prelude::*;
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use serde_json::json;

use anchorfin::ledger::{self, Frontier, Hash};
use anchorfin::store::ledger::{self as repository, NodeRow, TreeHeadRow};
use anchorfin::store::{migrations, write_transaction, DatabaseUrl, DbConnection};
use anchorfin::tlog::{self, NewEntry, Visibility};

#[derive(Debug, Parser)]
#[command(name = "anchorfin-ledger-bench")]
struct Args {
    /// A scratch database (postgres://… or sqlite://…); it is migrated and filled.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// Leaves in the tree proofs are served from.
    #[arg(long, default_value_t = 10_000_000)]
    leaves: u64,
    /// Inclusion proofs to time.
    #[arg(long, default_value_t = 10_000)]
    proofs: usize,
    /// Entries to append and sequence.
    #[arg(long, default_value_t = 100_000)]
    sequence: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = DatabaseUrl::parse(&args.database_url).context("--database-url")?;
    let mut connection = url.establish().context("connect")?;
    migrations::run_pending(&mut connection).context("migrate")?;

    let hashing = hashing();
    eprintln!("hashing: {hashing}");
    let build = build_tree(&mut connection, args.leaves)?;
    eprintln!("tree: {build}");
    let proofs = proofs(&mut connection, args.leaves, args.proofs)?;
    eprintln!("proofs: {proofs}");
    let sequencer = sequencer(&mut connection, args.sequence)?;
    eprintln!("sequencer: {sequencer}");
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "backend": format!("{:?}", url.backend()),
            "hashing": hashing, "tree": build, "inclusion_proofs": proofs, "sequencer": sequencer,
        }))?
    );
    Ok(())
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn hashing() -> serde_json::Value {
    let entry = [7u8; 256];
    let count = 1_000_000;
    let started = Instant::now();
    let mut acc = [0u8; 32];
    for index in 0..count {
        let mut bytes = entry;
        bytes[..8].copy_from_slice(&(index as u64).to_be_bytes());
        acc = ledger::leaf_hash(&bytes);
    }
    let leaf = started.elapsed();
    let started = Instant::now();
    for _ in 0..count {
        acc = ledger::node_hash(&acc, &acc);
    }
    let node = started.elapsed();
    json!({
        "leaf_hashes_per_second": per_second(count, leaf),
        "leaf_megabytes_per_second": per_second(count, leaf) * 257.0 / 1e6,
        "node_hashes_per_second": per_second(count, node),
        "checksum": hex::encode(&acc[..4]),
    })
}

/// Builds the tree in memory and stores its nodes, 10,000 rows a statement.
fn build_tree(connection: &mut DbConnection, leaves: u64) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    let mut frontier = Frontier::empty();
    let mut batch: Vec<NodeRow> = Vec::with_capacity(20_000);
    let mut stored = 0usize;
    let mut insert_time = Duration::ZERO;
    for index in 0..leaves {
        for (id, hash) in frontier.append(ledger::leaf_hash(&index.to_be_bytes()))? {
            batch.push(NodeRow {
                level: i16::from(id.level),
                node_index: id.index as i64,
                hash: hash.to_vec(),
            });
        }
        if batch.len() >= 10_000 || index + 1 == leaves {
            let began = Instant::now();
            stored += write_transaction(connection, |connection| repository::insert_nodes(connection, &batch))?;
            insert_time += began.elapsed();
            batch.clear();
        }
    }
    let signing = SigningKey::generate(&mut OsRng);
    let checkpoint = ledger::Checkpoint {
        origin: "bench.anchorfin.local/ledger".to_owned(),
        size: leaves,
        root_hash: frontier.root(),
        timestamp_ms: chrono::Utc::now().timestamp_millis(),
    };
    let signed = checkpoint.sign(&signing);
    repository::insert_tree_head(
        connection,
        &TreeHeadRow {
            tree_size: leaves as i64,
            root_hash: checkpoint.root_hash.to_vec(),
            timestamp_ms: checkpoint.timestamp_ms,
            signature: signed.signature.to_vec(),
            checkpoint: signed.note,
        },
    )?;
    Ok(json!({
        "leaves": leaves,
        "nodes_stored": stored,
        "seconds": started.elapsed().as_secs_f64(),
        "node_rows_inserted_per_second": per_second(stored, insert_time),
    }))
}

fn percentiles(mut samples: Vec<Duration>) -> serde_json::Value {
    samples.sort();
    let at = |p: f64| {
        let rank = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples.get(rank).map_or(0.0, |sample| sample.as_secs_f64() * 1000.0)
    };
    json!({ "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0) })
}

fn proofs(connection: &mut DbConnection, size: u64, count: usize) -> anyhow::Result<serde_json::Value> {
    let root: Hash = repository::latest_tree_head(connection)?
        .context("no tree head")?
        .root_hash
        .as_slice()
        .try_into()?;
    let mut ours = Vec::with_capacity(count);
    let mut raw = Vec::with_capacity(count);
    let mut lengths = std::collections::BTreeMap::<usize, usize>::new();
    // As the server keeps it: the signed size, learned once.
    let published = tlog::PublishedSize::default();
    for _ in 0..count {
        let index = OsRng.next_u64() % size;
        let started = Instant::now();
        let proof =
            tlog::inclusion_proof(connection, &published, index, size).map_err(|error| anyhow::anyhow!("{error:?}"))?;
        ours.push(started.elapsed());
        *lengths.entry(proof.len()).or_default() += 1;
        ledger::verify_inclusion(&ledger::leaf_hash(&index.to_be_bytes()), index, size, &proof, &root)
            .map_err(|error| anyhow::anyhow!("proof of {index} does not verify: {error}"))?;
        // The database's own figure: the same node reads, nothing else.
        let wanted: Vec<(i16, i64)> = ledger::inclusion_proof_plan(index, size)?
            .nodes()
            .iter()
            .map(|node| (i16::from(node.level), node.index as i64))
            .collect();
        let started = Instant::now();
        let rows = repository::nodes(connection, &wanted)?;
        raw.push(started.elapsed());
        anyhow::ensure!(rows.len() == wanted.len(), "missing nodes");
    }
    Ok(json!({
        "tree_size": size,
        "proofs": count,
        "hashes_per_proof": lengths,
        "ours": percentiles(ours),
        "raw_node_reads": percentiles(raw),
    }))
}

fn sequencer(connection: &mut DbConnection, count: usize) -> anyhow::Result<serde_json::Value> {
    let signing = SigningKey::generate(&mut OsRng);
    let now = anchorfin::store::now();
    for chunk in (0..count).collect::<Vec<_>>().chunks(1_000) {
        write_transaction(connection, |connection| -> QueryResult<()> {
            for index in chunk {
                tlog::append(
                    connection,
                    NewEntry {
                        kind: "bench_entry",
                        subjects: vec![format!("bench-{index}")],
                        fingerprint: None,
                        actor: None,
                        signature: None,
                        details: json!({ "index": index }),
                        visibility: Visibility::Public,
                    },
                    now,
                )?;
            }
            Ok(())
        })?;
    }
    let started = Instant::now();
    let mut batches = 0;
    while tlog::sequence_batch(connection, &signing, "bench.anchorfin.local/ledger", 2_000)?.is_some() {
        batches += 1;
        if repository::queue_length(connection)? == 0 {
            break;
        }
    }
    let ours = started.elapsed();

    // The database's own figure: the same number of sequence and node rows
    // written with plain multi-row inserts, one transaction per 2,000.
    let head = repository::latest_tree_head(connection)?
        .context("no tree head")?
        .tree_size as u64;
    let mut frontier = Frontier::empty();
    let mut node_rows = Vec::new();
    for index in 0..count as u64 {
        for (id, hash) in frontier.append(ledger::leaf_hash(&index.to_le_bytes()))? {
            node_rows.push(NodeRow {
                level: i16::from(id.level),
                // Far beyond the real tree, so they never collide with it.
                node_index: (id.index as i64) + (1i64 << 40) + head as i64,
                hash: hash.to_vec(),
            });
        }
    }
    let started = Instant::now();
    for chunk in node_rows.chunks(4_000) {
        write_transaction(connection, |connection| repository::insert_nodes(connection, chunk))?;
    }
    let raw = started.elapsed();
    Ok(json!({
        "entries": count,
        "batches": batches,
        "entries_per_second": per_second(count, ours),
        "raw_node_inserts_for_as_many_entries_per_second": per_second(count, raw),
    }))
}
