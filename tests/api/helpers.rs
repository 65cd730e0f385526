//! `TestApp`: the real application against its own fresh database.

use std::path::PathBuf;
use std::time::Duration;

use anchorfin::config::Settings;
use anchorfin::organizations::{onboard, OrganizationRequest};
use anchorfin::store::schema::ledger_leaves;
use anchorfin::store::{migrations, DatabaseUrl, DbConnection};
use anchorfin::Application;
use diesel::{Connection, PgConnection, QueryDsl, RunQueryDsl};
use secrecy::SecretString;
use serde_json::Value;
use tempfile::TempDir;
use uuid::Uuid;

pub const TEST_DATABASE_ENV: &str = "ANCHORFIN_TEST_DATABASE_URL";

/// Runs each named `async fn(TestApp)` on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test($crate::helpers::TestApp::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::helpers::TestApp::postgres().await else { return };
                super::$test(app).await;
            }
        }
    )*};
}

pub enum TestDatabase {
    Sqlite,
    Postgres { admin_url: String, name: String },
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// API key of an operator organisation onboarded at start.
    pub operator_key: String,
    pub operator_id: String,
    pub settings: Settings,
    pub database: TestDatabase,
    server: actix_web::dev::ServerHandle,
    _data_dir: TempDir,
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::spawn(None, TestDatabase::Sqlite, |_| {}).await
    }

    /// On SQLite, with settings changed by `configure` before start.
    pub async fn sqlite_with(configure: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn(None, TestDatabase::Sqlite, configure).await
    }

    /// `None` when no PostgreSQL is configured for tests. When one is
    /// configured it must be reachable: an unreachable one fails the test.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_with(|_| {}).await
    }

    /// On PostgreSQL (when configured), with settings changed by `configure`.
    pub async fn postgres_with(configure: impl FnOnce(&mut Settings)) -> Option<Self> {
        let Ok(admin_url) = std::env::var(TEST_DATABASE_ENV) else {
            eprintln!("skipped: {TEST_DATABASE_ENV} is not set");
            return None;
        };
        let name = format!("anchorfin_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|error| panic!("{TEST_DATABASE_ENV} is set but PostgreSQL is unreachable: {error}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create the test database");
        let url = database_url_with_name(&admin_url, &name);
        Some(Self::spawn(Some(url), TestDatabase::Postgres { admin_url, name }, configure).await)
    }

    async fn spawn(
        database_url: Option<String>,
        database: TestDatabase,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::with_data_dir(data_dir.path().join("data"));
        settings.bind = "127.0.0.1:0".to_owned();
        settings.database.url = database_url.map(SecretString::from);
        settings.database.max_connections = 4;
        settings.database.checkout_timeout = Duration::from_secs(2);
        settings.http.workers = Some(1);
        settings.http.shutdown_timeout = Duration::from_secs(1);
        settings.http.max_body_bytes = 64 * 1024;
        settings.lending.default_sweep_interval = Duration::from_millis(200);
        settings.alerts.outbox_poll = Duration::from_millis(100);
        settings.alerts.max_retry_backoff = Duration::from_secs(1);
        configure(&mut settings);

        let (address, server) = Self::start(&settings).await;
        let operator = onboard_directly(&settings, "Platform Operator", "operator", "OPERATOR-0001");
        Self {
            address,
            client: reqwest::Client::new(),
            operator_key: operator["api_key"].as_str().expect("api_key").to_owned(),
            operator_id: operator["id"].as_str().expect("id").to_owned(),
            settings,
            database,
            server,
            _data_dir: data_dir,
        }
    }

    /// Builds and runs the application; its address and handle.
    async fn start(settings: &Settings) -> (String, actix_web::dev::ServerHandle) {
        let application = Application::build(settings.clone())
            .await
            .expect("build the application");
        let address = format!("http://127.0.0.1:{}", application.port());
        let server = application.handle();
        tokio::spawn(application.run_until_stopped());
        (address, server)
    }

    /// A second platform on a copy of this one's database and data
    /// directory — the same signing key, the same history up to now — as an
    /// insider (or a botched restore) would run beside it to show some
    /// parties another history. This app is stopped while its database is
    /// copied and then started again on its port; the fork gets a new one.
    pub async fn fork(&mut self) -> TestApp {
        self.stop().await;
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut settings = self.settings.clone();
        settings.data_dir = data_dir.path().join("data");
        copy_dir(&self.settings.data_dir, &settings.data_dir);
        let database = match &self.database {
            // The SQLite file lives in the data directory, copied above.
            TestDatabase::Sqlite => TestDatabase::Sqlite,
            TestDatabase::Postgres { admin_url, name } => {
                let fork = format!("{name}_fork");
                let mut admin = PgConnection::establish(admin_url).expect("connect as admin");
                // A template database may have no other session.
                diesel::sql_query(format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                ))
                .execute(&mut admin)
                .expect("end the sessions on the original");
                diesel::sql_query(format!("CREATE DATABASE {fork} TEMPLATE {name}"))
                    .execute(&mut admin)
                    .expect("copy the database");
                settings.database.url = Some(SecretString::from(database_url_with_name(admin_url, &fork)));
                TestDatabase::Postgres {
                    admin_url: admin_url.clone(),
                    name: fork,
                }
            }
        };
        // Back on its own port: whoever talks to it (a witness copying the
        // log) finds it where it was.
        self.settings.bind = self.address.trim_start_matches("http://").to_owned();
        self.restart().await;
        let (address, server) = Self::start(&settings).await;
        TestApp {
            address,
            client: reqwest::Client::new(),
            operator_key: self.operator_key.clone(),
            operator_id: self.operator_id.clone(),
            settings,
            database,
            server,
            _data_dir: data_dir,
        }
    }

    /// Stops the server gracefully (its background tasks with it); the
    /// database and the data directory stay.
    pub async fn stop(&self) {
        self.server.stop(true).await;
    }

    /// Starts the application again on the same settings and data
    /// directory (on a new port), as an operator restarts a server.
    pub async fn restart(&mut self) {
        let application = Application::build(self.settings.clone())
            .await
            .expect("restart the application");
        self.address = format!("http://127.0.0.1:{}", application.port());
        self.server = application.handle();
        tokio::spawn(application.run_until_stopped());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.settings.data_dir.clone()
    }

    /// The database URL the CLI should be given, if not the data dir default.
    pub fn database_url(&self) -> Option<String> {
        match &self.database {
            TestDatabase::Sqlite => None,
            TestDatabase::Postgres { admin_url, name } => Some(database_url_with_name(admin_url, name)),
        }
    }

    pub async fn get(&self, path: &str, api_key: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(key) = api_key {
            request = request.bearer_auth(key);
        }
        request.send().await.expect("send request")
    }

    /// `get`, its body read as JSON (whatever the status).
    pub async fn get_json(&self, path: &str, api_key: Option<&str>) -> Value {
        self.get(path, api_key).await.json().await.expect("a JSON body")
    }

    pub async fn post_json(&self, path: &str, api_key: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(key) = api_key {
            request = request.bearer_auth(key);
        }
        request.send().await.expect("send request")
    }

    /// Runs `query` on a connection of its own to the app's database, as
    /// someone with direct access would, off the async executor.
    pub async fn query<T: Send + 'static>(
        &self,
        query: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<T> + Send + 'static,
    ) -> T {
        let url = self.settings.database_url().expect("database url");
        tokio::task::spawn_blocking(move || query(&mut url.establish().expect("connect")).expect("query"))
            .await
            .expect("query task")
    }

    /// How many entries the ledger has been given: integrated into the tree
    /// or still queued for the sequencer. A step appends its entries in the
    /// transaction that makes its change, so once its response has arrived
    /// they are counted here, without waiting for the sequencer. Take one
    /// before a step; [`TestApp::entries_since`] reads what it appended.
    pub async fn ledger_mark(&self) -> u64 {
        let count: i64 = self
            .query(|connection| ledger_leaves::table.count().get_result(connection))
            .await;
        u64::try_from(count).expect("a count")
    }

    /// Every entry appended since `mark`, in the order of the tree, as
    /// `api_key` reads them through the API, once the sequencer has
    /// integrated all of them: exactly what the steps since `mark` wrote.
    /// (The sequencer integrates entries in the order they were queued, so
    /// those queued after `mark` are the tree's from index `mark` on.)
    pub async fn entries_since(&self, mark: u64, api_key: Option<&str>) -> Vec<Value> {
        let end = self.ledger_mark().await;
        assert!(end >= mark, "the ledger shrank from {mark} to {end} entries");
        self.wait_for_tree_size(end).await;
        let mut entries = Vec::new();
        let mut start = mark;
        while start < end {
            let page = self.entries(start, end, api_key).await;
            assert!(!page.is_empty(), "no entries from {start}");
            start += page.len() as u64;
            entries.extend(page);
        }
        entries
    }

    /// The kinds of the entries appended since `mark`, as the operator reads
    /// them (see [`TestApp::entries_since`]).
    pub async fn kinds_since(&self, mark: u64) -> Vec<String> {
        self.entries_since(mark, Some(&self.operator_key))
            .await
            .iter()
            .map(|entry| entry["kind"].as_str().expect("a kind").to_owned())
            .collect()
    }

    /// Waits until the sequencer has integrated every entry appended so
    /// far; the signed head then, whose size is the whole ledger's.
    pub async fn settled_head(&self) -> Value {
        let size = self.ledger_mark().await;
        self.wait_for_tree_size(size).await
    }

    /// `POST /v1/orgs` as the operator; asserts 201 and returns the body.
    pub async fn create_org(&self, name: &str, role: &str, legal_id: &str) -> Value {
        let response = self
            .post_json(
                "/v1/orgs",
                Some(&self.operator_key),
                &serde_json::json!({ "name": name, "role": role, "legal_id": legal_id }),
            )
            .await;
        assert_eq!(response.status(), 201, "create org {name}");
        response.json().await.expect("json body")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the server (its pool closes), then drop the test database.
        drop(self.server.stop(false));
        if let TestDatabase::Postgres { admin_url, name } = &self.database {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
            }
        }
    }
}

