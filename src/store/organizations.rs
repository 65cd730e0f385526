//! Rows and repository functions for organisations, their identifiers,
//! keys, risk officers and API keys.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_keys, organization_identifiers, organization_keys, organizations, risk_officers};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub legal_id: String,
    pub legal_id_normalized: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organization_identifiers)]
pub struct OrganizationIdentifierRow {
    pub organization_id: String,
    pub scheme: String,
    pub value: String,
    pub normalized_value: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organization_keys)]
pub struct OrganizationKeyRow {
    pub id: String,
    pub organization_id: String,
    pub public_key: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = risk_officers)]
pub struct RiskOfficerRow {
    pub id: String,
    pub organization_id: String,
    pub email: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub organization_id: String,
    pub risk_officer_id: Option<String>,
    pub secret_sha256: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert_organization(connection: &mut DbConnection, row: &OrganizationRow) -> QueryResult<()> {
    diesel::insert_into(organizations::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn insert_organization_identifier(
    connection: &mut DbConnection,
    row: &OrganizationIdentifierRow,
) -> QueryResult<()> {
    diesel::insert_into(organization_identifiers::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn insert_organization_key(connection: &mut DbConnection, row: &OrganizationKeyRow) -> QueryResult<()> {
    diesel::insert_into(organization_keys::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn insert_risk_officer(connection: &mut DbConnection, row: &RiskOfficerRow) -> QueryResult<()> {
    diesel::insert_into(risk_officers::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn insert_api_key(connection: &mut DbConnection, row: &ApiKeyRow) -> QueryResult<()> {
    diesel::insert_into(api_keys::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn find_organization(connection: &mut DbConnection, id: &str) -> QueryResult<Option<OrganizationRow>> {
    organizations::table
        .find(id)
        .select(OrganizationRow::as_select())
        .first(connection)
        .optional()
}

pub fn find_organizations(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<OrganizationRow>> {
    organizations::table
        .filter(organizations::id.eq_any(ids))
        .select(OrganizationRow::as_select())
        .load(connection)
}

pub fn find_organization_by_normalized_legal_id(
    connection: &mut DbConnection,
    legal_id_normalized: &str,
) -> QueryResult<Option<OrganizationRow>> {
    organizations::table
        .filter(organizations::legal_id_normalized.eq(legal_id_normalized))
        .select(OrganizationRow::as_select())
        .first(connection)
        .optional()
}

/// The organisations whose normalised legal id is one of these (the
/// unique index on `legal_id_normalized` finds them).
pub fn find_organizations_by_normalized_legal_ids(
    connection: &mut DbConnection,
    legal_ids_normalized: &[String],
) -> QueryResult<Vec<OrganizationRow>> {
    organizations::table
        .filter(organizations::legal_id_normalized.eq_any(legal_ids_normalized))
        .select(OrganizationRow::as_select())
        .load(connection)
}

/// Every identifier, under any scheme, whose normalised value is one of
/// these (the primary key leads with the value, so this is an index look-up).
pub fn identifiers_with_values(
    connection: &mut DbConnection,
    normalized_values: &[String],
) -> QueryResult<Vec<OrganizationIdentifierRow>> {
    organization_identifiers::table
        .filter(organization_identifiers::normalized_value.eq_any(normalized_values))
        .order((
            organization_identifiers::normalized_value.asc(),
            organization_identifiers::scheme.asc(),
        ))
        .select(OrganizationIdentifierRow::as_select())
        .load(connection)
}

/// Which of these public keys are already registered (to any organisation).
pub fn registered_public_keys(connection: &mut DbConnection, public_keys: &[String]) -> QueryResult<Vec<String>> {
    organization_keys::table
        .filter(organization_keys::public_key.eq_any(public_keys))
        .select(organization_keys::public_key)
        .load(connection)
}

/// The organisation's keys that may still sign, oldest first.
pub fn active_public_keys(
    connection: &mut DbConnection,
    organization_id: &str,
) -> QueryResult<Vec<OrganizationKeyRow>> {
    organization_keys::table
        .filter(organization_keys::organization_id.eq(organization_id))
        .filter(organization_keys::revoked_at.is_null())
        .order(organization_keys::created_at.asc())
        .select(OrganizationKeyRow::as_select())
        .load(connection)
}

/// The active keys of any of these organisations.
pub fn active_public_keys_of(
    connection: &mut DbConnection,
    organization_ids: &[String],
) -> QueryResult<Vec<OrganizationKeyRow>> {
    organization_keys::table
        .filter(organization_keys::organization_id.eq_any(organization_ids))
        .filter(organization_keys::revoked_at.is_null())
        .order(organization_keys::created_at.asc())
        .select(OrganizationKeyRow::as_select())
        .load(connection)
}

/// The risk officers of any of these organisations.
pub fn risk_officers_of_many(
    connection: &mut DbConnection,
    organization_ids: &[String],
) -> QueryResult<Vec<RiskOfficerRow>> {
    risk_officers::table
        .filter(risk_officers::organization_id.eq_any(organization_ids))
        .order(risk_officers::created_at.asc())
        .select(RiskOfficerRow::as_select())
        .load(connection)
}

pub fn find_risk_officer_by_email(
    connection: &mut DbConnection,
    organization_id: &str,
    email: &str,
) -> QueryResult<Option<RiskOfficerRow>> {
    risk_officers::table
        .filter(risk_officers::organization_id.eq(organization_id))
        .filter(risk_officers::email.eq(email))
        .select(RiskOfficerRow::as_select())
        .first(connection)
        .optional()
}

/// An unrevoked API key with its organisation's role, by the key's public id.
pub fn find_active_api_key(connection: &mut DbConnection, id: &str) -> QueryResult<Option<(ApiKeyRow, String)>> {
    super::unique_row(
        api_keys::table
            .inner_join(organizations::table)
            .filter(api_keys::id.eq(id))
            .filter(api_keys::revoked_at.is_null())
            .select((ApiKeyRow::as_select(), organizations::role)),
        connection,
    )
}

/// [`find_active_api_key`] for many ids in one query.
pub fn find_active_api_keys(connection: &mut DbConnection, ids: &[&str]) -> QueryResult<Vec<(ApiKeyRow, String)>> {
    load_in!(
        connection,
        api_keys::table
            .inner_join(organizations::table)
            .filter(api_keys::revoked_at.is_null())
            .select((ApiKeyRow::as_select(), organizations::role)),
        api_keys::id,
        ids
    )
}

/// Ids of every organisation with `role`.
pub fn organizations_with_role(connection: &mut DbConnection, role: &str) -> QueryResult<Vec<String>> {
    organizations::table
        .filter(organizations::role.eq(role))
        .order(organizations::created_at.asc())
        .select(organizations::id)
        .load(connection)
}

/// Names by id of the given organisations (unknown ids are left out).
pub fn names(connection: &mut DbConnection, ids: &[String]) -> QueryResult<std::collections::HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    Ok(organizations::table
        .filter(organizations::id.eq_any(ids))
        .select((organizations::id, organizations::name))
        .load::<(String, String)>(connection)?
        .into_iter()
        .collect())
}

/// A page of organisations, newest first, after the `(created_at, id)` of
/// the last row of the page before: a keyset, so a page costs the same
/// however deep, and rows onboarded meanwhile never shift it.
pub fn organizations_page(
    connection: &mut DbConnection,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<OrganizationRow>> {
    let mut query = organizations::table
        .select(OrganizationRow::as_select())
        .order((organizations::created_at.desc(), organizations::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((created_at, id)) = after {
        query = query.filter(
            organizations::created_at
                .lt(created_at)
                .or(organizations::created_at.eq(created_at).and(organizations::id.lt(id))),
        );
    }
    query.load(connection)
}

/// The organisation's identifiers, in the order given at onboarding's
/// time, then by scheme and value.
pub fn identifiers_of(
    connection: &mut DbConnection,
    organization_id: &str,
) -> QueryResult<Vec<OrganizationIdentifierRow>> {
    organization_identifiers::table
        .filter(organization_identifiers::organization_id.eq(organization_id))
        .order((
            organization_identifiers::created_at.asc(),
            organization_identifiers::scheme.asc(),
            organization_identifiers::normalized_value.asc(),
        ))
        .select(OrganizationIdentifierRow::as_select())
        .load(connection)
}

/// Every public key of the organisation, revoked ones too, oldest first.
pub fn public_keys_of(connection: &mut DbConnection, organization_id: &str) -> QueryResult<Vec<OrganizationKeyRow>> {
    organization_keys::table
        .filter(organization_keys::organization_id.eq(organization_id))
        .order((organization_keys::created_at.asc(), organization_keys::id.asc()))
        .select(OrganizationKeyRow::as_select())
        .load(connection)
}

/// An API key as it may be listed: everything but its secret's hash.
#[derive(Debug, Clone, Queryable)]
pub struct ApiKeyListing {
    pub id: String,
    pub risk_officer_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Every API key of the organisation and its risk officers, revoked ones
/// too, oldest first; the hashes of their secrets are not read.
pub fn api_keys_of(connection: &mut DbConnection, organization_id: &str) -> QueryResult<Vec<ApiKeyListing>> {
    api_keys::table
        .filter(api_keys::organization_id.eq(organization_id))
        .order((api_keys::created_at.asc(), api_keys::id.asc()))
        .select((
            api_keys::id,
            api_keys::risk_officer_id,
            api_keys::created_at,
            api_keys::revoked_at,
        ))
        .load(connection)
}
