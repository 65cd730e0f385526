//! Rows and repository functions of witness cosignatures and of each
//! witness's submission state (migration 000025). A witness is named by its
//! verifier key line. The submitting and serving use cases are in
//! `crate::tlog::witnesses`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::ledger::TreeHeadRow;
use super::schema::{ledger_queue, ledger_tree_heads, witness_cosignatures, witness_states};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = witness_cosignatures)]
pub struct CosignatureRow {
    pub tree_size: i64,
    pub witness: String,
    /// `— <name> <base64>`, without its newline.
    pub signature_line: String,
    /// The time the witness states, seconds since the epoch.
    pub witness_timestamp: i64,
    pub received_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = witness_states)]
pub struct WitnessStateRow {
    pub witness: String,
    pub cosigned_size: Option<i64>,
    /// Failed submissions since the last success.
    pub failures: i64,
    pub last_error: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// Stores a cosignature unless one of this witness for this size is
/// stored already (another server process received it first); returns
/// whether it stored it.
pub fn insert_cosignature(connection: &mut DbConnection, row: &CosignatureRow) -> QueryResult<bool> {
    let stored: i64 = witness_cosignatures::table
        .filter(witness_cosignatures::tree_size.eq(row.tree_size))
        .filter(witness_cosignatures::witness.eq(&row.witness))
        .count()
        .get_result(connection)?;
    if stored > 0 {
        return Ok(false);
    }
    diesel::insert_into(witness_cosignatures::table)
        .values(row)
        .execute(connection)?;
    Ok(true)
}

pub fn state(connection: &mut DbConnection, witness: &str) -> QueryResult<Option<WitnessStateRow>> {
    witness_states::table
        .find(witness)
        .select(WitnessStateRow::as_select())
        .first(connection)
        .optional()
}

/// Writes a witness's state, inserting its row the first time.
pub fn save_state(connection: &mut DbConnection, row: &WitnessStateRow) -> QueryResult<()> {
    let updated = diesel::update(witness_states::table.find(&row.witness))
        .set((
            witness_states::cosigned_size.eq(row.cosigned_size),
            witness_states::failures.eq(row.failures),
            witness_states::last_error.eq(&row.last_error),
            witness_states::updated_at.eq(row.updated_at),
        ))
        .execute(connection)?;
    if updated == 0 {
        diesel::insert_into(witness_states::table)
            .values(row)
            .execute(connection)?;
    }
    Ok(())
}

/// The largest tree size with at least `quorum` cosignatures among
/// `witnesses`; with a quorum of 0, the latest head's.
pub fn newest_cosigned_size(
    connection: &mut DbConnection,
    witnesses: &[String],
    quorum: i64,
) -> QueryResult<Option<i64>> {
    if quorum <= 0 {
        return ledger_tree_heads::table
            .select(diesel::dsl::max(ledger_tree_heads::tree_size))
            .first(connection);
    }
    witness_cosignatures::table
        .filter(witness_cosignatures::witness.eq_any(witnesses))
        .group_by(witness_cosignatures::tree_size)
        .having(diesel::dsl::count_star().ge(quorum))
        .select(witness_cosignatures::tree_size)
        .order(witness_cosignatures::tree_size.desc())
        .first(connection)
        .optional()
}

/// The tree head of `size` and every cosignature stored for it.
pub fn head_with_cosignatures(
    connection: &mut DbConnection,
    size: i64,
) -> QueryResult<Option<(TreeHeadRow, Vec<CosignatureRow>)>> {
    let Some(head) = ledger_tree_heads::table
        .find(size)
        .select(TreeHeadRow::as_select())
        .first(connection)
        .optional()?
    else {
        return Ok(None);
    };
    let cosignatures = witness_cosignatures::table
        .filter(witness_cosignatures::tree_size.eq(size))
        .order(witness_cosignatures::witness.asc())
        .select(CosignatureRow::as_select())
        .load(connection)?;
    Ok(Some((head, cosignatures)))
}

/// The newest queue id: every entry appended so far has one at or below it
/// (or is sequenced already).
pub fn newest_queue_id(connection: &mut DbConnection) -> QueryResult<Option<i64>> {
    ledger_queue::table
        .select(diesel::dsl::max(ledger_queue::id))
        .first(connection)
}

/// Whether any entry with a queue id at or below `id` still waits for the
/// sequencer.
pub fn queued_at_or_below(connection: &mut DbConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(ledger_queue::table.filter(ledger_queue::id.le(id)))).get_result(connection)
}
