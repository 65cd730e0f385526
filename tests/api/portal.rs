//! The web portal, driven as a browser without JavaScript drives it: plain
//! GETs and form POSTs, cookies kept by hand (so their flags are seen),
//! redirects not followed (so each one is checked). Sign-in and sign-out,
//! cookie flags, idle and absolute expiry, a revoked key, CSRF, a risk
//! officer limited to the inbox, acknowledging through the form, escaping,
//! the security headers, languages, the static files, the ledger page and
//! the limit on sign-in attempts.

use std::collections::BTreeMap;
use std::time::Duration;

use anchorfin::domain::EmailAddress;
use anchorfin::organizations::{add_risk_officer, api_key};
use anchorfin::store::schema::{api_keys, portal_sessions};
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use reqwest::header::{HeaderMap, ACCEPT_LANGUAGE, COOKIE, LOCATION, SET_COOKIE};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::registry::{deal, invoice, register, registered, Deal};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// One answer, read whole.
struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect()
    }

    fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|cookie| cookie.starts_with(&format!("{name}=")))
    }

    /// The value of the first `<input name="{name}" value="…">`.
    fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }

    fn assert_secured(&self) {
        let header = |name: &str| self.headers.get(name).map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(header("content-security-policy").as_deref(), Some(CSP));
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
    }
}

