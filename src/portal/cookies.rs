//! The few cookies the portal sets, read and written by hand (RFC 6265):
//! three names, values that are base64url or a language code, so a parser
//! of `name=value; …` and a writer of `Set-Cookie` are all it takes.

use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpRequest;

/// The session id (HttpOnly, SameSite=Strict, Path=/).
pub const SESSION: &str = "anchorfin_session";
/// The sign-in form's one-time token (double submit: the form's hidden
/// field must equal it; SameSite=Strict keeps it off cross-site posts).
pub const SIGN_IN: &str = "anchorfin_sign_in";

/// The value of the first cookie named `name` the request carries.
pub fn get(request: &HttpRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

/// How long a cookie lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Until the browser closes (the session's expiry is the server's).
    Browser,
    Seconds(u64),
    /// Deletes the cookie.
    Expired,
}

/// A `Set-Cookie` value: always `Path=/`, `SameSite=Strict`; `HttpOnly`
/// unless a script must read it (none does); `Secure` when the portal is
/// reached over TLS.
pub fn set(name: &str, value: &str, lifetime: Lifetime, secure: bool) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    match lifetime {
        Lifetime::Browser => {}
        Lifetime::Seconds(seconds) => cookie.push_str(&format!("; Max-Age={seconds}")),
        Lifetime::Expired => cookie.push_str("; Max-Age=0"),
    }
    if secure {
        cookie.push_str("; Secure");
    }
    // Names are ours and values base64url or a language code: always a
    // valid header value; an empty one is the safe fallback.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let request = TestRequest::default()
            .insert_header((
                header::COOKIE,
                "lang=zh; anchorfin_session=abc_-1; xanchorfin_session=no",
            ))
            .to_http_request();
        assert_eq!(get(&request, SESSION).as_deref(), Some("abc_-1"));
        assert_eq!(get(&request, "lang").as_deref(), Some("zh"));
        assert_eq!(get(&request, SIGN_IN), None);
    }

    #[test]
    fn set_cookie_carries_the_flags() {
        assert_eq!(
            set(SESSION, "v", Lifetime::Browser, false),
            "anchorfin_session=v; Path=/; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            set(SESSION, "", Lifetime::Expired, true),
            "anchorfin_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
        );
        assert_eq!(
            set("lang", "zh", Lifetime::Seconds(60), false),
            "lang=zh; Path=/; HttpOnly; SameSite=Strict; Max-Age=60"
        );
    }
}
