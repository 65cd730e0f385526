//! Migrations checked (issue 14, item 6), on SQLite and, when
//! `ANCHORFIN_TEST_DATABASE_URL` is set, on PostgreSQL:
//!
//! 1. `src/store/schema.rs` agrees with a database migrated as the server
//!    migrates it: the same tables, and in each the same columns with the
//!    same diesel SQL types, nullability and primary key.
//! 2. Every `down.sql` undoes its `up.sql`: on a fresh database, each
//!    migration in turn is applied and reverted, and the schema afterwards
//!    (tables, columns, defaults, indexes, constraints including CHECKs,
//!    triggers, functions, sequences) must be exactly the schema before it;
//!    re-applying it must then give the schema the first run gave.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anchorfin::store::{migrations, DatabaseUrl, DbConnection};
use diesel::backend::Backend as DieselBackend;
use diesel::query_builder::SqlQuery;
use diesel::query_dsl::LoadQuery;
use diesel::sql_types::{Integer, Nullable, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use tempfile::TempDir;
use uuid::Uuid;

use crate::helpers::{database_url_with_name, TEST_DATABASE_ENV};

/// diesel's own bookkeeping table, on both backends: not in `schema.rs`.
const DIESEL_MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

const SCHEMA_RS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/schema.rs"));

mod schema_rs_matches_the_database {
    #[test]
    fn sqlite() {
        super::schema_rs_matches_the_database(super::Backend::Sqlite);
    }

    #[test]
    fn postgres() {
        super::schema_rs_matches_the_database(super::Backend::Postgresql);
    }
}

mod every_down_sql_undoes_its_up_sql {
    #[test]
    fn sqlite() {
        super::every_down_sql_undoes_its_up_sql(super::Backend::Sqlite);
    }

    #[test]
    fn postgres() {
        super::every_down_sql_undoes_its_up_sql(super::Backend::Postgresql);
    }
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Postgresql,
    Sqlite,
}

impl Backend {
    fn migrations_dir(self) -> PathBuf {
        let folder = match self {
            Backend::Postgresql => "postgres",
            Backend::Sqlite => "sqlite",
        };
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(folder)
    }
}

// ---------------------------------------------------------------------------
// A fresh, empty database per test.

struct FreshDatabase {
    connection: DbConnection,
    /// PostgreSQL: the admin URL and the database to drop afterwards.
    postgres: Option<(String, String)>,
    _dir: Option<TempDir>,
}

impl FreshDatabase {
    /// `None` for PostgreSQL when no test database is configured; a
    /// configured but unreachable one fails the test, as in `helpers`.
    fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("schema-check.db");
                let url = DatabaseUrl::parse(&path.to_string_lossy()).expect("sqlite path");
                let connection = url.establish().expect("open the SQLite database");
                Some(Self {
                    connection,
                    postgres: None,
                    _dir: Some(dir),
                })
            }
            Backend::Postgresql => {
                let Ok(admin_url) = std::env::var(TEST_DATABASE_ENV) else {
                    eprintln!("skipped: {TEST_DATABASE_ENV} is not set");
                    return None;
                };
                let name = format!("anchorfin_schema_{}", Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|error| {
                    panic!("{TEST_DATABASE_ENV} is set but PostgreSQL is unreachable: {error}")
                });
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create the test database");
                let url = DatabaseUrl::parse(&database_url_with_name(&admin_url, &name)).expect("postgres url");
                let connection = url.establish().expect("connect to the test database");
                Some(Self {
                    connection,
                    postgres: Some((admin_url, name)),
                    _dir: None,
                })
            }
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
            }
        }
    }
}

/// Runs a query whose rows are (key, value) text pairs.
fn key_values<C>(connection: &mut C, query: &str) -> Vec<(String, String)>
where
    for<'a> SqlQuery: LoadQuery<'a, C, KeyValue>,
{
    diesel::sql_query(query)
        .load::<KeyValue>(connection)
        .unwrap_or_else(|error| panic!("{error}: {query}"))
        .into_iter()
        .map(|row| (row.key, row.value))
        .collect()
}

