//! The authorization matrix (issue 13, item 5): every route of the route
//! table (`anchorfin::api::ROUTES`) against every kind of caller, with the
//! status each must get, on both backends. `MATRIX` is the one table; a
//! route served without a row in it (or a row for a route that is not
//! served) fails the test.
//!
//! The callers (the table's columns): no key; a well-formed key nobody was
//! issued; the supplier's key id with another secret; an operator's key,
//! revoked; the operator and its risk officer; the deal's supplier and
//! another supplier, its buyer and another buyer, its bank and another
//! bank; the bank's risk officer. One world per backend gives every `{…}`
//! of a path a real id its party can reach: a purchase order acknowledged
//! and offered to the bank; a receivable whose asset the bank finances (a
//! pledge); a pledge the bank released; an asset offered to the bank for
//! an assignment; an alert the operator was told of (and no bank); a
//! sequenced ledger leaf.
//!
//! Each cell sends the same request but for its key (and its own
//! Idempotency-Key): one an authorised caller gets a predictable answer to
//! that changes nothing another cell sees — signatures are well-formed but
//! wrong (422 `invalid_signature`), or the request is refused on its merits
//! (409), or it creates something of its own (201). A 409 or 422 must carry
//! the row's problem code, so that a request refused for its shape (which
//! comes before visibility on the financing routes) cannot pass for an
//! authorised one.
//!
//! The table says what the documentation says (docs/ARCHITECTURE.md
//! *Authentication* and *Visibility*, docs/FINANCING.md *Who sees what* and
//! *Which refusal wins*, api-spec/openapi.yaml). Where the server answers
//! otherwise, the cell keeps the documented status and the difference is
//! listed in `DIFFERENCES` with the status served, which the test holds the
//! server to: a change either way fails here until the list is updated.

use std::collections::BTreeSet;
use std::time::Instant;

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::cli::run_against;
use crate::helpers::TestApp;
use crate::lending::{acknowledged_order, bank as onboard_bank, confirmed_asset, expiry_in, financed, offered, Bank};
use crate::on_both_backends;
use crate::registry::{confirm, deal, invoice, onboard, register, registered, Deal};

on_both_backends!(every_route_answers_every_caller_as_documented);

/// The columns, in the table's order, by the names its header uses.
const CALLERS: [&str; 13] = [
    "none", "unkn", "forg", "revk", "op", "opRO", "sup", "sup2", "buy", "buy2", "bank", "bnk2", "bkRO",
];

