//! `GET /sign-in`, `POST /sign-in` and `POST /sign-out`.
//!
//! The sign-in form carries a one-time token that must equal a cookie set
//! with it (SameSite=Strict, so a form posted from another site arrives
//! without it): nobody can sign a visitor in with a key of their own.
//! Attempts are limited per client address, as the API's anonymous
//! requests are.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};

use super::see_other;
use crate::api::state::AppState;
use crate::organizations::session::{self, SessionId};
use crate::portal::caller::{field, read_form, same_token, Caller};
use crate::portal::cookies::{self, Lifetime};
use crate::portal::error::PortalError;
use crate::portal::frame::{local_path, Frame};
use crate::portal::i18n::Lang;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    frame: Frame,
    form_token: String,
    next: String,
    notice: Option<&'static str>,
    problem: Option<&'static str>,
}

#[derive(serde::Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    ended: Option<String>,
    signed_out: Option<String>,
}

pub async fn sign_in_form(request: HttpRequest, query: web::Query<SignInQuery>) -> Result<HttpResponse, PortalError> {
    let lang = Lang::of(&request);
    let notice = if query.ended.is_some() {
        Some(lang.session_ended())
    } else if query.signed_out.is_some() {
        Some(lang.signed_out())
    } else {
        None
    };
    let next = query.next.as_deref().and_then(local_path).unwrap_or("/");
    form(&request, lang, next, notice, None, StatusCode::OK)
}

/// The sign-in page with a fresh form token.
fn form(
    request: &HttpRequest,
    lang: Lang,
    next: &str,
    notice: Option<&'static str>,
    problem: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let mut token = [0u8; 32];
    OsRng.fill_bytes(&mut token);
    let form_token = URL_SAFE_NO_PAD.encode(token);
    let here = match next {
        "/" => "/sign-in".to_owned(),
        next => format!(
            "/sign-in?{}",
            serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
        ),
    };
    let page = SignInPage {
        frame: Frame::anonymous(lang, lang.sign_in()).returning_to(&here),
        next: next.to_owned(),
        notice,
        problem,
        form_token: form_token.clone(),
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::SET_COOKIE,
            cookies::set(
                cookies::SIGN_IN,
                &form_token,
                Lifetime::Browser,
                crate::portal::secure_cookies(request),
            ),
        ))
        .body(page.render()?))
}

pub async fn sign_in(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let lang = Lang::of(&request);
    let address = request
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |address| address.ip().to_string());
    state
        .limits
        .anonymous
        .check(&address)
        .map_err(|wait| PortalError::RateLimited {
            retry_after_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        })?;
    let (fields, _) = read_form(&request, payload.into_inner(), false).await?;
    let expected = cookies::get(&request, cookies::SIGN_IN).unwrap_or_default();
    let presented = field(&fields, "form_token").unwrap_or_default();
    if expected.is_empty() || !same_token(presented, &expected) {
        return Err(PortalError::CsrfRefused);
    }
    let next = field(&fields, "next").and_then(local_path).unwrap_or("/").to_owned();
    let api_key = field(&fields, "api_key").unwrap_or_default().trim().to_owned();
    let previous = cookies::get(&request, cookies::SESSION).and_then(|value| SessionId::parse(&value));
    let limits = crate::portal::session_limits(&state.settings);
    let signed_in = state
        .database
        .run(move |connection| {
            // A browser signing in again leaves no session behind.
            if let Some(previous) = previous {
                session::sign_out(connection, &previous)?;
            }
            session::sign_in(connection, &api_key, limits)
        })
        .await??;
    let Some(signed_in) = signed_in else {
        tracing::info!(%address, "portal: sign-in refused");
        return form(
            &request,
            lang,
            &next,
            None,
            Some(lang.sign_in_failed()),
            StatusCode::UNAUTHORIZED,
        );
    };
    let secure = crate::portal::secure_cookies(&request);
    let mut response = see_other(&next);
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookies::set(cookies::SESSION, &signed_in.id.encode(), Lifetime::Browser, secure),
    );
    headers.append(
        header::SET_COOKIE,
        cookies::set(cookies::SIGN_IN, "", Lifetime::Expired, secure),
    );
    Ok(response)
}

pub async fn sign_out(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let id = caller.session().clone();
    state
        .database
        .run(move |connection| session::sign_out(connection, &id))
        .await??;
    let mut response = see_other("/sign-in?signed_out=1");
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            cookies::SESSION,
            "",
            Lifetime::Expired,
            crate::portal::secure_cookies(&request),
        ),
    );
    Ok(response)
}
