//! Encumbrance look-ups, limited and audited: what one bank did — 200
//! look-ups in 0.4 s, learning which of a supplier's invoices exist — now
//! meets a rate limit per organisation, leaves a record the supplier and
//! buyer read, and, when it guesses at invoices that do not exist, an alert
//! to the operator.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{assert_problem, TestApp};
use crate::lending::{
    acknowledged_order, asset_under_order, bank, confirmed_asset, financed, offered, order_pledge_body, post_with_key,
    Bank,
};
use crate::registry::{deal, registered, Deal};

/// Runs each test on both backends with `configure` applied.
macro_rules! with_settings_on_both_backends {
    ($configure:expr; $($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test(crate::helpers::TestApp::sqlite_with($configure).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = crate::helpers::TestApp::postgres_with($configure).await else { return };
                super::$test(app).await;
            }
        }
    )*};
}

with_settings_on_both_backends!(
    |settings: &mut anchorfin::config::Settings| {
        settings.limits.lookups_per_second = 1;
        settings.limits.lookup_burst = 30;
        settings.limits.enumeration_misses = 5;
        settings.limits.enumeration_window = std::time::Duration::from_secs(3600);
    };
    look_ups_are_recorded_for_the_supplier_and_buyer_to_read,
    look_ups_are_rate_limited_per_organisation,
    guessing_at_invoices_raises_one_alert_for_the_operator,
);

with_settings_on_both_backends!(
    |settings: &mut anchorfin::config::Settings| {
        settings.limits.lookups_per_second = 1000;
        settings.limits.lookup_burst = 1000;
    };
    look_ups_at_once_answer_as_each_alone,
);

with_settings_on_both_backends!(
    |settings: &mut anchorfin::config::Settings| {
        settings.limits.requests_per_second = 1;
        settings.limits.request_burst = 5;
    };
    every_route_is_rate_limited_per_organisation_and_address,
);

crate::on_both_backends!(a_batch_stores_look_up_records_as_diesel_stores_a_row);

async fn look(app: &TestApp, bank: &Bank, fingerprint: &str) -> reqwest::Response {
    app.get(&format!("/v1/encumbrance/{fingerprint}"), Some(&bank.api_key()))
        .await
}

