//! Rows and repository functions of liens, payments and idempotency
//! records. The one-active-lien rule is the partial unique indexes of the
//! `lending` migration; these functions never check it in memory.

use crate::domain::{AssetStatus, LienStatus, ReceivableStatus};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::registry::AssetRow;
use super::schema::{assets, idempotency_keys, liens, loan_records, payments, purchase_orders, receivables};
use super::DbConnection;

/// `liens.status = 'active'`, the value written into the statement rather
/// than bound: the partial unique indexes that keep one active lien per
/// asset and per purchase order say `WHERE status = 'active'`, and a planner
/// shown a bound value instead must look at it on every run to know whether
/// they apply — SQLite re-prepares the statement each time, and a
/// PostgreSQL generic plan cannot use them at all.
pub(crate) fn lien_is_active() -> diesel::dsl::Eq<liens::status, diesel::expression::SqlLiteral<diesel::sql_types::Text>>
{
    liens::status.eq(diesel::dsl::sql::<diesel::sql_types::Text>("'active'"))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = liens)]
pub struct LienRow {
    pub id: String,
    pub asset_id: Option<String>,
    pub purchase_order_id: Option<String>,
    pub bank_id: String,
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: LienStatus,
    pub leaf_hash: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    /// The offer this lien accepted.
    pub offer_id: Option<String>,
    /// What the buyer's payment paid this lien's bank, once it settles.
    pub share_minor: Option<i64>,
    pub disbursed_minor: i64,
    pub repaid_minor: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = loan_records)]
pub struct LoanRecordRow {
    pub id: String,
    pub lien_id: String,
    pub bank_id: String,
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
    pub value_date: NaiveDate,
    pub reference: String,
    pub leaf_hash: Vec<u8>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: String,
    pub asset_id: String,
    pub payer_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub paid_on: NaiveDate,
    pub distributions: String,
    pub leaf_hash: Vec<u8>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub organization_id: String,
    pub idempotency_key: String,
    pub request_sha256: Vec<u8>,
    pub response_body: String,
    pub created_at: NaiveDateTime,
}

/// Lien statuses that let their bank see the asset.
const SIGHTED: [LienStatus; 3] = LienStatus::SIGHTED;

