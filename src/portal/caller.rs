//! `Caller`: whoever a live session belongs to. Every page that shows data
//! takes one; on a POST it also reads the form and refuses it (403) unless
//! it carries the session's CSRF token, so no form can be handled without
//! that check.

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::future::LocalBoxFuture;
use subtle::ConstantTimeEq;

use super::cookies;
use super::error::PortalError;
use super::frame::{Frame, NavLink};
use super::i18n::Lang;
use super::messages;
use crate::api::state::AppState;
use crate::domain::Role;
use crate::organizations::session::{self, SessionId};
use crate::organizations::Principal;
use crate::registry::Viewer;

/// The form field every POST form carries.
pub const CSRF_FIELD: &str = "csrf";

/// What a session's CSRF token is derived under.
const CSRF_PURPOSE: &[u8] = b"anchorfin portal csrf v1";

/// The largest form the portal reads.
const MAX_FORM_BYTES: usize = 16 * 1024;

pub struct Caller {
    pub principal: Principal,
    pub organization_name: String,
    pub lang: Lang,
    /// The path and query of the page asked for.
    pub here: String,
    /// A POST's fields other than the CSRF token (which was checked).
    pub form: Vec<(String, String)>,
    /// A `multipart/form-data` POST's file (the upload form's).
    pub file: Option<FilePart>,
    session: SessionId,
}

/// The file of a `multipart/form-data` form: the part named `file`, else
/// the first with a file name (as the API reads it), with its declared
/// type and name.
pub struct FilePart {
    pub body: web::Bytes,
    pub content_type: Option<String>,
    pub file_name: Option<String>,
}

/// A POST's body: its fields, and a multipart form's file.
type Form = (Vec<(String, String)>, Option<FilePart>);

impl Caller {
    /// The token every form of this session carries.
    pub fn csrf_token(&self) -> String {
        csrf_token(&self.session)
    }

    /// The session's id, to end it.
    pub fn session(&self) -> &SessionId {
        &self.session
    }

    pub fn is_risk_officer(&self) -> bool {
        self.principal.risk_officer_id.is_some()
    }

    /// The organisation, signed in with its own key; a risk officer's key
    /// opens only the alert inbox.
    pub fn organization(&self) -> Result<&Principal, PortalError> {
        if self.is_risk_officer() {
            return Err(PortalError::Forbidden);
        }
        Ok(&self.principal)
    }

    /// The supplier, signed in with its own key: the receivables and
    /// upload pages are its alone.
    pub fn supplier(&self) -> Result<&Principal, PortalError> {
        let principal = self.organization()?;
        if principal.role != Role::Supplier {
            return Err(PortalError::Forbidden);
        }
        Ok(principal)
    }

    /// The organisation as the use cases take it (a [`Viewer`]).
    pub fn viewer(&self) -> Result<Viewer, PortalError> {
        let principal = self.organization()?;
        Ok(Viewer {
            organization_id: principal.organization_id.to_string(),
            role: principal.role,
        })
    }

    /// A party to receivables, signed in with its own key: a supplier
    /// (those it registered) or a core enterprise (those it owes).
    pub fn party(&self) -> Result<&Principal, PortalError> {
        let principal = self.organization()?;
        if !matches!(principal.role, Role::Supplier | Role::CoreEnterprise) {
            return Err(PortalError::Forbidden);
        }
        Ok(principal)
    }

    /// The platform operator, signed in with its own key: the
    /// organisation pages (onboarding, risk officers) are its alone, as
    /// `POST /v1/orgs` is.
    pub fn operator(&self) -> Result<&Principal, PortalError> {
        let principal = self.organization()?;
        if principal.role != Role::Operator {
            return Err(PortalError::Forbidden);
        }
        Ok(principal)
    }

    /// The bank, signed in with its own key.
    pub fn bank(&self) -> Result<&Principal, PortalError> {
        let principal = self.organization()?;
        if principal.role != Role::Bank {
            return Err(PortalError::Forbidden);
        }
        Ok(principal)
    }

    /// The risk officer (organisation id, officer id); organisations' keys
    /// do not read alerts, as in the API.
    pub fn risk_officer(&self) -> Result<(String, String), PortalError> {
        match self.principal.risk_officer_id {
            Some(officer) => Ok((self.principal.organization_id.to_string(), officer.to_string())),
            None => Err(PortalError::Forbidden),
        }
    }

    /// The frame of a page titled `title` for this caller: the navigation
    /// of its role, with `current` marked.
    pub fn frame(&self, title: &str, current: &str) -> Frame {
        let t = self.lang;
        let links: Vec<(&'static str, &'static str)> = if self.is_risk_officer() {
            vec![(t.alert_inbox(), "/alerts")]
        } else if self.principal.role == Role::Supplier {
            vec![
                (t.home(), "/"),
                (t.receivables(), "/receivables"),
                (t.purchase_orders(), "/purchase-orders"),
                (t.upload(), "/uploads"),
                (t.offers(), "/offers"),
                (t.ledger(), "/ledger"),
            ]
        } else if self.principal.role == Role::CoreEnterprise {
            vec![
                (t.home(), "/"),
                (t.to_confirm(), "/receivables?status=registered"),
                (t.to_acknowledge(), super::pages::TO_ACKNOWLEDGE),
                (t.receivables(), "/receivables"),
                (t.ledger(), "/ledger"),
            ]
        } else if self.principal.role == Role::Bank {
            vec![
                (t.home(), "/"),
                (t.offers(), "/offers"),
                (t.portfolio(), "/pledges"),
                (t.look_up(), "/lookup"),
                (t.ledger(), "/ledger"),
            ]
        } else if self.principal.role == Role::Operator {
            vec![
                (t.home(), "/"),
                (t.organizations(), "/orgs"),
                (t.onboard(), "/orgs/new"),
                (t.ledger(), "/ledger"),
            ]
        } else {
            vec![(t.home(), "/"), (t.ledger(), "/ledger")]
        };
        let role = if self.is_risk_officer() {
            format!("{} ({})", t.role_risk_officer(), messages::role(t, self.principal.role))
        } else {
            messages::role(t, self.principal.role).to_owned()
        };
        Frame {
            nav: links
                .into_iter()
                .map(|(label, href)| NavLink {
                    label,
                    href,
                    current: href == current,
                })
                .collect(),
            who: Some(format!("{} · {role}", self.organization_name)),
            csrf: Some(self.csrf_token()),
            ..Frame::anonymous(t, title).returning_to(&self.here)
        }
    }

