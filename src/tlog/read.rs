//! Reading the ledger: the latest signed head, entries with the details the
//! caller may see, and proofs assembled from stored perfect subtrees with
//! one query of O(log n) nodes.

use serde_json::Value;

use crate::ledger::{self, Hash, ProofPlan};
use crate::store::ledger::{self as repository, TreeHeadRow};
use crate::store::DbConnection;

/// At most this many entries per page.
pub const MAX_ENTRIES_PER_PAGE: u64 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The request cannot be answered for this tree (400/422).
    #[error("{0}")]
    Invalid(String),
    #[error("stored Merkle nodes are incomplete: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub fn latest_head(connection: &mut DbConnection) -> diesel::QueryResult<Option<TreeHeadRow>> {
    repository::latest_tree_head(connection)
}

pub fn leaf_index(connection: &mut DbConnection, leaf_hash: &Hash) -> diesel::QueryResult<Option<i64>> {
    repository::leaf_index(connection, leaf_hash)
}

/// One sequenced entry as the caller may see it.
#[derive(Debug, Clone)]
pub struct VisibleEntry {
    pub index: u64,
    pub leaf_hash: Vec<u8>,
    /// The entry's kind; `business` for a sealed entry the reader may not
    /// open.
    pub kind: String,
    pub entry: Vec<u8>,
    /// `{"salt": hex, "json": text, "data": {...}}` for the parties, the
    /// operator and public entries — for a sealed entry the body its header
    /// commits to, for a public one its details; `None` for anyone else,
    /// and for a key rotation, whose bytes say everything.
    pub details: Option<Value>,
}

/// Who is reading: the operator sees every detail, an organisation the
/// entries it is a party to, an anonymous reader only public ones.
#[derive(Debug, Clone)]
pub enum Reader {
    Operator,
    Organization(String),
    Anonymous,
}

pub fn entries(
    connection: &mut DbConnection,
    start: u64,
    end: u64,
    reader: &Reader,
) -> diesel::QueryResult<Vec<VisibleEntry>> {
    let rows = repository::entries(connection, start as i64, end as i64)?;
    Ok(rows
        .into_iter()
        .map(|(sequence, leaf)| {
            let parties: Value = serde_json::from_str(&leaf.parties).unwrap_or(Value::Null);
            let visible = match (reader, &parties) {
                (_, Value::String(everyone)) if everyone == "*" => true,
                (Reader::Operator, _) => true,
                (Reader::Organization(id), Value::Array(list)) => list.iter().any(|party| party == id.as_str()),
                _ => false,
            };
            // A rotation's bytes are the whole entry: no details to show.
            let rotation = leaf.entry.first() == Some(&crate::ledger::ROTATION_VERSION);
            let details = (visible && !rotation).then(|| {
                serde_json::json!({
                    "salt": hex::encode(&leaf.details_salt),
                    "data": serde_json::from_str::<Value>(&leaf.details).unwrap_or(Value::Null),
                    "json": leaf.details,
                })
            });
            // A sealed entry's kind is part of what it keeps from outsiders.
            let sealed = leaf.entry.first() == Some(&crate::ledger::sealed::SEALED_VERSION);
            let kind = if sealed && details.is_none() {
                crate::ledger::BUSINESS_KIND.to_owned()
            } else {
                leaf.kind
            };
            VisibleEntry {
                index: sequence.leaf_index as u64,
                leaf_hash: sequence.leaf_hash,
                kind,
                entry: leaf.entry,
                details,
            }
        })
        .collect())
}

/// The largest tree size this process has seen signed. A log only grows, so
/// a size at or below it is known to be published without asking the
/// database again; a larger one is checked against the latest tree head.
#[derive(Debug, Default)]
pub struct PublishedSize(std::sync::atomic::AtomicU64);

impl PublishedSize {
    fn covers(&self, size: u64) -> bool {
        size <= self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn saw(&self, size: u64) {
        self.0.fetch_max(size, std::sync::atomic::Ordering::Relaxed);
    }
}

/// RFC 9162 §2.1.3 inclusion proof of leaf `index` in the tree of `tree_size`.
pub fn inclusion_proof(
    connection: &mut DbConnection,
    published: &PublishedSize,
    index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, ProofError> {
    check_published(connection, published, tree_size)?;
    let plan =
        ledger::inclusion_proof_plan(index, tree_size).map_err(|error| ProofError::Invalid(error.to_string()))?;
    assemble(connection, &plan)
}

/// RFC 9162 §2.1.4 consistency proof between trees of `first` and `second`.
pub fn consistency_proof(
    connection: &mut DbConnection,
    published: &PublishedSize,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, ProofError> {
    check_published(connection, published, second)?;
    let plan = ledger::consistency_proof_plan(first, second).map_err(|error| ProofError::Invalid(error.to_string()))?;
    assemble(connection, &plan)
}

fn check_published(connection: &mut DbConnection, published: &PublishedSize, tree_size: u64) -> Result<(), ProofError> {
    if published.covers(tree_size) {
        return Ok(());
    }
    let current = repository::latest_tree_head(connection)?.map_or(0, |head| head.tree_size as u64);
    published.saw(current);
    if tree_size > current {
        return Err(ProofError::Invalid(format!(
            "tree_size {tree_size} is beyond the latest signed tree head ({current})"
        )));
    }
    Ok(())
}

fn assemble(connection: &mut DbConnection, plan: &ProofPlan) -> Result<Vec<Hash>, ProofError> {
    let wanted: Vec<(i16, i64)> = plan
        .nodes()
        .iter()
        .map(|node| (i16::from(node.level), node.index as i64))
        .collect();
    let rows = repository::nodes(connection, &wanted)?;
    plan.assemble(|node| {
        rows.iter()
            .find(|row| row.level == i16::from(node.level) && row.node_index == node.index as i64)
            .and_then(|row| row.hash.as_slice().try_into().ok())
    })
    .map_err(|error| ProofError::Corrupt(error.to_string()))
}