/// One row per route: `METHOD path | cells | code`. Cells are the statuses
/// the documentation gives each caller; `code` is the problem code of the
/// row's 409 and 422 answers (an authorised caller refused on the
/// request's merits). 401, 403 and 404 must be `unauthorized`, `forbidden`
/// and `not_found` (a 404 of a matched route, not "no route"). Lines
/// starting with `#` are notes.
const MATRIX: &str = "
#   none: no key; unkn: a well-formed key nobody was issued; forg: the supplier's key id with another
#   secret; revk: an operator's key, revoked. op, opRO: the operator and its risk officer. sup, buy,
#   bank: the deal's supplier, buyer and bank (offered the purchase order, lienholder of the asset);
#   sup2, buy2, bnk2: a supplier, buyer and bank of no part in it; bkRO: the bank's risk officer.
#
#                                                  none unkn forg revk | op  opRO | sup sup2 buy buy2 bank bnk2 bkRO | 409/422
GET  /healthz                                    | 200  200  200  200  | 200 200  | 200 200  200 200  200  200  200  |
GET  /readyz                                     | 200  200  200  200  | 200 200  | 200 200  200 200  200  200  200  |
GET  /metrics                                    | 401  401  401  401  | 200 403  | 403 403  403 403  403  403  403  |
# Only the operator onboards: a new supplier (201).
POST /v1/orgs                                    | 401  401  401  401  | 201 403  | 403 403  403 403  403  403  403  |
# Any supplier registers its own order (201), whatever its deals.
POST /v1/purchase-orders                         | 401  401  401  401  | 403 403  | 201 201  403 403  403  403  403  |
# The bank sees the order while the order's offer to it is open.
GET  /v1/purchase-orders/{id}                    | 401  401  401  401  | 200 403  | 200 404  200 404  200  404  403  |
# The buyer acknowledges (a wrong signature); whoever else sees the order may not.
POST /v1/purchase-orders/{id}/acknowledgement    | 401  401  401  401  | 403 403  | 403 404  422 404  403  404  403  | invalid_signature
POST /v1/receivables                             | 401  401  401  401  | 403 403  | 201 201  403 403  403  403  403  |
# A CSV whose one row is refused: 200 with the report.
POST /v1/receivables/import                      | 401  401  401  401  | 403 403  | 200 200  403 403  403  403  403  |
# An upload's report: its supplier and the operator; anyone else 404, a risk officer 403.
GET  /v1/uploads/{id}                            | 401  401  401  401  | 200 403  | 200 404  404 404  404  404  403  |
GET  /v1/uploads/{id}/report.csv                 | 401  401  401  401  | 200 403  | 200 404  404 404  404  404  403  |
# The bank sees the receivable through its lien on the asset.
GET  /v1/receivables/{id}                        | 401  401  401  401  | 200 403  | 200 404  200 404  200  404  403  |
# Its supplier, its buyer and the operator; anyone else 404 (the bank too), a risk officer 403.
GET  /v1/receivables/{id}/lookups                | 401  401  401  401  | 200 403  | 200 404  200 404  404  404  403  |
POST /v1/receivables/{id}/confirmation           | 401  401  401  401  | 403 403  | 403 404  422 404  403  404  403  | invalid_signature
POST /v1/receivables/{id}/dispute                | 401  401  401  401  | 403 403  | 403 404  422 404  403  404  403  | invalid_signature
GET  /v1/assets/{id}                             | 401  401  401  401  | 200 403  | 200 404  200 404  200  404  403  |
# The holder may split, but not this asset: it carries the bank's pledge.
POST /v1/assets/{id}/split                       | 401  401  401  401  | 403 403  | 409 404  403 404  403  404  403  | already_encumbered
POST /v1/assets/{id}/payments                    | 401  401  401  401  | 403 403  | 403 404  422 404  403  404  403  | invalid_signature
# Banks only; a fingerprint of a registered receivable.
GET  /v1/encumbrance/{fingerprint}               | 401  401  401  401  | 403 403  | 403 403  403 403  200  200  403  |
GET  /v1/encumbrance/{fingerprint}/certificate   | 401  401  401  401  | 403 403  | 403 403  403 403  200  200  403  |
# The holder offers the pledged asset (a wrong signature, checked before its encumbrance).
POST /v1/offers                                  | 401  401  401  401  | 403 403  | 422 404  403 404  403  404  403  | invalid_signature
GET  /v1/offers                                  | 401  401  401  401  | 200 403  | 200 200  200 200  200  200  403  |
# An offer is seen by its holder, its bank and the operator: not by the buyer.
GET  /v1/offers/{id}                             | 401  401  401  401  | 200 403  | 200 404  404 404  200  404  403  |
POST /v1/offers/{id}/withdrawal                  | 401  401  401  401  | 403 403  | 422 404  404 404  403  404  403  | invalid_signature
# Accepting the open offer of the purchase order (a wrong signature).
POST /v1/pledges                                 | 401  401  401  401  | 403 403  | 403 404  404 404  422  404  403  | invalid_signature
# A lien is seen by its bank, the asset's holder, the supplier and the operator: not by the buyer.
GET  /v1/pledges/{id}                            | 401  401  401  401  | 200 403  | 200 404  404 404  200  404  403  |
POST /v1/pledges/{id}/receipt                    | 401  401  401  401  | 403 403  | 403 404  404 404  422  404  403  | invalid_signature
POST /v1/pledges/{id}/disbursements              | 401  401  401  401  | 403 403  | 403 404  404 404  422  404  403  | invalid_signature
POST /v1/pledges/{id}/repayments                 | 401  401  401  401  | 403 403  | 403 404  404 404  422  404  403  | invalid_signature
# The pledge the bank released already.
POST /v1/pledges/{id}/release                    | 401  401  401  401  | 403 403  | 403 404  404 404  409  404  403  | lien_not_active
# Accepting the open assignment offer of another asset (a wrong signature).
POST /v1/assignments                             | 401  401  401  401  | 403 403  | 403 404  404 404  422  404  403  | invalid_signature
# Only a risk officer's key reads alerts; the alert was told to the operator, not the bank.
GET  /v1/alerts                                  | 401  401  401  401  | 403 200  | 403 403  403 403  403  403  200  |
POST /v1/alerts/{id}/acknowledgement             | 401  401  401  401  | 403 200  | 403 403  403 403  403  403  404  |
# The ledger is public; a key sent to read entries must be valid (and is not a risk officer's).
GET  /v1/ledger/head                             | 200  200  200  200  | 200 200  | 200 200  200 200  200  200  200  |
GET  /v1/ledger/public-key                       | 200  200  200  200  | 200 200  | 200 200  200 200  200  200  200  |
GET  /v1/ledger/vkey                             | 200  200  200  200  | 200 200  | 200 200  200 200  200  200  200  |
GET  /v1/ledger/checkpoint                       | 200  200  200  200  | 200 200  | 200 200  200 200  200  200  200  |
GET  /v1/ledger/entries                          | 200  401  401  401  | 200 403  | 200 200  200 200  200  200  403  |
GET  /v1/ledger/leaves/{leaf_hash}               | 200  200  200  200  | 200 200  | 200 200  200 200  200  200  200  |
GET  /v1/ledger/proofs/inclusion                 | 200  200  200  200  | 200 200  | 200 200  200 200  200  200  200  |
GET  /v1/ledger/proofs/consistency               | 200  200  200  200  | 200 200  | 200 200  200 200  200  200  200  |
";

