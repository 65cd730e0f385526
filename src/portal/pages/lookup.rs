//! `GET /lookup`: a bank's encumbrance look-up, by fingerprint or by the
//! invoice's seller, buyer and number — fingerprinted by the same code as
//! registration (`Fingerprint::receivable`, after the same normalisation),
//! so the page and the API cannot disagree — answered as
//! `GET /v1/encumbrance/{fingerprint}` answers: registered, confirmed,
//! encumbered, never by whom; rate limited, recorded, and watched for
//! enumeration alike.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::{field_problem, html};
use crate::api::lending::look_up_for;
use crate::api::state::AppState;
use crate::domain::{Fingerprint, InvoiceNumber, LegalId};
use crate::portal::caller::Caller;
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::i18n::Lang;

#[derive(Template)]
#[template(path = "lookup.html")]
struct LookupPage {
    frame: Frame,
    query: LookupQuery,
    problem: Option<String>,
    answer: Option<Answer>,
}

struct Answer {
    fingerprint: String,
    registered: &'static str,
    confirmed: &'static str,
    encumbered: &'static str,
    /// Registered, confirmed and free: the one answer that invites an offer.
    clear: bool,
}

#[derive(Default, serde::Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    fingerprint: String,
    #[serde(default)]
    seller: String,
    #[serde(default)]
    buyer: String,
    #[serde(default)]
    invoice: String,
}

/// The fingerprint asked about; `None` for an empty form.
fn fingerprint(t: Lang, query: &LookupQuery) -> Result<Option<Fingerprint>, String> {
    if !query.fingerprint.trim().is_empty() {
        return Fingerprint::parse_hex(query.fingerprint.trim())
            .map(Some)
            .map_err(|error| field_problem(t, "fingerprint", &error.to_string()));
    }
    if [&query.seller, &query.buyer, &query.invoice]
        .iter()
        .all(|value| value.trim().is_empty())
    {
        return Ok(None);
    }
    let seller = LegalId::parse(&query.seller).map_err(|error| field_problem(t, "seller", &error.to_string()))?;
    let buyer = LegalId::parse(&query.buyer).map_err(|error| field_problem(t, "buyer", &error.to_string()))?;
    let invoice =
        InvoiceNumber::parse(&query.invoice).map_err(|error| field_problem(t, "invoice", &error.to_string()))?;
    Ok(Some(Fingerprint::receivable(&seller, &buyer, &invoice)))
}

pub async fn lookup(
    caller: Caller,
    query: web::Query<LookupQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PortalError> {
    let bank = caller.bank()?.clone();
    let t = caller.lang;
    let query = query.into_inner();
    let yes_no = |value: bool| if value { t.yes() } else { t.no() };
    let (problem, answer) = match fingerprint(t, &query) {
        Err(problem) => (Some(problem), None),
        Ok(None) => (None, None),
        Ok(Some(fingerprint)) => {
            state.limits.admit_lookup(&bank)?;
            let found = look_up_for(&state, bank.organization_id.to_string(), &fingerprint).await?;
            (
                None,
                Some(Answer {
                    fingerprint: fingerprint.to_hex(),
                    registered: yes_no(found.registered),
                    confirmed: yes_no(found.confirmed),
                    encumbered: yes_no(found.encumbered),
                    clear: found.registered && found.confirmed && !found.encumbered,
                }),
            )
        }
    };
    html(&LookupPage {
        frame: caller.frame(t.look_up(), "/lookup"),
        query,
        problem,
        answer,
    })
}
