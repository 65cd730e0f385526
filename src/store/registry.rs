//! Rows and repository functions of purchase orders, receivables and
//! assets. State changes are conditional `UPDATE`s (`WHERE status = …`), so a
//! racing second request changes nothing and the use case reports a
//! conflict, on either backend and across server processes.

use crate::domain::{AssetStatus, PurchaseOrderStatus, ReceivableStatus};
use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{assets, purchase_orders, receivables};
use super::{DbConnection, Replanned};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = purchase_orders)]
pub struct PurchaseOrderRow {
    pub id: String,
    pub fingerprint: Vec<u8>,
    pub supplier_id: String,
    pub buyer_id: String,
    pub po_number: String,
    pub issue_date: NaiveDate,
    pub currency: String,
    pub amount_minor: i64,
    pub invoiced_minor: i64,
    pub status: PurchaseOrderStatus,
    pub leaf_hash: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = receivables)]
pub struct ReceivableRow {
    pub id: String,
    pub fingerprint: Vec<u8>,
    pub supplier_id: String,
    pub buyer_id: String,
    pub invoice_number: String,
    pub purchase_order_id: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub amount_minor: i64,
    pub status: ReceivableStatus,
    pub dispute_reason: Option<String>,
    pub leaf_hash: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    /// The sum of the credit notes recorded against it.
    pub credited_minor: i64,
    /// The corrected invoice that replaced it, if one did.
    pub superseded_by: Option<String>,
    /// The order the invoice names, when no purchase order registered
    /// here has that number.
    pub order_reference: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assets)]
