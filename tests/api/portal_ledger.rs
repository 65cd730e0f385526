//! The ledger page hands `static/ledger.js` what it checks an entry with:
//! the script itself, the platform key and log origin it trusts, every
//! text it shows (a reason for each way it can refuse, in both
//! languages), and each row's index and leaf hash. What the script does
//! in the browser is done here again with the crate's own verifier, from
//! exactly what the page states and the public API answers without a key,
//! so the data cannot fail to verify for want of something. The script
//! itself runs in Chromium in tests/browser/ledger.mjs.

use serde_json::Value;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::portal::{Browser, Page};
use crate::registry::{deal, registered, Deal};

const SCRIPT: &str = include_str!("../../static/ledger.js");

on_both_backends!(
    the_ledger_page_carries_its_check_script_and_what_it_needs,
    what_the_page_states_verifies_with_the_public_api,
);

/// The value of the first `{name}="…"` attribute after `from`.
fn attribute<'a>(body: &'a str, from: usize, name: &str) -> &'a str {
    let marker = format!(" {name}=\"");
    let start = body[from..]
        .find(&marker)
        .unwrap_or_else(|| panic!("no attribute {name} in {body}"))
        + from
        + marker.len();
    let end = body[start..].find('"').unwrap() + start;
    &body[start..end]
}

/// Every reason the script can give (`new Refusal("…")`).
fn reasons() -> Vec<&'static str> {
    let mut reasons: Vec<&str> = SCRIPT
        .split("new Refusal(\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    reasons
}

/// The page's rows: (index, leaf hash).
fn rows(page: &Page) -> Vec<(u64, String)> {
    page.body
        .match_indices("<tr data-index=\"")
        .map(|(at, _)| {
            (
                attribute(&page.body, at, "data-index").parse().unwrap(),
                attribute(&page.body, at, "data-leaf-hash").to_owned(),
            )
        })
        .collect()
}

/// A few entries: the deal's onboardings (public) and two receivables
/// (sealed), all signed into the tree.
async fn ledger_with_entries(app: &TestApp) -> Deal {
    let deal = deal(app).await;
    registered(app, &deal, "LEDGER-PAGE-1", "100.00").await;
    registered(app, &deal, "LEDGER-PAGE-2", "200.00").await;
    app.settled_head().await;
    deal
}

async fn the_ledger_page_carries_its_check_script_and_what_it_needs(app: TestApp) {
    let deal = ledger_with_entries(&app).await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&Deal::key(&deal.supplier)).await.status, 303);
    let page = browser.get("/ledger").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_secured();

    // The script, by its hashed name, deferred, and served as written.
    let start = page.body.find("<script src=\"/static/ledger-").unwrap();
    let path = attribute(&page.body, start, "src").to_owned();
    assert!(page.body[start..].starts_with(&format!("<script src=\"{path}\" defer></script>")));
    let script = browser.get(&path).await;
    assert_eq!(script.status, 200);
    assert_eq!(script.headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(script.body, SCRIPT);
    // No inline script; the buttons are the script's to add.
    assert_eq!(page.body.matches("<script").count(), 1, "{}", page.body);
    assert!(!page.body.contains("<button type=\"button\""), "{}", page.body);

    // The key and origin it trusts are the platform's.
    let published = app.get_json("/v1/ledger/public-key", None).await;
    let section = page.body.find("<section id=\"entries\"").unwrap();
    assert_eq!(
        attribute(&page.body, section, "data-public-key"),
        published["public_key"].as_str().unwrap()
    );
    assert_eq!(
        attribute(&page.body, section, "data-origin"),
        published["origin"].as_str().unwrap()
    );
    assert!(page.body.contains("It trusts that key as this platform serves it"));

    // Each row: its index and leaf hash, and still its proof link.
    let rows = rows(&page);
    let size = app.get_json("/v1/ledger/head", None).await["tree_size"]
        .as_u64()
        .unwrap();
    assert_eq!(rows.len() as u64, size.min(20));
    assert_eq!(rows[0].0, size - 1, "newest first");
    assert!(page.body.contains(&format!(
        "/v1/ledger/proofs/inclusion?index={}&#38;tree_size={size}",
        rows[0].0
    )));

    // Every text the script shows, in the reader's language, and a reason
    // for each refusal the script can make.
    let reasons = reasons();
    assert!(reasons.len() >= 8, "{reasons:?}");
    let texts = [
        ("data-text-check", "Check", "核验"),
        (
            "data-text-verified",
            "Verified on the ledger (tree size {size})",
            "已在账本上验证（树大小 {size}）",
        ),
        ("data-text-not-verified", "NOT verified:", "未通过验证："),
        (
            "data-reason-root-mismatch",
            "the inclusion proof does not lead to the signed root hash.",
            "包含证明推不出已签名的根哈希。",
        ),
    ];
    for language in ["en", "zh-CN"] {
        browser.language = Some(language);
        let page = browser.get("/ledger").await;
        let section = page.body.find("<section id=\"entries\"").unwrap();
        for (name, english, chinese) in texts {
            let expected = if language == "en" { english } else { chinese };
            assert_eq!(attribute(&page.body, section, name), expected, "{language}");
        }
        for reason in &reasons {
            let text = attribute(&page.body, section, &format!("data-reason-{reason}"));
            assert!(!text.is_empty(), "{language}: {reason}");
        }
    }
}

