//! What a page answers when it cannot show what was asked: an HTML page
//! in the reader's language (rendered by [`super::frame::secure`], which
//! knows the request), never a problem document, and never the cause of
//! a server fault — that goes to the log.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::frame::Frame;
use super::i18n::Lang;
use crate::api::error::ApiError;
use crate::store::DatabaseUnavailable;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// No live session: sign in (303 to the sign-in page).
    #[error("sign in first")]
    SignInRequired,
    /// The signed-in key may not open this page.
    #[error("forbidden")]
    Forbidden,
    /// A POST without this session's CSRF token (or a sign-in form
    /// without its own token).
    #[error("the form's CSRF token is missing or wrong")]
    CsrfRefused,
    #[error("not found")]
    NotFound,
    /// A form that is not a form (too large, not URL-encoded).
    #[error("bad request")]
    BadRequest,
    /// An uploaded file over the API's limit.
    #[error("the file is too large")]
    FileTooLarge,
    #[error("rate limited; retry in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    #[error("the database is unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    frame: Frame,
    message: &'static str,
}

impl PortalError {
    /// The page for this error in `lang`.
    pub fn page(&self, lang: Lang) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "portal: internal error"),
            Self::Unavailable => tracing::warn!("portal: answered 503, database unavailable"),
            _ => {}
        }
        if matches!(self, Self::SignInRequired) {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/sign-in"))
                .finish();
        }
        let message = match self {
            Self::SignInRequired | Self::Forbidden => lang.error_forbidden(),
            Self::CsrfRefused => lang.error_csrf(),
            Self::NotFound => lang.error_not_found(),
            Self::BadRequest => lang.error_bad_request(),
            Self::FileTooLarge => lang.error_file_too_large(),
            Self::RateLimited { .. } => lang.error_rate_limited(),
            Self::Unavailable => lang.error_unavailable(),
            Self::Internal(_) => lang.error_internal(),
        };
        let page = ErrorPage {
            frame: Frame::anonymous(lang, lang.error_title()),
            message,
        };
        let mut response = HttpResponse::build(self.status_code());
        if let Self::RateLimited { retry_after_seconds } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
        }
        if matches!(self, Self::Unavailable) {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        match page.render() {
            Ok(html) => response.content_type("text/html; charset=utf-8").body(html),
            Err(error) => {
                tracing::error!(%error, "portal: the error page did not render");
                response.content_type("text/plain; charset=utf-8").body(message)
            }
        }
    }
}

impl ResponseError for PortalError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignInRequired => StatusCode::SEE_OTHER,
            Self::Forbidden | Self::CsrfRefused => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::FileTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// In English; [`super::frame::secure`] renders it again in the
    /// reader's language.
    fn error_response(&self) -> HttpResponse {
        self.page(Lang::En)
    }
}

impl From<DatabaseUnavailable> for PortalError {
    fn from(error: DatabaseUnavailable) -> Self {
        match error {
            DatabaseUnavailable::Down(_) | DatabaseUnavailable::NoConnection(_) => Self::Unavailable,
            DatabaseUnavailable::TaskFailed => Self::Internal(error.into()),
        }
    }
}

impl From<diesel::result::Error> for PortalError {
    fn from(error: diesel::result::Error) -> Self {
        if crate::store::is_connection_lost(&error) {
            Self::Unavailable
        } else {
            Self::Internal(error.into())
        }
    }
}

impl From<crate::refusal::UseCaseError> for PortalError {
    fn from(error: crate::refusal::UseCaseError) -> Self {
        use crate::refusal::UseCaseError;
        match error {
            UseCaseError::NotFound => Self::NotFound,
            UseCaseError::Forbidden(_) => Self::Forbidden,
            UseCaseError::Unauthenticated => Self::SignInRequired,
            UseCaseError::Database(error) => error.into(),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for PortalError {
    fn from(error: askama::Error) -> Self {
        Self::Internal(anyhow::anyhow!("a template did not render: {error}"))
    }
}

/// The limiter's refusal, as a page.
impl From<ApiError> for PortalError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::RateLimited { retry_after_seconds } => Self::RateLimited { retry_after_seconds },
            ApiError::Unavailable { .. } => Self::Unavailable,
            ApiError::NotFound => Self::NotFound,
            ApiError::Forbidden(_) => Self::Forbidden,
            ApiError::PayloadTooLarge { .. } | ApiError::RequestTimeout { .. } | ApiError::MalformedBody(_) => {
                Self::BadRequest
            }
            other => Self::Internal(anyhow::anyhow!("{other}")),
        }
    }
}
