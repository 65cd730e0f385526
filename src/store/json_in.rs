//! `column IN (…)` on SQLite as one statement text whatever the number of
//! values: `column IN (SELECT value FROM json_each(?))`, the values bound
//! as one JSON array (hex strings turned back into bytes by `unhex` for a
//! BLOB column). diesel never keeps an `IN (?, ?, …)` list prepared, so
//! SQLite parsed and planned each of a look-up batch's four or five
//! queries for every batch — 11% of a SQLite look-up's instructions. This
//! statement is prepared once per connection; SQLite still answers it by
//! probing the column's index once per value. PostgreSQL keeps diesel's
//! `= ANY($1)`, which is one statement text already ([`load_in!`]).

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Text};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

/// `column IN` the values of a JSON array; `BYTES`: each value is hex, of
/// a BLOB column.
#[derive(Debug, Clone)]
pub struct InJson<C, const BYTES: bool> {
    column: C,
    values: String,
}

impl<C> InJson<C, false> {
    pub fn text<'a>(column: C, values: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            column,
            values: json_array(values.into_iter().map(str::to_owned)),
        }
    }
}

impl<C> InJson<C, true> {
    pub fn bytes<'a>(column: C, values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        Self {
            column,
            values: json_array(values.into_iter().map(hex::encode)),
        }
    }
}

fn json_array(values: impl Iterator<Item = String>) -> String {
    serde_json::Value::Array(values.map(serde_json::Value::String).collect()).to_string()
}

impl<C, const BYTES: bool> Expression for InJson<C, BYTES> {
    type SqlType = Bool;
}

impl<C: ValidGrouping<()>, const BYTES: bool> ValidGrouping<()> for InJson<C, BYTES> {
    type IsAggregate = C::IsAggregate;
}

impl<C: AppearsOnTable<QS>, QS: ?Sized, const BYTES: bool> AppearsOnTable<QS> for InJson<C, BYTES> {}

impl<C: SelectableExpression<QS>, QS: ?Sized, const BYTES: bool> SelectableExpression<QS> for InJson<C, BYTES> {}

impl<C: QueryId, const BYTES: bool> QueryId for InJson<C, BYTES> {
    type QueryId = InJson<C::QueryId, BYTES>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

impl<C: QueryFragment<Sqlite>, const BYTES: bool> QueryFragment<Sqlite> for InJson<C, BYTES> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(if BYTES {
            " IN (SELECT unhex(value) FROM json_each("
        } else {
            " IN (SELECT value FROM json_each("
        });
        out.push_bind_param::<Text, _>(&self.values)?;
        out.push_sql("))");
        Ok(())
    }
}

/// Loads `$query` filtered by `$column IN $values` (a slice of `&str`, or
/// of `&[u8]` with `bytes`): on SQLite through [`InJson`], on PostgreSQL
/// by diesel's `eq_any`.
macro_rules! load_in {
    ($connection:expr, $query:expr, $column:expr, $values:expr) => {
        load_in!(@ text, $connection, $query, $column, $values)
    };
    ($connection:expr, $query:expr, $column:expr, bytes $values:expr) => {
        load_in!(@ bytes, $connection, $query, $column, $values)
    };
    (@ $kind:ident, $connection:expr, $query:expr, $column:expr, $values:expr) => {
        match $connection {
            $crate::store::DbConnection::Sqlite(inner) => diesel::RunQueryDsl::load(
                diesel::QueryDsl::filter($query, $crate::store::json_in::InJson::$kind($column, $values.iter().copied())),
                inner,
            ),
            connection => diesel::RunQueryDsl::load(
                diesel::QueryDsl::filter($query, diesel::ExpressionMethods::eq_any($column, $values)),
                connection,
            ),
        }
    };
}
