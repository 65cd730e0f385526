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
use anchorfin::store::schema::{api_keys, portal_sessions, receivables};
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use reqwest::header::{HeaderMap, ACCEPT_LANGUAGE, COOKIE, LOCATION, SET_COOKIE};
use sha2::{Digest, Sha256};

use crate::documents::csv;
use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::registry::{confirm, deal, invoice, register, registered, Deal};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// One answer, read whole.
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect()
    }

    pub(crate) fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|cookie| cookie.starts_with(&format!("{name}=")))
    }

    /// The value of the first `<input name="{name}" value="…">`.
    pub(crate) fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }

    pub(crate) fn assert_secured(&self) {
        let header = |name: &str| self.headers.get(name).map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(header("content-security-policy").as_deref(), Some(CSP));
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
    }
}

/// A browser without JavaScript: its own cookie jar, no redirects followed.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    pub(crate) language: Option<&'static str>,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
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

    pub(crate) fn session(&self) -> Option<&str> {
        self.cookies.get("anchorfin_session").map(String::as_str)
    }

    pub(crate) async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
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

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(self.app.url(path));
        self.send(request).await
    }

    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self.client.post(self.app.url(path)).form(fields);
        self.send(request).await
    }

    /// Posts a `multipart/form-data` form as the upload page does: the
    /// CSRF field (if given) first, then the file.
    pub(crate) async fn post_file(&mut self, path: &str, csrf: Option<&str>, file_name: &str, bytes: &[u8]) -> Page {
        let boundary = "----anchorfin-portal-boundary";
        let mut body = Vec::new();
        if let Some(csrf) = csrf {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = self
            .client
            .post(self.app.url(path))
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        self.send(request).await
    }

    /// Signs in through the form as a person would.
    pub(crate) async fn sign_in(&mut self, key: &str) -> Page {
        let form = self.get("/sign-in").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let token = form.field("form_token");
        self.post("/sign-in", &[("api_key", key), ("form_token", &token), ("next", "/")])
            .await
    }

    /// A page's CSRF token (every signed-in page carries the sign-out form).
    pub(crate) async fn csrf(&mut self) -> String {
        let page = self.get("/").await;
        page.field("csrf")
    }
}