pub struct AssetRow {
    pub id: String,
    pub receivable_id: String,
    pub parent_id: Option<String>,
    pub position: i32,
    pub holder_id: String,
    pub face_value_minor: i64,
    pub currency: String,
    pub status: AssetStatus,
    pub leaf_hash: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

// Purchase orders.

pub fn insert_purchase_order(connection: &mut DbConnection, row: &PurchaseOrderRow) -> QueryResult<()> {
    diesel::insert_into(purchase_orders::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn find_purchase_order(connection: &mut DbConnection, id: &str) -> QueryResult<Option<PurchaseOrderRow>> {
    purchase_orders::table
        .find(id)
        .select(PurchaseOrderRow::as_select())
        .first(connection)
        .optional()
}

pub fn find_purchase_order_by_fingerprint(
    connection: &mut DbConnection,
    fingerprint: &[u8; 32],
) -> QueryResult<Option<PurchaseOrderRow>> {
    purchase_orders::table
        .filter(purchase_orders::fingerprint.eq(fingerprint.as_slice()))
        .select(PurchaseOrderRow::as_select())
        .first(connection)
        .optional()
}

/// `registered → acknowledged`; false when the order was not `registered`.
pub fn acknowledge_purchase_order(connection: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        purchase_orders::table
            .filter(purchase_orders::id.eq(id))
            .filter(purchase_orders::status.eq_any(PurchaseOrderStatus::sources(PurchaseOrderStatus::Acknowledged))),
    )
    .set((
        purchase_orders::status.eq(PurchaseOrderStatus::Acknowledged),
        purchase_orders::acknowledged_at.eq(now),
    ))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Adds `amount_minor` to what is invoiced against an open order, only if
/// the total stays within the order's amount; false otherwise.
pub fn add_invoiced(connection: &mut DbConnection, id: &str, amount_minor: i64) -> QueryResult<bool> {
    diesel::update(
        purchase_orders::table
            .filter(purchase_orders::id.eq(id))
            .filter(
                purchase_orders::status.eq_any([PurchaseOrderStatus::Registered, PurchaseOrderStatus::Acknowledged]),
            )
            // Written so that no sum can overflow BIGINT (PostgreSQL would
            // fail the statement): invoiced <= amount - x.
            .filter(purchase_orders::invoiced_minor.le(purchase_orders::amount_minor - amount_minor)),
    )
    .set(purchase_orders::invoiced_minor.eq(purchase_orders::invoiced_minor + amount_minor))
    .execute(connection)
    .map(|updated| updated == 1)
}

// Receivables.

/// Many receivables, one statement (`store::arrays`).
pub fn insert_receivables(connection: &mut DbConnection, rows: &[ReceivableRow]) -> QueryResult<()> {
    ReceivableArrays::insert(connection, rows).map(|_| ())
}

unnest_insert! {
    /// Receivables as arrays.
    ReceivableArrays for ReceivableRow => receivables {
        id: &'a str = |row| row.id.as_str() => Text,
        fingerprint: &'a [u8] = |row| row.fingerprint.as_slice() => Binary,
        supplier_id: &'a str = |row| row.supplier_id.as_str() => Text,
        buyer_id: &'a str = |row| row.buyer_id.as_str() => Text,
        invoice_number: &'a str = |row| row.invoice_number.as_str() => Text,
        purchase_order_id: Option<&'a str> = |row| row.purchase_order_id.as_deref() => Nullable<Text>,
        issue_date: NaiveDate = |row| row.issue_date => Date,
        due_date: NaiveDate = |row| row.due_date => Date,
        currency: &'a str = |row| row.currency.as_str() => Text,
        amount_minor: i64 = |row| row.amount_minor => BigInt,
        status: ReceivableStatus = |row| row.status => Text,
        dispute_reason: Option<&'a str> = |row| row.dispute_reason.as_deref() => Nullable<Text>,
        leaf_hash: &'a [u8] = |row| row.leaf_hash.as_slice() => Binary,
        created_at: NaiveDateTime = |row| row.created_at => Timestamp,
        decided_at: Option<NaiveDateTime> = |row| row.decided_at => Nullable<Timestamp>,
        credited_minor: i64 = |row| row.credited_minor => BigInt,
        superseded_by: Option<&'a str> = |row| row.superseded_by.as_deref() => Nullable<Text>,
        order_reference: Option<&'a str> = |row| row.order_reference.as_deref() => Nullable<Text>,
    }
}

pub fn insert_receivable(connection: &mut DbConnection, row: &ReceivableRow) -> QueryResult<()> {
    diesel::insert_into(receivables::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn find_receivable(connection: &mut DbConnection, id: &str) -> QueryResult<Option<ReceivableRow>> {
    receivables::table
        .find(id)
        .select(ReceivableRow::as_select())
        .first(connection)
        .optional()
}

pub fn find_receivables(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<ReceivableRow>> {
    receivables::table
        .filter(receivables::id.eq_any(ids))
        .select(ReceivableRow::as_select())
        .load(connection)
}

pub fn find_receivable_by_fingerprint(
    connection: &mut DbConnection,
    fingerprint: &[u8; 32],
) -> QueryResult<Option<ReceivableRow>> {
    receivables::table
        .filter(receivables::fingerprint.eq(fingerprint.as_slice()))
        .select(ReceivableRow::as_select())
        .first(connection)
        .optional()
}

pub fn find_receivables_by_fingerprints(
    connection: &mut DbConnection,
    fingerprints: &[Vec<u8>],
) -> QueryResult<Vec<ReceivableRow>> {
    if fingerprints.is_empty() {
        return Ok(Vec::new());
    }
    // Registrations grow the table fastest: planned each time (`Replanned`).
    Replanned(
        receivables::table
            .filter(receivables::fingerprint.eq_any(fingerprints))
            .select(ReceivableRow::as_select()),
    )
    .load(connection)
}

/// Receivables alike any of `likenesses` (seller, buyer, issue date,
/// currency, amount), oldest first — on PostgreSQL only the oldest of each:
/// [`near_duplicates`] for many in one query.
pub fn receivables_alike(
    connection: &mut DbConnection,
    likenesses: &[(String, String, NaiveDate, String, i64)],
) -> QueryResult<Vec<ReceivableRow>> {
    if likenesses.is_empty() {
        return Ok(Vec::new());
    }
    if let DbConnection::Postgresql(inner) = connection {
        return oldest_alike(inner, likenesses);
    }
    // One condition per seller, buyer, date and currency with the amounts
    // as a list: an upload's rows mostly share all but the amount, and a
    // disjunction of hundreds of five-column conditions costs PostgreSQL
    // more to plan than to run.
    let mut groups: BTreeMap<(&str, &str, NaiveDate, &str), Vec<i64>> = BTreeMap::new();
    for (supplier_id, buyer_id, issue_date, currency, amount_minor) in likenesses {
        groups
            .entry((supplier_id, buyer_id, *issue_date, currency))
            .or_default()
            .push(*amount_minor);
    }
    let mut query = receivables::table.select(ReceivableRow::as_select()).into_boxed();
    for ((supplier_id, buyer_id, issue_date, currency), mut amounts) in groups {
        amounts.sort_unstable();
        amounts.dedup();
        query = query.or_filter(
            receivables::supplier_id
                .eq(supplier_id)
                .and(receivables::buyer_id.eq(buyer_id))
                .and(receivables::issue_date.eq(issue_date))
                .and(receivables::currency.eq(currency))
                .and(receivables::amount_minor.eq_any(amounts)),
        );
    }
    query
        .order((receivables::created_at.asc(), receivables::id.asc()))
        .load(connection)
}

/// PostgreSQL: the oldest receivable of each likeness, by one index probe
/// per likeness. Written as a lateral join because the planner, told that
/// many receivables share a seller, buyer, date and currency, would
/// otherwise read them all and filter by amount — a cost that grows with
/// the table (an upload's chunks slowed from 10 to 300 ms at 100,000 rows).
fn oldest_alike(
    connection: &mut diesel::PgConnection,
    likenesses: &[(String, String, NaiveDate, String, i64)],
) -> QueryResult<Vec<ReceivableRow>> {
    use diesel::pg::sql_types::Array;
    use diesel::sql_types::{BigInt, Date, Text};
    let mut suppliers = Vec::with_capacity(likenesses.len());
    let mut buyers = Vec::with_capacity(likenesses.len());
    let mut dates = Vec::with_capacity(likenesses.len());
    let mut currencies = Vec::with_capacity(likenesses.len());
    let mut amounts = Vec::with_capacity(likenesses.len());
    for (supplier_id, buyer_id, issue_date, currency, amount_minor) in likenesses {
        suppliers.push(supplier_id.as_str());
        buyers.push(buyer_id.as_str());
        dates.push(*issue_date);
        currencies.push(currency.as_str());
        amounts.push(*amount_minor);
    }
    diesel::sql_query(
        "SELECT r.* FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::bigint[]) \
             AS l (supplier_id, buyer_id, issue_date, currency, amount_minor) \
         CROSS JOIN LATERAL (SELECT * FROM receivables r \
             WHERE r.supplier_id = l.supplier_id AND r.buyer_id = l.buyer_id \
               AND r.issue_date = l.issue_date AND r.currency = l.currency \
               AND r.amount_minor = l.amount_minor \
             ORDER BY r.created_at, r.id LIMIT 1) r",
    )
    .bind::<Array<Text>, _>(suppliers)
    .bind::<Array<Text>, _>(buyers)
    .bind::<Array<Date>, _>(dates)
    .bind::<Array<Text>, _>(currencies)
    .bind::<Array<BigInt>, _>(amounts)
    .load(connection)
}

/// A receivable as a look-up reads it: fingerprint, id, status, purchase
/// order.
pub type LookupReceivableRow = (Vec<u8>, String, ReceivableStatus, Option<String>);

/// What an encumbrance look-up needs of the receivables with any of these
/// (stored) fingerprints.
pub fn receivables_for_lookup(
    connection: &mut DbConnection,
    fingerprints: &[&[u8]],
) -> QueryResult<Vec<LookupReceivableRow>> {
    load_in!(
        connection,
        receivables::table.select((
            receivables::fingerprint,
            receivables::id,
            receivables::status,
            receivables::purchase_order_id,
        )),
        receivables::fingerprint,
        bytes fingerprints
    )
}

/// The assets minted from any of these receivables, as (receivable, asset).
/// A query of its own rather than a join with the receivables: joined,
/// PostgreSQL hashed every asset for each batch of look-ups (625 µs a batch
/// of 19 with 5,000 assets, half its time in the look-up phase).
pub fn assets_of_receivables(
    connection: &mut DbConnection,
    receivable_ids: &[&str],
) -> QueryResult<Vec<(String, String)>> {
    if receivable_ids.is_empty() {
        return Ok(Vec::new());
    }
    load_in!(
        connection,
        assets::table.select((assets::receivable_id, assets::id)),
        assets::receivable_id,
        receivable_ids
    )
}

/// What an encumbrance look-up needs of the purchase orders with any of
/// these (stored) fingerprints: fingerprint, id, status.
pub fn purchase_orders_for_lookup(
    connection: &mut DbConnection,
    fingerprints: &[&[u8]],
) -> QueryResult<Vec<(Vec<u8>, String, PurchaseOrderStatus)>> {
    load_in!(
        connection,
        purchase_orders::table.select((
            purchase_orders::fingerprint,
            purchase_orders::id,
            purchase_orders::status,
        )),
        purchase_orders::fingerprint,
        bytes fingerprints
    )
}

/// Receivables of the same seller and buyer with the same amount and issue
/// date (a likely re-registration under another number).
pub fn near_duplicates(
    connection: &mut DbConnection,
    supplier_id: &str,
    buyer_id: &str,
    issue_date: NaiveDate,
    currency: &str,
    amount_minor: i64,
) -> QueryResult<Vec<ReceivableRow>> {
    receivables::table
        .filter(receivables::supplier_id.eq(supplier_id))
        .filter(receivables::buyer_id.eq(buyer_id))
        .filter(receivables::issue_date.eq(issue_date))
        .filter(receivables::currency.eq(currency))
        .filter(receivables::amount_minor.eq(amount_minor))
        .order((receivables::created_at.asc(), receivables::id.asc()))
        .limit(10)
        .select(ReceivableRow::as_select())
        .load(connection)
}

/// `registered → confirmed` for every one of `ids` still registered; how
/// many changed.
pub fn confirm_receivables(connection: &mut DbConnection, ids: &[String], now: NaiveDateTime) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        receivables::table
            .filter(receivables::id.eq_any(ids))
            .filter(receivables::status.eq_any(ReceivableStatus::sources(ReceivableStatus::Confirmed))),
    )
    .set((
        receivables::status.eq(ReceivableStatus::Confirmed),
        receivables::decided_at.eq(now),
    ))
    .execute(connection)
}

/// `registered → to`; false when the receivable was not `registered`.
pub fn decide_receivable(
    connection: &mut DbConnection,
    id: &str,
    to: ReceivableStatus,
    dispute_reason: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        receivables::table
            .filter(receivables::id.eq(id))
            .filter(receivables::status.eq_any(ReceivableStatus::sources(to))),
    )
    .set((
        receivables::status.eq(to),
        receivables::dispute_reason.eq(dispute_reason),
        receivables::decided_at.eq(now),
    ))
    .execute(connection)
    .map(|updated| updated == 1)
}

// Assets.

/// Many assets, one statement (`store::arrays`).
pub fn insert_assets(connection: &mut DbConnection, rows: &[AssetRow]) -> QueryResult<()> {
    AssetArrays::insert(connection, rows).map(|_| ())
}

unnest_insert! {
    /// Assets as arrays.
    AssetArrays for AssetRow => assets {
        id: &'a str = |row| row.id.as_str() => Text,
        receivable_id: &'a str = |row| row.receivable_id.as_str() => Text,
        parent_id: Option<&'a str> = |row| row.parent_id.as_deref() => Nullable<Text>,
        position: i32 = |row| row.position => Integer,
        holder_id: &'a str = |row| row.holder_id.as_str() => Text,
        face_value_minor: i64 = |row| row.face_value_minor => BigInt,
        currency: &'a str = |row| row.currency.as_str() => Text,
        status: AssetStatus = |row| row.status => Text,
        leaf_hash: &'a [u8] = |row| row.leaf_hash.as_slice() => Binary,
        created_at: NaiveDateTime = |row| row.created_at => Timestamp,
        updated_at: NaiveDateTime = |row| row.updated_at => Timestamp,
    }
}

pub fn insert_asset(connection: &mut DbConnection, row: &AssetRow) -> QueryResult<()> {
    diesel::insert_into(assets::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn find_asset(connection: &mut DbConnection, id: &str) -> QueryResult<Option<AssetRow>> {
    assets::table
        .find(id)
        .select(AssetRow::as_select())
        .first(connection)
        .optional()
}

pub fn root_asset_of(connection: &mut DbConnection, receivable_id: &str) -> QueryResult<Option<AssetRow>> {
    assets::table
        .filter(assets::receivable_id.eq(receivable_id))
        .filter(assets::parent_id.is_null())
        .select(AssetRow::as_select())
        .first(connection)
        .optional()
}

pub fn children_of(connection: &mut DbConnection, parent_id: &str) -> QueryResult<Vec<AssetRow>> {
    assets::table
        .filter(assets::parent_id.eq(parent_id))
        .order(assets::position.asc())
        .select(AssetRow::as_select())
        .load(connection)
}

/// `active → retired` for the asset's holder; false if it was not active or
/// is held by someone else.
pub fn retire_asset(connection: &mut DbConnection, id: &str, holder_id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        assets::table
            .filter(assets::id.eq(id))
            .filter(assets::holder_id.eq(holder_id))
            .filter(assets::status.eq_any(AssetStatus::sources(AssetStatus::Retired))),
    )
    .set((assets::status.eq(AssetStatus::Retired), assets::updated_at.eq(now)))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Whether `organization_id` holds any asset minted from the receivable.
pub fn holds_asset_of(connection: &mut DbConnection, receivable_id: &str, organization_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        assets::table
            .filter(assets::receivable_id.eq(receivable_id))
            .filter(assets::holder_id.eq(organization_id)),
    ))
    .get_result(connection)
}

/// A supplier's receivables counted and summed (minor units) by status
/// and currency. The sum is cast to `BIGINT` on both backends — never
/// read through `NUMERIC`, which diesel takes through `f64` on SQLite — so
/// a total beyond `i64` is an error, never a rounded figure.
pub fn receivable_totals_of_supplier(
    connection: &mut DbConnection,
    supplier_id: &str,
) -> QueryResult<Vec<(ReceivableStatus, String, i64, i64)>> {
    receivables::table
        .filter(receivables::supplier_id.eq(supplier_id))
        .group_by((receivables::status, receivables::currency))
        .select((
            receivables::status,
            receivables::currency,
            diesel::dsl::count_star(),
            diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(SUM(receivables.amount_minor) AS BIGINT)"),
        ))
        .order((receivables::status.asc(), receivables::currency.asc()))
        .load(connection)
}

/// A supplier's purchase orders counted and summed likewise.
pub fn purchase_order_totals_of_supplier(
    connection: &mut DbConnection,
    supplier_id: &str,
) -> QueryResult<Vec<(PurchaseOrderStatus, String, i64, i64)>> {
    purchase_orders::table
        .filter(purchase_orders::supplier_id.eq(supplier_id))
        .group_by((purchase_orders::status, purchase_orders::currency))
        .select((
            purchase_orders::status,
            purchase_orders::currency,
            diesel::dsl::count_star(),
            diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(SUM(purchase_orders.amount_minor) AS BIGINT)"),
        ))
        .order((purchase_orders::status.asc(), purchase_orders::currency.asc()))
        .load(connection)
}

/// Which party of its receivables an organisation lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Supplier,
    Buyer,
}

/// A page of the receivables `party` is the `side` of, newest first (by
/// creation time, then id), optionally in one status: those after `after`
/// (the last `(created_at, id)` of the page before), at most `limit`; one
/// index range each (`receivables_supplier`, `receivables_buyer`).
pub fn receivables_of(
    connection: &mut DbConnection,
    side: Side,
    party: &str,
    status: Option<ReceivableStatus>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<ReceivableRow>> {
    let mut query = receivables::table
        .select(ReceivableRow::as_select())
        .order((receivables::created_at.desc(), receivables::id.desc()))
        .limit(limit)
        .into_boxed();
    query = match side {
        Side::Supplier => query.filter(receivables::supplier_id.eq(party)),
        Side::Buyer => query.filter(receivables::buyer_id.eq(party)),
    };
    if let Some(status) = status {
        query = query.filter(receivables::status.eq(status));
    }
    if let Some((created_at, id)) = after {
        // `created_at <= t` alone is a bound the index can start from; the
        // `OR` that follows it is not, and without the bound a page deep in
        // the list read every row before it (PostgreSQL: 5,000 rows filtered
        // out for page 101 of 10,000).
        query = query.filter(receivables::created_at.le(created_at)).filter(
            receivables::created_at
                .lt(created_at)
                .or(receivables::created_at.eq(created_at).and(receivables::id.lt(id))),
        );
    }
    query.load(connection)
}

/// A page of the purchase orders `party` is the `side` of, newest first,
/// optionally in one status, after `after`, at most `limit`, as
/// [`receivables_of`] reads receivables; one index range each
/// (`purchase_orders_supplier`, `purchase_orders_buyer`).
pub fn purchase_orders_of(
    connection: &mut DbConnection,
    side: Side,
    party: &str,
    status: Option<PurchaseOrderStatus>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<PurchaseOrderRow>> {
    let mut query = purchase_orders::table
        .select(PurchaseOrderRow::as_select())
        .order((purchase_orders::created_at.desc(), purchase_orders::id.desc()))
        .limit(limit)
        .into_boxed();
    query = match side {
        Side::Supplier => query.filter(purchase_orders::supplier_id.eq(party)),
        Side::Buyer => query.filter(purchase_orders::buyer_id.eq(party)),
    };
    if let Some(status) = status {
        query = query.filter(purchase_orders::status.eq(status));
    }
    if let Some((created_at, id)) = after {
        // `created_at <= t` bounds the index scan, as in `receivables_of`.
        query = query.filter(purchase_orders::created_at.le(created_at)).filter(
            purchase_orders::created_at
                .lt(created_at)
                .or(purchase_orders::created_at
                    .eq(created_at)
                    .and(purchase_orders::id.lt(id))),
        );
    }
    query.load(connection)
}
