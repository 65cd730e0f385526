//! The witness's storage: one SQLite file in its data directory, with its
//! own embedded migrations, WAL and `synchronous = FULL` (a cosignature is
//! answered only after the checkpoint it signs is on disk), and an exclusive
//! lock on the directory so that two witness processes never share it.
//! Repository functions take `&mut SqliteConnection` and return
//! `QueryResult`; the caller decides where a transaction begins and ends.

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::schema::{cosigned_checkpoints, evidence, mirrored_entries, mirrored_subjects, outbox};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/witness");

/// The file of the witness's database inside its data directory.
pub const DATABASE_FILE: &str = "witness.sqlite";
const LOCK_FILE: &str = "witness.lock";

/// Why the witness's storage cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create or open the data directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("another witness process holds the data directory {0}")]
    Locked(String),
    #[error("cannot open the witness database {path}: {message}")]
    Open { path: String, message: String },
    #[error("the witness database migration failed: {0}")]
    Migration(String),
}

/// Held for as long as the process uses the data directory; the lock is
/// released when it is dropped (or the process ends).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Creates the data directory if needed and locks it exclusively.
pub fn lock_data_dir(dir: &Path) -> Result<DataDirLock, StoreError> {
    let directory_error = |source| StoreError::Directory {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(directory_error)?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(directory_error)?;
    // `File::try_lock` is stable since Rust 1.89, above the declared
    // rust-version (1.85): raising that is the lead's call, as it turns on
    // newer lints across the crate.
    #[allow(clippy::incompatible_msrv)]
    let locked = file.try_lock();
    match locked {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked(dir.display().to_string())),
        Err(std::fs::TryLockError::Error(source)) => Err(directory_error(source)),
    }
}

pub fn database_path(dir: &Path) -> PathBuf {
    dir.join(DATABASE_FILE)
}

/// A connection to the witness's database, migrated. Each connection gets
/// WAL (readers never block the writer), `synchronous = FULL`, foreign keys
/// and a busy timeout.
pub fn connect(dir: &Path) -> Result<SqliteConnection, StoreError> {
    let path = database_path(dir);
    let open_error = |message: String| StoreError::Open {
        path: path.display().to_string(),
        message,
    };
    let url = path
        .to_str()
        .ok_or_else(|| open_error("the path is not UTF-8".to_owned()))?;
    let mut connection = SqliteConnection::establish(url).map_err(|error| open_error(error.to_string()))?;
    connection
        .batch_execute(
            "PRAGMA busy_timeout = 10000;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(|error| open_error(error.to_string()))?;
    connection
        .run_pending_migrations(MIGRATIONS)
        .map_err(|error| StoreError::Migration(error.to_string()))?;
    Ok(connection)
}

diesel::define_sql_function!(fn last_insert_rowid() -> BigInt);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cosigned_checkpoints, check_for_backend(diesel::sqlite::Sqlite))]
pub struct CosignedRow {
    pub id: i64,
    pub origin: String,
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub note: String,
    pub cosignature: String,
    pub cosigned_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = cosigned_checkpoints)]
pub struct NewCosigned<'a> {
    pub origin: &'a str,
    pub tree_size: i64,
    pub root_hash: &'a [u8],
    pub note: &'a str,
    pub cosignature: &'a str,
    pub cosigned_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = mirrored_entries, check_for_backend(diesel::sqlite::Sqlite))]
pub struct EntryRow {
    pub entry_index: i64,
    pub leaf_hash: Vec<u8>,
    pub entry: Vec<u8>,
    pub kind: String,
    pub fingerprint: Option<String>,
    /// A JSON array.
    pub subjects: String,
    pub time_micros: i64,
    pub details: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = evidence, check_for_backend(diesel::sqlite::Sqlite))]
pub struct EvidenceRow {
    pub id: i64,
    pub origin: String,
    pub reason: String,
    pub note: String,
    pub old_size: i64,
    pub proof: String,
    pub conflicting_note: Option<String>,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = evidence)]
pub struct NewEvidence<'a> {
    pub origin: &'a str,
    pub reason: &'a str,
    pub note: &'a str,
    pub old_size: i64,
    pub proof: &'a str,
    pub conflicting_note: Option<&'a str>,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::sqlite::Sqlite))]