#[derive(QueryableByName)]
struct KeyValue {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Text)]
    value: String,
}

// ---------------------------------------------------------------------------
// 1. schema.rs agrees with the databases.

/// A table as `schema.rs` or a database describes it; column types are
/// diesel SQL types, e.g. `Nullable<Timestamp>`.
#[derive(Debug, Default)]
struct TableShape {
    primary_key: Vec<String>,
    columns: BTreeMap<String, String>,
}

/// diesel SQL type, PostgreSQL `information_schema.columns.data_type`,
/// SQLite declared type (compared case-insensitively).
const TYPE_MAP: &[(&str, &str, &str)] = &[
    ("Text", "text", "TEXT"),
    ("Binary", "bytea", "BLOB"),
    ("BigInt", "bigint", "BIGINT"),
    ("Integer", "integer", "INTEGER"),
    ("SmallInt", "smallint", "SMALLINT"),
    ("Bool", "boolean", "BOOLEAN"),
    ("Timestamp", "timestamp without time zone", "TIMESTAMP"),
    ("Date", "date", "DATE"),
];

fn diesel_type(backend: Backend, database_type: &str, nullable: bool) -> String {
    let found = TYPE_MAP.iter().find(|(_, postgres, sqlite)| match backend {
        Backend::Postgresql => *postgres == database_type,
        Backend::Sqlite => sqlite.eq_ignore_ascii_case(database_type),
    });
    let base = match found {
        Some((diesel, _, _)) => (*diesel).to_owned(),
        None => format!("<unmapped database type {database_type:?}>"),
    };
    if nullable {
        format!("Nullable<{base}>")
    } else {
        base
    }
}

/// `Nullable<X>` and `X` for every X of the map: anything else in
/// `schema.rs` needs the map (and this test) extended.
fn is_mapped_diesel_type(diesel: &str) -> bool {
    let inner = diesel
        .strip_prefix("Nullable<")
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or(diesel);
    TYPE_MAP.iter().any(|(name, _, _)| *name == inner)
}

/// Parses the `table!` blocks of `schema.rs`. Syntax this parser does not
/// understand (`#[sql_name]`, schema-qualified tables, ...) fails loudly
/// rather than being skipped.
fn parse_schema_rs(source: &str) -> BTreeMap<String, TableShape> {
    let source: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut tables = BTreeMap::new();
    let mut rest = source.as_str();
    while let Some(found) = rest.find("table!") {
        let preceded_by_ident = rest[..found]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after = &rest[found + "table!".len()..];
        if preceded_by_ident {
            rest = after;
            continue;
        }
        let open = after.find('{').expect("table! {");
        assert!(
            after[..open].trim().is_empty(),
            "unexpected text after table!: {after:.60}"
        );
        let body_and_rest = &after[open + 1..];
        let close = matching_brace(body_and_rest);
        let (name, shape) = parse_table_body(&body_and_rest[..close]);
        assert!(
            tables.insert(name.clone(), shape).is_none(),
            "table {name} twice in schema.rs"
        );
        rest = &body_and_rest[close + 1..];
    }
    assert!(!tables.is_empty(), "no table! found in schema.rs");
    tables
}

/// Index of the `}` closing a block whose `{` has just been consumed.
fn matching_brace(text: &str) -> usize {
    let mut depth = 0usize;
    for (index, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return index,
            '}' => depth -= 1,
            _ => {}
        }
    }
    panic!("unbalanced braces in schema.rs");
}

