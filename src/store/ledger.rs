//! Rows and repository functions of the ledger tables. The Merkle math is in
//! `crate::ledger`; the sequencing use case in `crate::tlog`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    ledger_leaf_fingerprints, ledger_leaves, ledger_nodes, ledger_queue, ledger_sequence, ledger_tree_heads,
};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_leaves)]
pub struct LeafRow {
    pub leaf_hash: Vec<u8>,
    pub entry: Vec<u8>,
    pub kind: String,
    pub details: String,
    pub details_salt: Vec<u8>,
    pub parties: String,
    pub queued_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_sequence)]
pub struct SequenceRow {
    pub leaf_index: i64,
    pub leaf_hash: Vec<u8>,
    pub sequenced_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_nodes)]
pub struct NodeRow {
    pub level: i16,
    pub node_index: i64,
    pub hash: Vec<u8>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_tree_heads)]
pub struct TreeHeadRow {
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub timestamp_ms: i64,
    pub signature: Vec<u8>,
    pub checkpoint: String,
}

/// Stores a leaf and queues it for sequencing.
pub fn insert_leaf(connection: &mut DbConnection, leaf: &LeafRow) -> QueryResult<()> {
    diesel::insert_into(ledger_leaves::table)
        .values(leaf)
        .execute(connection)?;
    diesel::insert_into(ledger_queue::table)
        .values(ledger_queue::leaf_hash.eq(&leaf.leaf_hash))
        .execute(connection)?;
    Ok(())
}

/// Many leaves and their queue rows, queued in the order given.
pub fn insert_leaves(connection: &mut DbConnection, leaves: &[LeafRow]) -> QueryResult<()> {
    if leaves.is_empty() {
        return Ok(());
    }
    LeafArrays::insert(connection, leaves)?;
    let queued: Vec<QueueRow> = leaves
        .iter()
        .map(|leaf| QueueRow {
            leaf_hash: leaf.leaf_hash.clone(),
        })
        .collect();
    QueueArrays::insert(connection, &queued)?;
    Ok(())
}

unnest_insert! {
    /// Ledger leaves as arrays.
    LeafArrays for LeafRow => ledger_leaves {
        leaf_hash: &'a [u8] = |row| row.leaf_hash.as_slice() => Binary,
        entry: &'a [u8] = |row| row.entry.as_slice() => Binary,
        kind: &'a str = |row| row.kind.as_str() => Text,
        details: &'a str = |row| row.details.as_str() => Text,
        details_salt: &'a [u8] = |row| row.details_salt.as_slice() => Binary,
        parties: &'a str = |row| row.parties.as_str() => Text,
        queued_at: NaiveDateTime = |row| row.queued_at => Timestamp,
    }
}

/// A leaf's place in the queue (its id, the order, is the serial's).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = ledger_queue)]
struct QueueRow {
    leaf_hash: Vec<u8>,
}

unnest_insert! {
    /// Queue rows as arrays, in the order given.
    QueueArrays for QueueRow => ledger_queue {
        leaf_hash: &'a [u8] = |row| row.leaf_hash.as_slice() => Binary,
    }
}

/// The oldest queued leaves, at most `limit`.
pub fn queued(connection: &mut DbConnection, limit: i64) -> QueryResult<Vec<(i64, Vec<u8>)>> {
    ledger_queue::table
        .order(ledger_queue::id.asc())
        .select((ledger_queue::id, ledger_queue::leaf_hash))
        .limit(limit)
        .load(connection)
}

/// Removes exactly these queue rows. (Not "every id up to the largest":
/// on PostgreSQL a smaller id may commit after a larger one was read.)
pub fn dequeue(connection: &mut DbConnection, ids: &[i64]) -> QueryResult<usize> {
    let mut removed = 0;
    for chunk in ids.chunks(1000) {
        removed += diesel::delete(ledger_queue::table.filter(ledger_queue::id.eq_any(chunk))).execute(connection)?;
    }
    Ok(removed)
}

pub fn queue_length(connection: &mut DbConnection) -> QueryResult<i64> {
    ledger_queue::table.count().get_result(connection)
}

pub fn insert_sequence(connection: &mut DbConnection, rows: &[SequenceRow]) -> QueryResult<usize> {
    insert_many!(connection, ledger_sequence::table, rows)
}

pub fn insert_nodes(connection: &mut DbConnection, rows: &[NodeRow]) -> QueryResult<usize> {
    insert_many!(connection, ledger_nodes::table, rows)
}

/// The stored nodes among `wanted` (level, index) pairs, in one query.
pub fn nodes(connection: &mut DbConnection, wanted: &[(i16, i64)]) -> QueryResult<Vec<NodeRow>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = ledger_nodes::table.select(NodeRow::as_select()).into_boxed();
    for (level, index) in wanted {
        query = query.or_filter(ledger_nodes::level.eq(*level).and(ledger_nodes::node_index.eq(*index)));
    }
    query.load(connection)
}