/// A page of `bank_id`'s liens, newest first (by creation time, then id):
/// those after `after` (the last `(created_at, id)` of the page before), at
/// most `limit`; one range of the index `liens_bank`.
pub fn liens_of_bank(
    connection: &mut DbConnection,
    bank_id: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<LienRow>> {
    let mut query = liens::table
        .filter(liens::bank_id.eq(bank_id))
        .select(LienRow::as_select())
        .order((liens::created_at.desc(), liens::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((created_at, id)) = after {
        // `created_at <= t` alone is a bound the index can start from (as
        // in `registry::receivables_of`).
        query = query.filter(liens::created_at.le(created_at)).filter(
            liens::created_at
                .lt(created_at)
                .or(liens::created_at.eq(created_at).and(liens::id.lt(id))),
        );
    }
    query.load(connection)
}

pub fn insert_lien(connection: &mut DbConnection, row: &LienRow) -> QueryResult<()> {
    diesel::insert_into(liens::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

/// Many liens, one statement (`store::arrays`).
pub fn insert_liens(connection: &mut DbConnection, rows: &[LienRow]) -> QueryResult<()> {
    LienArrays::insert(connection, rows).map(|_| ())
}

unnest_insert! {
    /// Liens as arrays.
    LienArrays for LienRow => liens {
        id: &'a str = |row| row.id.as_str() => Text,
        asset_id: Option<&'a str> = |row| row.asset_id.as_deref() => Nullable<Text>,
        purchase_order_id: Option<&'a str> = |row| row.purchase_order_id.as_deref() => Nullable<Text>,
        bank_id: &'a str = |row| row.bank_id.as_str() => Text,
        kind: &'a str = |row| row.kind.as_str() => Text,
        amount_minor: i64 = |row| row.amount_minor => BigInt,
        currency: &'a str = |row| row.currency.as_str() => Text,
        status: LienStatus = |row| row.status => Text,
        leaf_hash: &'a [u8] = |row| row.leaf_hash.as_slice() => Binary,
        created_at: NaiveDateTime = |row| row.created_at => Timestamp,
        ended_at: Option<NaiveDateTime> = |row| row.ended_at => Nullable<Timestamp>,
        offer_id: Option<&'a str> = |row| row.offer_id.as_deref() => Nullable<Text>,
        share_minor: Option<i64> = |row| row.share_minor => Nullable<BigInt>,
        disbursed_minor: i64 = |row| row.disbursed_minor => BigInt,
        repaid_minor: i64 = |row| row.repaid_minor => BigInt,
    }
}

pub fn find_lien(connection: &mut DbConnection, id: &str) -> QueryResult<Option<LienRow>> {
    liens::table
        .find(id)
        .select(LienRow::as_select())
        .first(connection)
        .optional()
}

pub fn active_lien_on_asset(connection: &mut DbConnection, asset_id: &str) -> QueryResult<Option<LienRow>> {
    liens::table
        .filter(liens::asset_id.eq(asset_id))
        .filter(lien_is_active())
        .select(LienRow::as_select())
        .first(connection)
        .optional()
}

pub fn active_lien_on_purchase_order(
    connection: &mut DbConnection,
    purchase_order_id: &str,
) -> QueryResult<Option<LienRow>> {
    liens::table
        .filter(liens::purchase_order_id.eq(purchase_order_id))
        .filter(lien_is_active())
        .select(LienRow::as_select())
        .first(connection)
        .optional()
}

/// The active liens on any of these assets.
pub fn active_liens_on_assets(connection: &mut DbConnection, asset_ids: &[String]) -> QueryResult<Vec<LienRow>> {
    liens::table
        .filter(liens::asset_id.eq_any(asset_ids))
        .filter(lien_is_active())
        .select(LienRow::as_select())
        .load(connection)
}

/// The active liens on any of these purchase orders.
pub fn active_liens_on_purchase_orders(
    connection: &mut DbConnection,
    purchase_order_ids: &[String],
) -> QueryResult<Vec<LienRow>> {
    liens::table
        .filter(liens::purchase_order_id.eq_any(purchase_order_ids))
        .filter(lien_is_active())
        .select(LienRow::as_select())
        .load(connection)
}

/// The ids of every asset minted from the receivable (its root and any
/// split children). Callers then ask about liens on exactly these ids: a
/// join or `IN (subquery)` lets PostgreSQL, with statistics that lag a
/// young table, hash every active lien for one look-up.
pub fn asset_ids_of(connection: &mut DbConnection, receivable_id: &str) -> QueryResult<Vec<String>> {
    assets::table
        .filter(assets::receivable_id.eq(receivable_id))
        .select(assets::id)
        .load(connection)
}

/// Which of these assets and purchase orders carry an active lien: for
/// look-ups, which tell only whether there is one. Two indexed reads, not
/// one with `OR`, which SQLite answered by scanning every lien.
pub fn actively_liened(
    connection: &mut DbConnection,
    asset_ids: &[&str],
    purchase_order_ids: &[&str],
) -> QueryResult<(Vec<String>, Vec<String>)> {
    let assets = if asset_ids.is_empty() {
        Vec::new()
    } else {
        load_in!(
            &mut *connection,
            liens::table
                .filter(lien_is_active())
                .select(liens::asset_id.assume_not_null()),
            liens::asset_id,
            asset_ids
        )?
    };
    let orders = if purchase_order_ids.is_empty() {
        Vec::new()
    } else {
        load_in!(
            connection,
            liens::table
                .filter(lien_is_active())
                .select(liens::purchase_order_id.assume_not_null()),
            liens::purchase_order_id,
            purchase_order_ids
        )?
    };
    Ok((assets, orders))
}

/// Whether the bank holds a lien on any of these assets, or held one that
/// the payment settled (a released lien gives no more sight: the asset may
/// be financed by another bank since).
pub fn bank_has_lien_on_assets(
    connection: &mut DbConnection,
    asset_ids: &[String],
    bank_id: &str,
) -> QueryResult<bool> {
    if asset_ids.is_empty() {
        return Ok(false);
    }
    diesel::select(diesel::dsl::exists(
        liens::table
            .filter(liens::asset_id.eq_any(asset_ids))
            .filter(liens::bank_id.eq(bank_id))
            .filter(liens::status.eq_any(SIGHTED)),
    ))
    .get_result(connection)
}

/// The asset's active or settling lien: the one its view shows.
pub fn standing_lien_on_asset(connection: &mut DbConnection, asset_id: &str) -> QueryResult<Option<LienRow>> {
    liens::table
        .filter(liens::asset_id.eq(asset_id))
        .filter(liens::status.eq_any(LienStatus::STANDING))
        .order(liens::created_at.desc())
        .select(LienRow::as_select())
        .first(connection)
        .optional()
}

/// `active → released`; false when it was not active.
pub fn release_lien(connection: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let from = LienStatus::sources(LienStatus::Released);
    diesel::update(liens::table.filter(liens::id.eq(id)).filter(liens::status.eq_any(from)))
        .set((liens::status.eq(LienStatus::Released), liens::ended_at.eq(now)))
        .execute(connection)
        .map(|updated| updated == 1)
}

/// `active → settling`: the buyer's payment paid the bank `share_minor`;
/// the lien lasts until the bank's receipt. False when it was not active.
pub fn settle_lien(connection: &mut DbConnection, id: &str, share_minor: i64) -> QueryResult<bool> {
    let from = LienStatus::sources(LienStatus::Settling);
    diesel::update(liens::table.filter(liens::id.eq(id)).filter(liens::status.eq_any(from)))
        .set((
            liens::status.eq(LienStatus::Settling),
            liens::share_minor.eq(share_minor),
        ))
        .execute(connection)
        .map(|updated| updated == 1)
}

/// `settling → settled`, on the bank's receipt; false when it was not
/// settling.
pub fn close_lien(connection: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        liens::table
            .filter(liens::id.eq(id))
            .filter(liens::status.eq_any(LienStatus::sources(LienStatus::Settled))),
    )
    .set((liens::status.eq(LienStatus::Settled), liens::ended_at.eq(now)))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Adds a disbursement to an active lien, only while what is disbursed
/// stays within the lien's amount; false otherwise. The conditional update
/// is the check, so racing disbursements cannot exceed it together.
pub fn add_disbursement(connection: &mut DbConnection, id: &str, amount_minor: i64) -> QueryResult<bool> {
    diesel::update(
        liens::table
            .filter(liens::id.eq(id))
            .filter(lien_is_active())
            // No sum that could overflow BIGINT: disbursed <= amount - x.
            .filter(liens::disbursed_minor.le(liens::amount_minor - amount_minor)),
    )
    .set(liens::disbursed_minor.eq(liens::disbursed_minor + amount_minor))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Adds a repayment to an active or settling lien, only while what is
/// repaid stays within what was disbursed; false otherwise.
pub fn add_repayment(connection: &mut DbConnection, id: &str, amount_minor: i64) -> QueryResult<bool> {
    diesel::update(
        liens::table
            .filter(liens::id.eq(id))
            .filter(liens::status.eq_any(LienStatus::STANDING))
            .filter(liens::repaid_minor.le(liens::disbursed_minor - amount_minor)),
    )
    .set(liens::repaid_minor.eq(liens::repaid_minor + amount_minor))
    .execute(connection)
    .map(|updated| updated == 1)
}

pub fn insert_loan_record(connection: &mut DbConnection, row: &LoanRecordRow) -> QueryResult<()> {
    diesel::insert_into(loan_records::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

/// A lien's loan records, oldest first.
pub fn loan_records_of(connection: &mut DbConnection, lien_id: &str) -> QueryResult<Vec<LoanRecordRow>> {
    loan_records::table
        .filter(loan_records::lien_id.eq(lien_id))
        .order((loan_records::created_at.asc(), loan_records::id.asc()))
        .select(LoanRecordRow::as_select())
        .load(connection)
}

/// The lien that accepted each of these offers, as (offer, lien) pairs.
pub fn liens_of_offers(connection: &mut DbConnection, offer_ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    if offer_ids.is_empty() {
        return Ok(Vec::new());
    }
    liens::table
        .filter(liens::offer_id.eq_any(offer_ids))
        .select((liens::offer_id.assume_not_null(), liens::id))
        .load(connection)
}

/// Whether the bank holds, or held until the payment settled it, a lien on
/// the purchase order.
pub fn bank_has_lien_on_purchase_order(
    connection: &mut DbConnection,
    purchase_order_id: &str,
    bank_id: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        liens::table
            .filter(liens::purchase_order_id.eq(purchase_order_id))
            .filter(liens::bank_id.eq(bank_id))
            .filter(liens::status.eq_any(SIGHTED)),
    ))
    .get_result(connection)
}

/// Locks the asset row for the rest of the transaction (PostgreSQL: a row
/// lock; SQLite: the write lock is held already) if it is active; false
/// otherwise. Pledges, assignments, splits and payments all take it first,
/// so they serialise per asset.
pub fn lock_active_asset(connection: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        assets::table
            .filter(assets::id.eq(id))
            .filter(assets::status.eq(AssetStatus::Active)),
    )
    .set(assets::updated_at.eq(now))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Reads and locks these assets, whatever their status, for the rest of the
/// transaction: on PostgreSQL row locks taken in id order (every batch
/// locks in that order, so two batches cannot deadlock), on SQLite the
/// write lock the transaction already holds. The rows are the latest
/// committed versions.
pub fn lock_assets(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<AssetRow>> {
    let in_order = assets::table.filter(assets::id.eq_any(ids)).order(assets::id.asc());
    match connection {
        DbConnection::Postgresql(inner) => in_order.select(AssetRow::as_select()).for_no_key_update().load(inner),
        DbConnection::Sqlite(inner) => in_order.select(AssetRow::as_select()).load(inner),
    }
}

/// Shares these purchase orders' row locks for the rest of the transaction
/// (PostgreSQL; on SQLite the write lock is held already). An asset pledge
/// holds them while it reads the orders' liens, so a pledge of the order
/// itself, which locks the row exclusively ([`lock_purchase_order`]),
/// cannot commit unseen in between; asset pledges do not wait for each
/// other.
pub fn share_purchase_orders(connection: &mut DbConnection, ids: &[String]) -> QueryResult<()> {
    if let DbConnection::Postgresql(inner) = connection {
        if !ids.is_empty() {
            purchase_orders::table
                .filter(purchase_orders::id.eq_any(ids))
                .order(purchase_orders::id.asc())
                .select(purchase_orders::id)
                .for_share()
                .load::<String>(inner)?;
        }
    }
    Ok(())
}

/// Locks a purchase order's row for a pledge of the order (PostgreSQL; on
/// SQLite the write lock is held already): asset pledges of its
/// receivables wait, and are waited for.
pub fn lock_purchase_order(connection: &mut DbConnection, id: &str) -> QueryResult<()> {
    if let DbConnection::Postgresql(inner) = connection {
        purchase_orders::table
            .find(id)
            .select(purchase_orders::id)
            .for_no_key_update()
            .load::<String>(inner)?;
    }
    Ok(())
}

/// The banks holding active liens on assets minted from the order's
/// receivables.
pub fn lienholders_under_purchase_order(
    connection: &mut DbConnection,
    purchase_order_id: &str,
) -> QueryResult<Vec<String>> {
    let asset_ids: Vec<String> = assets::table
        .inner_join(receivables::table)
        .filter(receivables::purchase_order_id.eq(purchase_order_id))
        .select(assets::id)
        .load(connection)?;
    if asset_ids.is_empty() {
        return Ok(Vec::new());
    }
    liens::table
        .filter(liens::asset_id.eq_any(&asset_ids))
        .filter(lien_is_active())
        .select(liens::bank_id)
        .load(connection)
}

/// Marks active assets as changed now, as [`lock_active_asset`] does.
pub fn touch_active_assets(connection: &mut DbConnection, ids: &[String], now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        assets::table
            .filter(assets::id.eq_any(ids))
            .filter(assets::status.eq(AssetStatus::Active)),
    )
    .set(assets::updated_at.eq(now))
    .execute(connection)
}

/// Sets an active asset's holder (assignment).
pub fn set_holder(connection: &mut DbConnection, id: &str, holder_id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        assets::table
            .filter(assets::id.eq(id))
            .filter(assets::status.eq(AssetStatus::Active)),
    )
    .set((assets::holder_id.eq(holder_id), assets::updated_at.eq(now)))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// `active | defaulted → settled`, or `active → defaulted`.
pub fn end_asset(connection: &mut DbConnection, id: &str, to: AssetStatus, now: NaiveDateTime) -> QueryResult<bool> {
    let from = AssetStatus::sources(to);
    diesel::update(
        assets::table
            .filter(assets::id.eq(id))
            .filter(assets::status.eq_any(from)),
    )
    .set((assets::status.eq(to), assets::updated_at.eq(now)))
    .execute(connection)
    .map(|updated| updated == 1)
}

pub fn insert_payment(connection: &mut DbConnection, row: &PaymentRow) -> QueryResult<()> {
    diesel::insert_into(payments::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn find_idempotency(
    connection: &mut DbConnection,
    organization_id: &str,
    key: &str,
) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table
        .find((organization_id, key))
        .select(IdempotencyRow::as_select())
        .first(connection)
        .optional()
}

/// The stored answers under any of these (organisation, key) pairs.
pub fn find_idempotency_many(
    connection: &mut DbConnection,
    pairs: &[(String, String)],
) -> QueryResult<Vec<IdempotencyRow>> {
    let organizations: Vec<&str> = pairs.iter().map(|(organization, _)| organization.as_str()).collect();
    let keys: Vec<&str> = pairs.iter().map(|(_, key)| key.as_str()).collect();
    let rows: Vec<IdempotencyRow> = match connection {
        // One primary-key probe per pair. With `organization_id = ANY AND
        // idempotency_key = ANY` PostgreSQL's B-tree probes every
        // combination of the two arrays (a batch of 15 pledges: 225
        // descents, 0.6-0.9 ms, the pledge batch's slowest statement).
        DbConnection::Postgresql(inner) => IdempotencyPairs { organizations, keys }.load(inner)?,
        DbConnection::Sqlite(_) => idempotency_keys::table
            .filter(idempotency_keys::idempotency_key.eq_any(keys))
            .filter(idempotency_keys::organization_id.eq_any(organizations))
            .select(IdempotencyRow::as_select())
            .load(connection)?,
    };
    Ok(rows
        .into_iter()
        .filter(|row| {
            pairs
                .iter()
                .any(|(organization, key)| *organization == row.organization_id && *key == row.idempotency_key)
        })
        .collect())
}

/// The stored answers under (organisation, key) pairs given as two arrays,
/// joined with the primary key pair by pair; its SQL never changes, so
/// diesel prepares it once per connection.
struct IdempotencyPairs<'a> {
    organizations: Vec<&'a str>,
    keys: Vec<&'a str>,
}

impl diesel::query_builder::QueryId for IdempotencyPairs<'_> {
    type QueryId = IdempotencyPairs<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for IdempotencyPairs<'_> {
    type SqlType = (
        diesel::sql_types::Text,
        diesel::sql_types::Text,
        diesel::sql_types::Binary,
        diesel::sql_types::Text,
        diesel::sql_types::Timestamp,
    );
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for IdempotencyPairs<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::pg::sql_types::Array;
        use diesel::sql_types::Text;
        out.push_sql(
            "SELECT k.organization_id, k.idempotency_key, k.request_sha256, k.response_body, k.created_at \
             FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.organizations)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.keys)?;
        out.push_sql(
            ") AS p (organization_id, idempotency_key) JOIN idempotency_keys k \
             ON k.organization_id = p.organization_id AND k.idempotency_key = p.idempotency_key",
        );
        Ok(())
    }
}

impl RunQueryDsl<diesel::PgConnection> for IdempotencyPairs<'_> {}

pub fn insert_idempotency_many(connection: &mut DbConnection, rows: &[IdempotencyRow]) -> QueryResult<()> {
    IdempotencyArrays::insert(connection, rows).map(|_| ())
}

unnest_insert! {
    /// Stored answers to Idempotency-Keys as arrays.
    IdempotencyArrays for IdempotencyRow => idempotency_keys {
        organization_id: &'a str = |row| row.organization_id.as_str() => Text,
        idempotency_key: &'a str = |row| row.idempotency_key.as_str() => Text,
        request_sha256: &'a [u8] = |row| row.request_sha256.as_slice() => Binary,
        response_body: &'a str = |row| row.response_body.as_str() => Text,
        created_at: NaiveDateTime = |row| row.created_at => Timestamp,
    }
}

pub fn insert_idempotency(connection: &mut DbConnection, row: &IdempotencyRow) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

/// `confirmed | defaulted → to` for a receivable.
pub fn end_receivable(
    connection: &mut DbConnection,
    id: &str,
    to: ReceivableStatus,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    use super::schema::receivables;
    diesel::update(
        receivables::table
            .filter(receivables::id.eq(id))
            .filter(receivables::status.eq_any(ReceivableStatus::sources(to))),
    )
    .set((receivables::status.eq(to), receivables::decided_at.eq(now)))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Whether any asset of the receivable is still active or defaulted.
pub fn receivable_has_open_assets(connection: &mut DbConnection, receivable_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        assets::table
            .filter(assets::receivable_id.eq(receivable_id))
            .filter(assets::status.eq_any([AssetStatus::Active, AssetStatus::Defaulted])),
    ))
    .get_result(connection)
}

/// Active assets whose receivable fell due before `today`, at most `limit`.
pub fn overdue_assets(
    connection: &mut DbConnection,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<(String, String)>> {
    use super::schema::receivables;
    assets::table
        .inner_join(receivables::table)
        .filter(assets::status.eq(AssetStatus::Active))
        .filter(receivables::due_date.lt(today))
        .select((assets::id, assets::receivable_id))
        .limit(limit)
        .load(connection)
}
