//! The portal's edges: an unknown path outside the API answers the
//! portal's HTML 404 page (the API's own stay problem documents), and HEAD
//! on a page answers as GET does, without a body.

use std::io::{Read, Write};

use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::{Method, Response};

use crate::helpers::TestApp;
use crate::on_both_backends;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

on_both_backends!(
    unknown_paths_outside_the_api_answer_the_portals_page,
    unknown_paths_of_the_api_stay_problem_documents,
    head_answers_a_page_as_get_does_without_its_body,
    only_pages_that_answer_get_answer_head,
);

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The body of a GET of `path` with the `Cookie` header `cookie`.
async fn page_text(app: &TestApp, path: &str, cookie: &str) -> String {
    let response = app
        .client
        .get(app.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

/// Signs `key` in through the form; the `Cookie` header that carries the session.
async fn session_cookie(app: &TestApp, key: &str) -> String {
    let client = no_redirects();
    let form = client.get(app.url("/sign-in")).send().await.unwrap();
    let sign_in_cookie = header(&form, "set-cookie").unwrap();
    let sign_in_cookie = sign_in_cookie.split(';').next().unwrap().to_owned();
    let body = form.text().await.unwrap();
    let marker = "name=\"form_token\" value=\"";
    let start = body.find(marker).unwrap() + marker.len();
    let token = &body[start..start + body[start..].find('"').unwrap()];
    let signed_in = client
        .post(app.url("/sign-in"))
        .header(COOKIE, sign_in_cookie)
        .form(&[("api_key", key), ("form_token", token), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    signed_in
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|cookie| cookie.starts_with("anchorfin_session="))
        .and_then(|cookie| cookie.split(';').next())
        .unwrap()
        .to_owned()
}

async fn unknown_paths_outside_the_api_answer_the_portals_page(app: TestApp) {
    for (method, path) in [
        (Method::GET, "/nothing"),
        (Method::GET, "/receivables/abc/nothing"),
        (Method::GET, "/v1x"),
        (Method::POST, "/nothing"),
        (Method::HEAD, "/nothing/at/all"),
    ] {
        let response = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some("text/html; charset=utf-8"),
            "{method} {path}"
        );
        assert_eq!(header(&response, "content-security-policy").as_deref(), Some(CSP));
        assert_eq!(header(&response, "cache-control").as_deref(), Some("no-store"));
        let body = response.text().await.unwrap();
        if method == Method::HEAD {
            assert!(body.is_empty(), "{body}");
        } else {
            assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
            assert!(
                body.contains("There is nothing at this address, or nothing you may see."),
                "{body}"
            );
        }
    }
    // In the reader's language.
    let chinese = app
        .client
        .get(app.url("/nothing"))
        .header(ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(chinese.status(), 404);
    assert!(chinese
        .text()
        .await
        .unwrap()
        .contains("此地址不存在内容，或您无权查看。"));
    // Markup in the path is not echoed into the page.
    let marked = app
        .client
        .get(app.url("/%3Cscript%3Ealert(1)%3C/script%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(marked.status(), 404);
    assert!(!marked.text().await.unwrap().contains("<script>alert"));
}

async fn unknown_paths_of_the_api_stay_problem_documents(app: TestApp) {
    for path in [
        "/v1",
        "/v1/nothing-here",
        "/v1/receivables/x/y/z",
        "/healthz/x",
        "/metrics/x",
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some("application/problem+json"),
            "{path}"
        );
        // The portal's headers are the portal's.
        assert_eq!(header(&response, "content-security-policy"), None, "{path}");
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["detail"], anchorfin::api::NO_ROUTE, "{path}");
    }
}

/// HEAD over a bare socket to `address` (`http://host:port`): what the
/// server writes, whole (it closes after).
fn raw_head(address: &str, path: &str, cookie: &str) -> String {
    let address = address.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(address).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        socket,
        "HEAD {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    answer
}

async fn head_answers_a_page_as_get_does_without_its_body(app: TestApp) {
    let supplier = app.create_org("Head Supplier", "supplier", "LEI-HEAD-SUP").await;
    let cookie = session_cookie(&app, supplier["api_key"].as_str().unwrap()).await;
    let client = no_redirects();
    for path in ["/", "/receivables", "/ledger", "/uploads", "/sign-in"] {
        let get = client.get(app.url(path)).header(COOKIE, &cookie).send().await.unwrap();
        let head = client.head(app.url(path)).header(COOKIE, &cookie).send().await.unwrap();
        assert_eq!(get.status(), 200, "GET {path}");
        assert_eq!(head.status(), 200, "HEAD {path}");
        for name in [
            "content-type",
            "content-security-policy",
            "cache-control",
            "x-frame-options",
        ] {
            assert_eq!(header(&head, name), header(&get, name), "{name} of {path}");
        }
        assert!(head.text().await.unwrap().is_empty(), "HEAD {path} has a body");
    }

    // On the wire: the headers, a Content-Length as GET's would be, and not one byte after them.
    let raw = tokio::task::spawn_blocking({
        let (address, cookie) = (app.address.clone(), cookie.clone());
        move || raw_head(&address, "/receivables", &cookie)
    })
    .await
    .unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .unwrap()
        .parse()
        .unwrap();
    let page = page_text(&app, "/receivables", &cookie).await;
    assert_eq!(length, page.len());
    assert!(body.is_empty(), "{body:?}");

    // Without a session, HEAD is sent to sign in as GET is, and comes back to the page.
    let anonymous = client.head(app.url("/receivables")).send().await.unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(
        header(&anonymous, "location").as_deref(),
        Some("/sign-in?next=%2Freceivables")
    );

    // A static file: its caching headers, no body.
    let home = page_text(&app, "/sign-in", "").await;
    let start = home.find("/static/portal-").unwrap();
    let stylesheet = &home[start..start + home[start..].find('"').unwrap()];
    let get = client.get(app.url(stylesheet)).send().await.unwrap();
    let head = client.head(app.url(stylesheet)).send().await.unwrap();
    assert_eq!(head.status(), 200);
    for name in ["etag", "cache-control", "content-type", "content-length"] {
        assert_eq!(header(&head, name), header(&get, name), "{name} of {stylesheet}");
    }
    assert_eq!(
        header(&head, CONTENT_TYPE.as_str()).as_deref(),
        Some("text/css; charset=utf-8")
    );
}

async fn only_pages_that_answer_get_answer_head(app: TestApp) {
    // A form target answers only POST; HEAD there is refused like any other method.
    let refused = app.client.head(app.url("/sign-out")).send().await.unwrap();
    assert_eq!(refused.status(), 405);
    assert_eq!(header(&refused, "allow").as_deref(), Some("POST"));
    // A page that is also a form target says it answers all three.
    let refused = app.client.put(app.url("/sign-in")).send().await.unwrap();
    assert_eq!(refused.status(), 405);
    assert_eq!(header(&refused, "allow").as_deref(), Some("GET, POST, HEAD"));
    let refused = app.client.delete(app.url("/ledger")).send().await.unwrap();
    assert_eq!(header(&refused, "allow").as_deref(), Some("GET, HEAD"));
    // The API is unchanged: its GETs answer GET alone.
    let refused = app.client.head(app.url("/v1/ledger/head")).send().await.unwrap();
    assert_eq!(refused.status(), 405);
    assert_eq!(header(&refused, "allow").as_deref(), Some("GET"));
}