fn parse_table_body(body: &str) -> (String, TableShape) {
    let body = body.trim();
    assert!(
        !body.starts_with('#') && !body.starts_with("use "),
        "unsupported syntax in table!: {body:.80}"
    );
    let columns_open = body.find('{').expect("table! columns");
    let header = body[..columns_open].trim();
    let (name, primary_key) = match header.split_once('(') {
        Some((name, keys)) => {
            let keys = keys.trim().strip_suffix(')').expect("primary key list");
            (
                name.trim(),
                keys.split(',').map(|key| unraw(key.trim()).to_owned()).collect(),
            )
        }
        // diesel's default primary key.
        None => (header, vec!["id".to_owned()]),
    };
    assert!(
        !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'),
        "unsupported table name in schema.rs: {name:?}"
    );
    let columns_close = body.rfind('}').expect("table! columns end");
    let mut columns = BTreeMap::new();
    for column in body[columns_open + 1..columns_close].split(',') {
        let column = column.trim();
        if column.is_empty() {
            continue;
        }
        assert!(
            !column.starts_with('#'),
            "unsupported column attribute in {name}: {column}"
        );
        let (column_name, sql_type) = column
            .split_once("->")
            .unwrap_or_else(|| panic!("unparsed column in {name}: {column}"));
        let column_name = unraw(column_name.trim()).to_owned();
        let sql_type = normalise_diesel_type(sql_type);
        assert!(
            columns.insert(column_name.clone(), sql_type).is_none(),
            "column {name}.{column_name} twice in schema.rs"
        );
    }
    (name.to_owned(), TableShape { primary_key, columns })
}

fn unraw(identifier: &str) -> &str {
    identifier.strip_prefix("r#").unwrap_or(identifier)
}

/// `diesel::sql_types::Nullable< Text >` -> `Nullable<Text>`.
fn normalise_diesel_type(sql_type: &str) -> String {
    let compact: String = sql_type.chars().filter(|c| !c.is_whitespace()).collect();
    let mut normalised = String::new();
    let mut path = String::new();
    for c in compact.chars().chain(std::iter::once('\0')) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            normalised.push_str(path.rsplit("::").next().unwrap_or_default());
            path.clear();
            if c != '\0' {
                normalised.push(c);
            }
        }
    }
    normalised
}

#[derive(QueryableByName)]
struct PostgresColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
    /// Position in the primary key, if the column is part of it.
    #[diesel(sql_type = Nullable<Integer>)]
    key_position: Option<i32>,
}

fn postgres_tables(connection: &mut PgConnection) -> (BTreeMap<String, TableShape>, Vec<String>) {
    let mut tables: BTreeMap<String, TableShape> = BTreeMap::new();
    let relations: Vec<(String, String)> = key_values(
        connection,
        "SELECT table_name::text AS key, table_type::text AS value FROM information_schema.tables
         WHERE table_schema = 'public'",
    );
    for (table, _) in &relations {
        tables.entry(table.clone()).or_default();
    }
    let columns = diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name,
                c.data_type::text AS data_type, c.is_nullable::text AS is_nullable,
                k.ordinal_position::integer AS key_position
         FROM information_schema.columns c
         LEFT JOIN (information_schema.table_constraints t
                    JOIN information_schema.key_column_usage k
                      ON k.constraint_schema = t.constraint_schema AND k.constraint_name = t.constraint_name
                     AND k.table_name = t.table_name)
           ON t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema
          AND t.table_name = c.table_name AND k.column_name = c.column_name
         WHERE c.table_schema = 'public'
         ORDER BY c.table_name, k.ordinal_position, c.ordinal_position",
    )
    .load::<PostgresColumn>(connection)
    .expect("information_schema.columns");
    for column in columns {
        let nullable = match column.is_nullable.as_str() {
            "YES" => true,
            "NO" => false,
            other => panic!("is_nullable {other:?}"),
        };
        let table = tables.entry(column.table_name).or_default();
        if column.key_position.is_some() {
            table.primary_key.push(column.column_name.clone());
        }
        table.columns.insert(
            column.column_name,
            diesel_type(Backend::Postgresql, &column.data_type, nullable),
        );
    }
    (tables, Vec::new())
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    declared_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
    #[diesel(sql_type = Integer)]
    key_columns: i32,
    #[diesel(sql_type = Integer)]
    without_rowid: i32,
}