/// Onboards through the library, as `anchorfin org add` does.
pub fn onboard_directly(settings: &Settings, name: &str, role: &str, legal_id: &str) -> Value {
    let url = settings.database_url().expect("database url");
    let mut connection = url.establish().expect("connect");
    migrations::run_pending(&mut connection).expect("migrate");
    let new = OrganizationRequest {
        name: name.to_owned(),
        role: role.to_owned(),
        legal_id: legal_id.to_owned(),
        identifiers: vec![],
        public_keys: vec![],
        risk_emails: vec![],
    }
    .parse()
    .expect("valid organisation");
    let onboarded = onboard(&mut connection, new, None).expect("onboard");
    serde_json::to_value(anchorfin::organizations::OnboardedView::from(&onboarded)).expect("json")
}

/// Copies a directory's files (a data directory: keys, the SQLite database
/// with its WAL) into a new directory. A stopped app's last database
/// connections close as its task ends, and SQLite then folds the WAL into
/// the database file and deletes it: a copy that met a file vanishing is
/// made again, until one finds the directory still.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for _ in 0..50 {
        match try_copy_dir(from, to) {
            Ok(()) => return,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                std::fs::remove_dir_all(to).expect("remove the partial copy");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(error) => panic!("copy {}: {error}", from.display()),
        }
    }
    panic!("{}'s files kept vanishing", from.display());
}