pub fn insert_tree_head(connection: &mut DbConnection, row: &TreeHeadRow) -> QueryResult<()> {
    diesel::insert_into(ledger_tree_heads::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn latest_tree_head(connection: &mut DbConnection) -> QueryResult<Option<TreeHeadRow>> {
    ledger_tree_heads::table
        .order(ledger_tree_heads::tree_size.desc())
        .select(TreeHeadRow::as_select())
        .first(connection)
        .optional()
}

/// Sequenced entries with indexes in `[start, end)`, in order.
pub fn entries(connection: &mut DbConnection, start: i64, end: i64) -> QueryResult<Vec<(SequenceRow, LeafRow)>> {
    ledger_sequence::table
        .inner_join(ledger_leaves::table)
        .filter(ledger_sequence::leaf_index.ge(start))
        .filter(ledger_sequence::leaf_index.lt(end))
        .order(ledger_sequence::leaf_index.asc())
        .select((SequenceRow::as_select(), LeafRow::as_select()))
        .load(connection)
}

pub fn leaf_index(connection: &mut DbConnection, leaf_hash: &[u8]) -> QueryResult<Option<i64>> {
    ledger_sequence::table
        .filter(ledger_sequence::leaf_hash.eq(leaf_hash))
        .select(ledger_sequence::leaf_index)
        .first(connection)
        .optional()
}

/// How many leaves wait for the sequencer, and when the oldest was queued.
/// Two statements that read the (short) queue and one leaf by its key: as
/// one join with an aggregate, PostgreSQL scanned every leaf of a log of a
/// million (docs/BENCHMARKS.md, "Growth").
pub fn unsequenced(connection: &mut DbConnection) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let waiting: i64 = ledger_queue::table.count().get_result(connection)?;
    if waiting == 0 {
        return Ok((0, None));
    }
    let oldest = ledger_queue::table
        .inner_join(ledger_leaves::table)
        .order(ledger_queue::id)
        .select(ledger_leaves::queued_at)
        .first(connection)
        .optional()?;
    Ok((waiting, oldest))
}

/// The oldest queued leaf's queue id (a stall's name), if any.
pub fn oldest_queued(connection: &mut DbConnection) -> QueryResult<Option<i64>> {
    ledger_queue::table
        .select(diesel::dsl::min(ledger_queue::id))
        .first(connection)
}

/// The queue id of a queued leaf.
pub fn queue_id(connection: &mut DbConnection, leaf_hash: &[u8]) -> QueryResult<i64> {
    ledger_queue::table
        .filter(ledger_queue::leaf_hash.eq(leaf_hash))
        .select(ledger_queue::id)
        .first(connection)
}

/// Every sequenced key rotation as `(index, entry bytes)`, in order. The
/// kind is written into the SQL, not bound, so that PostgreSQL plans every
/// execution with the partial index `ledger_leaves_key_rotations`.
pub fn sequenced_key_rotations(connection: &mut DbConnection) -> QueryResult<Vec<(i64, Vec<u8>)>> {
    ledger_sequence::table
        .inner_join(ledger_leaves::table)
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "ledger_leaves.kind = 'signing_key_rotated'",
        ))
        .order(ledger_sequence::leaf_index.asc())
        .select((ledger_sequence::leaf_index, ledger_leaves::entry))
        .load(connection)
}

/// The fingerprint (stored, keyed form) an entry records, beside it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_leaf_fingerprints)]
pub struct LeafFingerprintRow {
    pub leaf_hash: Vec<u8>,
    pub fingerprint: Vec<u8>,
}

/// Records which fingerprints queued leaves are about, after the leaves.
pub fn insert_leaf_fingerprints(connection: &mut DbConnection, rows: &[LeafFingerprintRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    FingerprintArrays::insert(connection, rows)?;
    Ok(())
}

unnest_insert! {
    /// Which fingerprints leaves are about, as arrays.
    FingerprintArrays for LeafFingerprintRow => ledger_leaf_fingerprints {
        leaf_hash: &'a [u8] = |row| row.leaf_hash.as_slice() => Binary,
        fingerprint: &'a [u8] = |row| row.fingerprint.as_slice() => Binary,
    }
}

/// The entries that record one of `fingerprints` and are of one of
/// `kinds`, as `(leaf hash, index)`, the index `None` while still queued.
pub fn entries_about(
    connection: &mut DbConnection,
    fingerprints: &[Vec<u8>],
    kinds: &[&str],
) -> QueryResult<Vec<(Vec<u8>, Option<i64>)>> {
    ledger_leaf_fingerprints::table
        .inner_join(ledger_leaves::table.left_join(ledger_sequence::table))
        .filter(ledger_leaf_fingerprints::fingerprint.eq_any(fingerprints))
        .filter(ledger_leaves::kind.eq_any(kinds))
        .select((ledger_leaves::leaf_hash, ledger_sequence::leaf_index.nullable()))
        .load(connection)
}

/// The signed tree head of exactly `tree_size` entries, if one was signed.
pub fn tree_head(connection: &mut DbConnection, tree_size: i64) -> QueryResult<Option<TreeHeadRow>> {
    ledger_tree_heads::table
        .find(tree_size)
        .select(TreeHeadRow::as_select())
        .first(connection)
        .optional()
}