/// A risk officer of `organization`, with the API key it signs in with.
pub(crate) async fn risk_officer(app: &TestApp, organization: &str, email: &str) -> String {
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
pub(crate) fn key_id(key: &str) -> String {
    key.split('_').nth(1).unwrap().to_owned()
}

async fn session_count(app: &TestApp) -> i64 {
    app.query(|connection| portal_sessions::table.count().get_result(connection))
        .await
}

pub(crate) async fn revoke(app: &TestApp, key: &str) {
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
    a_supplier_lists_its_own_receivables_filtered_and_paged,
    a_supplier_uploads_a_file_through_the_form,
    only_a_suppliers_key_uploads_and_only_the_parties_open_receivables,
    a_large_upload_shows_its_progress_until_the_report_is_done,
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

/// The `href`s of the page's links that start with `prefix`, unescaped.
pub(crate) fn links(page: &Page, prefix: &str) -> Vec<String> {
    let marker = format!("href=\"{prefix}");
    page.body
        .match_indices(&marker)
        .map(|(start, _)| {
            let start = start + "href=\"".len();
            let end = page.body[start..].find('"').unwrap() + start;
            page.body[start..end].replace("&#38;", "&")
        })
        .collect()
}

/// The links to receivables' pages (not to the registration form).
fn receivable_links(page: &Page) -> Vec<String> {
    links(page, "/receivables/")
        .into_iter()
        .filter(|link| link != "/receivables/new")
        .collect()
}

async fn supplier_receivables(app: &TestApp, supplier: String) -> i64 {
    app.query(move |connection| {
        receivables::table
            .filter(receivables::supplier_id.eq(supplier))
            .count()
            .get_result(connection)
    })
    .await
}

async fn a_supplier_lists_its_own_receivables_filtered_and_paged(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    // 51 invoices from one upload (one creation time: the id orders them),
    // then one with markup in its number, confirmed by the buyer.
    let rows: Vec<(String, &str)> = (1..=51).map(|n| (format!("INV-LIST-{n:03}"), "100.00")).collect();
    let rows: Vec<(&str, &str)> = rows.iter().map(|(number, amount)| (number.as_str(), *amount)).collect();
    let imported = app
        .client
        .post(app.url("/v1/receivables/import"))
        .bearer_auth(&supplier)
        .header("Content-Type", "text/csv")
        .body(csv(&rows))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200);
    let marked = registered(&app, &deal, "<b>INV-MARKUP</b>", "1234.50").await;
    assert_eq!(confirm(&app, &deal, &marked).await.status(), 200);
    // Another supplier's invoice, never in this supplier's list.
    let other = app
        .post_json(
            "/v1/receivables",
            Some(&Deal::key(&deal.second_supplier)),
            &invoice(&deal, "INV-OTHER-1", "5.00"),
        )
        .await;
    assert_eq!(other.status(), 201);
    let other: serde_json::Value = other.json().await.unwrap();

    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&supplier).await.status, 303);
    let home = browser.get("/").await;
    assert!(home.body.contains(r#"href="/receivables""#) && home.body.contains(r#"href="/uploads""#));
    let first = browser.get("/receivables").await;
    assert_eq!(first.status, 200, "{}", first.body);
    first.assert_secured();
    assert!(
        first.body.contains("&#60;b&#62;INV-MARKUP&#60;/b&#62;"),
        "{}",
        first.body
    );
    assert!(!first.body.contains("<b>INV-MARKUP"), "{}", first.body);
    assert!(!first.body.contains("INV-OTHER-1"), "{}", first.body);
    assert!(first.body.contains("1,234.50 CNY"), "{}", first.body);
    assert!(first.body.contains("2026-11-01"), "{}", first.body);
    assert_eq!(receivable_links(&first).len(), 50, "{}", first.body);
    let next = links(&first, "/receivables?");
    let next: Vec<&String> = next.iter().filter(|link| link.contains("after=")).collect();
    assert_eq!(next.len(), 1, "{}", first.body);
    let second = browser.get(next[0]).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(receivable_links(&second).len(), 2, "{}", second.body);
    assert!(!second.body.contains("rel=\"next\""), "{}", second.body);
    // The two pages hold every one of the 52, once.
    let mut seen: Vec<String> = receivable_links(&first);
    seen.extend(receivable_links(&second));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 52);
    assert!(!seen.contains(&format!("/receivables/{}", other["id"].as_str().unwrap())));
    // A cursor that is not one.
    assert_eq!(browser.get("/receivables?after=yesterday").await.status, 400);

    // Filtered by status.
    let confirmed = browser.get("/receivables?status=confirmed").await;
    assert_eq!(receivable_links(&confirmed).len(), 1, "{}", confirmed.body);
    assert!(
        confirmed.body.contains(r#"<option value="confirmed" selected>"#),
        "{}",
        confirmed.body
    );
    let registered_only = browser.get("/receivables?status=registered").await;
    assert_eq!(receivable_links(&registered_only).len(), 50);
    assert!(!registered_only.body.contains("INV-MARKUP"));
    let next = links(&registered_only, "/receivables?");
    let next: Vec<&String> = next.iter().filter(|link| link.contains("after=")).collect();
    assert!(next[0].contains("status=registered"), "{next:?}");
    assert_eq!(receivable_links(&browser.get(next[0]).await).len(), 1);

    // The detail page, as the API shows it.
    let detail = browser
        .get(&format!("/receivables/{}", marked["id"].as_str().unwrap()))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    for expected in [
        marked["fingerprint"].as_str().unwrap(),
        marked["ledger"]["leaf_hash"].as_str().unwrap(),
        "&#60;b&#62;INV-MARKUP&#60;/b&#62;",
        "Confirmed",
        "2027-03-31",
        "1,234.50 CNY",
    ] {
        assert!(detail.body.contains(expected), "{expected}: {}", detail.body);
    }
    assert!(!detail.body.contains("<b>INV-MARKUP"));
    browser.language = Some("zh");
    let detail = browser
        .get(&format!("/receivables/{}", marked["id"].as_str().unwrap()))
        .await;
    assert!(
        detail.body.contains("CNY 1,234.50") && detail.body.contains("2027年3月31日"),
        "{}",
        detail.body
    );
    // Another supplier's receivable is not found.
    let missing = browser
        .get(&format!("/receivables/{}", other["id"].as_str().unwrap()))
        .await;
    assert_eq!(missing.status, 404);
}

async fn a_supplier_uploads_a_file_through_the_form(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    let supplier_id = Deal::id(&deal.supplier);
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&supplier).await.status, 303);
    let form = browser.get("/uploads").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains(r#"enctype="multipart/form-data""#), "{}", form.body);
    let csrf = form.field("csrf");

    // One good row, one with a date that does not exist.
    let mut file = csv(&[("INV-UP-1", "250.00")]);
    file.push_str(&format!(
        "INV-UP-2,{},2026-02-30,2027-03-31,CNY,10.00,\n",
        crate::documents::BUYER
    ));

    // Without the session's token: refused, nothing recorded.
    let refused = browser
        .post_file("/uploads", None, "invoices.csv", file.as_bytes())
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let wrong = browser
        .post_file("/uploads", Some("not-the-token"), "invoices.csv", file.as_bytes())
        .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(supplier_receivables(&app, supplier_id.clone()).await, 0);

    let sent = browser
        .post_file("/uploads", Some(&csrf), "invoices.csv", file.as_bytes())
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let report_path = sent.location().to_owned();
    assert!(report_path.starts_with("/uploads/"), "{report_path}");
    let upload_id = report_path.trim_start_matches("/uploads/").to_owned();
    let report = browser.get(&report_path).await;
    assert_eq!(report.status, 200, "{}", report.body);
    report.assert_secured();
    assert!(
        report.body.contains("INV-UP-1") && report.body.contains("INV-UP-2"),
        "{}",
        report.body
    );
    assert!(report.body.contains("<code>invalid_field</code>"), "{}", report.body);
    assert!(report.body.contains("<td>2026-02-30</td>"), "{}", report.body);
    assert!(report.body.contains("<td>issue_date</td>"), "{}", report.body);
    assert!(report.body.contains("Rejected") && report.body.contains("Created"));
    assert_eq!(links(&report, "/receivables/").len(), 1, "{}", report.body);
    assert_eq!(supplier_receivables(&app, supplier_id.clone()).await, 1);

    // The CSV download is the API's.
    let download = links(&report, &format!("/uploads/{upload_id}/report.csv"));
    assert_eq!(download.len(), 1, "{}", report.body);
    let portal_csv = browser.get(&download[0]).await;
    assert_eq!(portal_csv.status, 200);
    assert!(portal_csv.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let api_csv = app
        .get(&format!("/v1/uploads/{upload_id}/report.csv"), Some(&supplier))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(portal_csv.body, api_csv);
    assert!(api_csv.contains("invalid_field,issue_date,2026-02-30"), "{api_csv}");

    // The same file again: its first report, replayed; nothing more registered.
    let again = browser
        .post_file("/uploads", Some(&csrf), "again.csv", file.as_bytes())
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(again.location(), format!("/uploads/{upload_id}?replayed=1"));
    let replayed = browser.get(again.location()).await;
    assert!(
        replayed.body.contains("This file was uploaded before"),
        "{}",
        replayed.body
    );
    assert!(replayed.body.contains("<code>invalid_field</code>"));
    assert_eq!(supplier_receivables(&app, supplier_id.clone()).await, 1);

    // Whole files refused, on the form, naming why; nothing registered.
    let bad_header = browser
        .post_file("/uploads", Some(&csrf), "bad.csv", b"number,who,when\nINV-X,1,2\n")
        .await;
    assert_eq!(bad_header.status, 422, "{}", bad_header.body);
    assert!(
        bad_header.body.contains("its header is not a known set of columns"),
        "{}",
        bad_header.body
    );
    assert!(bad_header.body.contains("bad header"), "{}", bad_header.body);
    assert!(bad_header.body.contains(r#"name="csrf""#), "the form again");
    let unsupported = browser
        .post_file("/uploads", Some(&csrf), "photo.bin", &[0, 1, 2, 3, 255])
        .await;
    assert_eq!(unsupported.status, 422);
    assert!(unsupported.body.contains("it is not CSV"), "{}", unsupported.body);
    let empty = browser.post_file("/uploads", Some(&csrf), "", b"").await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("Choose a file"), "{}", empty.body);
    browser.language = Some("zh");
    let bad_header = browser
        .post_file("/uploads", Some(&csrf), "bad.csv", b"number,who,when\nINV-X,1,2\n")
        .await;
    assert!(bad_header.body.contains("表头"), "{}", bad_header.body);
    assert_eq!(supplier_receivables(&app, supplier_id).await, 1);

    // Another supplier does not find this upload.
    let mut other = Browser::new(&app);
    assert_eq!(other.sign_in(&Deal::key(&deal.second_supplier)).await.status, 303);
    assert_eq!(other.get(&report_path).await.status, 404);
    assert_eq!(other.get(&download[0]).await.status, 404);
}

async fn only_a_suppliers_key_uploads_and_only_the_parties_open_receivables(app: TestApp) {
    let deal = deal(&app).await;
    let receivable = registered(&app, &deal, "INV-ROLE-1", "10.00").await;
    let receivable_page = format!("/receivables/{}", receivable["id"].as_str().unwrap());
    let officer = risk_officer(&app, &Deal::id(&deal.bank), "risk@bank.example").await;
    // The buyer lists what it owes and opens it; a bank, a stranger to
    // the invoice, finds nothing; a risk officer opens only the inbox.
    let buyer = Deal::key(&deal.buyer);
    for (key, list, one) in [
        (buyer.clone(), 200, 200),
        (Deal::key(&deal.bank), 403, 404),
        (officer, 403, 403),
    ] {
        let mut browser = Browser::new(&app);
        assert_eq!(browser.sign_in(&key).await.status, 303);
        for (path, status) in [
            ("/receivables", list),
            (receivable_page.as_str(), one),
            ("/uploads", 403),
        ] {
            let page = browser.get(path).await;
            assert_eq!(page.status, status, "{path}: {}", page.body);
        }
        let upload = format!("/uploads/{}", uuid::Uuid::new_v4());
        assert_eq!(browser.get(&upload).await.status, 403);
        assert_eq!(browser.get(&format!("{upload}/report.csv")).await.status, 403);
        let csrf = browser.get("/ledger").await;
        let csrf = if csrf.status == 200 {
            csrf.field("csrf")
        } else {
            browser.get("/alerts").await.field("csrf")
        };
        let sent = browser
            .post_file(
                "/uploads",
                Some(&csrf),
                "invoices.csv",
                csv(&[("INV-ROLE-2", "1.00")]).as_bytes(),
            )
            .await;
        assert_eq!(sent.status, 403, "{}", sent.body);
        assert!(!browser.get("/").await.body.contains(r#"href="/uploads""#));
    }
    assert_eq!(supplier_receivables(&app, Deal::id(&deal.supplier)).await, 1);
}

async fn a_large_upload_shows_its_progress_until_the_report_is_done(app: TestApp) {
    let deal = deal(&app).await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&Deal::key(&deal.supplier)).await.status, 303);
    let csrf = browser.get("/uploads").await.field("csrf");
    let rows: Vec<(String, &str)> = (1..=10_001).map(|n| (format!("INV-BIG-{n:05}"), "1.00")).collect();
    let rows: Vec<(&str, &str)> = rows.iter().map(|(number, amount)| (number.as_str(), *amount)).collect();
    let sent = browser
        .post_file("/uploads", Some(&csrf), "big.csv", csv(&rows).as_bytes())
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let page_path = sent.location().to_owned();
    let mut seen_progress = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let done = loop {
        let page = browser.get(&page_path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        page.assert_secured();
        if page.body.contains("Rows decided:") {
            // A job's page reloads itself, without script, until it is done.
            assert!(
                page.body.contains(r#"<meta http-equiv="refresh" content="2">"#),
                "{}",
                page.body
            );
            assert!(page.body.contains("/ 10001"), "{}", page.body);
            // Its CSV is not there yet: back to the page (unless the
            // report was completed meanwhile).
            let csv = browser.get(&format!("{page_path}/report.csv")).await;
            assert!(
                csv.status == 200 || (csv.status == 303 && csv.location() == page_path),
                "{} {}",
                csv.status,
                csv.location()
            );
            seen_progress = true;
        } else {
            break page;
        }
        assert!(std::time::Instant::now() < deadline, "the upload did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(done.body.contains("Created: <strong>10001</strong>"), "{}", done.body);
    assert!(!done.body.contains("http-equiv=\"refresh\""), "{}", done.body);
    let report = browser.get(&format!("{page_path}/report.csv")).await;
    assert_eq!(report.status, 200);
    assert_eq!(report.body.lines().count(), 10_002);
    // Decided in the background (10,001 rows take the worker well over
    // the moment between the answer and the first look): the page showed
    // the progress first.
    assert!(seen_progress);
}
