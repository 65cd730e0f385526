//! Organisation identifiers (SPEC §11): `{"scheme", "value"}` pairs beside
//! the legal id, unique across organisations by scheme and normalised value.

use anchorfin::store::schema::organization_identifiers;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::cli::run_against;
use crate::helpers::{assert_problem, send_together, TestApp};
use crate::on_both_backends;

on_both_backends!(
    identifiers_are_onboarded_shown_and_replayed,
    invalid_identifiers_are_named,
    an_identifier_held_by_another_organisation_is_refused_and_nothing_written,
    racing_onboardings_with_one_identifier_create_exactly_one,
    org_add_takes_identifier_flags,
);

const GLN: &str = "7300010000001";

/// The identifiers stored, as `(scheme, value, normalised value)`, sorted.
async fn stored(app: &TestApp) -> Vec<(String, String, String)> {
    app.query(|connection| {
        organization_identifiers::table
            .select((
                organization_identifiers::scheme,
                organization_identifiers::value,
                organization_identifiers::normalized_value,
            ))
            .order((organization_identifiers::scheme, organization_identifiers::value))
            .load(connection)
    })
    .await
}

/// `POST /v1/orgs` as the operator.
async fn onboard(app: &TestApp, body: &Value) -> reqwest::Response {
    app.post_json("/v1/orgs", Some(&app.operator_key), body).await
}

fn organization(legal_id: &str, identifiers: Value) -> Value {
    json!({"name": legal_id, "role": "core_enterprise", "legal_id": legal_id, "identifiers": identifiers})
}

async fn identifiers_are_onboarded_shown_and_replayed(app: TestApp) {
    let mark = app.ledger_mark().await;
    let body = organization(
        "CE-ID-1",
        json!([{"scheme": "0088", "value": GLN}, {"scheme": " vat ", "value": " SE 5561234567 01 "}]),
    );
    let send = || {
        app.client
            .post(app.url("/v1/orgs"))
            .bearer_auth(&app.operator_key)
            .header("Idempotency-Key", "onboard-ce-id-1")
            .json(&body)
            .send()
    };
    let response = send().await.unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let shown = json!([{"scheme": "0088", "value": GLN}, {"scheme": "VAT", "value": "SE 5561234567 01"}]);
    assert_eq!(created["identifiers"], shown, "{created}");
    assert_eq!(
        stored(&app).await,
        [
            ("0088".to_owned(), GLN.to_owned(), GLN.to_owned()),
            (
                "VAT".to_owned(),
                "SE 5561234567 01".to_owned(),
                "SE556123456701".to_owned()
            ),
        ]
    );

    // A retry with the same key gets the first answer, identifiers and all.
    let replay = send().await.unwrap();
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["Idempotent-Replayed"], "true");
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed, created);

    // The public ledger entry names them too.
    let entries = app.entries_since(mark, Some(&app.operator_key)).await;
    assert_eq!(entries.len(), 1, "one onboarding");
    assert_eq!(entries[0]["kind"], "org_onboarded");
    assert_eq!(
        entries[0]["details"]["data"]["identifiers"],
        json!([
            {"scheme": "0088", "value": GLN, "normalized_value": GLN},
            {"scheme": "VAT", "value": "SE 5561234567 01", "normalized_value": "SE556123456701"},
        ])
    );

    // An organisation without identifiers shows an empty list.
    let plain = app.create_org("Plain", "bank", "B-PLAIN").await;
    assert_eq!(plain["identifiers"], json!([]));
}

async fn invalid_identifiers_are_named(app: TestApp) {
    let gln = json!({"scheme": "0088", "value": GLN});
    let too_many: Vec<Value> = (1..=17)
        .map(|number| json!({"scheme": "0088", "value": format!("{number}")}))
        .collect();
    let cases = [
        (json!([{"scheme": "GLN", "value": GLN}]), "identifiers[0].scheme"),
        (json!([gln, {"scheme": "00088", "value": GLN}]), "identifiers[1].scheme"),
        (
            json!([gln, {"scheme": "VAT", "value": "--- 000"}]),
            "identifiers[1].value",
        ),
        (
            json!([{"scheme": "VAT", "value": "SE55\u{200B}6"}]),
            "identifiers[0].value",
        ),
        (
            json!([{"scheme": "VAT", "value": "1".repeat(65)}]),
            "identifiers[0].value",
        ),
        (json!([{"scheme": "VAT"}]), "identifiers[0].value"),
        (json!([{"scheme": "VAT", "value": 7}]), "identifiers[0].value"),
        (
            json!([{"scheme": "VAT", "value": "1", "kind": "x"}]),
            "identifiers[0].kind",
        ),
        (json!("0088:7300010000001"), "identifiers"),
        (Value::Array(too_many), "identifiers"),
        // The same identifier twice in one request, however it is written.
        (
            json!([gln, {"scheme": "0088", "value": "7300-0100-00001"}]),
            "identifiers[1]",
        ),
    ];
    for (identifiers, field) in cases {
        let body = organization("CE-BAD", identifiers);
        let response = onboard(&app, &body).await;
        let problem = assert_problem(response, 422, "invalid_field").await;
        assert_eq!(problem["field"], field, "{body} -> {problem}");
    }
    let problem = assert_problem(
        onboard(&app, &organization("CE-BAD", json!([{"scheme": "GLN", "value": GLN}]))).await,
        422,
        "invalid_field",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("4 digits"),
        "a client is told what a scheme is: {problem}"
    );
    // Sixteen are allowed.
    let sixteen: Vec<Value> = (1..=16)
        .map(|number| json!({"scheme": "0088", "value": format!("{number}")}))
        .collect();
    let response = onboard(&app, &organization("CE-16", Value::Array(sixteen))).await;
    assert_eq!(response.status(), 201);
    // None of the refused requests wrote anything.
    assert_eq!(stored(&app).await.len(), 16);
    app.create_org("CE-BAD", "core_enterprise", "CE-BAD").await;
}

