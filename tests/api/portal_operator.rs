//! The operator's portal pages, driven as a browser without JavaScript
//! (the `Browser` of `portal.rs`): onboarding through the form and the new
//! key signing in, refused fields named with nothing written, the pages
//! closed to every other role and to forms without the session's token,
//! markup in a name shown as text, the list paged, and a risk officer
//! added through the form whose key opens the alert inbox.

use anchorfin::ledger::EntryHeader;
use anchorfin::organizations::{onboard, OrganizationRequest};
use anchorfin::store::schema::{api_keys, organizations, risk_officers};
use diesel::{QueryDsl, RunQueryDsl};
use ed25519_dalek::SigningKey;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::portal::{Browser, Page};

on_both_backends!(
    an_operator_onboards_a_supplier_whose_key_signs_in,
    a_refused_field_is_named_the_values_kept_and_nothing_written,
    only_the_operator_opens_the_organisation_pages,
    operator_forms_without_the_sessions_token_write_nothing,
    markup_in_an_organisation_name_is_shown_as_text,
    the_organisations_are_listed_newest_first_a_page_at_a_time,
    a_risk_officer_added_through_the_form_opens_the_inbox,
);

/// How many rows `organizations`, `risk_officers` and `api_keys` hold.
async fn counts(app: &TestApp) -> (i64, i64, i64) {
    app.query(|connection| {
        Ok((
            organizations::table.count().get_result(connection)?,
            risk_officers::table.count().get_result(connection)?,
            api_keys::table.count().get_result(connection)?,
        ))
    })
    .await
}

/// Every API key (`afk_…`) written out whole on a page.
fn keys_on(page: &Page) -> Vec<String> {
    page.body
        .split("<code>afk_")
        .skip(1)
        .map(|rest| format!("afk_{}", &rest[..rest.find('<').unwrap()]))
        .collect()
}

/// The new organisation's page, as the onboarded page links it.
fn organization_path(page: &Page) -> String {
    let marker = "<dd><a href=\"";
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no link in {}", page.body))
        + marker.len();
    page.body[start..start + page.body[start..].find('"').unwrap()].to_owned()
}

fn public_key_hex(seed: u8) -> String {
    hex::encode(SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes())
}

/// The operator, signed in.
async fn operator(app: &TestApp) -> Browser<'_> {
    let mut browser = Browser::new(app);
    assert_eq!(browser.sign_in(&app.operator_key).await.status, 303);
    browser
}

