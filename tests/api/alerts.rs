//! Alerts reach risk officers by e-mail through the durable outbox, tested
//! against a real SMTP server process (aiosmtpd) over TCP: delivery, the
//! redaction of another bank's identity, an SMTP outage and restart that
//! lose and duplicate nothing; and the alerts API.

use std::collections::BTreeMap;

use anchorfin::domain::DeliveryStatus;
use anchorfin::store::schema::alert_deliveries;
use diesel::{QueryDsl, RunQueryDsl};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::batches::{decide, job};
use crate::cli::run_against;
use crate::helpers::{assert_problem, eventually, TestApp};
use crate::lending::{
    acknowledged_order, asset_under_order, financed, offer, offered, order_pledge_body, pledge_body, post_with_key,
    Bank,
};
use crate::registry::{confirm, deal, registered, Deal};
use crate::smtp::{smtp_tests_run, SmtpSink};

impl SmtpSink {
    /// Waits until the app's outbox has sent every message it holds, then
    /// asserts that exactly `count` arrived. A message is marked sent only
    /// after this server accepted it (and aiosmtpd stores a message before
    /// it accepts it), and a sent one is never claimed again: once all are
    /// sent, no more can arrive, and none is still on its way.
    async fn await_exactly(&self, app: &TestApp, count: usize) -> Vec<(String, String, String)> {
        eventually(&format!("the outbox sends its messages ({count} expected)"), || async {
            let deliveries = deliveries(app).await;
            deliveries
                .iter()
                .all(|(status, _)| status == DeliveryStatus::Sent.as_str())
                .then_some(())
        })
        .await;
        let messages = self.messages();
        assert_eq!(
            messages.len(),
            count,
            "{:?}",
            messages.iter().map(|m| (&m.0, &m.1)).collect::<Vec<_>>()
        );
        messages
    }
}

/// Every message in the app's outbox: its status and how many times it was
/// tried, read from the database (the outbox's own record of its work).
async fn deliveries(app: &TestApp) -> Vec<(String, i32)> {
    app.query(|connection| {
        alert_deliveries::table
            .select((alert_deliveries::status, alert_deliveries::attempts))
            .load(connection)
    })
    .await
}

/// Waits until `unsent` messages wait in the outbox, each tried and failed
/// at least `attempts` times (the SMTP server being down).
async fn await_failed_attempts(app: &TestApp, unsent: usize, attempts: i32) {
    eventually(&format!("{unsent} messages fail {attempts} times each"), || async {
        let pending: Vec<i32> = deliveries(app)
            .await
            .into_iter()
            .filter(|(status, _)| status != DeliveryStatus::Sent.as_str())
            .map(|(_, tried)| tried)
            .collect();
        (pending.len() == unsent && pending.iter().all(|tried| *tried >= attempts)).then_some(())
    })
    .await;
}

macro_rules! with_smtp_on_both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test(|configure| Box::pin(async move {
                    Some($crate::helpers::TestApp::sqlite_with(configure).await)
                })).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$test(|configure| Box::pin($crate::helpers::TestApp::postgres_with(configure))).await;
            }
        }
    )*};
}

type Configure = Box<dyn FnOnce(&mut anchorfin::config::Settings) + Send>;
type Start = fn(Configure) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<TestApp>> + Send>>;

with_smtp_on_both_backends!(
    a_refused_offer_emails_the_lienholder_and_the_operator_once,
    an_smtp_outage_and_restart_lose_and_duplicate_nothing,
    alerts_raised_in_one_batch_each_reach_their_own_audience,
    an_alert_email_links_to_the_alerts_page_in_the_portal,
);