fn try_copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            try_copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Replaces the database name in a PostgreSQL URL.
pub fn database_url_with_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |index| index + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |index| scheme_end + index);
    let mut result = format!("{}/{}", &base[..host_end], name);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

/// Polls `probe` every 50 ms until it returns `Some`, for at most 30 s
/// (generous: a loaded CI machine is slow, and a condition met early ends
/// the wait early); panics naming `what` when it never does.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "never within 30 s: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends every request at once and returns their statuses, in order.
pub async fn send_together(requests: Vec<reqwest::RequestBuilder>) -> Vec<u16> {
    let running: Vec<_> = requests
        .into_iter()
        .map(|request| tokio::spawn(async move { request.send().await.expect("send request").status().as_u16() }))
        .collect();
    let mut statuses = Vec::with_capacity(running.len());
    for request in running {
        statuses.push(request.await.expect("request task"));
    }
    statuses
}

/// Asserts an RFC 9457 problem document and returns it.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().await.expect("problem json");
    assert_eq!(problem["status"], status, "{problem}");
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["type"], format!("urn:anchorfin:problem:{code}"), "{problem}");
    assert!(
        problem["title"].is_string() && problem["detail"].is_string(),
        "{problem}"
    );
    problem
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        database_url_with_name("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        database_url_with_name("postgres://u:p@h/db?sslmode=disable", "y"),
        "postgres://u:p@h/y?sslmode=disable"
    );
    assert_eq!(database_url_with_name("postgres://h:5432", "z"), "postgres://h:5432/z");
    assert!(DatabaseUrl::parse(&database_url_with_name("postgres://h", "z")).is_ok());
}
