//! Queries PostgreSQL plans afresh, with their values, each time they run.
//!
//! diesel keeps a query prepared per connection, and after five executions
//! PostgreSQL may settle on a generic plan, costed with the statistics it
//! had then. A probe of a table that grows many times over between two
//! `ANALYZE`s — a fresh deployment's first minutes, before autovacuum has
//! looked — can keep the plan it got while the table was nearly empty: a
//! sequential scan, for as long as the connection lives (1.5 ms a probe of
//! 10,000 receivables instead of 0.05 ms). Planned each time, the probe
//! sees the table's present size; the planning costs about 0.1 ms a batch.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::QueryResult;

/// `Q`, never kept prepared.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct Replanned<Q>(pub Q);

impl<Q: Query> Query for Replanned<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Replanned<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for Replanned<Q> {}