/// The tables, and the notes on SQLite quirks that were tolerated.
fn sqlite_tables(connection: &mut SqliteConnection) -> (BTreeMap<String, TableShape>, Vec<String>) {
    let mut tables: BTreeMap<String, TableShape> = BTreeMap::new();
    let mut notes = Vec::new();
    for (table, _) in key_values(
        connection,
        "SELECT name AS key, type AS value FROM sqlite_master
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    ) {
        tables.entry(table).or_default();
    }
    let columns = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, p.type AS declared_type,
                p.\"notnull\" AS not_null, p.pk AS pk,
                (SELECT count(*) FROM pragma_table_info(m.name) k WHERE k.pk > 0) AS key_columns,
                coalesce((SELECT l.wr FROM pragma_table_list(m.name) l WHERE l.schema = 'main'), 0) AS without_rowid
         FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
         ORDER BY m.name, p.pk, p.cid",
    )
    .load::<SqliteColumn>(connection)
    .expect("pragma_table_info");
    for column in columns {
        let is_key = column.pk > 0;
        // `INTEGER PRIMARY KEY` is the 64-bit rowid itself, never NULL, and
        // must be declared exactly so (AUTOINCREMENT needs it): diesel's
        // print-schema calls it BigInt with `sqlite_integer_primary_key_is_bigint`.
        let rowid_alias = is_key
            && column.key_columns == 1
            && column.without_rowid == 0
            && column.declared_type.eq_ignore_ascii_case("INTEGER");
        let mut nullable = column.not_null == 0;
        if rowid_alias {
            nullable = false;
        } else if is_key && nullable && column.without_rowid == 0 {
            // A SQLite quirk: a PRIMARY KEY column that is not the rowid and
            // not declared NOT NULL still admits NULL (sqlite.org/lang_createtable.html),
            // and print-schema would say Nullable. The application always
            // sets its keys; tolerated here, and listed when the test runs.
            notes.push(format!("{}.{}", column.table_name, column.column_name));
            nullable = false;
        }
        let sql_type = if rowid_alias {
            "BigInt".to_owned()
        } else {
            diesel_type(Backend::Sqlite, &column.declared_type, nullable)
        };
        let table = tables.entry(column.table_name).or_default();
        if is_key {
            table.primary_key.push(column.column_name.clone());
        }
        table.columns.insert(column.column_name, sql_type);
    }
    (tables, notes)
}

fn schema_rs_matches_the_database(backend: Backend) {
    let Some(mut database) = FreshDatabase::create(backend) else {
        return;
    };
    migrations::run_pending(&mut database.connection).expect("migrate as the server does");
    let (mut actual, notes) = match &mut database.connection {
        DbConnection::Postgresql(connection) => postgres_tables(connection),
        DbConnection::Sqlite(connection) => sqlite_tables(connection),
    };
    if !notes.is_empty() {
        eprintln!(
            "{backend:?}: primary key columns that SQLite would let be NULL (no NOT NULL), tolerated: {}",
            notes.join(", ")
        );
    }
    assert!(
        actual.remove(DIESEL_MIGRATIONS_TABLE).is_some(),
        "{backend:?}: no {DIESEL_MIGRATIONS_TABLE}"
    );
    let expected = parse_schema_rs(SCHEMA_RS);
    let mismatches = compare_tables(&expected, &actual);
    assert!(
        mismatches.is_empty(),
        "{backend:?}: schema.rs disagrees with the migrated database:\n  {}",
        mismatches.join("\n  ")
    );
}

