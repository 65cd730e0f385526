//! Purchase orders in the portal and the supplier's registration forms,
//! driven as a browser without JavaScript drives them: each side's list,
//! filtered and paged; the buyer's acknowledgement signed here from the
//! message the page shows (checked against the documented canonical lines
//! built here); strangers, a wrong key and a missing CSRF token refused;
//! the forms register exactly one item through the API's use cases, name
//! a bad field with nothing written, refuse a duplicate with its code and
//! alert, and show markup as text.

use anchorfin::store::schema::{alerts, purchase_orders, receivables};
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::portal::{links, Page};
use crate::portal_signing::{message, signed, signed_in};
use crate::registry::{deal, Deal};

on_both_backends!(
    each_side_lists_its_purchase_orders_filtered_and_paged,
    a_buyer_acknowledges_the_message_it_is_shown,
    a_supplier_registers_an_order_through_the_form,
    a_supplier_registers_an_invoice_through_the_form,
);

/// A purchase order registered through the API by `supplier_key`.
async fn order(app: &TestApp, supplier_key: &str, buyer_id: &str, number: &str, amount: &str) -> Value {
    let response = app
        .post_json(
            "/v1/purchase-orders",
            Some(supplier_key),
            &json!({"buyer_id": buyer_id, "po_number": number, "issue_date": "2026-10-01",
                    "currency": "CNY", "amount": amount}),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// The documented `acknowledge_po` lines (SPEC §8) of `order`.
fn acknowledgement_lines(order: &Value) -> String {
    [
        "anchorfin/v1/acknowledge_po".to_owned(),
        format!("purchase_order={}", order["id"].as_str().unwrap()),
        format!("fingerprint={}", order["fingerprint"].as_str().unwrap()),
        format!("amount={}", order["amount"].as_str().unwrap()),
        format!("currency={}", order["currency"].as_str().unwrap()),
        format!("buyer={}", order["buyer_id"].as_str().unwrap()),
    ]
    .join("\n")
}

async fn order_status(app: &TestApp, id: &str) -> String {
    let id = id.to_owned();
    app.query(move |connection| {
        purchase_orders::table
            .filter(purchase_orders::id.eq(id))
            .select(purchase_orders::status)
            .first::<String>(connection)
    })
    .await
}

async fn count_orders(app: &TestApp) -> i64 {
    app.query(|connection| purchase_orders::table.count().get_result(connection))
        .await
}

async fn count_receivables(app: &TestApp) -> i64 {
    app.query(|connection| receivables::table.count().get_result(connection))
        .await
}

async fn count_duplicate_alerts(app: &TestApp) -> i64 {
    app.query(|connection| {
        alerts::table
            .filter(alerts::kind.eq("duplicate_registration"))
            .count()
            .get_result(connection)
    })
    .await
}

/// The links to pages of purchase orders (not the form, not the list).
fn order_links(page: &Page) -> Vec<String> {
    links(page, "/purchase-orders/")
        .into_iter()
        .filter(|link| link != "/purchase-orders/new")
        .collect()
}

/// The page's link to the next page of the list.
fn next_link(page: &Page) -> Option<String> {
    links(page, "/purchase-orders?")
        .into_iter()
        .find(|link| link.contains("after="))
}

async fn each_side_lists_its_purchase_orders_filtered_and_paged(app: TestApp) {
    let deal = deal(&app).await;
    let supplier_key = Deal::key(&deal.supplier);
    let buyer_id = Deal::id(&deal.buyer);
    let mut own = Vec::new();
    for n in 1..=51 {
        own.push(order(&app, &supplier_key, &buyer_id, &format!("PO-LIST-{n:03}"), "100.00").await);
    }
    let other = order(&app, &Deal::key(&deal.second_supplier), &buyer_id, "PO-OTHER-1", "5.00").await;
    // The buyer acknowledges the newest through the API.
    let newest = own.last().unwrap().clone();
    let acknowledged = app
        .post_json(
            &format!("/v1/purchase-orders/{}/acknowledgement", newest["id"].as_str().unwrap()),
            Some(&Deal::key(&deal.buyer)),
            &json!({ "signature": signed(&deal.buyer_key, &acknowledgement_lines(&newest)) }),
        )
        .await;
    assert_eq!(acknowledged.status(), 200);

    // The supplier: its own 51, newest first, 50 a page.
    let mut supplier = signed_in(&app, &supplier_key).await;
    let home = supplier.get("/").await;
    assert!(home.body.contains(r#"href="/purchase-orders""#), "{}", home.body);
    let first = supplier.get("/purchase-orders").await;
    assert_eq!(first.status, 200, "{}", first.body);
    first.assert_secured();
    assert!(first.body.contains(r#"href="/purchase-orders/new""#), "{}", first.body);
    assert!(
        first.body.contains("Big Buyer"),
        "the list names the buyer: {}",
        first.body
    );
    assert!(!first.body.contains("PO-OTHER-1"), "{}", first.body);
    let first_links = order_links(&first);
    assert_eq!(first_links.len(), 50, "{}", first.body);
    assert_eq!(
        first_links[0],
        format!("/purchase-orders/{}", newest["id"].as_str().unwrap()),
        "newest first"
    );
    let second = supplier.get(&next_link(&first).expect("a next page")).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let mut seen = first_links.clone();
    seen.extend(order_links(&second));
    assert_eq!(order_links(&second).len(), 1, "{}", second.body);
    assert!(next_link(&second).is_none());
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 51);
    assert!(!seen.contains(&format!("/purchase-orders/{}", other["id"].as_str().unwrap())));
    let acknowledged = supplier.get("/purchase-orders?status=acknowledged").await;
    assert_eq!(order_links(&acknowledged).len(), 1, "{}", acknowledged.body);
    assert!(
        acknowledged.body.contains(r#"<option value="acknowledged" selected>"#),
        "{}",
        acknowledged.body
    );
    assert_eq!(supplier.get("/purchase-orders?after=yesterday").await.status, 400);

    // The buyer: every supplier's, its queue the registered ones.
    let mut buyer = signed_in(&app, &Deal::key(&deal.buyer)).await;
    let home = buyer.get("/").await;
    assert!(
        home.body.contains(r#"href="/purchase-orders?status=registered""#),
        "{}",
        home.body
    );
    let queue = buyer.get("/purchase-orders?status=registered").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(
        queue
            .body
            .contains(r#"aria-current="page" href="/purchase-orders?status=registered""#)
            || queue
                .body
                .contains(r#"href="/purchase-orders?status=registered" aria-current="page""#),
        "the queue is marked in the navigation: {}",
        queue.body
    );
    assert!(!queue.body.contains(r#"href="/purchase-orders/new""#), "{}", queue.body);
    assert!(queue.body.contains("Shenzhen Parts"), "the queue names the supplier");
    let queue_links = order_links(&queue);
    assert_eq!(queue_links.len(), 50);
    assert!(!queue_links.contains(&format!("/purchase-orders/{}", newest["id"].as_str().unwrap())));
    let next = next_link(&queue).expect("a next page");
    assert!(next.contains("status=registered"), "{next}");
    let rest = buyer.get(&next).await;
    assert_eq!(order_links(&rest).len(), 1, "{}", rest.body);
    let everything = buyer.get("/purchase-orders").await;
    assert_eq!(order_links(&everything).len(), 50);
    let everything = buyer.get(&next_link(&everything).unwrap()).await;
    assert_eq!(order_links(&everything).len(), 2, "52 in all");

    // The other supplier sees only its own; another's page is not found.
    let mut stranger = signed_in(&app, &Deal::key(&deal.second_supplier)).await;
    let list = stranger.get("/purchase-orders").await;
    assert_eq!(
        order_links(&list),
        vec![format!("/purchase-orders/{}", other["id"].as_str().unwrap())]
    );
    let page = format!("/purchase-orders/{}", newest["id"].as_str().unwrap());
    assert_eq!(stranger.get(&page).await.status, 404);
    assert_eq!(stranger.get("/purchase-orders/not-a-uuid").await.status, 404);
    // A bank has no list, and sees no order it does not finance.
    let mut bank = signed_in(&app, &Deal::key(&deal.bank)).await;
    assert_eq!(bank.get("/purchase-orders").await.status, 403);
    assert_eq!(bank.get(&page).await.status, 404);
    // Both parties see the page, as the API shows it.
    for browser in [&mut supplier, &mut buyer] {
        let detail = browser.get(&page).await;
        assert_eq!(detail.status, 200, "{}", detail.body);
        for expected in [
            newest["fingerprint"].as_str().unwrap(),
            newest["ledger"]["leaf_hash"].as_str().unwrap(),
            "PO-LIST-051",
            "Acknowledged",
            "100.00 CNY",
        ] {
            assert!(detail.body.contains(expected), "{expected}: {}", detail.body);
        }
        assert!(
            !detail.body.contains(r#"<pre class="message">"#),
            "nothing left to sign"
        );
    }
}

async fn a_buyer_acknowledges_the_message_it_is_shown(app: TestApp) {
    let deal = deal(&app).await;
    let order = order(
        &app,
        &Deal::key(&deal.supplier),
        &Deal::id(&deal.buyer),
        "PO-SIGN-1",
        "200000.00",
    )
    .await;
    let id = order["id"].as_str().unwrap().to_owned();
    let page_path = format!("/purchase-orders/{id}");
    let action = format!("{page_path}/acknowledgement");

    // The supplier sees the order but nothing to sign.
    let mut supplier = signed_in(&app, &Deal::key(&deal.supplier)).await;
    let seen = supplier.get(&page_path).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(!seen.body.contains(r#"<pre class="message">"#), "{}", seen.body);

    let mut buyer = signed_in(&app, &Deal::key(&deal.buyer)).await;
    let page = buyer.get(&page_path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_secured();
    assert!(page.body.contains("/static/sign-"), "the page loads the signing script");
    let shown = message(&page);
    assert_eq!(shown, acknowledgement_lines(&order));
    let csrf = page.field("csrf");

    // Without the session's token: refused, nothing decided.
    let forged = buyer
        .post(&action, &[("signature", &signed(&deal.buyer_key, &shown))])
        .await;
    assert_eq!(forged.status, 403);
    // Signed with another key, or not a signature: the page again, naming why.
    let wrong = buyer
        .post(
            &action,
            &[("csrf", &csrf), ("signature", &signed(&deal.supplier_key, &shown))],
        )
        .await;
    assert_eq!(wrong.status, 200, "{}", wrong.body);
    assert!(wrong.body.contains("invalid_signature"), "{}", wrong.body);
    let garbled = buyer.post(&action, &[("csrf", &csrf), ("signature", "abc")]).await;
    assert_eq!(garbled.status, 200);
    assert!(garbled.body.contains("signature:"), "{}", garbled.body);
    // The supplier cannot acknowledge, even with the buyer's signature.
    let supplier_csrf = supplier.csrf().await;
    let by_supplier = supplier
        .post(
            &action,
            &[
                ("csrf", &supplier_csrf),
                ("signature", &signed(&deal.buyer_key, &shown)),
            ],
        )
        .await;
    assert!(
        matches!(by_supplier.status, 403 | 404),
        "{} {}",
        by_supplier.status,
        by_supplier.body
    );
    // A stranger supplier does not find it.
    let mut stranger = signed_in(&app, &Deal::key(&deal.second_supplier)).await;
    let stranger_csrf = stranger.csrf().await;
    let by_stranger = stranger
        .post(
            &action,
            &[
                ("csrf", &stranger_csrf),
                ("signature", &signed(&deal.buyer_key, &shown)),
            ],
        )
        .await;
    assert_eq!(by_stranger.status, 404, "{}", by_stranger.body);
    assert_eq!(order_status(&app, &id).await, "registered");

    // Signed with the buyer's key: decided, back to the page.
    let signature = signed(&deal.buyer_key, &shown);
    let done = buyer.post(&action, &[("csrf", &csrf), ("signature", &signature)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), page_path);
    assert_eq!(order_status(&app, &id).await, "acknowledged");
    let after = buyer.get(&page_path).await;
    assert!(after.body.contains("Acknowledged"), "{}", after.body);
    assert!(!after.body.contains(r#"<pre class="message">"#), "{}", after.body);
    // Sent again: refused with its code, nothing changed.
    let again = buyer.post(&action, &[("csrf", &csrf), ("signature", &signature)]).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body.contains("already_acknowledged"), "{}", again.body);
    let api: Value = app
        .get_json(&format!("/v1/purchase-orders/{id}"), Some(&Deal::key(&deal.supplier)))
        .await;
    assert_eq!(api["status"], "acknowledged");
}

/// The form's fields with `changes` applied.
fn with<'a>(base: &[(&'a str, &'a str)], changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter()
        .map(|(name, value)| {
            let changed = changes.iter().find(|(changed, _)| changed == name);
            (*name, changed.map_or(*value, |(_, value)| *value))
        })
        .collect()
}

async fn a_supplier_registers_an_order_through_the_form(app: TestApp) {
    let deal = deal(&app).await;
    let buyer_id = Deal::id(&deal.buyer);
    let mut supplier = signed_in(&app, &Deal::key(&deal.supplier)).await;
    let form = supplier.get("/purchase-orders/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    form.assert_secured();
    // The buyers offered are the core enterprises, and only they.
    assert!(
        form.body.contains(&format!(r#"<option value="{buyer_id}">"#)),
        "{}",
        form.body
    );
    for other in [&deal.bank, &deal.supplier, &deal.second_supplier] {
        assert!(!form.body.contains(&Deal::id(other)), "{}", form.body);
    }
    let csrf = form.field("csrf");
    let bank_id = Deal::id(&deal.bank);
    let good = [
        ("csrf", csrf.as_str()),
        ("buyer_id", buyer_id.as_str()),
        ("po_number", "<b>PO-FORM-1</b>"),
        ("issue_date", "2026-10-01"),
        ("currency", "CNY"),
        ("amount", "1234.50"),
    ];

    // Each bad field is named, what was typed kept, nothing written.
    for (changes, named) in [
        (vec![("amount", "12,34x")], "amount:"),
        (vec![("issue_date", "01/10/2026")], "issue_date:"),
        (vec![("currency", "XXQ")], "currency:"),
        (vec![("buyer_id", "")], "buyer_id:"),
        (vec![("po_number", "")], "po_number:"),
        // A party that is not a core enterprise.
        (vec![("buyer_id", bank_id.as_str())], "buyer_id"),
    ] {
        let refused = supplier.post("/purchase-orders/new", &with(&good, &changes)).await;
        assert_eq!(refused.status, 200, "{named}: {}", refused.body);
        assert!(refused.body.contains(named), "{named}: {}", refused.body);
        assert!(refused.body.contains(r#"role="alert""#), "{}", refused.body);
        if changes[0].0 != "po_number" {
            assert!(
                refused.body.contains(r#"value="&#60;b&#62;PO-FORM-1&#60;/b&#62;""#),
                "the number typed is kept, as text: {}",
                refused.body
            );
        }
    }
    assert_eq!(count_orders(&app).await, 0);
    // Without the session's token: refused, nothing written.
    let forged = supplier.post("/purchase-orders/new", &good[1..]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(count_orders(&app).await, 0);

    // Registered once; its page shows the markup as text.
    let created = supplier.post("/purchase-orders/new", &good).await;
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(count_orders(&app).await, 1);
    let location = created.location().to_owned();
    assert!(location.starts_with("/purchase-orders/"), "{location}");
    let page = supplier.get(&location).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("&#60;b&#62;PO-FORM-1&#60;/b&#62;"), "{}", page.body);
    assert!(!page.body.contains("<b>PO-FORM-1"), "{}", page.body);
    assert!(page.body.contains("1,234.50 CNY"), "{}", page.body);
    let list = supplier.get("/purchase-orders").await;
    assert!(list.body.contains("&#60;b&#62;PO-FORM-1&#60;/b&#62;"), "{}", list.body);
    assert!(!list.body.contains("<b>PO-FORM-1"), "{}", list.body);

    // The same order again (other spacing): refused with its code, alerted.
    let alerts_before = count_duplicate_alerts(&app).await;
    let duplicate = supplier
        .post(
            "/purchase-orders/new",
            &with(&good, &[("po_number", " <b>po-form-1</b> ")]),
        )
        .await;
    assert_eq!(duplicate.status, 200, "{}", duplicate.body);
    assert!(duplicate.body.contains("duplicate_registration"), "{}", duplicate.body);
    assert_eq!(count_orders(&app).await, 1);
    assert_eq!(count_duplicate_alerts(&app).await, alerts_before + 1);

    // A buyer or a bank has no form.
    let mut buyer = signed_in(&app, &Deal::key(&deal.buyer)).await;
    assert_eq!(buyer.get("/purchase-orders/new").await.status, 403);
    let buyer_csrf = buyer.csrf().await;
    let mut by_buyer = with(&good, &[]);
    by_buyer[0].1 = buyer_csrf.as_str();
    assert_eq!(buyer.post("/purchase-orders/new", &by_buyer).await.status, 403);
    assert_eq!(count_orders(&app).await, 1);
}

async fn a_supplier_registers_an_invoice_through_the_form(app: TestApp) {
    let deal = deal(&app).await;
    let buyer_id = Deal::id(&deal.buyer);
    let order = order(&app, &Deal::key(&deal.supplier), &buyer_id, "PO-INV-1", "1000.00").await;
    let order_id = order["id"].as_str().unwrap();
    let mut supplier = signed_in(&app, &Deal::key(&deal.supplier)).await;
    let list = supplier.get("/receivables").await;
    assert!(list.body.contains(r#"href="/receivables/new""#), "{}", list.body);
    let form = supplier.get("/receivables/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains(&format!(r#"<option value="{buyer_id}">"#)),
        "{}",
        form.body
    );
    assert!(
        form.body.contains(&format!(r#"<option value="{order_id}">PO-INV-1"#)),
        "the supplier's open orders are offered: {}",
        form.body
    );
    let csrf = form.field("csrf");
    let good = [
        ("csrf", csrf.as_str()),
        ("buyer_id", buyer_id.as_str()),
        ("invoice_number", "INV-FORM-1"),
        ("issue_date", "2026-11-01"),
        ("due_date", "2027-03-31"),
        ("currency", "CNY"),
        ("amount", "600.00"),
        ("purchase_order_id", order_id),
    ];

    for (changes, named) in [
        (vec![("due_date", "2026-10-01")], "due_date:"),
        (vec![("amount", "-5")], "amount:"),
        (vec![("invoice_number", "")], "invoice_number:"),
        (vec![("purchase_order_id", "nope")], "purchase_order_id:"),
    ] {
        let refused = supplier.post("/receivables/new", &with(&good, &changes)).await;
        assert_eq!(refused.status, 200, "{named}: {}", refused.body);
        assert!(refused.body.contains(named), "{named}: {}", refused.body);
    }
    // More than the order has left: refused by the use case, with its code.
    let over = supplier
        .post("/receivables/new", &with(&good, &[("amount", "1000.01")]))
        .await;
    assert_eq!(over.status, 200, "{}", over.body);
    assert!(over.body.contains("exceeds_po_amount"), "{}", over.body);
    assert!(
        over.body.contains(r#"value="1000.01""#),
        "typed values kept: {}",
        over.body
    );
    assert_eq!(count_receivables(&app).await, 0);

    let created = supplier.post("/receivables/new", &good).await;
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(count_receivables(&app).await, 1);
    let location = created.location().to_owned();
    let page = supplier.get(&location).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("INV-FORM-1") && page.body.contains("600.00 CNY"),
        "{}",
        page.body
    );
    let linked: Value = app
        .get_json(
            &format!("/v1/{}", location.trim_start_matches('/')),
            Some(&Deal::key(&deal.supplier)),
        )
        .await;
    assert_eq!(linked["purchase_order_id"], order_id);
    let order_now: Value = app
        .get_json(
            &format!("/v1/purchase-orders/{order_id}"),
            Some(&Deal::key(&deal.supplier)),
        )
        .await;
    assert_eq!(order_now["invoiced_amount"], "600.00");

    // The same invoice again: refused with its code, alerted, not written.
    let alerts_before = count_duplicate_alerts(&app).await;
    let duplicate = supplier.post("/receivables/new", &good).await;
    assert_eq!(duplicate.status, 200, "{}", duplicate.body);
    assert!(duplicate.body.contains("duplicate_registration"), "{}", duplicate.body);
    assert_eq!(count_receivables(&app).await, 1);
    assert_eq!(count_duplicate_alerts(&app).await, alerts_before + 1);

    // Without an order: registered unlinked.
    let unlinked = supplier
        .post(
            "/receivables/new",
            &with(&good, &[("invoice_number", "INV-FORM-2"), ("purchase_order_id", "")]),
        )
        .await;
    assert_eq!(unlinked.status, 303, "{}", unlinked.body);
    assert_eq!(count_receivables(&app).await, 2);
    // Without the session's token: refused, nothing written.
    let forged = supplier
        .post(
            "/receivables/new",
            &with(&good, &[("invoice_number", "INV-FORM-3")])[1..],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(count_receivables(&app).await, 2);
    // The buyer has no form.
    let mut buyer = signed_in(&app, &Deal::key(&deal.buyer)).await;
    assert_eq!(buyer.get("/receivables/new").await.status, 403);
    assert!(!buyer
        .get("/receivables")
        .await
        .body
        .contains(r#"href="/receivables/new""#));
}