/// A bank with a signing key and one risk officer.
async fn bank_with_officer(app: &TestApp, name: &str, seed: u8) -> (Bank, String) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let response = app
        .post_json(
            "/v1/orgs",
            Some(&app.operator_key),
            &json!({"name": name, "role": "bank", "legal_id": format!("LEI-ALERT-{seed}"),
                    "public_keys": [hex::encode(key.verifying_key().to_bytes())],
                    "risk_emails": [format!("risk@bank-{seed}.example")]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let org: Value = response.json().await.unwrap();
    let officer_key = org["risk_officers"][0]["api_key"].as_str().unwrap().to_owned();
    (Bank { org, key }, officer_key)
}

/// The operator's risk officer, added with the CLI beside the running server.
pub fn operator_officer(app: &TestApp) -> String {
    let output = run_against(
        app,
        &[
            "risk-officer",
            "add",
            "--org",
            &app.operator_id,
            "--email",
            "risk@operator.example",
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let body: Value = serde_json::from_slice(&output.stdout).unwrap();
    body["api_key"].as_str().unwrap().to_owned()
}

/// Bank one finances an asset; its holder then offers it to bank two as
/// well: refused, and alerted.
async fn refused_second_offer(app: &TestApp, first: &Bank, second: &Bank, number: &str) -> (String, Deal) {
    let deal = deal(app).await;
    let receivable = registered(app, &deal, number, "1000.00").await;
    let confirmed: Value = confirm(app, &deal, &receivable).await.json().await.unwrap();
    let asset = confirmed["asset_id"].as_str().unwrap().to_owned();
    financed(app, &deal, first, &asset, "900.00").await;
    let response = offer(
        app,
        &deal.holder(),
        &format!("asset:{asset}"),
        second,
        "pledge",
        "900.00",
    )
    .await;
    assert_problem(response, 409, "already_encumbered").await;
    (asset, deal)
}

/// A real SMTP server and the application sending to it (`None` when the
/// backend is not under test).
async fn with_smtp(start: Start) -> Option<(SmtpSink, TestApp)> {
    if !smtp_tests_run() {
        panic!("aiosmtpd is required for the e-mail tests: pip install aiosmtpd");
    }
    let sink = SmtpSink::up();
    let url = sink.url();
    let app = start(Box::new(move |settings| settings.alerts.smtp_url = Some(url))).await?;
    Some((sink, app))
}

fn by_recipient(messages: &[(String, String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (to, _, text) in messages {
        map.entry(to.clone()).or_default().push(text.clone());
    }
    map
}

async fn a_refused_offer_emails_the_lienholder_and_the_operator_once(start: Start) {
    let Some((sink, app)) = with_smtp(start).await else {
        return;
    };
    let operator_officer = operator_officer(&app);
    let (first, first_officer) = bank_with_officer(&app, "Bank One", 31).await;
    let (second, second_officer) = bank_with_officer(&app, "Bank Two", 32).await;
    let (asset, deal) = refused_second_offer(&app, &first, &second, "INV-MAIL-1").await;
    let supplier = Deal::id(&deal.supplier);

    // One e-mail per entitled officer: the operator's and the lienholder's.
    // The bank the holder turned to learns nothing.
    let messages = sink.await_exactly(&app, 2).await;
    let mail = by_recipient(&messages);
    assert_eq!(
        mail.keys().cloned().collect::<Vec<_>>(),
        vec!["risk@bank-31.example", "risk@operator.example"]
    );
    let message_ids: std::collections::BTreeSet<&String> = messages.iter().map(|m| &m.1).collect();
    assert_eq!(message_ids.len(), 2, "a Message-ID per recipient");
    let operator_copy = &mail["risk@operator.example"][0];
    assert!(operator_copy.contains("duplicate_pledge") && operator_copy.contains(&asset));
    assert!(
        operator_copy.contains(&first.id()) && operator_copy.contains(&supplier),
        "{operator_copy}"
    );
    assert!(
        operator_copy.contains(&second.id()),
        "the operator learns whom the holder turned to"
    );
    assert!(operator_copy.contains("text/plain") && operator_copy.contains("text/html"));
    assert!(
        operator_copy.contains("Bank One") && operator_copy.contains("Shenzhen Parts"),
        "names, not only ids"
    );
    // The lienholder learns that its borrower tried again, never with whom.
    let lienholder_copy = &mail["risk@bank-31.example"][0];
    assert!(lienholder_copy.contains("Shenzhen Parts") && lienholder_copy.contains(&supplier));
    assert!(!lienholder_copy.contains(&second.id()) && !lienholder_copy.contains("Bank Two"));

    // The API: each officer lists its own copy, redacted the same way.
    let listed: Value = app.get_json("/v1/alerts", Some(&second_officer)).await;
    assert_eq!(listed["items"], json!([]), "{listed}");
    let listed: Value = app.get_json("/v1/alerts", Some(&first_officer)).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["kind"], "duplicate_pledge");
    assert_eq!(items[0]["status"], "open");
    assert_eq!(items[0]["subject_id"], asset.as_str());
    assert_eq!(items[0]["existing_party_id"], first.id());
    assert_eq!(items[0]["attempting_org_id"], supplier.as_str());
    assert_eq!(items[0]["attempting_org_name"], "Shenzhen Parts");
    assert_eq!(items[0]["facts"]["attempt"], "offer");
    assert_eq!(items[0]["facts"].get("offered_to"), None, "{listed}");
    let alert_id = items[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/alerts/{alert_id}/acknowledgement");
    let response = app.post_json(&path, Some(&first_officer), &json!({})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "acknowledged");
    assert_problem(
        app.post_json(&path, Some(&first_officer), &json!({})).await,
        409,
        "already_acknowledged",
    )
    .await;
    let open: Value = app.get_json("/v1/alerts?status=open", Some(&first_officer)).await;
    assert_eq!(open["items"], json!([]));
    // The operator's copy is its own, still open, and complete.
    let listed: Value = app
        .get_json("/v1/alerts?kind=duplicate_pledge", Some(&operator_officer))
        .await;
    assert_eq!(listed["items"][0]["status"], "open");
    assert_eq!(listed["items"][0]["existing_party_id"], first.id());
    assert_eq!(listed["items"][0]["existing_party_name"], "Bank One");
    assert_eq!(listed["items"][0]["facts"]["offered_to"], second.id());
    // Organisation keys may not list.
    assert_problem(app.get("/v1/alerts", Some(&first.api_key())).await, 403, "forbidden").await;
    let problem = assert_problem(
        app.get("/v1/alerts?kind=fraud", Some(&operator_officer)).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "kind");

    // Pagination: duplicate registrations add alerts for the operator.
    let deal = deal_with_suffix(&app).await;
    registered(&app, &deal, "INV-PAGE-1", "1.00").await;
    for variant in ["inv page 1", "INV.PAGE.1", "INV/PAGE/1", "inv_page_1"] {
        let response = crate::registry::register(&app, &deal, &crate::registry::invoice(&deal, variant, "1.00")).await;
        assert_eq!(response.status(), 409);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/alerts?limit=2&cursor={cursor}"),
            None => "/v1/alerts?limit=2".to_owned(),
        };
        let page: Value = app.get_json(&path, Some(&operator_officer)).await;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 5);
}

/// Another set of parties in the same app (legal ids must differ).
async fn deal_with_suffix(app: &TestApp) -> Deal {
    let buyer_key = SigningKey::from_bytes(&[12; 32]);
    let supplier_key = SigningKey::from_bytes(&[14; 32]);
    Deal {
        supplier: crate::registry::onboard(
            app,
            "Supplier P",
            "supplier",
            "SUP-PAGE-1",
            vec![hex::encode(supplier_key.verifying_key().to_bytes())],
        )
        .await,
        supplier_key,
        second_supplier: crate::registry::onboard(
            app,
            "Supplier Q",
            "supplier",
            "SUP-PAGE-2",
            vec![hex::encode(
                SigningKey::from_bytes(&[16; 32]).verifying_key().to_bytes(),
            )],
        )
        .await,
        second_supplier_key: SigningKey::from_bytes(&[16; 32]),
        buyer: crate::registry::onboard(
            app,
            "Buyer P",
            "core_enterprise",
            "BUY-PAGE-1",
            vec![hex::encode(buyer_key.verifying_key().to_bytes())],
        )
        .await,
        buyer_key,
        bank: crate::registry::onboard(app, "Bank P", "bank", "BANK-PAGE-1", vec![]).await,
    }
}

async fn an_smtp_outage_and_restart_lose_and_duplicate_nothing(start: Start) {
    if !smtp_tests_run() {
        panic!("aiosmtpd is required for the e-mail tests: pip install aiosmtpd");
    }
    // The SMTP server is down when the alert is raised.
    let mut sink = SmtpSink::down();
    let url = sink.url();
    let Some(app) = start(Box::new(move |settings| settings.alerts.smtp_url = Some(url))).await else {
        return;
    };
    operator_officer(&app);
    let (first, _) = bank_with_officer(&app, "Bank One", 33).await;
    let (second, _) = bank_with_officer(&app, "Bank Two", 34).await;
    refused_second_offer(&app, &first, &second, "INV-OUTAGE-1").await;
    // Several attempts fail meanwhile.
    await_failed_attempts(&app, 2, 2).await;
    assert!(sink.messages().is_empty());

    // It comes back: every message arrives, once.
    sink.start();
    let first_batch = sink.await_exactly(&app, 2).await;

    // It restarts, and an alert is raised while it is down.
    sink.stop();
    let (third, _) = bank_with_officer(&app, "Bank Three", 35).await;
    let deal = deal_with_suffix(&app).await;
    let receivable = registered(&app, &deal, "INV-OUTAGE-2", "10.00").await;
    let confirmed: Value = confirm(&app, &deal, &receivable).await.json().await.unwrap();
    let asset = confirmed["asset_id"].as_str().unwrap();
    financed(&app, &deal, &first, asset, "10.00").await;
    let response = offer(
        &app,
        &deal.holder(),
        &format!("asset:{asset}"),
        &third,
        "pledge",
        "10.00",
    )
    .await;
    assert_problem(response, 409, "already_encumbered").await;
    // Its messages fail while the server is down, and are sent once it is up.
    await_failed_attempts(&app, 2, 1).await;
    sink.start();
    let all = sink.await_exactly(&app, 4).await;
    assert!(first_batch.iter().all(|message| all.contains(message)));
    let recipients: Vec<&str> = all.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(
        recipients.iter().filter(|to| **to == "risk@operator.example").count(),
        2
    );
    assert_eq!(recipients.iter().filter(|to| **to == "risk@bank-33.example").count(), 2);
    assert_eq!(recipients.iter().filter(|to| **to == "risk@bank-35.example").count(), 0);
}

/// Two refusals decided in one batch (set-based): a bank accepts offers of
/// two receivables whose purchase orders other banks came to finance since
/// the offers were made. Each alert is told to its own lienholder, the
/// attempting bank and the operator, and to no one else.
async fn alerts_raised_in_one_batch_each_reach_their_own_audience(start: Start) {
    let Some((sink, app)) = with_smtp(start).await else {
        return;
    };
    operator_officer(&app);
    let (first, _) = bank_with_officer(&app, "Bank One", 41).await;
    let (second, _) = bank_with_officer(&app, "Bank Two", 42).await;
    let (third, _) = bank_with_officer(&app, "Bank Three", 43).await;
    let deal = deal(&app).await;
    let holder = deal.holder();
    let mut accepted = Vec::new();
    // Distinct amounts: equal ones would raise near-duplicate alerts.
    for (bank, suffix, amount) in [(&first, "X", "1000.00"), (&second, "Y", "1001.00")] {
        let order = acknowledged_order(&app, &deal, &format!("PO-BATCH-{suffix}"), "5000.00").await;
        let asset = asset_under_order(&app, &deal, &order, &format!("INV-BATCH-{suffix}"), amount).await;
        let offer_asset = offered(&app, &holder, &format!("asset:{asset}"), &third, "pledge", "900.00").await;
        let offer_order = offered(
            &app,
            &holder,
            &format!("purchase_order:{order}"),
            bank,
            "pledge",
            "900.00",
        )
        .await;
        let nonce = format!("po-{suffix}");
        let body = order_pledge_body(bank, &offer_order, &order, "900.00", &nonce);
        assert_eq!(
            post_with_key(&app, "/v1/pledges", &bank.api_key(), &nonce, &body)
                .await
                .status(),
            201
        );
        let nonce = format!("asset-{suffix}");
        accepted.push((
            asset.clone(),
            job(
                &third,
                &pledge_body(&third, &offer_asset, &asset, "900.00", &nonce),
                &nonce,
            ),
        ));
    }
    let (x, y) = (accepted[0].0.clone(), accepted[1].0.clone());

    let decisions = decide(&app, accepted.into_iter().map(|(_, job)| job).collect())
        .await
        .expect("decided set-based");
    for decision in &decisions {
        assert!(
            matches!(
                decision,
                Ok(anchorfin::lending::Outcome::Refused {
                    code: anchorfin::refusal::Refusal::PoFinancedElsewhere,
                    ..
                })
            ),
            "{decision:?}"
        );
    }

    // Each alert: the operator, the attempting bank, its own lienholder.
    let messages = sink.await_exactly(&app, 6).await;
    let mail = by_recipient(&messages);
    let count = |to: &str| mail.get(to).map_or(0, Vec::len);
    assert_eq!(count("risk@operator.example"), 2);
    assert_eq!(count("risk@bank-43.example"), 2);
    assert_eq!(count("risk@bank-41.example"), 1);
    assert_eq!(count("risk@bank-42.example"), 1);
    let lienholder_x = &mail["risk@bank-41.example"][0];
    assert!(lienholder_x.contains(&x) && !lienholder_x.contains(&y));
    assert!(!lienholder_x.contains(&third.id()) && !lienholder_x.contains("Bank Three"));
    let lienholder_y = &mail["risk@bank-42.example"][0];
    assert!(lienholder_y.contains(&y) && !lienholder_y.contains(&x));
    for copy in &mail["risk@bank-43.example"] {
        assert!(!copy.contains(&first.id()) && !copy.contains(&second.id()), "{copy}");
    }
    let operator: String = mail["risk@operator.example"].concat();
    assert!(operator.contains("Bank One") && operator.contains("Bank Two") && operator.contains("Bank Three"));
}

async fn an_alert_email_links_to_the_alerts_page_in_the_portal(start: Start) {
    if !smtp_tests_run() {
        panic!("aiosmtpd is required for the e-mail tests: pip install aiosmtpd");
    }
    let sink = SmtpSink::up();
    let url = sink.url();
    let Some(app) = start(Box::new(move |settings| {
        settings.alerts.smtp_url = Some(url);
        settings.public_url = Some(anchorfin::config::PublicUrl::parse("https://portal.example/").unwrap());
    }))
    .await
    else {
        return;
    };
    let officer = operator_officer(&app);
    let deal = deal(&app).await;
    registered(&app, &deal, "INV-LINK-1", "10.00").await;
    let response =
        crate::registry::register(&app, &deal, &crate::registry::invoice(&deal, "INV-LINK-1", "10.00")).await;
    assert_problem(response, 409, "duplicate_registration").await;
    let alerts = app.get_json("/v1/alerts", Some(&officer)).await;
    let id = alerts["items"][0]["id"].as_str().unwrap().to_owned();
    let messages = sink.await_exactly(&app, 1).await;
    let link = format!("https://portal.example/alerts/{id}");
    assert!(
        messages[0].2.contains(&format!("Open it in the portal: {link}")),
        "{}",
        messages[0].2
    );
    assert!(
        messages[0].2.contains(&format!("<a href=\"{link}\">")),
        "{}",
        messages[0].2
    );
}