fn compare_tables(expected: &BTreeMap<String, TableShape>, actual: &BTreeMap<String, TableShape>) -> Vec<String> {
    let mut mismatches = Vec::new();
    for (name, table) in expected {
        for (column, sql_type) in &table.columns {
            if !is_mapped_diesel_type(sql_type) {
                mismatches.push(format!(
                    "schema.rs {name}.{column}: type {sql_type} is not in this test's type map"
                ));
            }
        }
        let Some(found) = actual.get(name) else {
            mismatches.push(format!("table {name}: in schema.rs, missing from the database"));
            continue;
        };
        for (column, sql_type) in &table.columns {
            match found.columns.get(column) {
                None => mismatches.push(format!(
                    "column {name}.{column}: schema.rs says {sql_type}, missing from the database"
                )),
                Some(database_type) if database_type != sql_type => mismatches.push(format!(
                    "column {name}.{column}: schema.rs says {sql_type}, the database has {database_type}"
                )),
                Some(_) => {}
            }
        }
        for (column, database_type) in &found.columns {
            if !table.columns.contains_key(column) {
                mismatches.push(format!(
                    "column {name}.{column}: the database has {database_type}, missing from schema.rs"
                ));
            }
        }
        if table.primary_key != found.primary_key {
            mismatches.push(format!(
                "table {name}: schema.rs primary key ({}), the database's ({})",
                table.primary_key.join(", "),
                found.primary_key.join(", ")
            ));
        }
    }
    for name in actual.keys() {
        if !expected.contains_key(name) {
            mismatches.push(format!("table {name}: in the database, missing from schema.rs"));
        }
    }
    mismatches
}

// ---------------------------------------------------------------------------
// 2. Every down.sql undoes its up.sql.

/// Every schema object, keyed by kind and name, valued by its definition.
type Snapshot = BTreeMap<String, String>;

fn every_down_sql_undoes_its_up_sql(backend: Backend) {
    let Some(mut database) = FreshDatabase::create(backend) else {
        return;
    };
    let source = FileBasedMigrations::from_path(backend.migrations_dir()).expect("migrations folder");
    let (checked, failures) = match &mut database.connection {
        DbConnection::Postgresql(connection) => check_each_migration(connection, &source, postgres_snapshot),
        DbConnection::Sqlite(connection) => check_each_migration(connection, &source, sqlite_snapshot),
    };
    assert!(
        failures.is_empty(),
        "{backend:?}: {} migration(s) whose down.sql does not exactly undo its up.sql:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    let folders = std::fs::read_dir(backend.migrations_dir())
        .expect("read migrations folder")
        .filter(|entry| entry.as_ref().expect("migrations folder entry").path().is_dir())
        .count();
    assert!(checked > 0, "{backend:?}: no migration found");
    assert_eq!(checked, folders, "{backend:?}: migrations checked");
}

/// Applies, reverts and re-applies each pending migration in order; returns
/// how many were checked and a report per migration whose revert differs.
/// A migration that fails to run ends the walk (what follows cannot be
/// checked) and is reported with whatever was found before it.
fn check_each_migration<C, DB>(
    connection: &mut C,
    source: &FileBasedMigrations,
    snapshot: fn(&mut C) -> Snapshot,
) -> (usize, Vec<String>)
where
    DB: DieselBackend,
    C: MigrationHarness<DB>,
    FileBasedMigrations: diesel::migration::MigrationSource<DB>,
{
    let mut checked = 0;
    let mut failures = Vec::new();
    loop {
        let pending = connection
            .pending_migrations(source.clone())
            .expect("pending migrations");
        let Some(next) = pending.first() else { break };
        let name = next.name().to_string();
        drop(pending);

        let before = snapshot(connection);
        if let Err(error) = connection.run_next_migration(source.clone()) {
            failures.push(format!("{name}: up.sql failed: {error}"));
            break;
        }
        let applied = snapshot(connection);
        if let Err(error) = connection.revert_last_migration(source.clone()) {
            failures.push(format!("{name}: down.sql failed: {error}"));
            break;
        }
        let reverted = snapshot(connection);
        let mut report = describe_differences(&before, &reverted);
        if !report.is_empty() {
            report.insert(
                0,
                format!(
                    "{name}: after up.sql then down.sql the schema differs from before up.sql (- before, + after):"
                ),
            );
        }
        if let Err(error) = connection.run_next_migration(source.clone()) {
            report.push(format!("{name}: up.sql fails when re-applied after down.sql: {error}"));
            failures.push(report.join("\n"));
            break;
        }
        // Only worth saying when the revert looked right: otherwise it
        // repeats what the revert left behind.
        let reapplied = snapshot(connection);
        let again = describe_differences(&applied, &reapplied);
        if report.is_empty() && !again.is_empty() {
            report.push(format!(
                "{name}: re-applying up.sql after down.sql gives another schema than the first up.sql (- first, + again):"
            ));
            report.extend(again);
        }
        if !report.is_empty() {
            failures.push(report.join("\n"));
        }
        checked += 1;
    }
    (checked, failures)
}

fn describe_differences(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut lines = Vec::new();
    for key in keys {
        match (before.get(key), after.get(key)) {
            (Some(old), None) => lines.push(format!("  - {key}: {old}")),
            (None, Some(new)) => lines.push(format!("  + {key}: {new}")),
            (Some(old), Some(new)) if old != new => {
                lines.push(format!("  - {key}: {old}"));
                lines.push(format!("  + {key}: {new}"));
                lines.push(format!("    differs at: {}", pinpoint(old, new)));
            }
            _ => {}
        }
    }
    lines
}

/// The differing middle of two strings, with a little context.
fn pinpoint(old: &str, new: &str) -> String {
    let old: Vec<char> = old.chars().collect();
    let new: Vec<char> = new.chars().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let context = |chars: &[char]| chars.iter().collect::<String>();
    let start = prefix.saturating_sub(30);
    let after_old = old.len() - suffix;
    let after_new = new.len() - suffix;
    format!(
        "…{}[before: {:?} | after: {:?}]{}…",
        context(&old[start..prefix]),
        context(&old[prefix..after_old]),
        context(&new[prefix..after_new]),
        context(&old[after_old..(after_old + 30).min(old.len())]),
    )
}

fn collect(items: impl IntoIterator<Item = (String, String)>) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for (key, value) in items {
        if let Some(previous) = snapshot.insert(key.clone(), value) {
            panic!("snapshot key {key} twice (first {previous})");
        }
    }
    snapshot
}