async fn what_the_page_states_verifies_with_the_public_api(app: TestApp) {
    let deal = ledger_with_entries(&app).await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&Deal::key(&deal.supplier)).await.status, 303);
    let page = browser.get("/ledger").await;
    let section = page.body.find("<section id=\"entries\"").unwrap();
    let key: [u8; 32] = hex::decode(attribute(&page.body, section, "data-public-key"))
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key).unwrap();
    let origin = attribute(&page.body, section, "data-origin");

    // As the script does: no API key, the latest head's signed note.
    let head = app.get_json("/v1/ledger/head", None).await;
    let checkpoint = anchorfin::ledger::open_checkpoint(head["checkpoint"].as_str().unwrap(), origin, &key).unwrap();
    assert_eq!(checkpoint.size, head["tree_size"].as_u64().unwrap());
    assert_eq!(hex::encode(checkpoint.root_hash), head["root_hash"].as_str().unwrap());

    let rows = rows(&page);
    assert!(rows.len() >= 5, "{rows:?}");
    for (index, shown_leaf_hash) in rows {
        let page = app
            .get_json(&format!("/v1/ledger/entries?start={index}&end={}", index + 1), None)
            .await;
        let entry = &page["entries"][0];
        assert_eq!(entry["index"].as_u64(), Some(index));
        let bytes = hex::decode(entry["entry"].as_str().unwrap()).unwrap();
        let leaf = anchorfin::ledger::leaf_hash(&bytes);
        assert_eq!(hex::encode(leaf), shown_leaf_hash, "entry {index}");
        let proof: Value = app
            .get_json(
                &format!(
                    "/v1/ledger/proofs/inclusion?index={index}&tree_size={}",
                    checkpoint.size
                ),
                None,
            )
            .await;
        let hashes: Vec<Vec<u8>> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hash| hex::decode(hash.as_str().unwrap()).unwrap())
            .collect();
        anchorfin::ledger::verify_inclusion(&leaf, index, checkpoint.size, &hashes, &checkpoint.root_hash)
            .unwrap_or_else(|error| panic!("entry {index}: {error}"));
        // A proof with one hash changed leads elsewhere: the check can fail.
        let mut corrupted = hashes.clone();
        if let Some(first) = corrupted.first_mut() {
            first[0] ^= 1;
            assert!(anchorfin::ledger::verify_inclusion(
                &leaf,
                index,
                checkpoint.size,
                &corrupted,
                &checkpoint.root_hash
            )
            .is_err());
        }
    }
}