async fn look_ups_are_recorded_for_the_supplier_and_buyer_to_read(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let receivable = registered(&app, &deal, "INV-LOOK-1", "100.00").await;
    let fingerprint = receivable["fingerprint"].as_str().unwrap();
    assert_eq!(look(&app, &first, fingerprint).await.status(), 200);
    assert_eq!(look(&app, &second, fingerprint).await.status(), 200);
    let path = format!("/v1/receivables/{}/lookups", receivable["id"].as_str().unwrap());
    for reader in [
        Deal::key(&deal.supplier),
        Deal::key(&deal.buyer),
        app.operator_key.clone(),
    ] {
        let page: Value = app.get_json(&path, Some(&reader)).await;
        let items = page["items"].as_array().unwrap_or_else(|| panic!("{page}"));
        assert_eq!(items.len(), 2, "{page}");
        // Newest first, each with who asked and what it was told.
        assert_eq!(items[0]["organization_id"], second.id());
        assert_eq!(items[0]["organization_name"], "Bank Two");
        assert_eq!(items[1]["organization_id"], first.id());
        assert_eq!(items[1]["answered"]["registered"], true);
        assert_eq!(items[1]["answered"]["confirmed"], false);
        assert!(items[1]["looked_up_at"].is_string());
    }
    // Not the banks', nor anyone else's.
    for stranger in [first.api_key(), Deal::key(&deal.second_supplier)] {
        assert_problem(app.get(&path, Some(&stranger)).await, 404, "not_found").await;
    }
    // Pages.
    let page: Value = app
        .get_json(&format!("{path}?limit=1"), Some(&Deal::key(&deal.supplier)))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let next = page["next_cursor"].as_str().unwrap();
    let page: Value = app
        .get_json(
            &format!("{path}?limit=1&cursor={next}"),
            Some(&Deal::key(&deal.supplier)),
        )
        .await;
    assert_eq!(page["items"][0]["organization_id"], first.id());
    assert_eq!(page["next_cursor"], Value::Null);
    let problem = assert_problem(
        app.get(&format!("{path}?sort=asc"), Some(&Deal::key(&deal.supplier)))
            .await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(problem["field"], "sort");
    // An encumbered answer is recorded as given.
    let asset = confirmed_asset(&app, &deal, "INV-LOOK-2", "200.00").await;
    financed(&app, &deal, &first, &asset, "200.00").await;
    let confirmed = receivable_of_asset(&app, &deal, &asset).await;
    let answer: Value = look(&app, &second, confirmed["fingerprint"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["encumbered"], true);
    let page: Value = app
        .get_json(
            &format!("/v1/receivables/{}/lookups", confirmed["id"].as_str().unwrap()),
            Some(&Deal::key(&deal.buyer)),
        )
        .await;
    assert_eq!(page["items"][0]["answered"]["encumbered"], true, "{page}");
}

async fn look_ups_are_rate_limited_per_organisation(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let receivable = registered(&app, &deal, "INV-RATE-1", "100.00").await;
    let fingerprint = receivable["fingerprint"].as_str().unwrap();
    // A burst of 30, then one a second.
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(look(&app, &first, fingerprint).await.status().as_u16());
    }
    // (A slow machine may see a token come back during the loop.)
    let answered = statuses.iter().filter(|status| **status == 200).count();
    assert!((30..=32).contains(&answered), "{statuses:?}");
    assert!(statuses[..30].iter().all(|status| *status == 200), "{statuses:?}");
    assert!(statuses[answered..].iter().all(|status| *status == 429), "{statuses:?}");
    let response = look(&app, &first, fingerprint).await;
    assert_eq!(response.headers()["retry-after"], "1");
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert_problem(response, 429, "rate_limited").await;
    // Another bank has its own bucket; the refused look-ups were not recorded.
    assert_eq!(look(&app, &second, fingerprint).await.status(), 200);
    let path = format!(
        "/v1/receivables/{}/lookups?limit=100",
        receivable["id"].as_str().unwrap()
    );
    let page: Value = app.get_json(&path, Some(&Deal::key(&deal.supplier))).await;
    assert_eq!(page["items"].as_array().unwrap().len(), answered + 1);
    // Wall-clock time must pass for the bucket to refill: at the slowest
    // rate configurable (one a second), a token is back within the
    // Retry-After the refusal gave, counted from that refusal.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(look(&app, &first, fingerprint).await.status(), 200);
}

async fn guessing_at_invoices_raises_one_alert_for_the_operator(app: TestApp) {
    let deal = deal(&app).await;
    let officer = crate::alerts::operator_officer(&app);
    let guesser = {
        let response = app
            .post_json(
                "/v1/orgs",
                Some(&app.operator_key),
                &serde_json::json!({"name": "Guessing Bank", "role": "bank", "legal_id": "LEI-GUESS",
                                    "risk_emails": ["risk@guess.example"]}),
            )
            .await;
        assert_eq!(response.status(), 201);
        response.json::<Value>().await.unwrap()
    };
    let guesser_key = Deal::key(&guesser);
    let guesser_officer = guesser["risk_officers"][0]["api_key"].as_str().unwrap().to_owned();
    // Real invoices are not misses.
    let receivable = registered(&app, &deal, "INV-REAL-1", "100.00").await;
    for _ in 0..6 {
        let response = app
            .get(
                &format!("/v1/encumbrance/{}", receivable["fingerprint"].as_str().unwrap()),
                Some(&guesser_key),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    let alerts: Value = app.get_json("/v1/alerts?kind=lookup_enumeration", Some(&officer)).await;
    assert_eq!(alerts["items"], serde_json::json!([]));
    // Guesses: twelve fingerprints nothing is registered under.
    for guess in 0..12u8 {
        let response = app
            .get(
                &format!("/v1/encumbrance/{}", hex::encode([guess; 32])),
                Some(&guesser_key),
            )
            .await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["registered"], false);
    }
    // One alert for the window, to the operator; the bank is not told.
    let alerts: Value = app.get_json("/v1/alerts?kind=lookup_enumeration", Some(&officer)).await;
    let items = alerts["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{alerts}");
    assert_eq!(items[0]["attempting_org_id"], Deal::id(&guesser));
    assert_eq!(items[0]["attempting_org_name"], "Guessing Bank");
    assert!(items[0]["facts"]["misses"].as_i64().unwrap() >= 5, "{alerts}");
    let told: Value = app.get_json("/v1/alerts", Some(&guesser_officer)).await;
    assert_eq!(told["items"], serde_json::json!([]));
}

async fn every_route_is_rate_limited_per_organisation_and_address(app: TestApp) {
    let deal = deal(&app).await;
    let supplier = Deal::key(&deal.supplier);
    // Five at once, then one a second, whatever the route.
    let mut statuses = Vec::new();
    for number in 0..7 {
        let status = if number % 2 == 0 {
            app.get("/v1/offers", Some(&supplier)).await.status().as_u16()
        } else {
            let body = crate::registry::invoice(&deal, &format!("INV-LIMIT-{number}"), &format!("{number}.00"));
            crate::registry::register(&app, &deal, &body).await.status().as_u16()
        };
        statuses.push(status);
    }
    assert_eq!(
        statuses[..5].iter().filter(|status| **status == 429).count(),
        0,
        "{statuses:?}"
    );
    assert!(statuses[5..].iter().all(|status| *status == 429), "{statuses:?}");
    // Another organisation is not held back by it.
    assert_eq!(app.get("/v1/offers", Some(&Deal::key(&deal.buyer))).await.status(), 200);
    // Anonymous readers of the ledger are limited per address; health
    // probes never are.
    let mut anonymous = Vec::new();
    for _ in 0..8 {
        anonymous.push(app.get("/v1/ledger/head", None).await.status().as_u16());
    }
    assert!(anonymous.contains(&429), "{anonymous:?}");
    // A made-up key does not lift the limit on the public ledger's reads.
    let response = app.get("/v1/ledger/head", Some("afk_0123456789abcdef_made-up")).await;
    assert_eq!(response.status(), 429);
    for _ in 0..10 {
        assert_eq!(app.get("/healthz", None).await.status(), 200);
    }
}

/// What a look-up's answer said: registered, confirmed, encumbered.
fn answered(answer: &Value) -> (Option<bool>, Option<bool>, Option<bool>) {
    (
        answer["registered"].as_bool(),
        answer["confirmed"].as_bool(),
        answer["encumbered"].as_bool(),
    )
}

/// The receivable an asset was minted from, as its supplier sees it.
async fn receivable_of_asset(app: &TestApp, deal: &Deal, asset: &str) -> Value {
    let seen: Value = app
        .get_json(&format!("/v1/assets/{asset}"), Some(&Deal::key(&deal.supplier)))
        .await;
    app.get_json(
        &format!("/v1/receivables/{}", seen["receivable_id"].as_str().unwrap()),
        Some(&Deal::key(&deal.supplier)),
    )
    .await
}

/// The fingerprint of the receivable an asset was minted from.
async fn fingerprint_of_asset(app: &TestApp, deal: &Deal, asset: &str) -> String {
    receivable_of_asset(app, deal, asset).await["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Look-ups arriving together are answered in one batch — the keys
/// authenticated in one query, every fingerprint looked up with a fixed
/// number of statements — and each answer is the one it gets alone: for a
/// registered receivable, a confirmed one, one a bank finances, one its
/// purchase order's lien reserves, the purchase order itself and an
/// unknown fingerprint; a supplier's key is refused 403 and a made-up key
/// 401 in the same batch, and only the admitted look-ups are recorded.
async fn look_ups_at_once_answer_as_each_alone(app: TestApp) {
    let deal = deal(&app).await;
    let (first, second) = (bank(&app, "Bank One", 21).await, bank(&app, "Bank Two", 22).await);
    let order = acknowledged_order(&app, &deal, "PO-MANY-1", "5000.00").await;
    let offer = offered(
        &app,
        &deal.holder(),
        &format!("purchase_order:{order}"),
        &first,
        "pledge",
        "4000.00",
    )
    .await;
    let response = post_with_key(
        &app,
        "/v1/pledges",
        &first.api_key(),
        "many-po",
        &order_pledge_body(&first, &offer, &order, "4000.00", "many-po"),
    )
    .await;
    assert_eq!(response.status(), 201);
    let order_seen: Value = app
        .get_json(
            &format!("/v1/purchase-orders/{order}"),
            Some(&Deal::key(&deal.supplier)),
        )
        .await;
    let reserved = asset_under_order(&app, &deal, &order, "INV-MANY-1", "3000.00").await;
    let pledged = confirmed_asset(&app, &deal, "INV-MANY-2", "200.00").await;
    financed(&app, &deal, &first, &pledged, "200.00").await;
    let free = confirmed_asset(&app, &deal, "INV-MANY-3", "300.00").await;
    let only_registered = registered(&app, &deal, "INV-MANY-4", "400.00").await;
    let fingerprints = [
        only_registered["fingerprint"].as_str().unwrap().to_owned(),
        fingerprint_of_asset(&app, &deal, &free).await,
        fingerprint_of_asset(&app, &deal, &pledged).await,
        fingerprint_of_asset(&app, &deal, &reserved).await,
        order_seen["fingerprint"].as_str().unwrap().to_owned(),
        "ab".repeat(32),
    ];
    let expected = [
        (true, false, false),
        (true, true, false),
        (true, true, true),
        (true, true, true),
        (true, true, true),
        (false, false, false),
    ];
    // Alone, one at a time.
    for (fingerprint, (registered, confirmed, encumbered)) in fingerprints.iter().zip(expected) {
        let answer: Value = look(&app, &second, fingerprint).await.json().await.unwrap();
        assert_eq!(
            answered(&answer),
            (Some(registered), Some(confirmed), Some(encumbered)),
            "{fingerprint}: {answer}"
        );
    }
    // All at once, five times over, with callers who may not look up.
    let supplier = Deal::key(&deal.supplier);
    let made_up = format!("{}x", second.api_key());
    let mut asked = Vec::new();
    for _ in 0..5 {
        for (index, fingerprint) in fingerprints.iter().enumerate() {
            for key in [second.api_key(), supplier.clone(), made_up.clone()] {
                asked.push((index, fingerprint.clone(), key));
            }
        }
    }
    let answers = futures_util::future::join_all(asked.iter().map(|(_, fingerprint, key)| {
        let app = &app;
        async move {
            let response = app.get(&format!("/v1/encumbrance/{fingerprint}"), Some(key)).await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    }))
    .await;
    for ((index, fingerprint, key), (status, answer)) in asked.iter().zip(answers) {
        let wanted = if *key == second.api_key() {
            200
        } else if *key == supplier {
            403
        } else {
            401
        };
        assert_eq!(status, wanted, "{fingerprint}: {answer}");
        if status == 200 {
            let (registered, confirmed, encumbered) = expected[*index];
            assert_eq!(answer["fingerprint"], fingerprint.as_str());
            assert_eq!(
                answered(&answer),
                (Some(registered), Some(confirmed), Some(encumbered)),
                "{fingerprint}: {answer}"
            );
        }
    }
    // Bank Two's look-ups of the free receivable, alone and five at once;
    // nothing of the refused callers'.
    let page: Value = app
        .get_json(
            &format!(
                "/v1/receivables/{}/lookups?limit=100",
                only_registered["id"].as_str().unwrap()
            ),
            Some(&Deal::key(&deal.supplier)),
        )
        .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 6, "{page}");
    assert!(
        items.iter().all(|item| item["organization_id"] == second.id()),
        "{page}"
    );
}

/// A batch's look-up records are inserted by a statement of their own
/// shape (on PostgreSQL one array per column, `store::arrays`): each column
/// must hold exactly what diesel's own insert of the same row holds — the
/// same types, the same text, the same time.
async fn a_batch_stores_look_up_records_as_diesel_stores_a_row(app: TestApp) {
    use anchorfin::store::lookups::{insert_lookups, LookupRow};
    use anchorfin::store::schema::lookups;
    use diesel::RunQueryDsl;

    let deal = deal(&app).await;
    let bank = bank(&app, "Bank Rows", 24).await;
    let receivable = registered(&app, &deal, "INV-ROWS-1", "100.00").await;
    let row = |id: &str, registered: bool, receivable_id: Option<String>| LookupRow {
        id: id.to_owned(),
        organization_id: bank.id(),
        fingerprint: (0u8..32).map(|byte| byte.wrapping_mul(37)).collect(),
        receivable_id,
        purchase_order_id: None,
        registered,
        confirmed: false,
        encumbered: registered,
        created_at: chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 60_708)
            .unwrap(),
    };
    let id = receivable["id"].as_str().unwrap().to_owned();
    let by_diesel = vec![
        row("a-by-diesel", true, Some(id.clone())),
        row("b-by-diesel", false, None),
    ];
    let by_batch = vec![row("a-by-batch", true, Some(id)), row("b-by-batch", false, None)];
    app.query(move |connection| {
        for row in &by_diesel {
            diesel::insert_into(lookups::table).values(row).execute(connection)?;
        }
        insert_lookups(connection, &by_batch)
    })
    .await;

    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        stored: String,
    }
    // Each column as the database holds it: SQLite's quote() shows the
    // type (X'..' a blob, '..' text, a bare integer); PostgreSQL's columns
    // are typed, their text is compared.
    let sql = if app.is_postgres() {
        "SELECT id, concat_ws('|', organization_id, encode(fingerprint, 'hex'), coalesce(receivable_id, 'NULL'), \
         coalesce(purchase_order_id, 'NULL'), registered, confirmed, encumbered, created_at) AS stored \
         FROM lookups WHERE id LIKE '%-by-%' ORDER BY id"
    } else {
        "SELECT id, quote(organization_id) || '|' || quote(fingerprint) || '|' || quote(receivable_id) || '|' || \
         quote(purchase_order_id) || '|' || quote(registered) || '|' || quote(confirmed) || '|' || \
         quote(encumbered) || '|' || quote(created_at) AS stored FROM lookups WHERE id LIKE '%-by-%' ORDER BY id"
    };
    let stored: Vec<Stored> = app
        .query(move |connection| diesel::sql_query(sql).load(connection))
        .await;
    let of = |id: &str| {
        stored
            .iter()
            .find(|row| row.id == id)
            .unwrap_or_else(|| panic!("no row {id}: {stored:?}"))
            .stored
            .clone()
    };
    for name in ["a", "b"] {
        assert_eq!(of(&format!("{name}-by-batch")), of(&format!("{name}-by-diesel")));
    }
    assert_ne!(of("a-by-diesel"), of("b-by-diesel"));
}