    pub fn role(&self) -> Role {
        self.principal.role
    }
}

pub fn csrf_token(session: &SessionId) -> String {
    URL_SAFE_NO_PAD.encode(session.derive(CSRF_PURPOSE))
}

/// Whether `presented` is `expected`, in constant time.
pub fn same_token(presented: &str, expected: &str) -> bool {
    presented.len() == expected.len() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

impl FromRequest for Caller {
    type Error = PortalError;
    type Future = LocalBoxFuture<'static, Result<Self, PortalError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let lang = Lang::of(request);
        let session = cookies::get(request, cookies::SESSION).and_then(|value| SessionId::parse(&value));
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let here = match request.query_string() {
            "" => request.path().to_owned(),
            query => format!("{}?{query}", request.path()),
        };
        let form = (request.method() == Method::POST).then(|| read_form(request, payload.take(), true));
        Box::pin(async move {
            let session = session.ok_or(PortalError::SignInRequired)?;
            let state = state.ok_or_else(|| PortalError::Internal(anyhow::anyhow!("application state is missing")))?;
            let limits = super::session_limits(&state.settings);
            let id = session.clone();
            let holder = state
                .database
                .run(move |connection| session::resume(connection, &id, limits))
                .await??
                .ok_or(PortalError::SignInRequired)?;
            state.limits.admit(&holder.principal)?;
            let is_post = form.is_some();
            let (mut fields, file) = match form {
                Some(form) => form.await?,
                None => (Vec::new(), None),
            };
            if is_post {
                let expected = csrf_token(&session);
                let presented = fields
                    .iter()
                    .position(|(name, _)| name == CSRF_FIELD)
                    .map(|position| fields.remove(position).1);
                if !presented.is_some_and(|presented| same_token(&presented, &expected)) {
                    return Err(PortalError::CsrfRefused);
                }
            }
            Ok(Caller {
                principal: holder.principal,
                organization_name: holder.organization_name,
                lang,
                here,
                form: fields,
                file,
                session,
            })
        })
    }
}

/// A URL-encoded form's fields, read under the portal's size limit and
/// the service's body time limit; or, when `with_file` (a signed-in
/// caller's), a `multipart/form-data` form's fields and file (the file
/// under the API's upload limit).
pub fn read_form(
    request: &HttpRequest,
    payload: Payload,
    with_file: bool,
) -> impl std::future::Future<Output = Result<Form, PortalError>> {
    let media = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase());
    let headers = request.headers().clone();
    let timeout = crate::api::gate::body_timeout(request);
    async move {
        match media.as_deref() {
            Some("application/x-www-form-urlencoded") => {
                let body = crate::api::gate::read_body(payload, MAX_FORM_BYTES, timeout).await?;
                let fields = serde_urlencoded::from_bytes(&body).map_err(|_| PortalError::BadRequest)?;
                Ok((fields, None))
            }
            Some("multipart/form-data") if with_file => {
                tokio::time::timeout(timeout, read_multipart(&headers, payload, timeout))
                    .await
                    .map_err(|_| PortalError::BadRequest)?
            }
            _ => Err(PortalError::BadRequest),
        }
    }
}

/// A multipart form's text fields (each under the form limit) and its
/// first file.
async fn read_multipart(
    headers: &actix_web::http::header::HeaderMap,
    payload: Payload,
    timeout: std::time::Duration,
) -> Result<Form, PortalError> {
    use futures_util::StreamExt;
    let mut form = actix_multipart::Multipart::new(headers, payload);
    let mut fields = Vec::new();
    let mut file = None;
    while let Some(part) = form.next().await {
        let mut part = part.map_err(|_| PortalError::BadRequest)?;
        let disposition = part.content_disposition();
        let name = disposition
            .and_then(|disposition| disposition.get_name())
            .unwrap_or_default()
            .to_owned();
        let file_name = disposition
            .and_then(|disposition| disposition.get_filename())
            .map(str::to_owned);
        if name == "file" || file_name.is_some() {
            let content_type = part.content_type().map(|mime| mime.essence_str().to_ascii_lowercase());
            let body =
                crate::api::gate::read_body(&mut part, crate::api::receivables::import::MAX_UPLOAD_BYTES, timeout)
                    .await
                    .map_err(|error| match error {
                        crate::api::error::ApiError::PayloadTooLarge { .. } => PortalError::FileTooLarge,
                        other => other.into(),
                    })?;
            if file.is_none() {
                file = Some(FilePart {
                    body,
                    content_type,
                    file_name,
                });
            }
        } else {
            let body = crate::api::gate::read_body(&mut part, MAX_FORM_BYTES, timeout).await?;
            let value = String::from_utf8(body.to_vec()).map_err(|_| PortalError::BadRequest)?;
            fields.push((name, value));
        }
    }
    Ok((fields, file))
}

/// The value of the form field `name`, if sent.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(field, _)| field == name)
        .map(|(_, value)| value.as_str())
}