/// Where the server answers otherwise than the documentation: (method,
/// path, caller, documented, served). Findings, to be settled by changing
/// the server or the documentation; until then the test holds the server
/// to what it serves.
const DIFFERENCES: &[(&str, &str, &str, u16, u16)] = &[
    // None: the eight cells where the server disagreed with the documents
    // when this table was first written (buyer actions answering 404 to
    // callers who see the document, risk officers reading ledger details)
    // were fixed.
];

struct Row {
    /// Lower case, as in `ROUTES`.
    method: String,
    path: &'static str,
    cells: Vec<u16>,
    code: Option<&'static str>,
}

fn matrix() -> Vec<Row> {
    MATRIX
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let parts: Vec<&str> = line.split('|').map(str::trim).collect();
            let (method, path) = parts[0]
                .split_once(' ')
                .unwrap_or_else(|| panic!("no method and path: {line}"));
            let cells: Vec<u16> = parts[1..parts.len() - 1]
                .iter()
                .flat_map(|group| group.split_whitespace())
                .map(|cell| cell.parse().unwrap_or_else(|_| panic!("not a status {cell:?}: {line}")))
                .collect();
            assert_eq!(cells.len(), CALLERS.len(), "a cell per caller: {line}");
            let code = parts[parts.len() - 1];
            Row {
                method: method.trim().to_lowercase(),
                path: path.trim(),
                cells,
                code: (!code.is_empty()).then_some(code),
            }
        })
        .collect()
}

/// The one set of parties and documents every cell is asked about.
struct World {
    /// Each column's key; `None` sends no `Authorization`.
    keys: Vec<Option<String>>,
    buyer_id: String,
    other_bank_id: String,
    /// Acknowledged, and offered to the bank for a pledge (`order_offer`,
    /// open).
    purchase_order: String,
    order_offer: String,
    /// Confirmed; its asset is pledged to the bank (`lien`).
    receivable: String,
    fingerprint: String,
    asset: String,
    lien: String,
    /// The offer the bank took for `lien`.
    taken_offer: String,
    /// Another asset's pledge, released by the bank.
    released_lien: String,
    /// A third asset, offered to the bank for an assignment (open).
    offered_asset: String,
    assignment_offer: String,
    /// A duplicate registration's alert: the operator is told, no bank.
    alert: String,
    leaf_hash: String,
    /// The supplier's upload.
    upload: String,
}

/// A key of the right shape (`afk_<16 hex>_<43 base64url>`) that was never
/// issued.
fn unknown_key() -> String {
    format!("afk_0123456789abcdef_{}", "A".repeat(43))
}

