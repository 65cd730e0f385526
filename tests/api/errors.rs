use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

on_both_backends!(
    bodies_that_are_not_json_are_refused_clearly,
    unknown_routes_and_methods_are_problems
);

async fn bodies_that_are_not_json_are_refused_clearly(app: TestApp) {
    let post = |body: Vec<u8>, content_type: &'static str| {
        app.client
            .post(app.url("/v1/orgs"))
            .bearer_auth(&app.operator_key)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let problem = assert_problem(
        post(b"{\"name\": ".to_vec(), "application/json").await.unwrap(),
        400,
        "malformed_body",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("not valid JSON"),
        "{problem}"
    );
    assert_problem(
        post(b"name=x".to_vec(), "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;

    // Over the 64 KiB limit of the test server.
    let mut huge = br#"{"name": ""#.to_vec();
    huge.extend(std::iter::repeat_n(b'a', 70 * 1024));
    huge.extend(br#"", "role": "bank", "legal_id": "X"}"#);
    assert_problem(post(huge, "application/json").await.unwrap(), 413, "payload_too_large").await;
}

async fn unknown_routes_and_methods_are_problems(app: TestApp) {
    assert_problem(app.get("/v1/nothing-here", None).await, 404, "not_found").await;
    assert_problem(
        app.get("/v1/orgs", Some(&app.operator_key)).await,
        405,
        "method_not_allowed",
    )
    .await;
}
