//! Rows and repository functions of financing offers. "At most one open
//! offer per asset (per purchase order)" is the partial unique indexes of
//! the `consent` migration; an offer is open to a bank only before its
//! `expires_at`, which every question below asks of the database with the
//! caller's `now`.

use crate::domain::OfferStatus;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::offers;
use super::DbConnection;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = offers)]
pub struct OfferRow {
    pub id: String,
    pub asset_id: Option<String>,
    pub purchase_order_id: Option<String>,
    pub holder_id: String,
    pub bank_id: String,
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
    pub expires_at: NaiveDateTime,
    pub status: OfferStatus,
    pub leaf_hash: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

impl OfferRow {
    /// Open, and not yet past its expiry at `now`.
    pub fn is_open_at(&self, now: NaiveDateTime) -> bool {
        self.status == OfferStatus::Open && self.expires_at > now
    }

    /// The status as the API shows it: an open offer past its expiry has
    /// lapsed, whether or not the sweep recorded it yet.
    pub fn status_at(&self, now: NaiveDateTime) -> OfferStatus {
        if self.status == OfferStatus::Open && self.expires_at <= now {
            OfferStatus::Lapsed
        } else {
            self.status
        }
    }
}

/// `offers.status = 'open'`, written into the statement (as
/// `lending::lien_is_active`, for the partial unique indexes that keep one
/// open offer per asset and per purchase order).
fn offer_is_open() -> diesel::dsl::Eq<offers::status, diesel::expression::SqlLiteral<diesel::sql_types::Text>> {
    offers::status.eq(diesel::dsl::sql::<diesel::sql_types::Text>("'open'"))
}

pub fn insert_offer(connection: &mut DbConnection, row: &OfferRow) -> QueryResult<()> {
    diesel::insert_into(offers::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn find_offer(connection: &mut DbConnection, id: &str) -> QueryResult<Option<OfferRow>> {
    offers::table
        .find(id)
        .select(OfferRow::as_select())
        .first(connection)
        .optional()
}

pub fn find_offers(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<OfferRow>> {
    offers::table
        .filter(offers::id.eq_any(ids))
        .select(OfferRow::as_select())
        .load(connection)
}

/// The offer of the asset (or purchase order) whose status is `open`,
/// expired or not: the one the unique index counts.
pub fn open_offer_on(
    connection: &mut DbConnection,
    asset_id: Option<&str>,
    purchase_order_id: Option<&str>,
) -> QueryResult<Option<OfferRow>> {
    let query = offers::table.filter(offer_is_open()).into_boxed();
    let query = match (asset_id, purchase_order_id) {
        (Some(asset_id), _) => query.filter(offers::asset_id.eq(asset_id.to_owned())),
        (None, Some(order_id)) => query.filter(offers::purchase_order_id.eq(order_id.to_owned())),
        (None, None) => return Ok(None),
    };
    query.select(OfferRow::as_select()).first(connection).optional()
}

/// `open → to` (taken, withdrawn or lapsed); false when it was not open.
pub fn end_offer(connection: &mut DbConnection, id: &str, to: OfferStatus, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        offers::table
            .filter(offers::id.eq(id))
            .filter(offers::status.eq_any(OfferStatus::sources(to))),
    )
    .set((offers::status.eq(to), offers::ended_at.eq(now)))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// `open → taken` for all of these offers, if still open and unexpired;
/// returns how many were.
pub fn take_offers(connection: &mut DbConnection, ids: &[String], now: NaiveDateTime) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        offers::table
            .filter(offers::id.eq_any(ids))
            .filter(offer_is_open())
            .filter(offers::expires_at.gt(now)),
    )
    .set((offers::status.eq(OfferStatus::Taken), offers::ended_at.eq(now)))
    .execute(connection)
}

/// Open offers whose expiry passed before `now`, at most `limit`.
pub fn expired_open_offers(
    connection: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OfferRow>> {
    offers::table
        .filter(offer_is_open())
        .filter(offers::expires_at.le(now))
        .order(offers::expires_at.asc())
        .limit(limit)
        .select(OfferRow::as_select())
        .load(connection)
}

/// Whether an offer of any of these assets is open to the bank at `now`.
pub fn bank_has_open_offer_on_assets(
    connection: &mut DbConnection,
    asset_ids: &[String],
    bank_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    if asset_ids.is_empty() {
        return Ok(false);
    }
    diesel::select(diesel::dsl::exists(
        offers::table
            .filter(offers::asset_id.eq_any(asset_ids))
            .filter(offers::bank_id.eq(bank_id))
            .filter(offer_is_open())
            .filter(offers::expires_at.gt(now)),
    ))
    .get_result(connection)
}

/// Whether an offer of the purchase order is open to the bank at `now`.
pub fn bank_has_open_offer_on_purchase_order(
    connection: &mut DbConnection,
    purchase_order_id: &str,
    bank_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        offers::table
            .filter(offers::purchase_order_id.eq(purchase_order_id))
            .filter(offers::bank_id.eq(bank_id))
            .filter(offer_is_open())
            .filter(offers::expires_at.gt(now)),
    ))
    .get_result(connection)
}

/// Which offers a list shows.
#[derive(Debug, Clone, Default)]
pub struct OfferFilter {
    /// Offers made or received by this organisation; `None`: all (the
    /// operator).
    pub party: Option<String>,
    /// As the API shows them (an open offer past its expiry: lapsed).
    pub status: Option<OfferStatus>,
    /// Items strictly after this position (older).
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Offers newest first, by the filter, as of `now`.
pub fn offers_for(
    connection: &mut DbConnection,
    filter: &OfferFilter,
    now: NaiveDateTime,
) -> QueryResult<Vec<OfferRow>> {
    let mut query = offers::table.into_boxed();
    if let Some(party) = &filter.party {
        query = query.filter(
            offers::holder_id
                .eq(party.clone())
                .or(offers::bank_id.eq(party.clone())),
        );
    }
    query = match filter.status {
        Some(OfferStatus::Open) => query.filter(offer_is_open()).filter(offers::expires_at.gt(now)),
        Some(OfferStatus::Lapsed) => query.filter(
            offers::status
                .eq(OfferStatus::Lapsed)
                .or(offer_is_open().and(offers::expires_at.le(now))),
        ),
        Some(status) => query.filter(offers::status.eq(status)),
        None => query,
    };
    if let Some((created_at, id)) = &filter.after {
        query = query.filter(
            offers::created_at
                .lt(*created_at)
                .or(offers::created_at.eq(*created_at).and(offers::id.lt(id.clone()))),
        );
    }
    query
        .order((offers::created_at.desc(), offers::id.desc()))
        .limit(filter.limit)
        .select(OfferRow::as_select())
        .load(connection)
}