/// Posts the onboarding form with `fields` (and the session's token).
async fn submit(browser: &mut Browser<'_>, fields: &[(&str, &str)]) -> Page {
    let form = browser.get("/orgs/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.field("csrf");
    let mut fields = fields.to_vec();
    fields.push(("csrf", &csrf));
    browser.post("/orgs", &fields).await
}

async fn an_operator_onboards_a_supplier_whose_key_signs_in(app: TestApp) {
    let mark = app.ledger_mark().await;
    let mut browser = operator(&app).await;
    let home = browser.get("/").await;
    assert!(
        home.body.contains(r#"<a href="/orgs">Organisations</a>"#),
        "{}",
        home.body
    );
    let form = browser.get("/orgs/new").await;
    assert_eq!(form.status, 200);
    form.assert_secured();
    assert!(
        form.body.contains(r#"<form method="post" action="/orgs""#),
        "{}",
        form.body
    );

    let key = public_key_hex(31);
    let done = submit(
        &mut browser,
        &[
            ("name", "  Portal Parts Ltd "),
            ("role", "supplier"),
            ("legal_id", "91310000PORTAL0001"),
            ("identifiers", "0088:7300010000001\r\n\r\nVAT:CN-PORTAL-1\r\n"),
            ("public_keys", &key),
            ("risk_emails", "risk@portal-parts.example"),
        ],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    done.assert_secured();
    assert_eq!(done.headers["cache-control"], "no-store");
    assert!(done.body.contains("it is shown this once"), "{}", done.body);
    let keys = keys_on(&done);
    assert_eq!(keys.len(), 2, "the organisation's key and its officer's: {}", done.body);
    let page_path = organization_path(&done);
    let id = page_path.trim_start_matches("/orgs/").to_owned();

    // Written as POST /v1/orgs writes it, the operator the ledger's actor.
    let entries = app.entries_since(mark, Some(&app.operator_key)).await;
    let onboarded = entries
        .iter()
        .find(|entry| entry["kind"] == "org_onboarded")
        .expect("an org_onboarded entry");
    let header = EntryHeader::decode(&hex::decode(onboarded["entry"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(header.actor.as_deref(), Some(app.operator_id.as_str()));
    assert_eq!(onboarded["details"]["data"]["name"], "Portal Parts Ltd", "{onboarded}");
    let kinds = app.kinds_since(mark).await;
    assert!(kinds.contains(&"key_registered".to_owned()) && kinds.contains(&"risk_officer_added".to_owned()));

    // Listed, and its page shows the facts and the keys' ids, never a secret.
    let list = browser.get("/orgs").await;
    assert!(
        list.body
            .contains(&format!(r#"<a href="/orgs/{id}">Portal Parts Ltd</a>"#)),
        "{}",
        list.body
    );
    assert!(list.body.contains("91310000PORTAL0001"));
    let page = browser.get(&page_path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.headers["cache-control"], "no-store");
    for shown in [
        "Supplier",
        "0088:7300010000001",
        "VAT:CN-PORTAL-1",
        &key,
        "risk@portal-parts.example",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    for key in &keys {
        let (public, secret) = key.split_at("afk_0123456789abcdef_".len());
        assert!(page.body.contains(&format!("{public}…")), "{}", page.body);
        assert!(!page.body.contains(secret), "a secret shown again");
    }

    // The new key signs in to the portal as the supplier.
    let mut supplier = Browser::new(&app);
    assert_eq!(supplier.sign_in(&keys[0]).await.status, 303);
    let home = supplier.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Portal Parts Ltd · Supplier"), "{}", home.body);
    assert!(supplier.get("/receivables").await.status == 200);
    // And its officer's key opens the inbox.
    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in(&keys[1]).await.status, 303);
    assert_eq!(officer.get("/alerts").await.status, 200);
}

/// An onboarding form with `public_keys`, the other fields valid.
fn kept_fields(public_keys: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("name", "Kept Name <Ltd>"),
        ("role", "core_enterprise"),
        ("legal_id", "KEPT-LEGAL-1"),
        ("identifiers", "0088:7300010000001"),
        ("public_keys", public_keys),
    ]
}

async fn a_refused_field_is_named_the_values_kept_and_nothing_written(app: TestApp) {
    app.create_org("Taken Legal Id Ltd", "bank", "TAKEN-LEGAL-1").await;
    let before = counts(&app).await;
    let mark = app.ledger_mark().await;
    let mut browser = operator(&app).await;
    let valid = public_key_hex(41);
    // The second line of the keys is no key.
    let bad_keys = format!("{valid}\nnot-a-key");
    let page = submit(&mut browser, &kept_fields(&bad_keys)).await;
    assert_eq!(page.status, 422, "{}", page.body);
    page.assert_secured();
    assert!(
        page.body.contains("<strong>Signing public keys · Line 2</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Nothing was recorded."));
    assert!(
        page.body.contains(r#"name="public_keys" rows="3" spellcheck="false" aria-describedby="public_keys_help problem" aria-invalid="true""#),
        "{}",
        page.body
    );
    // What was typed is kept (escaped), the role still chosen.
    assert!(
        page.body.contains(r#"value="Kept Name &#60;Ltd&#62;""#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"<option value="core_enterprise" selected>"#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!("{valid}\nnot-a-key</textarea>")),
        "{}",
        page.body
    );
    assert!(page.body.contains("0088:7300010000001</textarea>"));

    // Each field by its name.
    for (field, value, named) in [
        ("name", "", "<strong>Name</strong>: name must not be empty"),
        ("role", "admin", "<strong>Role</strong>"),
        ("legal_id", "", "<strong>Legal id</strong>"),
        (
            "identifiers",
            "0088:7300010000001\nno colon",
            "<strong>Other identifiers · Line 2</strong>",
        ),
        (
            "risk_emails",
            "\n\nnot an address",
            "<strong>Risk officers&#39; e-mail addresses · Line 3</strong>",
        ),
    ] {
        let mut sent = kept_fields("");
        sent.retain(|(name, _)| *name != field);
        sent.push((field, value));
        let page = submit(&mut browser, &sent).await;
        assert_eq!(page.status, 422, "{field}: {}", page.body);
        assert!(page.body.contains(named), "{field}: {}", page.body);
    }
    // Refusals of the use case itself, by the field they concern.
    let mut taken = kept_fields("");
    taken.retain(|(name, _)| *name != "legal_id");
    taken.push(("legal_id", "taken-legal-1"));
    let page = submit(&mut browser, &taken).await;
    assert_eq!(page.status, 409, "{}", page.body);
    assert!(
        page.body
            .contains("<strong>Legal id</strong>: an organisation with this legal id is onboarded already"),
        "{}",
        page.body
    );
    // In Chinese, the field's Chinese name.
    browser.language = Some("zh-CN");
    let page = submit(&mut browser, &kept_fields(&bad_keys)).await;
    assert!(page.body.contains("<strong>签名公钥 · 行 2</strong>"), "{}", page.body);

    assert_eq!(counts(&app).await, before, "nothing written");
    assert!(app.kinds_since(mark).await.is_empty(), "nothing on the ledger");
}

async fn only_the_operator_opens_the_organisation_pages(app: TestApp) {
    let supplier = app.create_org("Closed Supplier", "supplier", "CLOSED-SUP-1").await;
    let bank = app.create_org("Closed Bank", "bank", "CLOSED-BANK-1").await;
    let id = supplier["id"].as_str().unwrap().to_owned();
    // An operator's risk officer, added through the form.
    let mut operator = operator(&app).await;
    let page = operator.get(&format!("/orgs/{}", app.operator_id)).await;
    let csrf = page.field("csrf");
    let added = operator
        .post(
            &format!("/orgs/{}/risk-officers", app.operator_id),
            &[("email", "risk@operator.example"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let officer = keys_on(&added).remove(0);
    let before = counts(&app).await;

    for key in [
        supplier["api_key"].as_str().unwrap(),
        bank["api_key"].as_str().unwrap(),
        officer.as_str(),
    ] {
        let mut browser = Browser::new(&app);
        assert_eq!(browser.sign_in(key).await.status, 303);
        // A risk officer's key is sent from home to the inbox.
        let mut home = browser.get("/").await;
        if home.status == 303 {
            home = browser.get(home.location()).await;
        }
        assert_eq!(home.status, 200, "{}", home.body);
        assert!(
            !home.body.contains("href=\"/orgs"),
            "no link to the operator's pages: {}",
            home.body
        );
        for path in [
            "/orgs",
            "/orgs/new",
            &format!("/orgs/{id}"),
            &format!("/orgs/{}", app.operator_id),
        ] {
            let page = browser.get(path).await;
            assert_eq!(page.status, 403, "{path}: {}", page.body);
            page.assert_secured();
            assert!(!page.body.contains("CLOSED-SUP-1"), "{path}");
        }
        // With this session's own token: refused all the same.
        let csrf = home.field("csrf");
        let page = browser
            .post(
                "/orgs",
                &[
                    ("name", "Sneaked In"),
                    ("role", "operator"),
                    ("legal_id", "SNEAK-1"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(page.status, 403, "{}", page.body);
        let page = browser
            .post(
                &format!("/orgs/{id}/risk-officers"),
                &[("email", "sneak@example.com"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(page.status, 403, "{}", page.body);
    }
    assert_eq!(counts(&app).await, before, "nothing written");
    // Signed out, the pages send to sign-in.
    let mut stranger = Browser::new(&app);
    let page = stranger.get("/orgs/new").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/sign-in?next=%2Forgs%2Fnew");
}

async fn operator_forms_without_the_sessions_token_write_nothing(app: TestApp) {
    let supplier = app.create_org("Token Supplier", "supplier", "TOKEN-SUP-1").await;
    let id = supplier["id"].as_str().unwrap();
    let before = counts(&app).await;
    let mut browser = operator(&app).await;
    let mut other = operator(&app).await;
    let others_token = other.csrf().await;
    for token in [None, Some(""), Some(others_token.as_str())] {
        let mut onboarding = vec![("name", "Forged Ltd"), ("role", "supplier"), ("legal_id", "FORGED-1")];
        let mut officer = vec![("email", "forged@example.com")];
        if let Some(token) = token {
            onboarding.push(("csrf", token));
            officer.push(("csrf", token));
        }
        let page = browser.post("/orgs", &onboarding).await;
        assert_eq!(page.status, 403, "{token:?}");
        page.assert_secured();
        assert!(page.body.contains("This form was refused"), "{}", page.body);
        let page = browser.post(&format!("/orgs/{id}/risk-officers"), &officer).await;
        assert_eq!(page.status, 403, "{token:?}");
    }
    assert_eq!(counts(&app).await, before, "nothing written");
}

async fn markup_in_an_organisation_name_is_shown_as_text(app: TestApp) {
    let mut browser = operator(&app).await;
    let done = submit(
        &mut browser,
        &[
            ("name", "<script>alert(1)</script>"),
            ("role", "bank"),
            ("legal_id", "<b>EVIL-LEGAL</b>"),
        ],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let page_path = organization_path(&done);
    let list = browser.get("/orgs").await;
    let page = browser.get(&page_path).await;
    for page in [&done, &list, &page] {
        assert!(
            page.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{}",
            page.body
        );
        assert!(page.body.contains("&#60;b&#62;EVIL-LEGAL&#60;/b&#62;"), "{}", page.body);
        assert!(!page.body.contains("<script>alert"), "{}", page.body);
        assert!(!page.body.contains("<b>"), "{}", page.body);
        assert!(!page.body.contains("style="), "{}", page.body);
        for script in page.body.split("<script").skip(1) {
            assert!(script.starts_with(" src=\"/static/"), "inline script: {script}");
        }
    }
}

async fn the_organisations_are_listed_newest_first_a_page_at_a_time(app: TestApp) {
    // The operator and 51 more: a page of 50, then 2.
    let url = app.settings.database_url().unwrap();
    tokio::task::spawn_blocking(move || {
        let mut connection = url.establish().unwrap();
        for number in 0..51 {
            let new = OrganizationRequest {
                name: format!("Listed Org {number:02}"),
                role: "supplier".to_owned(),
                legal_id: format!("LISTED-{number:02}"),
                identifiers: vec![],
                public_keys: vec![],
                risk_emails: vec![],
            }
            .parse()
            .unwrap();
            onboard(&mut connection, new, None).unwrap();
        }
    })
    .await
    .unwrap();
    let mut browser = operator(&app).await;
    let first = browser.get("/orgs").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let names = |page: &Page| -> Vec<String> {
        page.body
            .split("<tr><td><a href=\"/orgs/")
            .skip(1)
            .map(|row| {
                let start = row.find('>').unwrap() + 1;
                row[start..start + row[start..].find('<').unwrap()].to_owned()
            })
            .collect()
    };
    let first_names = names(&first);
    assert_eq!(first_names.len(), 50);
    assert_eq!(first_names[0], "Listed Org 50", "newest first");
    assert!(!first.body.contains("First page"));
    let start = first.body.find("href=\"/orgs?after=").unwrap() + "href=\"".len();
    let next = first.body[start..start + first.body[start..].find('"').unwrap()].replace("&#38;", "&");
    let second = browser.get(&next).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let second_names = names(&second);
    assert_eq!(
        second_names,
        vec!["Listed Org 00".to_owned(), "Platform Operator".to_owned()]
    );
    assert!(second.body.contains(r#"<a href="/orgs">First page</a>"#));
    assert!(!second.body.contains("rel=\"next\""));
    // Every organisation once.
    let mut all: Vec<String> = first_names.into_iter().chain(second_names).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 52);
    assert_eq!(browser.get("/orgs?after=nonsense").await.status, 400);
}

async fn a_risk_officer_added_through_the_form_opens_the_inbox(app: TestApp) {
    let bank = app.create_org("Officer Bank", "bank", "OFFICER-BANK-1").await;
    let id = bank["id"].as_str().unwrap().to_owned();
    let path = format!("/orgs/{id}");
    let mut browser = operator(&app).await;
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("No risk officers."));
    assert!(page.body.contains(&format!(r#"action="/orgs/{id}/risk-officers""#)));
    let csrf = page.field("csrf");
    let action = format!("{path}/risk-officers");

    // A bad address is named, kept, and writes nothing.
    let before = counts(&app).await;
    let refused = browser
        .post(&action, &[("email", "not an address"), ("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("<strong>E-mail address</strong>"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"value="not an address""#), "{}", refused.body);
    assert_eq!(counts(&app).await, before);

    let added = browser
        .post(&action, &[("email", "Risk.Desk@Officer-Bank.example"), ("csrf", &csrf)])
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.headers["cache-control"], "no-store");
    assert!(added.body.contains("it is shown this once"), "{}", added.body);
    let keys = keys_on(&added);
    assert_eq!(keys.len(), 1);

    // The same address again is refused, by name.
    let again = browser
        .post(
            &action,
            &[("email", " Risk.Desk@Officer-Bank.example "), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("already"), "{}", again.body);
    // An organisation that does not exist.
    let unknown = format!("/orgs/{}/risk-officers", uuid::Uuid::new_v4());
    assert_eq!(
        browser
            .post(&unknown, &[("email", "x@example.com"), ("csrf", &csrf)])
            .await
            .status,
        404
    );
    assert_eq!(
        browser.get(&format!("/orgs/{}", uuid::Uuid::new_v4())).await.status,
        404
    );
    assert_eq!(browser.get("/orgs/not-an-id").await.status, 404);

    // Listed on the organisation's page, its key by id only.
    let page = browser.get(&path).await;
    let (public, secret) = keys[0].split_at("afk_0123456789abcdef_".len());
    assert!(page.body.contains(&format!("{public}…")), "{}", page.body);
    assert!(!page.body.contains(secret));
    assert!(
        page.body.contains("Risk officer (Risk.Desk@officer-bank.example)"),
        "{}",
        page.body
    );

    // The key opens the alert inbox, and nothing of the operator's.
    let mut officer = Browser::new(&app);
    assert_eq!(officer.sign_in(&keys[0]).await.status, 303);
    let home = officer.get("/").await;
    assert_eq!(home.location(), "/alerts");
    let inbox = officer.get("/alerts").await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert!(inbox.body.contains("Officer Bank"), "{}", inbox.body);
    assert_eq!(officer.get("/orgs").await.status, 403);
}