/// PostgreSQL: everything in schema `public` from the catalogues, bar
/// diesel's own table.
fn postgres_snapshot(connection: &mut PgConnection) -> Snapshot {
    const QUERIES: &[&str] = &[
        // Tables, views, sequences and the like (indexes come below).
        "SELECT 'relation ' || c.relname AS key,
                'kind ' || c.relkind::text || coalesce(' AS ' || pg_get_viewdef(c.oid), '') AS value
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind NOT IN ('i', 'I')
           AND c.relname <> '__diesel_schema_migrations'",
        // Columns: order among live columns, type, nullability, default.
        "SELECT 'column ' || c.relname || '.' || a.attname AS key,
                '#' || row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum) || ' '
                || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END
                || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
                || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
                || CASE WHEN a.attgenerated <> '' THEN ' GENERATED ' || a.attgenerated::text ELSE '' END
                || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                        THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END AS value
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
           AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '__diesel_schema_migrations'",
        // Constraints: primary keys, unique, foreign keys, CHECKs.
        "SELECT 'constraint ' || c.relname || '.' || k.conname AS key,
                k.contype::text || ' ' || pg_get_constraintdef(k.oid) AS value
         FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relname <> '__diesel_schema_migrations'",
        "SELECT 'index ' || tablename || '.' || indexname AS key, indexdef AS value
         FROM pg_indexes
         WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations'",
        "SELECT 'trigger ' || c.relname || '.' || t.tgname AS key,
                pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text AS value
         FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND NOT t.tgisinternal",
        "SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS key,
                regexp_replace(pg_get_functiondef(p.oid), '\\s+', ' ', 'g') AS value
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')",
        "SELECT 'sequence ' || c.relname AS key,
                format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement
                || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache
                || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
                || coalesce(' owned by ' || (
                       SELECT o.relname || '.' || a.attname
                       FROM pg_depend dep
                       JOIN pg_class o ON o.oid = dep.refobjid
                       JOIN pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
                       WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
                         AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')
                       LIMIT 1), '') AS value
         FROM pg_sequence s
         JOIN pg_class c ON c.oid = s.seqrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public'",
        "SELECT 'type ' || t.typname AS key, 'typtype ' || t.typtype::text AS value
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm')",
        "SELECT 'extension ' || extname AS key, extversion AS value FROM pg_extension",
    ];
    collect(QUERIES.iter().flat_map(|query| key_values(connection, query)))
}

