//! What every page shares: the frame the base template draws (title,
//! navigation for the signed-in role, language switch, sign-out form), and
//! the middleware that gives every portal response its security headers
//! and renders refusals as pages in the reader's language.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;

use super::assets::assets;
use super::cookies;
use super::error::PortalError;
use super::i18n::Lang;

/// No inline script or style, nothing from elsewhere, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A link of the navigation.
pub struct NavLink {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// A link of the language switch.
pub struct LanguageLink {
    pub name: &'static str,
    pub tag: &'static str,
    pub href: String,
    pub current: bool,
}

/// The base template's data.
pub struct Frame {
    pub t: Lang,
    pub title: String,
    pub stylesheet: &'static str,
    pub scripts: Vec<&'static str>,
    /// Set on pages that reload themselves while open (the inbox).
    pub refresh_seconds: Option<u32>,
    /// Set on pages that reload whole until what they wait for is done
    /// (an upload's progress): a `<meta http-equiv="refresh">`, which the
    /// Content-Security-Policy does not govern.
    pub reload_seconds: Option<u32>,
    pub nav: Vec<NavLink>,
    /// "Organisation name · role" of whoever is signed in.
    pub who: Option<String>,
    /// The session's CSRF token, for the sign-out form and every other.
    pub csrf: Option<String>,
    pub languages: Vec<LanguageLink>,
}

impl Frame {
    /// A page for someone not signed in; the language switch returns to `here`.
    pub fn anonymous(lang: Lang, title: &str) -> Self {
        Self {
            t: lang,
            title: title.to_owned(),
            stylesheet: assets().stylesheet.path.as_str(),
            scripts: Vec::new(),
            refresh_seconds: None,
            reload_seconds: None,
            nav: Vec::new(),
            who: None,
            csrf: None,
            languages: language_links(lang, "/"),
        }
    }

    /// The language switch returns to `here` (a local path and query).
    pub fn returning_to(mut self, here: &str) -> Self {
        self.languages = language_links(self.t, here);
        self
    }
}

fn language_links(current: Lang, here: &str) -> Vec<LanguageLink> {
    Lang::ALL
        .into_iter()
        .map(|lang| LanguageLink {
            name: lang.name(),
            tag: lang.tag(),
            href: format!(
                "/language/{}?{}",
                lang.code(),
                serde_urlencoded::to_string([("next", here)]).unwrap_or_default()
            ),
            current: lang == current,
        })
        .collect()
}

/// `next` if it is a path on this site (not `//host`, not a scheme), so
/// that a redirect to it cannot leave the portal.
pub fn local_path(next: &str) -> Option<&str> {
    let safe = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2_000
        && next.chars().all(|character| character.is_ascii_graphic());
    safe.then_some(next)
}

/// Every portal response: a refusal rendered as a page in the reader's
/// language (a missing session as a redirect to sign-in, which comes back
/// to the page asked for), and the security headers.
pub async fn secure(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let lang = Lang::of(request.request());
    let had_session = cookies::get(request.request(), cookies::SESSION).is_some();
    let return_to = matches!(*request.method(), Method::GET | Method::HEAD).then(|| match request.query_string() {
        "" => request.path().to_owned(),
        query => format!("{}?{query}", request.path()),
    });
    let secure_cookies = super::secure_cookies(request.request());
    let mut response = next.call(request).await?.map_into_boxed_body();
    let refusal = response
        .response()
        .error()
        .and_then(|error| error.as_error::<PortalError>())
        .map(|error| match error {
            PortalError::SignInRequired => {
                let mut query: Vec<(&str, &str)> = Vec::new();
                if let Some(path) = return_to.as_deref().filter(|path| *path != "/") {
                    query.push(("next", path));
                }
                if had_session {
                    query.push(("ended", "1"));
                }
                let location = match serde_urlencoded::to_string(&query) {
                    Ok(encoded) if !encoded.is_empty() => format!("/sign-in?{encoded}"),
                    _ => "/sign-in".to_owned(),
                };
                let mut redirect = actix_web::HttpResponse::SeeOther();
                redirect.insert_header((header::LOCATION, location));
                if had_session {
                    redirect.append_header((
                        header::SET_COOKIE,
                        cookies::set(cookies::SESSION, "", cookies::Lifetime::Expired, secure_cookies),
                    ));
                }
                redirect.finish()
            }
            other => other.page(lang),
        });
    if let Some(page) = refusal {
        response = response.into_response(page);
    }
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // Pages show data: never kept by a browser or a proxy. Assets set their own.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            local_path("/alerts?kind=duplicate_pledge"),
            Some("/alerts?kind=duplicate_pledge")
        );
        assert_eq!(local_path("/"), Some("/"));
        for bad in [
            "",
            "alerts",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/a b",
            "/\n",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_language_switch_returns_to_the_page() {
        let links = language_links(Lang::Zh, "/alerts?kind=x&y=1");
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].href, "/language/en?next=%2Falerts%3Fkind%3Dx%26y%3D1");
        assert!(links[1].current && !links[0].current);
    }
}
