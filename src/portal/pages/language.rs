//! `GET /language/{code}?next=`: the language switch. A link, not a form,
//! so that it works signed out too; it only sets a preference cookie.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::portal::cookies::{self, Lifetime};
use crate::portal::error::PortalError;
use crate::portal::frame::local_path;
use crate::portal::i18n::{Lang, LANGUAGE_COOKIE};

/// A year: the choice outlives sessions.
const REMEMBERED_SECONDS: u64 = 365 * 24 * 60 * 60;

#[derive(serde::Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn switch_language(
    request: HttpRequest,
    code: web::Path<String>,
    query: web::Query<Next>,
) -> Result<HttpResponse, PortalError> {
    let lang = Lang::parse(&code).ok_or(PortalError::NotFound)?;
    let next = query.next.as_deref().and_then(local_path).unwrap_or("/");
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next))
        .insert_header((
            header::SET_COOKIE,
            cookies::set(
                LANGUAGE_COOKIE,
                lang.code(),
                Lifetime::Seconds(REMEMBERED_SECONDS),
                crate::portal::secure_cookies(&request),
            ),
        ))
        .finish())
}