pub struct MailRow {
    pub id: i64,
    pub evidence_id: i64,
    pub kind: String,
    pub recipient: String,
    pub message_id: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewMail<'a> {
    pub evidence_id: i64,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub message_id: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// The checkpoint cosigned last: the largest size, the latest of that size.
pub fn latest_cosigned(connection: &mut SqliteConnection) -> QueryResult<Option<CosignedRow>> {
    cosigned_checkpoints::table
        .select(CosignedRow::as_select())
        .order((cosigned_checkpoints::tree_size.desc(), cosigned_checkpoints::id.desc()))
        .first(connection)
        .optional()
}

/// The latest checkpoint cosigned at exactly `size`.
pub fn cosigned_at_size(connection: &mut SqliteConnection, size: i64) -> QueryResult<Option<CosignedRow>> {
    cosigned_checkpoints::table
        .select(CosignedRow::as_select())
        .filter(cosigned_checkpoints::tree_size.eq(size))
        .order(cosigned_checkpoints::id.desc())
        .first(connection)
        .optional()
}

pub fn insert_cosigned(connection: &mut SqliteConnection, row: &NewCosigned<'_>) -> QueryResult<()> {
    diesel::insert_into(cosigned_checkpoints::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

/// Every mirrored leaf hash, in index order.
pub fn leaf_hashes(connection: &mut SqliteConnection) -> QueryResult<Vec<Vec<u8>>> {
    mirrored_entries::table
        .select(mirrored_entries::leaf_hash)
        .order(mirrored_entries::entry_index.asc())
        .load(connection)
}

/// Stores entries with one index row per subject.
pub fn insert_entries(connection: &mut SqliteConnection, rows: &[(EntryRow, Vec<String>)]) -> QueryResult<()> {
    for (row, subjects) in rows {
        diesel::insert_into(mirrored_entries::table)
            .values(row)
            .execute(connection)?;
        let mut seen: Vec<&String> = Vec::new();
        for subject in subjects {
            if seen.contains(&subject) {
                continue;
            }
            seen.push(subject);
            diesel::insert_into(mirrored_subjects::table)
                .values((
                    mirrored_subjects::subject.eq(subject),
                    mirrored_subjects::entry_index.eq(row.entry_index),
                ))
                .execute(connection)?;
        }
    }
    Ok(())
}

pub fn entries_by_fingerprint(connection: &mut SqliteConnection, fingerprint: &str) -> QueryResult<Vec<EntryRow>> {
    mirrored_entries::table
        .select(EntryRow::as_select())
        .filter(mirrored_entries::fingerprint.eq(fingerprint))
        .order(mirrored_entries::entry_index.asc())
        .load(connection)
}

pub fn entries_by_subject(connection: &mut SqliteConnection, subject: &str) -> QueryResult<Vec<EntryRow>> {
    mirrored_entries::table
        .inner_join(mirrored_subjects::table)
        .select(EntryRow::as_select())
        .filter(mirrored_subjects::subject.eq(subject))
        .order(mirrored_entries::entry_index.asc())
        .load(connection)
}

/// Whether this signed note was kept as evidence already.
pub fn evidence_exists(connection: &mut SqliteConnection, note: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(evidence::table.filter(evidence::note.eq(note)))).get_result(connection)
}

/// Records evidence; returns its id.
pub fn insert_evidence(connection: &mut SqliteConnection, row: &NewEvidence<'_>) -> QueryResult<i64> {
    diesel::insert_into(evidence::table).values(row).execute(connection)?;
    diesel::select(last_insert_rowid()).get_result(connection)
}

pub fn list_evidence(connection: &mut SqliteConnection) -> QueryResult<Vec<EvidenceRow>> {
    evidence::table
        .select(EvidenceRow::as_select())
        .order(evidence::id.asc())
        .load(connection)
}

pub fn insert_mail(connection: &mut SqliteConnection, row: &NewMail<'_>) -> QueryResult<()> {
    diesel::insert_into(outbox::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

/// Unsent messages whose next attempt is due.
pub fn due_mail(connection: &mut SqliteConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<MailRow>> {
    outbox::table
        .select(MailRow::as_select())
        .filter(outbox::sent_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .order(outbox::id.asc())
        .limit(limit)
        .load(connection)
}

pub fn mark_sent(connection: &mut SqliteConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((outbox::sent_at.eq(now), outbox::last_error.eq(None::<String>)))
        .execute(connection)
        .map(|_| ())
}

pub fn mark_failed(
    connection: &mut SqliteConnection,
    id: i64,
    error: &str,
    next_attempt_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(next_attempt_at),
        ))
        .execute(connection)
        .map(|_| ())
}

/// Every message with its state, for the read API and tests.
pub fn list_mail(connection: &mut SqliteConnection) -> QueryResult<Vec<MailRow>> {
    outbox::table
        .select(MailRow::as_select())
        .order(outbox::id.asc())
        .load(connection)
}

/// Every mirrored entry, in index order.
pub fn all_entries(connection: &mut SqliteConnection) -> QueryResult<Vec<EntryRow>> {
    mirrored_entries::table
        .select(EntryRow::as_select())
        .order(mirrored_entries::entry_index.asc())
        .load(connection)
}

/// A second connection, for the read API and the mail sender, used off
/// the async executor.
#[derive(Clone)]
pub struct SharedConnection(std::sync::Arc<std::sync::Mutex<SqliteConnection>>);

impl SharedConnection {
    pub fn new(connection: SqliteConnection) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(connection)))
    }

    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut SqliteConnection) -> QueryResult<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let shared = self.0.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<T> {
            let mut connection = shared
                .lock()
                .map_err(|_| anyhow::anyhow!("a reader of the witness database panicked"))?;
            Ok(work(&mut connection)?)
        })
        .await?
    }
}