/// `key`'s public id with another (well-formed) secret.
fn forged(key: &str) -> String {
    format!("afk_{}_{}A", key_id(key), "B".repeat(42))
}

fn key_id(key: &str) -> &str {
    key.strip_prefix("afk_")
        .and_then(|rest| rest.split('_').next())
        .unwrap_or_else(|| panic!("not an API key: {key}"))
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_owned()
}

/// The operator's risk officer, added with the CLI beside the server.
fn operator_officer(app: &TestApp) -> String {
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
    let officer: Value = serde_json::from_slice(&output.stdout).unwrap();
    text(&officer["api_key"])
}

/// The deal's bank, with a signing key and a risk officer.
async fn bank_with_officer(app: &TestApp) -> (Bank, String) {
    let key = SigningKey::from_bytes(&[21; 32]);
    let response = app
        .post_json(
            "/v1/orgs",
            Some(&app.operator_key),
            &json!({"name": "Party Bank", "role": "bank", "legal_id": "LEI-MATRIX-21",
                    "public_keys": [hex::encode(key.verifying_key().to_bytes())],
                    "risk_emails": ["risk@party-bank.example"]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let org: Value = response.json().await.unwrap();
    let officer = text(&org["risk_officers"][0]["api_key"]);
    (Bank { org, key }, officer)
}

/// An operator's key that worked, then was revoked. Nothing in the service
/// revokes an API key (no route, no CLI command), though authentication
/// refuses a key whose `revoked_at` is set: it is revoked in the database,
/// as an administrator would.
async fn revoked_key(app: &TestApp) -> String {
    let org = app
        .create_org("Revoked Operator", "operator", "OPERATOR-MATRIX-REVOKED")
        .await;
    let key = text(&org["api_key"]);
    assert_eq!(app.get("/v1/offers", Some(&key)).await.status(), 200);
    app.tamper(&[&format!(
        "UPDATE api_keys SET revoked_at = created_at WHERE id = '{}'",
        key_id(&key)
    )]);
    key
}

async fn world(app: &TestApp) -> World {
    let deal = deal(app).await;
    let other_buyer = onboard(
        app,
        "Other Buyer",
        "core_enterprise",
        "91110000100000009Y",
        vec![hex::encode(
            SigningKey::from_bytes(&[17; 32]).verifying_key().to_bytes(),
        )],
    )
    .await;
    let (bank, bank_officer) = bank_with_officer(app).await;
    let other_bank = onboard_bank(app, "Other Bank", 22).await;
    let operator_officer = operator_officer(app);
    let revoked = revoked_key(app).await;

    let purchase_order = acknowledged_order(app, &deal, "PO-MATRIX-1", "50000.00").await;
    let subject = format!("purchase_order:{purchase_order}");
    let order_offer = offered(app, &deal.holder(), &subject, &bank, "pledge", "40000.00").await;

    let receivable = registered(app, &deal, "INV-MATRIX-1", "1000.00").await;
    let confirmed: Value = confirm(app, &deal, &receivable).await.json().await.unwrap();
    let asset = text(&confirmed["asset_id"]);
    let lien = financed(app, &deal, &bank, &asset, "800.00").await;

    let released_asset = confirmed_asset(app, &deal, "INV-MATRIX-2", "1001.00").await;
    let released_lien = text(&financed(app, &deal, &bank, &released_asset, "800.00").await["id"]);
    let release = app
        .post_json(
            &format!("/v1/pledges/{released_lien}/release"),
            Some(&bank.api_key()),
            &json!({}),
        )
        .await;
    assert_eq!(release.status(), 200);

    let offered_asset = confirmed_asset(app, &deal, "INV-MATRIX-3", "1002.00").await;
    let subject = format!("asset:{offered_asset}");
    let assignment_offer = offered(app, &deal.holder(), &subject, &bank, "assignment", "900.00").await;

    let duplicate = register(app, &deal, &invoice(&deal, "INV-MATRIX-1", "1000.00")).await;
    assert_eq!(duplicate.status(), 409);
    let alerts: Value = app
        .get_json("/v1/alerts?kind=duplicate_registration", Some(&operator_officer))
        .await;
    let alert = text(&alerts["items"][0]["id"]);

    app.wait_for_tree_size(2).await;
    let leaf_hash = text(&app.entries(0, 1, None).await[0]["leaf_hash"]);

    let supplier_key = Deal::key(&deal.supplier);
    let report = crate::documents::upload(
        app,
        &supplier_key,
        "text/csv",
        "invoice_number,buyer_legal_id,issue_date,due_date,currency,amount\n\
         INV-MATRIX-UP,91110000100000000X,2026-11-01,2027-03-31,CNY,5.00\n",
    )
    .await;
    let upload = text(&report["upload_id"]);
    World {
        keys: vec![
            None,
            Some(unknown_key()),
            Some(forged(&supplier_key)),
            Some(revoked),
            Some(app.operator_key.clone()),
            Some(operator_officer),
            Some(supplier_key),
            Some(Deal::key(&deal.second_supplier)),
            Some(Deal::key(&deal.buyer)),
            Some(Deal::key(&other_buyer)),
            Some(bank.api_key()),
            Some(other_bank.api_key()),
            Some(bank_officer),
        ],
        buyer_id: Deal::id(&deal.buyer),
        other_bank_id: other_bank.id(),
        purchase_order,
        order_offer,
        fingerprint: text(&receivable["fingerprint"]),
        receivable: text(&receivable["id"]),
        asset,
        taken_offer: text(&lien["offer_id"]),
        lien: text(&lien["id"]),
        released_lien,
        offered_asset,
        assignment_offer,
        alert,
        leaf_hash,
        upload,
    }
}

enum Body {
    None,
    Json(Value),
    Csv(&'static str),
}

/// A row's request, but for the caller's key.
struct Request {
    /// What replaces the path's `{…}`.
    fill: Option<String>,
    query: &'static str,
    body: Body,
    /// Signed requests carry an Idempotency-Key (their nonce): each cell
    /// its own.
    nonce: bool,
}

impl Request {
    fn new(fill: Option<&String>, body: Body) -> Self {
        Request {
            fill: fill.cloned(),
            query: "",
            body,
            nonce: false,
        }
    }

    fn query(self, query: &'static str) -> Self {
        Request { query, ..self }
    }

    fn signed(self) -> Self {
        Request { nonce: true, ..self }
    }
}

/// What each route is sent; `None` for a route this test does not know.
fn request(world: &World, method: &str, path: &str) -> Option<Request> {
    let wrong = "0".repeat(128);
    let get = |fill: Option<&String>| Request::new(fill, Body::None);
    let post = |fill: Option<&String>, body: Value| Request::new(fill, Body::Json(body));
    Some(match (method, path) {
        ("get", "/healthz" | "/readyz" | "/metrics" | "/v1/offers" | "/v1/alerts") => get(None),
        ("get", "/v1/ledger/head" | "/v1/ledger/public-key" | "/v1/ledger/vkey" | "/v1/ledger/checkpoint") => get(None),
        ("get", "/v1/ledger/entries") => get(None).query("?start=0&end=1"),
        ("get", "/v1/ledger/leaves/{leaf_hash}") => get(Some(&world.leaf_hash)),
        ("get", "/v1/ledger/proofs/inclusion") => get(None).query("?index=0&tree_size=1"),
        ("get", "/v1/ledger/proofs/consistency") => get(None).query("?first=1&second=2"),
        ("post", "/v1/orgs") => post(
            None,
            json!({"name": "Newcomer", "role": "supplier", "legal_id": "91440300MATRIXNEW1"}),
        ),
        ("post", "/v1/purchase-orders") => post(
            None,
            json!({"buyer_id": world.buyer_id, "po_number": "PO-MATRIX-NEW", "issue_date": "2026-10-02",
                   "currency": "CNY", "amount": "77.00"}),
        ),
        ("get", "/v1/purchase-orders/{id}") => get(Some(&world.purchase_order)),
        ("post", "/v1/purchase-orders/{id}/acknowledgement") => {
            post(Some(&world.purchase_order), json!({"signature": wrong}))
        }
        ("post", "/v1/receivables") => post(
            None,
            json!({"buyer_id": world.buyer_id, "invoice_number": "INV-MATRIX-NEW", "issue_date": "2026-11-02",
                   "due_date": "2027-03-31", "currency": "CNY", "amount": "77.00"}),
        ),
        // The row names the deal's buyer by its legal id.
        ("post", "/v1/receivables/import") => Request::new(
            None,
            Body::Csv(
                "invoice_number,buyer_legal_id,issue_date,due_date,currency,amount,po_number\n\
                 INV-MATRIX-CSV,91110000100000000X,2026-11-01,2027-03-31,CNY,not-money,\n",
            ),
        ),
        ("get", "/v1/receivables/{id}" | "/v1/receivables/{id}/lookups") => get(Some(&world.receivable)),
        ("get", "/v1/uploads/{id}" | "/v1/uploads/{id}/report.csv") => get(Some(&world.upload)),
        ("post", "/v1/receivables/{id}/confirmation") => post(Some(&world.receivable), json!({"signature": wrong})),
        ("post", "/v1/receivables/{id}/dispute") => post(
            Some(&world.receivable),
            json!({"reason": "not delivered", "signature": wrong}),
        ),
        ("get", "/v1/assets/{id}") => get(Some(&world.asset)),
        ("post", "/v1/assets/{id}/split") => post(
            Some(&world.asset),
            json!({"parts": [{"amount": "500.00"}, {"amount": "500.00"}]}),
        ),
        ("post", "/v1/assets/{id}/payments") => post(
            Some(&world.asset),
            json!({"amount": "1000.00", "paid_on": "2027-03-31", "signature": wrong}),
        )
        .signed(),
        ("get", "/v1/encumbrance/{fingerprint}" | "/v1/encumbrance/{fingerprint}/certificate") => {
            get(Some(&world.fingerprint))
        }
        ("post", "/v1/offers") => post(
            None,
            json!({"asset_id": world.asset, "bank_id": world.other_bank_id, "kind": "pledge", "amount": "100.00",
                   "currency": "CNY", "expires_at": expiry_in(86_400), "signature": wrong}),
        )
        .signed(),
        ("get", "/v1/offers/{id}") => get(Some(&world.taken_offer)),
        ("post", "/v1/offers/{id}/withdrawal") => post(Some(&world.assignment_offer), json!({"signature": wrong})),
        ("post", "/v1/pledges") => post(
            None,
            json!({"offer_id": world.order_offer, "purchase_order_id": world.purchase_order, "amount": "100.00",
                   "signature": wrong}),
        )
        .signed(),
        ("post", "/v1/assignments") => post(
            None,
            json!({"offer_id": world.assignment_offer, "asset_id": world.offered_asset, "amount": "900.00",
                   "signature": wrong}),
        )
        .signed(),
        ("get", "/v1/pledges/{id}") => get(Some(&world.lien)),
        ("post", "/v1/pledges/{id}/receipt") => {
            post(Some(&world.lien), json!({"amount": "800.00", "signature": wrong}))
        }
        ("post", "/v1/pledges/{id}/disbursements" | "/v1/pledges/{id}/repayments") => post(
            Some(&world.lien),
            json!({"amount": "1.00", "value_date": "2026-12-01", "reference": "REF-MATRIX", "signature": wrong}),
        )
        .signed(),
        ("post", "/v1/pledges/{id}/release") => Request::new(Some(&world.released_lien), Body::None),
        ("post", "/v1/alerts/{id}/acknowledgement") => Request::new(Some(&world.alert), Body::None),
        _ => return None,
    })
}

/// `path` with its `{…}` replaced by `fill`.
fn concrete(path: &str, fill: Option<&str>) -> String {
    match (path.find('{'), path.find('}'), fill) {
        (Some(start), Some(end), Some(fill)) => format!("{}{fill}{}", &path[..start], &path[end + 1..]),
        (None, None, None) => path.to_owned(),
        _ => panic!("{path}: the request must fill exactly the path's placeholder"),
    }
}

/// The status and problem document (if any) a caller gets.
async fn ask(app: &TestApp, row: &Row, request: &Request, key: Option<&str>, nonce: &str) -> (u16, Value) {
    let url = app.url(&format!(
        "{}{}",
        concrete(row.path, request.fill.as_deref()),
        request.query
    ));
    let mut builder = match row.method.as_str() {
        "get" => app.client.get(url),
        "post" => app.client.post(url),
        other => panic!("no {other} in the matrix"),
    };
    if let Some(key) = key {
        builder = builder.bearer_auth(key);
    }
    if request.nonce {
        builder = builder.header("Idempotency-Key", nonce);
    }
    builder = match &request.body {
        Body::None => builder,
        Body::Json(body) => builder.json(body),
        Body::Csv(csv) => builder.header("content-type", "text/csv").body(*csv),
    };
    let response = builder.send().await.expect("send request");
    let status = response.status().as_u16();
    let problem = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, problem)
}

/// Why an answer of the expected status is still not the one meant, if it
/// is not.
fn wrong_answer(status: u16, problem: &Value, code: Option<&str>) -> Option<String> {
    let wanted = match status {
        401 => Some("unauthorized"),
        403 => Some("forbidden"),
        404 if problem["detail"] == anchorfin::api::NO_ROUTE => return Some("no route matched".to_owned()),
        404 => Some("not_found"),
        409 | 422 => Some(code.unwrap_or("a code named in the row")),
        _ => None,
    };
    match wanted {
        Some(wanted) if problem["code"] != wanted => Some(format!("code {} instead of {wanted}", problem["code"])),
        _ => None,
    }
}

async fn every_route_answers_every_caller_as_documented(app: TestApp) {
    let rows = matrix();

    // A row for every route served, and no row for a route that is not.
    let served: BTreeSet<(String, String)> = anchorfin::api::ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    let listed: BTreeSet<(String, String)> = rows
        .iter()
        .map(|row| (row.method.clone(), row.path.to_owned()))
        .collect();
    assert_eq!(listed.len(), rows.len(), "a route has two rows");
    assert_eq!(
        served.difference(&listed).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routes without a row in the authorization matrix"
    );
    assert_eq!(
        listed.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "rows of the authorization matrix for routes that are not served"
    );
    for (method, path, caller, documented, served) in DIFFERENCES {
        let row = rows
            .iter()
            .find(|row| row.method.eq_ignore_ascii_case(method) && row.path == *path)
            .unwrap_or_else(|| panic!("a difference without a row: {method} {path}"));
        let column = CALLERS.iter().position(|name| name == caller).expect("a caller");
        assert_eq!(
            row.cells[column], *documented,
            "{method} {path} {caller}: the table's cell"
        );
        assert_ne!(documented, served, "{method} {path} {caller}");
    }

    let setting_up = Instant::now();
    let world = world(&app).await;
    let set_up = setting_up.elapsed();
    let asking = Instant::now();
    let mut failures = Vec::new();
    let mut asked = 0;
    for (index, row) in rows.iter().enumerate() {
        let request = request(&world, &row.method, row.path)
            .unwrap_or_else(|| panic!("no request for {} {}", row.method, row.path));
        for (column, caller) in CALLERS.iter().enumerate() {
            let documented = row.cells[column];
            let expected = DIFFERENCES
                .iter()
                .find(|(method, path, name, ..)| {
                    method.eq_ignore_ascii_case(&row.method) && *path == row.path && name == caller
                })
                .map_or(documented, |difference| difference.4);
            let nonce = format!("matrix-{index}-{column}");
            let (status, problem) = ask(&app, row, &request, world.keys[column].as_deref(), &nonce).await;
            asked += 1;
            let method = row.method.to_uppercase();
            if status != expected {
                failures.push(format!(
                    "{method} {} as {caller}: {status} {}, not {expected}",
                    row.path, problem["code"]
                ));
            } else if let Some(why) = wrong_answer(status, &problem, row.code) {
                failures.push(format!(
                    "{method} {} as {caller}: {status}, but {why}: {problem}",
                    row.path
                ));
            }
        }
    }
    eprintln!(
        "authorization matrix: {} routes × {} callers ({asked} requests) in {:?}, after {:?} setting up",
        rows.len(),
        CALLERS.len(),
        asking.elapsed(),
        set_up
    );
    for (method, path, caller, documented, served) in DIFFERENCES {
        eprintln!("documented {documented}, served {served}: {method} {path} as {caller}");
    }
    assert!(
        failures.is_empty(),
        "{} cells of the authorization matrix differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
