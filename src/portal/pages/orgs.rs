//! The operator's pages: `GET /orgs` (every organisation, newest first, a
//! page at a time by keyset on `(created_at, id)`), `GET /orgs/new` and
//! `POST /orgs` (onboarding, through `organizations::onboard` as
//! `POST /v1/orgs` does, the request parsed by the API's own
//! `OrganizationRequest::parse`), `GET /orgs/{id}` (an organisation's facts,
//! risk officers and API keys, never a secret) and
//! `POST /orgs/{id}/risk-officers` (`organizations::add_risk_officer`, as
//! `anchorfin risk-officer add`). A new key is shown once, in the answer to
//! the POST that made it (no redirect: nothing could show it again), which
//! the frame marks `Cache-Control: no-store` like every page. A refused
//! field re-renders its form with the values kept and the field named.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::listing::{decode_cursor, encode_cursor};
use super::{html, html_with, Fact};
use crate::api::state::AppState;
use crate::domain::{EmailAddress, Role};
use crate::organizations::api_key::reveal;
use crate::organizations::{
    add_risk_officer, onboard as onboard_organization, AddRiskOfficerError, IdentifierRequest, OnboardError,
    OnboardedView, OrganizationRequest,
};
use crate::portal::caller::{field, Caller};
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::i18n::Lang;
use crate::portal::messages;
use crate::store::organizations::{self as repository, ApiKeyListing};
use crate::validation::FieldError;

/// Organisations per page.
const PAGE: i64 = 50;

/// A stored role by its name in the reader's language (as stored if unknown).
fn role_name(t: Lang, stored: &str) -> String {
    stored
        .parse::<Role>()
        .map_or_else(|_| stored.to_owned(), |role| messages::role(t, role).to_owned())
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct ListPage {
    frame: Frame,
    rows: Vec<ListRow>,
    next: Option<String>,
    first: Option<String>,
}

struct ListRow {
    id: String,
    name: String,
    role: String,
    legal_id: String,
    created_at: String,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    /// The last `(created_at, id)` of the page before: `<time>_<id>`.
    after: Option<String>,
}

pub async fn organizations(
    caller: Caller,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    caller.operator()?;
    let t = caller.lang;
    let after = match query.after.as_deref().filter(|after| !after.is_empty()) {
        Some(after) => Some(decode_cursor(after).ok_or(PortalError::BadRequest)?),
        None => None,
    };
    let first_page = after.is_none();
    // One more than a page tells whether another follows.
    let mut page = state
        .database
        .run(move |connection| repository::organizations_page(connection, after, PAGE + 1))
        .await??;
    let more = page.len() > PAGE as usize;
    page.truncate(PAGE as usize);
    let next = more
        .then(|| page.last())
        .flatten()
        .map(|last| format!("/orgs?after={}", encode_cursor(last.created_at, &last.id)));
    let rows = page
        .into_iter()
        .map(|row| ListRow {
            role: role_name(t, &row.role),
            created_at: t.format_time(row.created_at),
            id: row.id,
            name: row.name,
            legal_id: row.legal_id,
        })
        .collect();
    html(&ListPage {
        frame: caller.frame(t.organizations(), "/orgs"),
        rows,
        next,
        first: (!first_page).then(|| "/orgs".to_owned()),
    })
}

/// A refused field: what the reader calls it, and why.
struct Problem {
    field: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "orgs_new.html")]
struct FormPage {
    frame: Frame,
    csrf: String,
    roles: Vec<RoleOption>,
    values: OnboardingForm,
    problem: Option<Problem>,
    /// The name of the input the problem is about ("" when none).
    invalid: &'static str,
}

struct RoleOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// The onboarding form as sent, kept to be shown again when refused.
#[derive(Default)]
struct OnboardingForm {
    name: String,
    role: String,
    legal_id: String,
    /// One `SCHEME:VALUE` a line.
    identifiers: String,
    /// One hex key a line.
    public_keys: String,
    /// One address a line.
    risk_emails: String,
}

/// The form's inputs that hold a list, one item a line.
const LIST_INPUTS: [&str; 3] = ["identifiers", "public_keys", "risk_emails"];

impl OnboardingForm {
    fn read(fields: &[(String, String)]) -> Self {
        let value = |name: &str| field(fields, name).unwrap_or_default().to_owned();
        Self {
            name: value("name"),
            role: value("role"),
            legal_id: value("legal_id"),
            identifiers: value("identifiers"),
            public_keys: value("public_keys"),
            risk_emails: value("risk_emails"),
        }
    }