/// A browser without JavaScript: its own cookie jar, no redirects followed.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    language: Option<&'static str>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            language: None,
        }
    }

    fn session(&self) -> Option<&str> {
        self.cookies.get("anchorfin_session").map(String::as_str)
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let mut request = request;
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            request = request.header(COOKIE, jar.join("; "));
        }
        if let Some(language) = self.language {
            request = request.header(ACCEPT_LANGUAGE, language);
        }
        let response = request.send().await.unwrap();
        let page = Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        };
        for cookie in page.set_cookies() {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((&cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        page
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(self.app.url(path));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self.client.post(self.app.url(path)).form(fields);
        self.send(request).await
    }

    /// Signs in through the form as a person would.
    async fn sign_in(&mut self, key: &str) -> Page {
        let form = self.get("/sign-in").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let token = form.field("form_token");
        self.post("/sign-in", &[("api_key", key), ("form_token", &token), ("next", "/")])
            .await
    }

    /// A page's CSRF token (every signed-in page carries the sign-out form).
    async fn csrf(&mut self) -> String {
        let page = self.get("/").await;
        page.field("csrf")
    }
}

/// A risk officer of `organization`, with the API key it signs in with.
async fn risk_officer(app: &TestApp, organization: &str, email: &str) -> String {
    let url = app.settings.database_url().unwrap();
    let organization = uuid::Uuid::parse_str(organization).unwrap();
    let email = EmailAddress::parse(email).unwrap();
    tokio::task::spawn_blocking(move || {
        let mut connection = url.establish().unwrap();
        let added = add_risk_officer(&mut connection, organization, &email, None).unwrap();
        api_key::reveal(&added.api_key)
    })
    .await
    .unwrap()
}

/// The `id` of an API key (`afk_<id>_<secret>`).
fn key_id(key: &str) -> String {
    key.split('_').nth(1).unwrap().to_owned()
}

async fn session_count(app: &TestApp) -> i64 {
    app.query(|connection| portal_sessions::table.count().get_result(connection))
        .await
}

async fn revoke(app: &TestApp, key: &str) {
    let id = key_id(key);
    app.query(move |connection| {
        diesel::update(api_keys::table.filter(api_keys::id.eq(id)))
            .set(api_keys::revoked_at.eq(anchorfin::store::now()))
            .execute(connection)
    })
    .await;
}

on_both_backends!(
    signing_in_starts_a_session_held_only_as_a_hash,
    wrong_and_malformed_keys_are_refused,
    signing_out_ends_the_session,
    revoking_the_key_ends_its_sessions,
    forms_without_the_sessions_token_are_refused,
    a_risk_officer_opens_only_the_inbox_and_acknowledges_there,
    markup_in_names_and_invoice_numbers_is_shown_as_text,
    the_language_follows_accept_language_and_the_switch,
    a_supplier_sees_its_figures_by_status,
    the_ledger_page_shows_the_signed_head_and_links_proofs,
    static_files_are_cached_by_hash,
);

async fn signing_in_starts_a_session_held_only_as_a_hash(app: TestApp) {
    let mut browser = Browser::new(&app);
    let form = browser.get("/sign-in").await;
    assert_eq!(form.status, 200);
    form.assert_secured();
    assert!(form.body.contains(r#"type="password" autocomplete="current-password""#));
    let sign_in_cookie = form.set_cookie("anchorfin_sign_in").unwrap();
    assert!(sign_in_cookie.contains("HttpOnly") && sign_in_cookie.contains("SameSite=Strict"));

    let signed_in = browser.sign_in(&app.operator_key).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.location(), "/");
    let cookie = signed_in.set_cookie("anchorfin_session").unwrap();
    for flag in ["Path=/", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    // Served over plain HTTP without an https public URL: not Secure.
    assert!(!cookie.contains("Secure"), "{cookie}");
    // The one-time sign-in token is spent.
    assert!(!browser.cookies.contains_key("anchorfin_sign_in"));

    // The database holds the id's SHA-256 and never the id.
    let id = browser.session().unwrap().to_owned();
    let raw = base64_url(&id);
    assert_eq!(raw.len(), 32);
    let stored: Vec<(Vec<u8>, String)> = app
        .query(|connection| {
            portal_sessions::table
                .select((portal_sessions::id_sha256, portal_sessions::api_key_id))
                .load(connection)
        })
        .await;
    assert_eq!(stored, vec![(Sha256::digest(&raw).to_vec(), key_id(&app.operator_key))]);

    let home = browser.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    home.assert_secured();
    assert_eq!(home.headers["cache-control"], "no-store");
    assert!(home.body.contains("Platform Operator"), "{}", home.body);
    assert!(home.body.contains(r#"action="/sign-out""#));

    // The same over an https public URL: Secure.
    let secure = TestApp::sqlite_with(|settings| {
        settings.public_url = Some(anchorfin::config::PublicUrl::parse("https://portal.example").unwrap())
    })
    .await;
    let mut browser = Browser::new(&secure);
    let signed_in = browser.sign_in(&secure.operator_key).await;
    assert!(signed_in.set_cookie("anchorfin_session").unwrap().contains("; Secure"));
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap()
}

async fn wrong_and_malformed_keys_are_refused(app: TestApp) {
    let mut browser = Browser::new(&app);
    let unknown = format!("afk_{}_{}", "0123456789abcdef", "A".repeat(43));
    for key in [unknown.as_str(), "not a key", ""] {
        let page = browser.sign_in(key).await;
        assert_eq!(page.status, 401, "{key:?}: {}", page.body);
        assert!(page.body.contains("was not accepted"), "{}", page.body);
        assert!(page.set_cookie("anchorfin_session").is_none());
    }
    // The right id with a wrong secret.
    let wrong_secret = format!("{}{}", &app.operator_key[..app.operator_key.len() - 4], "AAAA");
    assert_eq!(browser.sign_in(&wrong_secret).await.status, 401);
    assert_eq!(session_count(&app).await, 0);

    // A sign-in form posted without its token (from another site) is refused.
    let mut stranger = Browser::new(&app);
    let page = stranger
        .post("/sign-in", &[("api_key", &app.operator_key), ("form_token", "x")])
        .await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("This form was refused"), "{}", page.body);
    assert_eq!(session_count(&app).await, 0);

    // Pages need a session: a visitor is sent to sign in, and back after.
    let page = stranger.get("/alerts?kind=duplicate_pledge").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/sign-in?next=%2Falerts%3Fkind%3Dduplicate_pledge");
    let form = stranger.get(page.location()).await;
    assert_eq!(form.field("next"), "/alerts?kind=duplicate_pledge");
    // A redirect never leaves the site.
    let token = form.field("form_token");
    let page = stranger
        .post(
            "/sign-in",
            &[
                ("api_key", &app.operator_key),
                ("form_token", &token),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/");
}

async fn signing_out_ends_the_session(app: TestApp) {
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&app.operator_key).await.status, 303);
    let stolen = browser.session().unwrap().to_owned();
    let csrf = browser.csrf().await;
    let page = browser.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/sign-in?signed_out=1");
    assert!(page.set_cookie("anchorfin_session").unwrap().contains("Max-Age=0"));
    assert!(browser.session().is_none());
    assert_eq!(session_count(&app).await, 0);
    assert!(browser.get(page.location()).await.body.contains("You have signed out."));

    // The old cookie opens nothing, and is cleared.
    browser.cookies.insert("anchorfin_session".to_owned(), stolen);
    let page = browser.get("/").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/sign-in?ended=1");
    assert!(browser.session().is_none());
}

async fn revoking_the_key_ends_its_sessions(app: TestApp) {
    let supplier = app.create_org("Revoked Supplier", "supplier", "REVOKED-1").await;
    let key = supplier["api_key"].as_str().unwrap().to_owned();
    let mut browser = Browser::new(&app);
    let mut other = Browser::new(&app);
    assert_eq!(browser.sign_in(&key).await.status, 303);
    assert_eq!(other.sign_in(&app.operator_key).await.status, 303);
    assert_eq!(browser.get("/").await.status, 200);

    revoke(&app, &key).await;
    let page = browser.get("/").await;
    assert_eq!(page.status, 303, "a revoked key's session ended at once");
    assert_eq!(page.location(), "/sign-in?ended=1");
    // Signing in again with it fails; other sessions go on.
    assert_eq!(browser.sign_in(&key).await.status, 401);
    assert_eq!(other.get("/").await.status, 200);
}

async fn forms_without_the_sessions_token_are_refused(app: TestApp) {
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&app.operator_key).await.status, 303);
    let mut other = Browser::new(&app);
    assert_eq!(other.sign_in(&app.operator_key).await.status, 303);
    let others_token = other.csrf().await;
    for fields in [vec![], vec![("csrf", "")], vec![("csrf", others_token.as_str())]] {
        let page = browser.post("/sign-out", &fields).await;
        assert_eq!(page.status, 403, "{fields:?}");
        page.assert_secured();
        assert!(page.body.contains("This form was refused"), "{}", page.body);
    }
    // Nothing happened: still signed in.
    assert_eq!(browser.get("/").await.status, 200);
    assert_eq!(session_count(&app).await, 2);
    // Not a form at all.
    let request = browser
        .client
        .post(app.url("/sign-out"))
        .header("content-type", "application/json")
        .body("{}");
    assert_eq!(browser.send(request).await.status, 400);
}

async fn a_risk_officer_opens_only_the_inbox_and_acknowledges_there(app: TestApp) {
    let officer = risk_officer(&app, &app.operator_id, "risk@operator.example").await;
    let deal = deal(&app).await;
    registered(&app, &deal, "INV-PORTAL-1", "1000.00").await;
    let response = register(&app, &deal, &invoice(&deal, "INV-PORTAL-1", "1000.00")).await;
    assert_eq!(response.status(), 409);

    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&officer).await.status, 303);
    let home = browser.get("/").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location(), "/alerts");
    for path in ["/ledger"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 403, "{path}");
        page.assert_secured();
    }
    // An organisation's key does not read alerts (as in the API).
    let mut operator = Browser::new(&app);
    assert_eq!(operator.sign_in(&app.operator_key).await.status, 303);
    assert_eq!(operator.get("/alerts").await.status, 403);

    let inbox = browser.get("/alerts").await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    inbox.assert_secured();
    assert!(inbox.body.contains("Duplicate registration"), "{}", inbox.body);
    assert!(inbox.body.contains(r#"data-refresh-seconds="30""#));
    assert!(inbox
        .body
        .contains(r#"<noscript><meta http-equiv="refresh" content="30"></noscript>"#));
    let start = inbox.body.find("href=\"/alerts/").unwrap() + "href=\"".len();
    let alert_path = inbox.body[start..start + inbox.body[start..].find('"').unwrap()].to_owned();
    // Filtering by another kind leaves it out.
    let filtered = browser.get("/alerts?kind=duplicate_pledge").await;
    assert!(!filtered.body.contains(&alert_path));
    assert!(filtered.body.contains("No open alerts."));

    let alert = browser.get(&alert_path).await;
    assert_eq!(alert.status, 200);
    assert!(alert.body.contains("INV-PORTAL-1"), "{}", alert.body);
    let csrf = alert.field("csrf");
    let acknowledgement = format!("{alert_path}/acknowledgement");
    assert_eq!(browser.post(&acknowledgement, &[]).await.status, 403);
    let done = browser.post(&acknowledgement, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), format!("{alert_path}?done=1"));
    let alert = browser.get(done.location()).await;
    assert!(alert.body.contains("The alert is acknowledged."));
    assert!(!alert.body.contains("/acknowledgement"), "no second form");
    // The API agrees.
    let listed = app.get_json("/v1/alerts", Some(&officer)).await;
    assert_eq!(listed["items"][0]["status"], "acknowledged", "{listed}");
    // Acknowledging again says so.
    let again = browser.post(&acknowledgement, &[("csrf", &csrf)]).await;
    assert_eq!(again.location(), format!("{alert_path}?already=1"));
    // Now under the acknowledged ones.
    let inbox = browser.get("/alerts").await;
    assert!(inbox.body.contains("No open alerts."));
    let acknowledged = browser.get("/alerts?status=acknowledged").await;
    assert!(acknowledged.body.contains(&alert_path));
    // Unknown and malformed ids are 404.
    assert_eq!(browser.get("/alerts/not-an-id").await.status, 404);
    assert_eq!(
        browser.get(&format!("/alerts/{}", uuid::Uuid::new_v4())).await.status,
        404
    );
}

async fn markup_in_names_and_invoice_numbers_is_shown_as_text(app: TestApp) {
    let evil = app
        .create_org("<script>alert(1)</script>", "supplier", "EVIL-ORG-1")
        .await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(evil["api_key"].as_str().unwrap()).await.status, 303);
    let home = browser.get("/").await;
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{}",
        home.body
    );
    assert!(!home.body.contains("<script>alert(1)"), "{}", home.body);

    // An invoice number with markup, in the facts of its alert.
    let officer = risk_officer(&app, &app.operator_id, "risk@operator.example").await;
    let deal = deal(&app).await;
    let number = "<img src=x onerror=alert(1)>";
    registered(&app, &deal, number, "10.00").await;
    assert_eq!(
        register(&app, &deal, &invoice(&deal, number, "10.00")).await.status(),
        409
    );
    let mut officer_browser = Browser::new(&app);
    assert_eq!(officer_browser.sign_in(&officer).await.status, 303);
    let inbox = officer_browser.get("/alerts").await;
    let start = inbox.body.find("href=\"/alerts/").unwrap() + "href=\"".len();
    let alert_path = inbox.body[start..start + inbox.body[start..].find('"').unwrap()].to_owned();
    let alert = officer_browser.get(&alert_path).await;
    assert!(
        alert.body.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "{}",
        alert.body
    );
    assert!(!alert.body.contains("<img"), "{}", alert.body);

    // No page carries inline script or style.
    for page in [&home, &inbox, &alert] {
        assert!(!page.body.contains("style="), "{}", page.body);
        assert!(!page.body.contains("<style"), "{}", page.body);
        for script in page.body.split("<script").skip(1) {
            assert!(script.starts_with(" src=\"/static/"), "inline script: {script}");
        }
    }
}

