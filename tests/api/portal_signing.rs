//! The portal's signed actions, driven as a browser without JavaScript
//! drives them (the signature made here, as `anchorfin sign` would, from
//! the message the page shows): the buyer confirms and disputes, the
//! supplier offers, a bank looks up and pledges, the same asset offered to
//! a second bank is refused and alerted. Each message the page shows is
//! checked against the documented canonical lines built here, not by the
//! server's code; strangers, the wrong role, a wrong signature, a missing
//! CSRF token and a resent form are each refused or decided once.

use anchorfin::store::schema::{alerts, assets, liens, offers, receivables};
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::Value;

use crate::helpers::TestApp;
use crate::lending::{bank, financed, Bank};
use crate::on_both_backends;
use crate::portal::{revoke, risk_officer, Browser, Page};
use crate::registry::{confirm, confirm_message, deal, registered, Deal};

on_both_backends!(
    a_buyer_confirms_the_message_it_is_shown,
    a_buyer_disputes_with_a_reason,
    an_offer_and_a_pledge_are_signed_from_their_pages_and_a_second_offer_is_refused,
    a_bank_looks_up_by_invoice_as_the_server_normalises_it,
    a_revoked_bank_key_pledges_nothing,
    a_buyer_pays_a_bank_confirms_its_receipt_and_releases_a_pledge,
    a_holder_splits_an_asset_and_transfers_a_part,
);

/// The exact text of the page's first message to sign (`<pre class="message">`).
pub(crate) fn message(page: &Page) -> String {
    let start = page
        .body
        .find(r#"<pre class="message">"#)
        .unwrap_or_else(|| panic!("no message to sign in {}", page.body))
        + r#"<pre class="message">"#.len();
    let end = page.body[start..].find("</pre>").unwrap() + start;
    unescape(&page.body[start..end])
}

/// HTML's entities back to text: askama's (`&#60;`, `&#39;`, …) and the
/// named ones.
fn unescape(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('&') {
        text.push_str(&rest[..start]);
        let end = rest[start..].find(';').map(|end| start + end);
        let decoded = end.and_then(|end| {
            let entity = &rest[start + 1..end];
            match entity {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }
            .map(|character| (character, end))
        });
        match decoded {
            Some((character, end)) => {
                text.push(character);
                rest = &rest[end + 1..];
            }
            None => {
                text.push('&');
                rest = &rest[start + 1..];
            }
        }
    }
    text.push_str(rest);
    text
}

pub(crate) fn signed(key: &SigningKey, message: &str) -> String {
    hex::encode(key.sign(message.as_bytes()).to_bytes())
}

async fn status_of(app: &TestApp, id: &str) -> String {
    let id = id.to_owned();
    app.query(move |connection| {
        receivables::table
            .filter(receivables::id.eq(id))
            .select(receivables::status)
            .first::<String>(connection)
    })
    .await
}

async fn count_offers(app: &TestApp) -> i64 {
    app.query(|connection| offers::table.count().get_result(connection))
        .await
}

async fn count_liens(app: &TestApp) -> i64 {
    app.query(|connection| liens::table.count().get_result(connection))
        .await
}

pub(crate) async fn signed_in<'a>(app: &'a TestApp, key: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    assert_eq!(browser.sign_in(key).await.status, 303);
    browser
}