    /// The request `POST /v1/orgs` would take. Blank lines are skipped;
    /// an identifier without a ':' is refused here, naming it as the API
    /// would (`identifiers[i]`).
    fn request(&self, t: Lang) -> Result<OrganizationRequest, FieldError> {
        let identifiers = items(&self.identifiers)
            .enumerate()
            .map(|(index, (_, raw))| {
                let (scheme, value) = raw
                    .split_once(':')
                    .ok_or_else(|| FieldError::new(format!("identifiers[{index}]"), t.identifier_shape()))?;
                Ok(IdentifierRequest {
                    scheme: scheme.to_owned(),
                    value: value.to_owned(),
                })
            })
            .collect::<Result<Vec<_>, FieldError>>()?;
        let list = |text: &str| items(text).map(|(_, item)| item.to_owned()).collect();
        Ok(OrganizationRequest {
            name: self.name.clone(),
            role: self.role.clone(),
            legal_id: self.legal_id.clone(),
            identifiers,
            public_keys: list(&self.public_keys),
            risk_emails: list(&self.risk_emails),
        })
    }

    /// The text of the list input `name`.
    fn list(&self, name: &str) -> &str {
        match name {
            "identifiers" => &self.identifiers,
            "public_keys" => &self.public_keys,
            _ => &self.risk_emails,
        }
    }

    /// The refused field `error.field` (`name`, `public_keys[1]`,
    /// `identifiers[0].value`) as the reader knows it: the input's label
    /// and, in a list, the line of the form it was written on.
    fn problem(&self, t: Lang, error: FieldError) -> (Problem, &'static str) {
        let (input, index) = match error.field.split_once('[') {
            Some((input, rest)) => (
                input,
                rest.split(']').next().and_then(|index| index.parse::<usize>().ok()),
            ),
            None => (error.field.as_str(), None),
        };
        let (label, input): (&str, &'static str) = match input {
            "name" => (t.organization_name(), "name"),
            "role" => (t.organization_role(), "role"),
            "legal_id" => (t.legal_id(), "legal_id"),
            "identifiers" => (t.identifiers(), "identifiers"),
            "public_keys" => (t.signing_keys(), "public_keys"),
            "risk_emails" => (t.risk_emails(), "risk_emails"),
            _ => ("", ""),
        };
        let line = index
            .filter(|_| LIST_INPUTS.contains(&input))
            .and_then(|index| items(self.list(input)).nth(index))
            .map(|(line, _)| line);
        let field = match line {
            Some(line) => format!("{label} · {} {line}", t.line()),
            None if label.is_empty() => error.field.clone(),
            None => label.to_owned(),
        };
        (
            Problem {
                field,
                detail: error.detail,
            },
            input,
        )
    }
}

/// The items of a one-a-line input with their line numbers (from 1),
/// trimmed, blank lines skipped.
fn items(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
}

pub async fn onboarding_form(caller: Caller) -> Result<HttpResponse, PortalError> {
    caller.operator()?;
    form_page(&caller, OnboardingForm::default(), None, StatusCode::OK)
}

