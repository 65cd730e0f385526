//! Batches of rows inserted on PostgreSQL by a statement of one shape,
//! whatever the batch's size: `INSERT INTO t (a, b) SELECT a, b FROM
//! unnest($1, $2) WITH ORDINALITY AS u (a, b, n) ORDER BY n`, one array
//! per column. diesel prepares such a statement once per connection (its
//! query id is static); a multi-row `VALUES` has a different text for
//! every number of rows, so diesel does not keep it and PostgreSQL parsed
//! and planned it for every batch (about 0.25 ms for 15 rows of a
//! dozen columns). Rows keep the order given (`ORDER BY n`), which a
//! serial column (the ledger queue) turns into its order. SQLite, where
//! the multi-row insert is cheap to prepare, keeps `insert_many!`.

/// Defines `$name<'a>`, the rows of `$row` as one array per listed column
/// of table `$table`, and `$name::insert(connection, rows)`, which inserts
/// them: by the fixed-shape statement on PostgreSQL, by `insert_many!` on
/// SQLite. Each column names its element type (borrowed from the row
/// where it can be), how it is read from a row, and its SQL type (a name
/// from `diesel::sql_types`). The list names every field the row inserts:
/// SQLite inserts the row itself (the tests run both backends).
macro_rules! unnest_insert {
    (
        $(#[$doc:meta])*
        $name:ident for $row:ty => $table:ident {
            $($column:ident: $element:ty = |$r:ident| $value:expr => $sql:ty),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        struct $name<'a> {
            $($column: Vec<$element>,)+
        }

        impl<'a> $name<'a> {
            fn of(rows: &'a [$row]) -> Self {
                Self {
                    $($column: rows.iter().map(|$r| $value).collect(),)+
                }
            }

            /// Inserts `rows` (nothing for none): the number inserted.
            fn insert(
                connection: &mut $crate::store::DbConnection,
                rows: &'a [$row],
            ) -> diesel::QueryResult<usize> {
                if rows.is_empty() {
                    return Ok(0);
                }
                match connection {
                    $crate::store::DbConnection::Postgresql(inner) => {
                        diesel::RunQueryDsl::execute(Self::of(rows), inner)
                    }
                    $crate::store::DbConnection::Sqlite(_) => insert_many!(connection, $table::table, rows),
                }
            }
        }

        impl diesel::query_builder::QueryId for $name<'_> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name<'_> {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                // The columns' SQL types, by their short names.
                #[allow(unused_imports)]
                use diesel::sql_types::*;
                // Pushed piece by piece: this runs on every execution (to
                // collect the binds), not only when the statement is prepared.
                let columns: &[&str] = &[$(stringify!($column)),+];
                let list = |out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>| {
                    for (index, column) in columns.iter().enumerate() {
                        if index > 0 {
                            out.push_sql(", ");
                        }
                        out.push_sql(column);
                    }
                };
                out.push_sql(concat!("INSERT INTO ", stringify!($table), " ("));
                list(&mut out);
                out.push_sql(") SELECT ");
                list(&mut out);
                out.push_sql(" FROM unnest(");
                let mut separator = "";
                $(
                    out.push_sql(separator);
                    separator = ", ";
                    out.push_bind_param::<diesel::pg::sql_types::Array<$sql>, _>(&self.$column)?;
                )+
                debug_assert_eq!(separator, ", ");
                out.push_sql(") WITH ORDINALITY AS u (");
                list(&mut out);
                out.push_sql(", n) ORDER BY n");
                Ok(())
            }
        }

        impl diesel::RunQueryDsl<diesel::PgConnection> for $name<'_> {}
    };
}