async fn the_language_follows_accept_language_and_the_switch(app: TestApp) {
    let mut browser = Browser::new(&app);
    browser.language = Some("zh-CN,zh;q=0.9,en;q=0.8");
    let page = browser.get("/sign-in").await;
    assert!(page.body.contains(r#"<html lang="zh-Hans">"#), "{}", page.body);
    assert!(page.body.contains("登录"));
    assert_eq!(browser.sign_in(&app.operator_key).await.status, 303);
    let home = browser.get("/").await;
    assert!(
        home.body.contains("退出登录") && home.body.contains("平台运营方"),
        "{}",
        home.body
    );

    // The switch sets a cookie that wins over Accept-Language, and returns.
    let switched = browser.get("/language/en?next=%2Fledger").await;
    assert_eq!(switched.status, 303);
    assert_eq!(switched.location(), "/ledger");
    let cookie = switched.set_cookie("lang").unwrap();
    assert!(
        cookie.starts_with("lang=en;") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // (A loaded machine may not have signed the first head yet.)
    app.settled_head().await;
    let ledger = browser.get("/ledger").await;
    assert!(ledger.body.contains(r#"<html lang="en">"#));
    assert!(ledger.body.contains("Signed tree head"), "{}", ledger.body);
    // The switch on the page links back to it.
    assert!(ledger.body.contains("/language/zh?next=%2Fledger"), "{}", ledger.body);
    // It leads nowhere else.
    let outside = browser.get("/language/zh?next=https%3A%2F%2Fevil.example").await;
    assert_eq!(outside.location(), "/");
    assert_eq!(browser.get("/language/fr").await.status, 404);

    // Without either, English.
    let mut plain = Browser::new(&app);
    assert!(plain.get("/sign-in").await.body.contains(r#"<html lang="en">"#));
    plain.language = Some("fr-FR, de;q=0.8");
    assert!(plain.get("/sign-in").await.body.contains("Sign in"));
}

async fn a_supplier_sees_its_figures_by_status(app: TestApp) {
    let deal = deal(&app).await;
    registered(&app, &deal, "INV-FIG-1", "1234567.50").await;
    registered(&app, &deal, "INV-FIG-2", "0.50").await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&Deal::key(&deal.supplier)).await.status, 303);
    let home = browser.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Shenzhen Parts"));
    assert!(
        home.body.contains(
            r#"<tr><td>Registered</td><td class="number">2</td><td class="number">1,234,568.00 CNY</td></tr>"#
        ),
        "{}",
        home.body
    );
    browser.language = Some("zh");
    let home = browser.get("/").await;
    assert!(home.body.contains("CNY 1,234,568.00"), "{}", home.body);
    // Another supplier sees none of it.
    let mut other = Browser::new(&app);
    assert_eq!(other.sign_in(&Deal::key(&deal.second_supplier)).await.status, 303);
    let home = other.get("/").await;
    assert!(!home.body.contains("1,234,568.00"), "{}", home.body);
    assert!(home.body.contains("Nothing registered yet."));
}

async fn the_ledger_page_shows_the_signed_head_and_links_proofs(app: TestApp) {
    let head = app.settled_head().await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&app.operator_key).await.status, 303);
    let page = browser.get("/ledger").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let size = head["tree_size"].as_u64().unwrap();
    assert!(page.body.contains(head["root_hash"].as_str().unwrap()), "{}", page.body);
    assert!(page.body.contains(head["signature"].as_str().unwrap()));
    let proof = format!("/v1/ledger/proofs/inclusion?index=0&#38;tree_size={size}");
    assert!(page.body.contains(&proof), "{}", page.body);
    let response = app.get(&proof.replace("&#38;", "&"), None).await;
    assert_eq!(response.status(), 200);
}

async fn static_files_are_cached_by_hash(app: TestApp) {
    let mut browser = Browser::new(&app);
    let page = browser.get("/sign-in").await;
    let start = page.body.find("/static/portal-").unwrap();
    let path = page.body[start..start + page.body[start..].find('"').unwrap()].to_owned();
    let css = browser.get(&path).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert_eq!(css.headers["cache-control"], "public, max-age=31536000, immutable");
    css.assert_secured();
    let etag = css.headers["etag"].to_str().unwrap().to_owned();
    let request = browser.client.get(app.url(&path)).header("if-none-match", &etag);
    assert_eq!(browser.send(request).await.status, 304);
    assert_eq!(browser.get("/static/portal-0000000000000000.css").await.status, 404);
}

// Sign-in attempts are limited per address like the API's anonymous
// requests (a burst of two here).

async fn sign_in_attempts(app: TestApp) {
    let mut browser = Browser::new(&app);
    let wrong = format!("afk_{}_{}", "0123456789abcdef", "A".repeat(43));
    assert_eq!(browser.sign_in(&wrong).await.status, 401);
    assert_eq!(browser.sign_in(&wrong).await.status, 401);
    let limited = browser.sign_in(&app.operator_key).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    limited.assert_secured();
    assert!(limited.headers.contains_key("retry-after"));
    assert!(limited.body.contains("Too many requests"), "{}", limited.body);
    assert_eq!(session_count(&app).await, 0);
}

fn limited_settings(settings: &mut anchorfin::config::Settings) {
    settings.limits.requests_per_second = 1;
    settings.limits.request_burst = 2;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_rate_limited_on_sqlite() {
    sign_in_attempts(TestApp::sqlite_with(limited_settings).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_rate_limited_on_postgres() {
    let Some(app) = TestApp::postgres_with(limited_settings).await else {
        return;
    };
    sign_in_attempts(app).await;
}

// Expiry needs short session times: its own apps.

mod sessions_expire {
    use super::*;

    /// Generous margins: a loaded CI machine answers slowly.
    const IDLE: Duration = Duration::from_secs(3);
    const LIFETIME: Duration = Duration::from_secs(4);

    async fn idle(app: TestApp) {
        let mut browser = Browser::new(&app);
        assert_eq!(browser.sign_in(&app.operator_key).await.status, 303);
        // Used within the idle time, it lives on past it.
        let started = std::time::Instant::now();
        while started.elapsed() < IDLE + Duration::from_secs(1) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(browser.get("/").await.status, 200);
        }
        tokio::time::sleep(IDLE + Duration::from_millis(500)).await;
        let page = browser.get("/").await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location(), "/sign-in?ended=1");
        assert!(browser
            .get(page.location())
            .await
            .body
            .contains("Your session has ended."));
    }

    async fn absolute(app: TestApp) {
        let mut browser = Browser::new(&app);
        let started = std::time::Instant::now();
        assert_eq!(browser.sign_in(&app.operator_key).await.status, 303);
        // Used all along, it still ends at its lifetime.
        while started.elapsed() < LIFETIME - Duration::from_millis(1_500) {
            assert_eq!(browser.get("/").await.status, 200);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        tokio::time::sleep((LIFETIME + Duration::from_millis(500)).saturating_sub(started.elapsed())).await;
        assert_eq!(browser.get("/").await.status, 303);
        // A new sign-in deletes the expired session.
        assert_eq!(browser.sign_in(&app.operator_key).await.status, 303);
        assert_eq!(session_count(&app).await, 1);
    }

    fn idle_settings(settings: &mut anchorfin::config::Settings) {
        settings.portal.session_idle = IDLE;
    }

    fn absolute_settings(settings: &mut anchorfin::config::Settings) {
        settings.portal.session_idle = Duration::from_secs(60);
        settings.portal.session_lifetime = LIFETIME;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_the_idle_time_on_sqlite() {
        idle(TestApp::sqlite_with(idle_settings).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_the_idle_time_on_postgres() {
        let Some(app) = TestApp::postgres_with(idle_settings).await else {
            return;
        };
        idle(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_the_end_of_their_lifetime_on_sqlite() {
        absolute(TestApp::sqlite_with(absolute_settings).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_the_end_of_their_lifetime_on_postgres() {
        let Some(app) = TestApp::postgres_with(absolute_settings).await else {
            return;
        };
        absolute(app).await;
    }
}