fn form_page(
    caller: &Caller,
    values: OnboardingForm,
    problem: Option<(Problem, &'static str)>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let t = caller.lang;
    let (problem, invalid) = match problem {
        Some((problem, invalid)) => (Some(problem), invalid),
        None => (None, ""),
    };
    let page = FormPage {
        frame: caller.frame(t.onboard_title(), "/orgs/new"),
        csrf: caller.csrf_token(),
        roles: Role::ALL
            .into_iter()
            .map(|role| RoleOption {
                value: role.as_str(),
                label: messages::role(t, role),
                selected: values.role == role.as_str(),
            })
            .collect(),
        values,
        problem,
        invalid,
    };
    html_with(status, &page)
}

#[derive(Template)]
#[template(path = "orgs_onboarded.html")]
struct OnboardedPage {
    frame: Frame,
    organization: OnboardedView,
    facts: Vec<Fact>,
}

pub async fn onboard(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, PortalError> {
    let operator = caller.operator()?.organization_id.to_string();
    let t = caller.lang;
    let values = OnboardingForm::read(&caller.form);
    let new = match values.request(t).and_then(OrganizationRequest::parse) {
        Ok(new) => new,
        Err(error) => {
            let problem = values.problem(t, error);
            return form_page(&caller, values, Some(problem), StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let onboarded = state
        .database
        .run(move |connection| onboard_organization(connection, new, Some(&operator)))
        .await?;
    let refused = |label: &str, input: &'static str, detail: String| {
        let problem = Problem {
            field: label.to_owned(),
            detail,
        };
        (problem, input)
    };
    let problem =
        match onboarded {
            Ok(onboarded) => {
                state.sequencer.wake();
                let organization = OnboardedView::from(&onboarded);
                let mut facts = vec![
                    Fact::link(
                        t.organization_id(),
                        organization.id.clone(),
                        format!("/orgs/{}", organization.id),
                    ),
                    Fact::text(t.organization_name(), organization.name.clone()),
                    Fact::text(t.organization_role(), role_name(t, &organization.role)),
                    Fact::text(t.legal_id(), organization.legal_id.clone()),
                ];
                facts.extend(organization.identifiers.iter().map(|identifier| {
                    Fact::text(t.identifiers(), format!("{}:{}", identifier.scheme, identifier.value))
                }));
                facts.extend(
                    organization
                        .public_keys
                        .iter()
                        .map(|key| Fact::code(t.signing_keys(), key.clone())),
                );
                return html(&OnboardedPage {
                    frame: caller.frame(t.onboarded_title(), "/orgs"),
                    organization,
                    facts,
                });
            }
            Err(OnboardError::DuplicateLegalId) => refused(t.legal_id(), "legal_id", t.duplicate_legal_id().to_owned()),
            Err(OnboardError::DuplicateIdentifier(identifier)) => refused(
                t.identifiers(),
                "identifiers",
                format!("{}: {identifier}", t.duplicate_identifier()),
            ),
            Err(OnboardError::PublicKeyTaken(key)) => refused(
                t.signing_keys(),
                "public_keys",
                format!("{}: {key}", t.public_key_taken()),
            ),
            Err(OnboardError::Database(error)) => return Err(error.into()),
        };
    form_page(&caller, values, Some(problem), StatusCode::CONFLICT)
}

#[derive(Template)]
#[template(path = "orgs_show.html")]
struct OrganizationPage {
    frame: Frame,
    csrf: String,
    id: String,
    name: String,
    facts: Vec<Fact>,
    public_keys: Vec<PublicKeyRow>,
    officers: Vec<OfficerRow>,
    api_keys: Vec<ApiKeyRow>,
    /// The risk officer form's address as sent, and why it was refused.
    email: String,
    problem: Option<Problem>,
}

struct PublicKeyRow {
    public_key: String,
    created_at: String,
    revoked_at: Option<String>,
}

struct OfficerRow {
    email: String,
    created_at: String,
}

struct ApiKeyRow {
    /// `afk_<id>_…`: the key's public part only.
    shown: String,
    holder: String,
    created_at: String,
    revoked_at: Option<String>,
}

pub async fn organization(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    caller.operator()?;
    let id = Uuid::parse_str(&path).map_err(|_| PortalError::NotFound)?;
    organization_page(&caller, &state, id, String::new(), None, StatusCode::OK).await
}

async fn organization_page(
    caller: &Caller,
    state: &AppState,
    id: Uuid,
    email: String,
    problem: Option<Problem>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let t = caller.lang;
    let id = id.to_string();
    let (organization, identifiers, public_keys, officers, api_keys) = state
        .database
        .run(move |connection| -> diesel::QueryResult<_> {
            let Some(organization) = repository::find_organization(connection, &id)? else {
                return Ok(None);
            };
            let identifiers = repository::identifiers_of(connection, &id)?;
            let public_keys = repository::public_keys_of(connection, &id)?;
            let officers = repository::risk_officers_of_many(connection, std::slice::from_ref(&id))?;
            let api_keys = repository::api_keys_of(connection, &id)?;
            Ok(Some((organization, identifiers, public_keys, officers, api_keys)))
        })
        .await??
        .ok_or(PortalError::NotFound)?;
    let holder = |key: &ApiKeyListing| match &key.risk_officer_id {
        None => t.key_holder_organization().to_owned(),
        Some(officer) => officers.iter().find(|row| &row.id == officer).map_or_else(
            || officer.clone(),
            |row| format!("{} ({})", t.role_risk_officer(), row.email),
        ),
    };
    let page = OrganizationPage {
        frame: caller.frame(&organization.name, "/orgs"),
        csrf: caller.csrf_token(),
        facts: [
            Fact::code(t.organization_id(), organization.id.clone()),
            Fact::text(t.organization_role(), role_name(t, &organization.role)),
            Fact::text(t.legal_id(), organization.legal_id.clone()),
            Fact::text(t.created_at(), t.format_time(organization.created_at)),
        ]
        .into_iter()
        .chain(
            identifiers
                .iter()
                .map(|row| Fact::text(t.identifiers(), format!("{}:{}", row.scheme, row.value))),
        )
        .collect(),
        public_keys: public_keys
            .into_iter()
            .map(|row| PublicKeyRow {
                public_key: row.public_key,
                created_at: t.format_time(row.created_at),
                revoked_at: row.revoked_at.map(|time| t.format_time(time)),
            })
            .collect(),
        api_keys: api_keys
            .iter()
            .map(|key| ApiKeyRow {
                shown: format!("afk_{}_…", key.id),
                holder: holder(key),
                created_at: t.format_time(key.created_at),
                revoked_at: key.revoked_at.map(|time| t.format_time(time)),
            })
            .collect(),
        officers: officers
            .into_iter()
            .map(|row| OfficerRow {
                email: row.email,
                created_at: t.format_time(row.created_at),
            })
            .collect(),
        id: organization.id,
        name: organization.name,
        email,
        problem,
    };
    html_with(status, &page)
}

#[derive(Template)]
#[template(path = "orgs_officer_added.html")]
struct OfficerAddedPage {
    frame: Frame,
    organization_id: String,
    email: String,
    api_key: String,
}

pub async fn add_officer(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let operator = caller.operator()?.organization_id.to_string();
    let t = caller.lang;
    let id = Uuid::parse_str(&path).map_err(|_| PortalError::NotFound)?;
    let raw = field(&caller.form, "email").unwrap_or_default().to_owned();
    let refused = |detail: String, status| {
        let problem = Problem {
            field: t.email().to_owned(),
            detail,
        };
        organization_page(&caller, &state, id, raw.clone(), Some(problem), status)
    };
    let email = match EmailAddress::parse(&raw) {
        Ok(email) => email,
        Err(error) => return refused(error.to_string(), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let added = state
        .database
        .run(move |connection| add_risk_officer(connection, id, &email, Some(&operator)))
        .await?;
    match added {
        Ok(added) => {
            state.sequencer.wake();
            html(&OfficerAddedPage {
                frame: caller.frame(t.risk_officer_added(), "/orgs"),
                organization_id: added.risk_officer.organization_id.clone(),
                email: added.risk_officer.email.clone(),
                api_key: reveal(&added.api_key),
            })
        }
        Err(AddRiskOfficerError::UnknownOrganization) => Err(PortalError::NotFound),
        Err(AddRiskOfficerError::DuplicateEmail) => refused(t.duplicate_email().to_owned(), StatusCode::CONFLICT).await,
        Err(AddRiskOfficerError::Database(error)) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(identifiers: &str, public_keys: &str) -> OnboardingForm {
        OnboardingForm {
            name: "Acme".to_owned(),
            role: "supplier".to_owned(),
            legal_id: "ACME-1".to_owned(),
            identifiers: identifiers.to_owned(),
            public_keys: public_keys.to_owned(),
            risk_emails: String::new(),
        }
    }

    #[test]
    fn list_inputs_take_one_item_a_line_and_skip_blank_lines() {
        let request = form("\n 0088:7300010000001 \r\n\nVAT:DE:123\n", "")
            .request(Lang::En)
            .unwrap();
        let identifiers: Vec<(String, String)> = request
            .identifiers
            .into_iter()
            .map(|identifier| (identifier.scheme, identifier.value))
            .collect();
        assert_eq!(
            identifiers,
            vec![
                ("0088".to_owned(), "7300010000001".to_owned()),
                ("VAT".to_owned(), "DE:123".to_owned())
            ]
        );
        assert!(request.public_keys.is_empty());
    }

    #[test]
    fn a_refused_item_is_named_by_its_input_and_line() {
        let values = form("0088:7300010000001\n\nno colon here", "");
        let error = values.request(Lang::En).unwrap_err();
        assert_eq!(error.field, "identifiers[1]");
        let (problem, input) = values.problem(Lang::En, error);
        assert_eq!(
            (problem.field.as_str(), input),
            ("Other identifiers · Line 3", "identifiers")
        );

        let values = form("", "\n\nnot hex");
        let error = values
            .request(Lang::En)
            .and_then(OrganizationRequest::parse)
            .unwrap_err();
        let (problem, input) = values.problem(Lang::Zh, error);
        assert_eq!((problem.field.as_str(), input), ("签名公钥 · 行 3", "public_keys"));

        let values = OnboardingForm {
            name: " ".to_owned(),
            ..form("", "")
        };
        let error = values
            .request(Lang::En)
            .and_then(OrganizationRequest::parse)
            .unwrap_err();
        let (problem, input) = values.problem(Lang::En, error);
        assert_eq!((problem.field.as_str(), input), ("Name", "name"));
        assert_eq!(problem.detail, "name must not be empty");
    }
}