#[derive(QueryableByName)]
struct SqliteObject {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    tbl_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

/// SQLite: `sqlite_master` (its SQL text normalised: comments dropped,
/// whitespace collapsed, plain identifiers unquoted, as `ALTER TABLE ...
/// RENAME` quotes the new name) plus what the pragmas say of each table:
/// columns, indexes and their columns, foreign keys. CHECK constraints live
/// only in the SQL text. `sqlite_sequence` is SQLite's own and cannot be
/// dropped, so it is left out, as is diesel's table.
fn sqlite_snapshot(connection: &mut SqliteConnection) -> Snapshot {
    const OURS: &str = "m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name <> '__diesel_schema_migrations'";
    let objects = diesel::sql_query(
        "SELECT type AS kind, name, tbl_name, sql FROM sqlite_master
         WHERE name <> 'sqlite_sequence' AND name NOT LIKE 'sqlite\\_stat%' ESCAPE '\\'
           AND tbl_name <> '__diesel_schema_migrations'",
    )
    .load::<SqliteObject>(connection)
    .expect("sqlite_master");
    let mut items: Vec<(String, String)> = objects
        .into_iter()
        .map(|object| {
            let sql = object
                .sql
                .as_deref()
                .map_or_else(|| "<no sql>".to_owned(), normalise_sql);
            (
                format!("{} {}", object.kind, object.name),
                format!("on {}: {sql}", object.tbl_name),
            )
        })
        .collect();
    let queries = [
        format!(
            "SELECT 'column ' || m.name || '.' || p.name AS key,
                    '#' || p.cid || ' ' || p.type || CASE WHEN p.\"notnull\" THEN ' NOT NULL' ELSE ' NULL' END
                    || coalesce(' DEFAULT ' || p.dflt_value, '')
                    || CASE WHEN p.pk > 0 THEN ' PRIMARY KEY #' || p.pk ELSE '' END
                    || CASE WHEN p.hidden <> 0 THEN ' hidden ' || p.hidden ELSE '' END AS value
             FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p
             WHERE m.type IN ('table', 'view') AND {OURS}"
        ),
        format!(
            "SELECT 'index ' || m.name || '.' || i.name AS key,
                    'unique ' || i.\"unique\" || ' origin ' || i.origin || ' partial ' || i.partial AS value
             FROM sqlite_master m JOIN pragma_index_list(m.name) i
             WHERE m.type = 'table' AND {OURS}"
        ),
        format!(
            "SELECT 'index column ' || i.name || ' #' || x.seqno AS key,
                    coalesce(x.name, CASE x.cid WHEN -1 THEN '<rowid>' ELSE '<expression>' END) || CASE WHEN x.\"desc\" THEN ' DESC' ELSE ' ASC' END
                    || ' COLLATE ' || x.coll || CASE WHEN x.key THEN ' key' ELSE ' auxiliary' END AS value
             FROM sqlite_master m JOIN pragma_index_list(m.name) i JOIN pragma_index_xinfo(i.name) x
             WHERE m.type = 'table' AND {OURS}"
        ),
        format!(
            "SELECT 'foreign key ' || m.name || ' #' || f.id || '.' || f.seq AS key,
                    '(' || f.\"from\" || ') REFERENCES ' || f.\"table\" || ' (' || coalesce(f.\"to\", '<primary key>')
                    || ') ON UPDATE ' || f.on_update || ' ON DELETE ' || f.on_delete || ' MATCH ' || f.\"match\" AS value
             FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
             WHERE m.type = 'table' AND {OURS}"
        ),
    ];
    for query in &queries {
        items.extend(key_values(connection, query));
    }
    collect(items)
}

/// SQL text compared modulo layout: `--` and `/* */` comments dropped,
/// whitespace collapsed (and dropped next to parentheses and commas), and
/// `"plain_identifier"` unquoted. String literals are kept verbatim.
fn normalise_sql(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::new();
    let mut space = false;
    let mut index = 0;
    let push = |out: &mut String, space: &mut bool, text: &str| {
        let first = text.chars().next().unwrap_or(' ');
        if *space && !out.is_empty() && !out.ends_with(['(', ')', ',']) && !matches!(first, '(' | ')' | ',') {
            out.push(' ');
        }
        *space = false;
        out.push_str(text);
    };
    while index < chars.len() {
        let c = chars[index];
        if c == '-' && chars.get(index + 1) == Some(&'-') {
            while index < chars.len() && chars[index] != '\n' {
                index += 1;
            }
            space = true;
        } else if c == '/' && chars.get(index + 1) == Some(&'*') {
            index += 2;
            while index < chars.len() && !(chars[index] == '*' && chars.get(index + 1) == Some(&'/')) {
                index += 1;
            }
            index += 2;
            space = true;
        } else if c.is_whitespace() {
            space = true;
            index += 1;
        } else if c == '\'' || c == '"' {
            // A literal or quoted identifier, doubled quotes included.
            let mut end = index + 1;
            loop {
                match chars.get(end) {
                    None => break,
                    Some(&q) if q == c && chars.get(end + 1) == Some(&c) => end += 2,
                    Some(&q) if q == c => break,
                    Some(_) => end += 1,
                }
            }
            let end = end.min(chars.len() - 1);
            let quoted: String = chars[index..=end].iter().collect();
            let inner: String = chars[index + 1..end].iter().collect();
            let plain = c == '"'
                && inner
                    .chars()
                    .next()
                    .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
                && inner.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
            push(&mut out, &mut space, if plain { &inner } else { &quoted });
            index = end + 1;
        } else {
            let mut buffer = [0u8; 4];
            let text: &str = c.encode_utf8(&mut buffer);
            push(&mut out, &mut space, text);
            index += 1;
        }
    }
    out
}

#[test]
fn sql_is_normalised_for_comparison() {
    assert_eq!(
        normalise_sql("CREATE TABLE \"liens\" (\n    id TEXT, -- note\n    x /* c */ TEXT )"),
        "CREATE TABLE liens(id TEXT,x TEXT)"
    );
    assert_eq!(
        normalise_sql("CREATE TABLE liens(id TEXT,x TEXT)"),
        normalise_sql("CREATE TABLE liens (\n id  TEXT ,\n x TEXT\n)")
    );
    assert_eq!(
        normalise_sql("CHECK (a IN ('x  -- y', 'it''s'))"),
        "CHECK(a IN('x  -- y','it''s'))"
    );
    assert_eq!(normalise_sql("\"odd name\""), "\"odd name\"");
}

#[test]
fn schema_rs_is_parsed() {
    let tables = parse_schema_rs(SCHEMA_RS);
    let nodes = &tables["ledger_nodes"];
    assert_eq!(nodes.primary_key, ["level", "node_index"]);
    assert_eq!(nodes.columns["level"], "SmallInt");
    assert_eq!(tables["alerts"].columns["fingerprint"], "Nullable<Binary>");
    assert_eq!(
        normalise_diesel_type(" diesel::sql_types::Nullable< diesel::sql_types::Text > "),
        "Nullable<Text>"
    );
}
