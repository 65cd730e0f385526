//! `api-spec/openapi.yaml` stays true: it documents exactly the routes the
//! application registers, and every documented route is served (answered by
//! its handler, not by the router's fallback), while other methods on the
//! same paths are 405.

use std::collections::BTreeSet;

use yaml_rust2::{Yaml, YamlLoader};

use crate::helpers::TestApp;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn documented() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/openapi.yaml")).unwrap();
    let documents = YamlLoader::load_from_str(&text).expect("the spec is valid YAML");
    let spec = &documents[0];
    assert_eq!(
        spec["openapi"].as_str().map(|version| version.starts_with("3.1")),
        Some(true)
    );
    let Yaml::Hash(paths) = &spec["paths"] else {
        panic!("the spec has no paths")
    };
    let mut routes = BTreeSet::new();
    for (path, item) in paths {
        let Yaml::Hash(operations) = item else {
            panic!("{path:?} is not a path item")
        };
        for (method, _) in operations {
            let method = method.as_str().unwrap();
            if METHODS.contains(&method) {
                routes.insert((method.to_owned(), path.as_str().unwrap().to_owned()));
            }
        }
    }
    routes
}

fn registered() -> BTreeSet<(String, String)> {
    anchorfin::api::ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect()
}

#[test]
fn the_spec_documents_exactly_the_registered_routes() {
    let (documented, registered) = (documented(), registered());
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not in api-spec/openapi.yaml: {undocumented:?}; in the spec but not served: {unserved:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_registered_route_is_served_and_other_methods_are_405() {
    let app = TestApp::sqlite().await;
    let sample = |path: &str| {
        path.replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{fingerprint}", &"ab".repeat(32))
            .replace("{leaf_hash}", &"cd".repeat(32))
    };
    for (method, path) in anchorfin::api::ROUTES {
        let url = app.url(&sample(path));
        let response = app
            .client
            .request(method.to_uppercase().parse().unwrap(), &url)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_ne!(status, 405, "{method} {path}");
        assert_ne!(
            body["detail"],
            anchorfin::api::NO_ROUTE,
            "{method} {path} fell through to the router's 404"
        );
        let served = |other: &str| {
            anchorfin::api::ROUTES
                .iter()
                .any(|(method, served)| served == path && *method == other)
        };
        for other in METHODS.iter().filter(|other| !served(other)) {
            let response = app
                .client
                .request(other.to_uppercase().parse().unwrap(), &url)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{other} {path}");
            let mut allowed: Vec<String> = anchorfin::api::ROUTES
                .iter()
                .filter(|(_, served)| served == path)
                .map(|(method, _)| method.to_uppercase())
                .collect();
            allowed.sort();
            let mut allow: Vec<String> = response.headers()["allow"]
                .to_str()
                .unwrap()
                .split(", ")
                .map(str::to_owned)
                .collect();
            allow.sort();
            assert_eq!(allow, allowed, "{other} {path}");
        }
    }
    let response = app.get("/v1/nothing-here", None).await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["detail"], anchorfin::api::NO_ROUTE);
}

/// Every code a problem document may carry is documented in the spec's
/// closed list, and the list documents nothing the service never produces.
#[test]
fn the_spec_lists_exactly_the_codes_the_service_produces() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/openapi.yaml")).unwrap();
    let documents = YamlLoader::load_from_str(&text).unwrap();
    let description = documents[0]["components"]["schemas"]["Problem"]["properties"]["code"]["description"]
        .as_str()
        .expect("the Problem schema describes its codes")
        .to_owned();
    let documented: BTreeSet<String> = description
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|code| code.bytes().all(|byte| byte.is_ascii_lowercase() || byte == b'_'))
        .map(str::to_owned)
        .collect();
    let produced: BTreeSet<String> = anchorfin::refusal::Refusal::ALL
        .iter()
        .map(|refusal| refusal.code().to_owned())
        .chain(
            anchorfin::api::error::ApiError::PROTOCOL_CODES
                .iter()
                .map(|code| (*code).to_owned()),
        )
        .collect();
    let undocumented: Vec<_> = produced.difference(&documented).collect();
    let never_produced: Vec<_> = documented.difference(&produced).collect();
    assert!(
        undocumented.is_empty() && never_produced.is_empty(),
        "produced but not in the spec's Problem.code list: {undocumented:?}; listed but never produced: {never_produced:?}"
    );
}