async fn a_buyer_confirms_the_message_it_is_shown(app: TestApp) {
    let deal = deal(&app).await;
    let receivable = registered(&app, &deal, "INV-PORTAL-SIGN-1", "1250.00").await;
    let id = receivable["id"].as_str().unwrap().to_owned();
    let page_path = format!("/receivables/{id}");
    let action = format!("{page_path}/confirmation");

    let mut buyer = signed_in(&app, &Deal::key(&deal.buyer)).await;
    let queue = buyer.get("/receivables?status=registered").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(queue.body.contains("INV-PORTAL-SIGN-1"), "{}", queue.body);
    assert!(
        queue.body.contains("Shenzhen Parts"),
        "the queue names the supplier: {}",
        queue.body
    );

    let page = buyer.get(&page_path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("/static/sign-"), "the page loads the signing script");
    let shown = message(&page);
    assert_eq!(shown, confirm_message(&receivable).join("\n"));
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
    // The supplier cannot confirm its own invoice, even with the buyer's signature.
    let mut supplier = signed_in(&app, &Deal::key(&deal.supplier)).await;
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
    assert_eq!(status_of(&app, &id).await, "registered");

    let confirmed = buyer
        .post(
            &action,
            &[("csrf", &csrf), ("signature", &signed(&deal.buyer_key, &shown))],
        )
        .await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    assert_eq!(confirmed.location(), page_path);
    assert_eq!(status_of(&app, &id).await, "confirmed");
    let after = buyer.get(&page_path).await;
    assert!(after.body.contains("Confirmed"));
    assert!(!after.body.contains(r#"<pre class="message">"#), "nothing more to sign");
    assert!(after.body.contains(r#"href="/assets/"#), "the page links the new asset");
    // A second confirmation changes nothing.
    let again = buyer
        .post(
            &action,
            &[("csrf", &csrf), ("signature", &signed(&deal.buyer_key, &shown))],
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(status_of(&app, &id).await, "confirmed");
}

async fn a_buyer_disputes_with_a_reason(app: TestApp) {
    let deal = deal(&app).await;
    let receivable = registered(&app, &deal, "INV-PORTAL-DISPUTE-1", "10.00").await;
    let id = receivable["id"].as_str().unwrap().to_owned();
    let mut buyer = signed_in(&app, &Deal::key(&deal.buyer)).await;
    let page = buyer.get(&format!("/receivables/{id}")).await;
    let start = page.body.find("anchorfin/v1/dispute").expect("the dispute message");
    let end = page.body[start..].find("</pre>").unwrap() + start;
    let shown = unescape(&page.body[start..end]);
    assert_eq!(
        shown,
        [
            "anchorfin/v1/dispute".to_owned(),
            format!("receivable={id}"),
            format!("fingerprint={}", receivable["fingerprint"].as_str().unwrap()),
            format!("buyer={}", Deal::id(&deal.buyer)),
        ]
        .join("\n")
    );
    let csrf = page.field("csrf");
    let action = format!("/receivables/{id}/dispute");
    let signature = signed(&deal.buyer_key, &shown);
    let no_reason = buyer
        .post(&action, &[("csrf", &csrf), ("reason", "  "), ("signature", &signature)])
        .await;
    assert_eq!(no_reason.status, 200);
    assert!(no_reason.body.contains("reason:"), "{}", no_reason.body);
    assert_eq!(status_of(&app, &id).await, "registered");
    let disputed = buyer
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("reason", "goods <b>not</b> delivered"),
                ("signature", &signature),
            ],
        )
        .await;
    assert_eq!(disputed.status, 303, "{}", disputed.body);
    assert_eq!(status_of(&app, &id).await, "disputed");
}

/// The fields of the signing form `id` (hidden terms and nonce).
fn form_fields(page: &Page, id: &str) -> Vec<(String, String)> {
    let start = page
        .body
        .find(&format!(r#"<form id="{id}""#))
        .unwrap_or_else(|| panic!("no form {id} in {}", page.body));
    let end = page.body[start..].find("</form>").unwrap() + start;
    let form = &page.body[start..end];
    let mut fields = Vec::new();
    for input in form.split("<input").skip(1) {
        let attribute = |name: &str| {
            let marker = format!("{name}=\"");
            input.find(&marker).map(|at| {
                let from = at + marker.len();
                unescape(&input[from..from + input[from..].find('"').unwrap()])
            })
        };
        if let (Some(name), Some(value)) = (attribute("name"), attribute("value")) {
            fields.push((name, value));
        }
    }
    fields
}

fn value(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(field, _)| field == name)
        .unwrap_or_else(|| panic!("no field {name} in {fields:?}"))
        .1
        .clone()
}

/// Sends the signing form `id` of `page` with a signature of its message.
async fn sign_and_send(browser: &mut Browser<'_>, page: &Page, id: &str, key: &SigningKey) -> (String, Page) {
    let shown = message(page);
    let mut fields = form_fields(page, id);
    fields.retain(|(name, _)| name != "signature");
    fields.push(("signature".to_owned(), signed(key, &shown)));
    let action = {
        let start = page
            .body
            .find(&format!(r#"<form id="{id}" method="post" action=""#))
            .unwrap()
            + format!(r#"<form id="{id}" method="post" action=""#).len();
        page.body[start..start + page.body[start..].find('"').unwrap()].to_owned()
    };
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    (shown, browser.post(&action, &borrowed).await)
}

/// A confirmed asset of the deal's supplier, worth `amount`.
async fn confirmed_asset(app: &TestApp, deal: &Deal, number: &str, amount: &str) -> String {
    let receivable = registered(app, deal, number, amount).await;
    let response = confirm(app, deal, &receivable).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["asset_id"].as_str().unwrap().to_owned()
}

async fn an_offer_and_a_pledge_are_signed_from_their_pages_and_a_second_offer_is_refused(app: TestApp) {
    let deal = deal(&app).await;
    let bank_a = bank(&app, "Bank A of the portal", 41).await;
    let bank_b = bank(&app, "Bank B of the portal", 42).await;
    let asset = confirmed_asset(&app, &deal, "INV-PORTAL-OFFER-1", "500.00").await;
    let officer = risk_officer(&app, &Deal::id(&deal.supplier), "risk@supplier.example").await;

    // The supplier: the asset, its terms, the exact offer message.
    let mut supplier = signed_in(&app, &Deal::key(&deal.supplier)).await;
    let asset_page = supplier.get(&format!("/assets/{asset}")).await;
    assert_eq!(asset_page.status, 200, "{}", asset_page.body);
    assert!(asset_page.body.contains("Bank A of the portal") && asset_page.body.contains("Bank B of the portal"));
    let too_much = supplier
        .get(&format!(
            "/assets/{asset}/offer?bank_id={}&kind=pledge&amount=12.345&days=7",
            bank_a.id()
        ))
        .await;
    assert_eq!(too_much.status, 200);
    assert!(too_much.body.contains("amount:"), "{}", too_much.body);
    assert!(!too_much.body.contains(r#"<pre class="message">"#));
    let terms = supplier
        .get(&format!(
            "/assets/{asset}/offer?bank_id={}&kind=pledge&amount=400.00&days=7",
            bank_a.id()
        ))
        .await;
    assert_eq!(terms.status, 200, "{}", terms.body);
    let fields = form_fields(&terms, "offer");
    let expected = [
        "anchorfin/v1/offer_pledge".to_owned(),
        format!("subject=asset:{asset}"),
        format!("bank={}", bank_a.id()),
        "amount=400.00".to_owned(),
        "currency=CNY".to_owned(),
        format!("expires_at={}", value(&fields, "expires_at")),
        format!("holder={}", Deal::id(&deal.supplier)),
        format!("nonce={}", value(&fields, "nonce")),
    ]
    .join("\n");
    assert_eq!(message(&terms), expected);
    // Another bank's id slipped into the signed form: the signature no longer fits.
    let mut tampered: Vec<(String, String)> = fields
        .iter()
        .map(|(name, field)| {
            let field = if name == "bank_id" { bank_b.id() } else { field.clone() };
            (name.clone(), field)
        })
        .collect();
    tampered.push(("signature".to_owned(), signed(&deal.supplier_key, &expected)));
    let borrowed: Vec<(&str, &str)> = tampered
        .iter()
        .map(|(name, field)| (name.as_str(), field.as_str()))
        .collect();
    let refused = supplier.post("/offers", &borrowed).await;
    assert_eq!(refused.status, 200, "{}", refused.body);
    assert!(refused.body.contains("invalid_signature"), "{}", refused.body);
    assert_eq!(count_offers(&app).await, 0);
    // That nonce is spent on the refusal (as an Idempotency-Key is in the
    // API): the same form signed properly is refused as another request.
    let (_, spent) = sign_and_send(&mut supplier, &terms, "offer", &deal.supplier_key).await;
    assert!(spent.body.contains("idempotency_mismatch"), "{}", spent.body);
    assert_eq!(count_offers(&app).await, 0);

    // Terms asked for again carry a fresh nonce.
    let terms = supplier
        .get(&format!(
            "/assets/{asset}/offer?bank_id={}&kind=pledge&amount=400.00&days=7",
            bank_a.id()
        ))
        .await;
    assert_ne!(value(&form_fields(&terms, "offer"), "nonce"), value(&fields, "nonce"));
    let (_, made) = sign_and_send(&mut supplier, &terms, "offer", &deal.supplier_key).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let offer_path = made.location().to_owned();
    assert!(offer_path.starts_with("/offers/"), "{offer_path}");
    // The same form sent again decides nothing more.
    let (_, resent) = sign_and_send(&mut supplier, &terms, "offer", &deal.supplier_key).await;
    assert_eq!(resent.location(), offer_path);
    assert_eq!(count_offers(&app).await, 1);
    assert_eq!(
        supplier.get(&format!("{offer_path}/accept?amount=400.00")).await.status,
        403
    );

    // Bank B was offered nothing: the offer does not exist for it.
    let mut stranger = signed_in(&app, &bank_b.api_key()).await;
    assert_eq!(stranger.get(&offer_path).await.status, 404);
    assert_eq!(
        stranger.get(&format!("{offer_path}/accept?amount=400.00")).await.status,
        404
    );
    assert!(!stranger.get("/offers").await.body.contains(&offer_path));

    // Bank A: its offers, the pledge message, the pledge.
    let mut lender = signed_in(&app, &bank_a.api_key()).await;
    assert!(lender.get("/offers").await.body.contains(&offer_path));
    let accept = lender.get(&format!("{offer_path}/accept?amount=400.00")).await;
    assert_eq!(accept.status, 200, "{}", accept.body);
    let offer_id = offer_path.trim_start_matches("/offers/");
    let accept_fields = form_fields(&accept, "accept");
    assert_eq!(
        message(&accept),
        [
            "anchorfin/v1/pledge".to_owned(),
            format!("offer={offer_id}"),
            format!("subject=asset:{asset}"),
            "amount=400.00".to_owned(),
            "currency=CNY".to_owned(),
            format!("bank={}", bank_a.id()),
            format!("nonce={}", value(&accept_fields, "nonce")),
        ]
        .join("\n")
    );
    let (_, pledged) = sign_and_send(&mut lender, &accept, "accept", &bank_a.key).await;
    assert_eq!(pledged.status, 303, "{}", pledged.body);
    assert_eq!(pledged.location(), offer_path);
    assert_eq!(count_liens(&app).await, 1);
    let taken = lender.get(&offer_path).await;
    assert!(taken.body.contains("Accepted"), "{}", taken.body);

    // The same asset offered to Bank B: refused, alerted, and the supplier's
    // risk officer sees it.
    let second = supplier
        .get(&format!(
            "/assets/{asset}/offer?bank_id={}&kind=pledge&amount=100.00&days=3",
            bank_b.id()
        ))
        .await;
    let (_, double) = sign_and_send(&mut supplier, &second, "offer", &deal.supplier_key).await;
    assert_eq!(double.status, 200, "{}", double.body);
    assert!(double.body.contains("already_encumbered"), "{}", double.body);
    assert_eq!(count_offers(&app).await, 1);
    let kinds: Vec<String> = app
        .query(|connection| alerts::table.select(alerts::kind).load(connection))
        .await;
    assert!(kinds.iter().any(|kind| kind == "duplicate_pledge"), "{kinds:?}");
    let mut inbox = signed_in(&app, &officer).await;
    assert!(inbox.get("/alerts").await.body.contains("Duplicate pledge"));
}

async fn a_bank_looks_up_by_invoice_as_the_server_normalises_it(app: TestApp) {
    let deal = deal(&app).await;
    let bank_a = bank(&app, "Bank A of the portal", 43).await;
    let receivable = registered(&app, &deal, "INV-LOOK-1", "10.00").await;
    let mut lender = signed_in(&app, &bank_a.api_key()).await;
    let empty = lender.get("/lookup").await;
    assert_eq!(empty.status, 200);
    let found = lender
        .get("/lookup?seller=91440300ma5f000001&buyer=+91110000100000000x+&invoice=inv-look-1")
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert!(
        found.body.contains(receivable["fingerprint"].as_str().unwrap()),
        "{}",
        found.body
    );
    let answer = &found.body[found.body.find("section class=\"answer").unwrap()..];
    assert!(answer.contains("Registered</dt><dd>Yes"), "{answer}");
    assert!(answer.contains("Confirmed</dt><dd>No"), "{answer}");
    let by_fingerprint = lender
        .get(&format!(
            "/lookup?fingerprint={}",
            receivable["fingerprint"].as_str().unwrap()
        ))
        .await;
    assert!(by_fingerprint.body.contains("Registered</dt><dd>Yes"));
    let bad = lender.get("/lookup?seller=&buyer=X&invoice=1").await;
    assert_eq!(bad.status, 200);
    assert!(bad.body.contains("seller:"), "{}", bad.body);
    let mut supplier = signed_in(&app, &Deal::key(&deal.supplier)).await;
    assert_eq!(supplier.get("/lookup?invoice=INV-LOOK-1").await.status, 403);
}

async fn a_revoked_bank_key_pledges_nothing(app: TestApp) {
    let deal = deal(&app).await;
    let bank_a: Bank = bank(&app, "Bank A of the portal", 44).await;
    let asset = confirmed_asset(&app, &deal, "INV-PORTAL-REVOKED-1", "50.00").await;
    let mut supplier = signed_in(&app, &Deal::key(&deal.supplier)).await;
    let terms = supplier
        .get(&format!(
            "/assets/{asset}/offer?bank_id={}&kind=pledge&amount=50.00&days=1",
            bank_a.id()
        ))
        .await;
    let (_, made) = sign_and_send(&mut supplier, &terms, "offer", &deal.supplier_key).await;
    let offer_path = made.location().to_owned();
    let mut lender = signed_in(&app, &bank_a.api_key()).await;
    let accept = lender.get(&format!("{offer_path}/accept?amount=50.00")).await;
    assert_eq!(accept.status, 200);
    revoke(&app, &bank_a.api_key()).await;
    let (_, pledged) = sign_and_send(&mut lender, &accept, "accept", &bank_a.key).await;
    assert_eq!(pledged.status, 303);
    assert!(pledged.location().starts_with("/sign-in"), "{}", pledged.location());
    assert_eq!(count_liens(&app).await, 0);
}

async fn lien_status(app: &TestApp, id: &str) -> String {
    let id = id.to_owned();
    app.query(move |connection| {
        liens::table
            .filter(liens::id.eq(id))
            .select(liens::status)
            .first::<String>(connection)
    })
    .await
}

async fn a_buyer_pays_a_bank_confirms_its_receipt_and_releases_a_pledge(app: TestApp) {
    let deal = deal(&app).await;
    let bank_a = bank(&app, "Bank A of the portal", 45).await;
    let asset = confirmed_asset(&app, &deal, "INV-PORTAL-PAY-1", "100.00").await;
    let lien = financed(&app, &deal, &bank_a, &asset, "80.00").await;
    let lien_id = lien["id"].as_str().unwrap().to_owned();
    let lien_path = format!("/pledges/{lien_id}");

    // The bank's portfolio and the lien, with its release form.
    let mut lender = signed_in(&app, &bank_a.api_key()).await;
    let portfolio = lender.get("/pledges").await;
    assert_eq!(portfolio.status, 200, "{}", portfolio.body);
    assert!(portfolio.body.contains(&lien_path), "{}", portfolio.body);
    let page = lender.get(&lien_path).await;
    assert!(
        page.body.contains(&format!(r#"action="{lien_path}/release""#)),
        "{}",
        page.body
    );
    let mut stranger = signed_in(&app, &bank(&app, "Bank C of the portal", 46).await.api_key()).await;
    assert_eq!(stranger.get(&lien_path).await.status, 404);
    assert!(!stranger.get("/pledges").await.body.contains(&lien_path));

    // The bank records what it lent, signed from the message shown.
    let loan = lender
        .get(&format!(
            "{lien_path}/loan?kind=disbursement&amount=80.00&value_date=2026-12-01&reference=LOAN-%3Cb%3E1"
        ))
        .await;
    assert_eq!(loan.status, 200, "{}", loan.body);
    assert_eq!(
        message(&loan),
        [
            "anchorfin/v1/disbursement".to_owned(),
            format!("lien={lien_id}"),
            "amount=80.00".to_owned(),
            "currency=CNY".to_owned(),
            "value_date=2026-12-01".to_owned(),
            "reference=LOAN-<b>1".to_owned(),
            format!("bank={}", bank_a.id()),
            format!("nonce={}", value(&form_fields(&loan, "loan"), "nonce")),
        ]
        .join("\n")
    );
    let (_, lent) = sign_and_send(&mut lender, &loan, "loan", &bank_a.key).await;
    assert_eq!(lent.status, 303, "{}", lent.body);
    let with_loan = lender.get(&lien_path).await;
    assert!(
        !with_loan.body.contains("LOAN-<b>1"),
        "the reference is escaped: {}",
        with_loan.body
    );
    assert!(unescape(&with_loan.body).contains("LOAN-<b>1"), "{}", with_loan.body);
    let bad = lender
        .get(&format!(
            "{lien_path}/loan?kind=disbursement&amount=1.00&value_date=soon&reference=X"
        ))
        .await;
    assert!(bad.body.contains("value_date:"), "{}", bad.body);
    let mut buyer_on_lien = signed_in(&app, &Deal::key(&deal.buyer)).await;
    assert!(matches!(
        buyer_on_lien
            .get(&format!(
                "{lien_path}/loan?kind=repayment&amount=1.00&value_date=2026-12-01&reference=X"
            ))
            .await
            .status,
        403 | 404
    ));

    // The buyer pays at maturity, signed from the message shown.
    let mut buyer = signed_in(&app, &Deal::key(&deal.buyer)).await;
    let asset_page = buyer.get(&format!("/assets/{asset}")).await;
    assert!(
        asset_page
            .body
            .contains(&format!(r#"action="/assets/{asset}/payment""#)),
        "{}",
        asset_page.body
    );
    let terms = buyer
        .get(&format!("/assets/{asset}/payment?amount=100.00&paid_on=2027-03-31"))
        .await;
    assert_eq!(terms.status, 200, "{}", terms.body);
    let fields = form_fields(&terms, "payment");
    assert_eq!(
        message(&terms),
        [
            "anchorfin/v1/payment".to_owned(),
            format!("asset={asset}"),
            "amount=100.00".to_owned(),
            "currency=CNY".to_owned(),
            "paid_on=2027-03-31".to_owned(),
            format!("buyer={}", Deal::id(&deal.buyer)),
            format!("nonce={}", value(&fields, "nonce")),
        ]
        .join("\n")
    );
    let mut supplier = signed_in(&app, &Deal::key(&deal.supplier)).await;
    assert_eq!(
        supplier
            .get(&format!("/assets/{asset}/payment?amount=100.00&paid_on=2027-03-31"))
            .await
            .status,
        403
    );
    let (_, paid) = sign_and_send(&mut buyer, &terms, "payment", &deal.buyer_key).await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    assert_eq!(lien_status(&app, &lien_id).await, "settling");

    // The bank confirms its share's receipt, signed.
    let page = lender.get(&lien_path).await;
    assert!(!page.body.contains("/release\""), "a settling lien is not released");
    assert_eq!(
        message(&page),
        [
            "anchorfin/v1/receipt".to_owned(),
            format!("lien={lien_id}"),
            "amount=80.00".to_owned(),
            "currency=CNY".to_owned(),
            format!("bank={}", bank_a.id()),
        ]
        .join("\n")
    );
    let (_, wrong) = sign_and_send(&mut lender, &page, "receipt", &deal.buyer_key).await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("invalid_signature"), "{}", wrong.body);
    let (_, received) = sign_and_send(&mut lender, &page, "receipt", &bank_a.key).await;
    assert_eq!(received.status, 303, "{}", received.body);
    assert_eq!(lien_status(&app, &lien_id).await, "settled");

    // Another pledge, released by its bank (not by the holder).
    let other = confirmed_asset(&app, &deal, "INV-PORTAL-PAY-2", "10.00").await;
    let released = financed(&app, &deal, &bank_a, &other, "10.00").await;
    let released_id = released["id"].as_str().unwrap().to_owned();
    let release = format!("/pledges/{released_id}/release");
    let supplier_csrf = supplier.csrf().await;
    let by_holder = supplier.post(&release, &[("csrf", &supplier_csrf)]).await;
    assert!(
        matches!(by_holder.status, 200 | 403),
        "{} {}",
        by_holder.status,
        by_holder.body
    );
    assert_eq!(lien_status(&app, &released_id).await, "active");
    let csrf = lender.csrf().await;
    let done = lender.post(&release, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(lien_status(&app, &released_id).await, "released");
}

async fn asset_status(app: &TestApp, id: &str) -> String {
    let id = id.to_owned();
    app.query(move |connection| {
        assets::table
            .filter(assets::id.eq(id))
            .select(assets::status)
            .first::<String>(connection)
    })
    .await
}

/// Not signed (the API's split is not either), but the holder's alone.
async fn a_holder_splits_an_asset_and_transfers_a_part(app: TestApp) {
    let deal = deal(&app).await;
    let asset = confirmed_asset(&app, &deal, "INV-PORTAL-SPLIT-1", "100.00").await;
    let split = format!("/assets/{asset}/split");
    let second = Deal::id(&deal.second_supplier);

    let mut buyer = signed_in(&app, &Deal::key(&deal.buyer)).await;
    assert!(!buyer.get(&format!("/assets/{asset}")).await.body.contains(&split));
    let buyer_csrf = buyer.csrf().await;
    let by_buyer = buyer
        .post(
            &split,
            &[("csrf", &buyer_csrf), ("amount_0", "50.00"), ("amount_1", "50.00")],
        )
        .await;
    assert!(matches!(by_buyer.status, 200 | 403 | 404), "{}", by_buyer.status);
    assert_eq!(asset_status(&app, &asset).await, "active");

    let mut supplier = signed_in(&app, &Deal::key(&deal.supplier)).await;
    let page = supplier.get(&format!("/assets/{asset}")).await;
    assert!(page.body.contains(&format!(r#"action="{split}""#)), "{}", page.body);
    let csrf = page.field("csrf");
    let uneven = supplier
        .post(
            &split,
            &[
                ("csrf", &csrf),
                ("amount_0", "60.00"),
                ("amount_1", "30.00"),
                ("transfer_to_1", &second),
            ],
        )
        .await;
    assert_eq!(uneven.status, 200, "{}", uneven.body);
    assert!(uneven.body.contains("Refused:"), "{}", uneven.body);
    assert!(
        uneven.body.contains(r#"value="30.00""#),
        "the rows are kept: {}",
        uneven.body
    );
    assert_eq!(asset_status(&app, &asset).await, "active");
    let done = supplier
        .post(
            &split,
            &[
                ("csrf", &csrf),
                ("amount_0", "60.00"),
                ("amount_1", "40.00"),
                ("transfer_to_1", &second),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(asset_status(&app, &asset).await, "retired");
    let parent = supplier.get(&format!("/assets/{asset}")).await;
    assert!(!parent.body.contains(&split), "a retired asset is not split again");
    let children: Vec<String> = {
        let parent_id = asset.clone();
        let holder = second.clone();
        app.query(move |connection| {
            assets::table
                .filter(assets::parent_id.eq(parent_id))
                .filter(assets::holder_id.eq(holder))
                .select(assets::id)
                .load(connection)
        })
        .await
    };
    assert_eq!(children.len(), 1);
    let mut second_supplier = signed_in(&app, &Deal::key(&deal.second_supplier)).await;
    let transferred = second_supplier.get(&format!("/assets/{}", children[0])).await;
    assert_eq!(transferred.status, 200, "{}", transferred.body);
    assert!(transferred.body.contains("40.00 CNY"), "{}", transferred.body);
}