async fn an_identifier_held_by_another_organisation_is_refused_and_nothing_written(app: TestApp) {
    let first = organization("CE-A", json!([{"scheme": "0088", "value": GLN}]));
    assert_eq!(onboard(&app, &first).await.status(), 201);
    // Written otherwise, with a second identifier that is free.
    let second = organization(
        "CE-B",
        json!([{"scheme": "VAT", "value": "SE556123456701"}, {"scheme": "0088", "value": " 0007300-0100-00001"}]),
    );
    let response = onboard(&app, &second).await;
    let problem = assert_problem(response, 409, "duplicate_identifier").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("0088:0007300-0100-00001"),
        "{problem}"
    );
    // Nothing of the refused organisation was written: its legal id and its
    // free identifier can still be onboarded.
    assert_eq!(stored(&app).await.len(), 1);
    let retry = organization("CE-B", json!([{"scheme": "VAT", "value": "SE556123456701"}]));
    assert_eq!(onboard(&app, &retry).await.status(), 201);
    // The same value under another scheme is another identifier.
    let other_scheme = organization("CE-C", json!([{"scheme": "0060", "value": GLN}]));
    assert_eq!(onboard(&app, &other_scheme).await.status(), 201);
    // A legal id already onboarded wins over an identifier already held.
    let both = organization("CE-A", json!([{"scheme": "0088", "value": GLN}]));
    let response = onboard(&app, &both).await;
    assert_problem(response, 409, "duplicate_legal_id").await;
}

async fn racing_onboardings_with_one_identifier_create_exactly_one(app: TestApp) {
    let requests = (0..6)
        .map(|index| {
            app.client
                .post(app.url("/v1/orgs"))
                .bearer_auth(&app.operator_key)
                .json(&organization(
                    &format!("RACE-{index}"),
                    json!([{"scheme": "9930", "value": "DE123456789"}]),
                ))
        })
        .collect();
    let mut statuses = send_together(requests).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409]);
    assert_eq!(stored(&app).await.len(), 1);
}

async fn org_add_takes_identifier_flags(app: TestApp) {
    let output = run_against(
        &app,
        &[
            "org",
            "add",
            "--name",
            "Gamma",
            "--role",
            "supplier",
            "--legal-id",
            "GAMMA-1",
            "--identifier",
            "0088:7300010000001",
            "--identifier",
            "vat:NO:991234567",
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let body: Value = serde_json::from_slice(&output.stdout).expect("one JSON object on stdout");
    // Split at the first ':': the value may hold more.
    assert_eq!(
        body["identifiers"],
        json!([{"scheme": "0088", "value": GLN}, {"scheme": "VAT", "value": "NO:991234567"}])
    );
    // The server sees them: another organisation cannot take one.
    let response = onboard(
        &app,
        &organization("CE-D", json!([{"scheme": "VAT", "value": "no:991234567"}])),
    )
    .await;
    assert_problem(response, 409, "duplicate_identifier").await;

    for (flag, expected) in [
        ("0088:7300-0100-00001", "belongs to another organisation"),
        ("7300010000002", "--identifier"),
        ("GLN:7300010000002", "--identifier[0].scheme"),
        ("0088:", "--identifier[0].value"),
    ] {
        let refused = run_against(
            &app,
            &[
                "org",
                "add",
                "--name",
                "D",
                "--role",
                "bank",
                "--legal-id",
                "DELTA-1",
                "--identifier",
                flag,
            ],
        );
        assert_eq!(refused.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(expected), "{flag}: {stderr}");
    }
    assert_eq!(stored(&app).await.len(), 2);
}
