use serde_json::json;

use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

on_both_backends!(
    the_operator_onboards_an_organisation_whose_key_authenticates,
    an_onboarded_legal_id_is_refused_in_any_formatting,
    a_public_key_belongs_to_one_organisation,
    only_the_operator_onboards,
    risk_officers_get_their_own_keys_but_cannot_act_for_the_organisation,
    invalid_fields_are_named,
);

async fn the_operator_onboards_an_organisation_whose_key_authenticates(app: TestApp) {
    let public_key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let response = app
        .post_json(
            "/v1/orgs",
            Some(&app.operator_key),
            &json!({
                "name": "Shenzhen Parts Co.",
                "role": "supplier",
                "legal_id": "91440300MA5F000001",
                "public_keys": [public_key],
                "risk_emails": ["risk@parts.example"],
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok(), "{body}");
    assert_eq!(body["role"], "supplier");
    assert_eq!(body["legal_id"], "91440300MA5F000001");
    assert_eq!(body["public_keys"], json!([public_key]));
    assert_eq!(body["risk_officers"][0]["email"], "risk@parts.example");
    let api_key = body["api_key"].as_str().unwrap();
    assert!(api_key.starts_with("afk_"), "{api_key}");

    // The new key authenticates: it is refused for its role (403), not as
    // unknown (401).
    let response = app
        .post_json(
            "/v1/orgs",
            Some(api_key),
            &json!({"name": "X", "role": "bank", "legal_id": "B-1"}),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;

    // Only the hash is stored.
    let url = app.settings.database_url().unwrap();
    let mut connection = url.establish().unwrap();
    use anchorfin::store::schema::api_keys;
    use diesel::prelude::*;
    let hashes: Vec<Vec<u8>> = api_keys::table
        .select(api_keys::secret_sha256)
        .load(&mut connection)
        .unwrap();
    assert_eq!(hashes.len(), 3, "operator, supplier and its risk officer");
    // afk_<hex id>_<base64url secret>: the secret itself may contain '_'.
    let secret = api_key.splitn(3, '_').nth(2).unwrap();
    assert_eq!(secret.len(), 43, "{api_key}");
    for hash in hashes {
        assert_eq!(hash.len(), 32);
        assert!(!String::from_utf8_lossy(&hash).contains(secret));
    }
}

async fn an_onboarded_legal_id_is_refused_in_any_formatting(app: TestApp) {
    app.create_org("Bank of Example", "bank", "5493-0012-3456").await;
    for variant in [
        "549300123456",
        "5493 0012 3456",
        "0005493.0012/3456",
        "５４９３００１２３４５６",
    ] {
        let response = app
            .post_json(
                "/v1/orgs",
                Some(&app.operator_key),
                &json!({"name": "Copycat", "role": "bank", "legal_id": variant}),
            )
            .await;
        assert_problem(response, 409, "duplicate_legal_id").await;
    }
}

async fn a_public_key_belongs_to_one_organisation(app: TestApp) {
    let key = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    let first = json!({"name": "A", "role": "core_enterprise", "legal_id": "CE-1", "public_keys": [key]});
    assert_eq!(
        app.post_json("/v1/orgs", Some(&app.operator_key), &first)
            .await
            .status(),
        201
    );
    let second = json!({"name": "B", "role": "core_enterprise", "legal_id": "CE-2", "public_keys": [key]});
    let response = app.post_json("/v1/orgs", Some(&app.operator_key), &second).await;
    assert_problem(response, 409, "public_key_taken").await;
    // Nothing of the refused organisation was written.
    let retry = json!({"name": "B", "role": "core_enterprise", "legal_id": "CE-2"});
    assert_eq!(
        app.post_json("/v1/orgs", Some(&app.operator_key), &retry)
            .await
            .status(),
        201
    );
}

async fn only_the_operator_onboards(app: TestApp) {
    let body = json!({"name": "X", "role": "bank", "legal_id": "B-9"});
    assert_problem(app.post_json("/v1/orgs", None, &body).await, 401, "unauthorized").await;
    let response = app
        .post_json("/v1/orgs", Some("afk_0000000000000000_nope"), &body)
        .await;
    assert_problem(response, 401, "unauthorized").await;
    // A well-formed key that was never issued.
    let forged = format!("afk_{}_{}", "0123456789abcdef", "A".repeat(43));
    assert_problem(
        app.post_json("/v1/orgs", Some(&forged), &body).await,
        401,
        "unauthorized",
    )
    .await;
    // The operator's key with one character changed.
    let mut tampered = app.operator_key.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_problem(
        app.post_json("/v1/orgs", Some(&tampered), &body).await,
        401,
        "unauthorized",
    )
    .await;

    let bank = app.create_org("Some Bank", "bank", "B-10").await;
    let response = app
        .post_json("/v1/orgs", Some(bank["api_key"].as_str().unwrap()), &body)
        .await;
    assert_problem(response, 403, "forbidden").await;
}

async fn risk_officers_get_their_own_keys_but_cannot_act_for_the_organisation(app: TestApp) {
    let response = app
        .post_json(
            "/v1/orgs",
            Some(&app.operator_key),
            &json!({"name": "Ops 2", "role": "operator", "legal_id": "OPS-2", "risk_emails": ["a@ops.example", "b@ops.example"]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    let officers = body["risk_officers"].as_array().unwrap();
    assert_eq!(officers.len(), 2);
    assert_ne!(officers[0]["api_key"], officers[1]["api_key"]);
    let officer_key = officers[0]["api_key"].as_str().unwrap();
    let response = app
        .post_json(
            "/v1/orgs",
            Some(officer_key),
            &json!({"name": "X", "role": "bank", "legal_id": "B-11"}),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;
}

async fn invalid_fields_are_named(app: TestApp) {
    let cases = [
        (json!({"name": "A", "role": "lender", "legal_id": "L-1"}), "role"),
        (json!({"name": "", "role": "bank", "legal_id": "L-1"}), "name"),
        (json!({"name": "A", "role": "bank", "legal_id": "--- ..."}), "legal_id"),
        (
            json!({"name": "A", "role": "bank", "legal_id": "L-1", "public_keys": ["abcd"]}),
            "public_keys[0]",
        ),
        (
            json!({"name": "A", "role": "bank", "legal_id": "L-1", "risk_emails": ["ok@x.example", "not-an-address"]}),
            "risk_emails[1]",
        ),
        (
            json!({"name": "A", "role": "bank", "legal_id": "L-1", "colour": "red"}),
            "colour",
        ),
        (json!({"name": "A", "role": "bank"}), "legal_id"),
        (json!({"name": 7, "role": "bank", "legal_id": "L-1"}), "name"),
    ];
    for (body, field) in cases {
        let response = app.post_json("/v1/orgs", Some(&app.operator_key), &body).await;
        let problem = assert_problem(response, 422, "invalid_field").await;
        assert_eq!(problem["field"], field, "{body} -> {problem}");
    }
    // None of them wrote anything: the legal id is still free.
    app.create_org("A", "bank", "L-1").await;
}
