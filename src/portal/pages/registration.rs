//! The supplier's registration forms: `GET/POST /purchase-orders/new` (an
//! order a core enterprise placed) and `GET/POST /receivables/new` (one
//! invoice). No signature: registration is the supplier's own word, and
//! the session authenticates it, as the API key does for
//! `POST /v1/purchase-orders` and `POST /v1/receivables`. The fields are
//! the API's body, read by the API's own request types and registered by
//! the same use cases (a duplicate is refused with its code and alerted
//! there). A field that does not parse, or a refusal, shows the form again
//! with what was typed and the reason, naming the field.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::de::DeserializeOwned;

use super::{field_problem, html, refusal_text, see_other};
use crate::api::purchase_orders::PurchaseOrderRequest;
use crate::api::receivables::ReceivableRequest;
use crate::api::state::AppState;
use crate::domain::{PurchaseOrderStatus, Role};
use crate::portal::caller::{field, Caller};
use crate::portal::error::PortalError;
use crate::portal::frame::Frame;
use crate::portal::i18n::Lang;
use crate::refusal::UseCaseError;
use crate::registry::{register_purchase_order, RegistrationJob};
use crate::store::organizations::{names, organizations_with_role};
use crate::store::registry::{purchase_orders_of, Side};
use crate::validation::FieldError;

/// How many of its latest purchase orders the invoice form offers to link.
const ORDERS_OFFERED: i64 = 200;

/// The currency a new form starts with.
const DEFAULT_CURRENCY: &str = "CNY";

#[derive(Template)]
#[template(path = "register.html")]
struct FormPage {
    frame: Frame,
    problem: Option<String>,
    help: &'static str,
    action: &'static str,
    inputs: Vec<Input>,
    submit: &'static str,
    back: &'static str,
    back_label: &'static str,
}

/// A field of the form: a text-like input, or a select of `choices`.
struct Input {
    name: &'static str,
    label: &'static str,
    /// The input's `type` (`text`, `date`).
    kind: &'static str,
    value: String,
    required: bool,
    inputmode: Option<&'static str>,
    choices: Option<Vec<Choice>>,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

impl Input {
    fn text(name: &'static str, label: &'static str, typed: &Typed) -> Self {
        Input {
            name,
            label,
            kind: "text",
            value: typed.get(name).cloned().unwrap_or_default(),
            required: true,
            inputmode: None,
            choices: None,
        }
    }

    fn date(name: &'static str, label: &'static str, typed: &Typed) -> Self {
        Input {
            kind: "date",
            ..Input::text(name, label, typed)
        }
    }

    fn decimal(name: &'static str, label: &'static str, typed: &Typed) -> Self {
        Input {
            inputmode: Some("decimal"),
            ..Input::text(name, label, typed)
        }
    }

    /// A select of `(value, label)` options, with a first empty one.
    fn select(
        name: &'static str,
        label: &'static str,
        typed: &Typed,
        empty: &str,
        options: Vec<(String, String)>,
    ) -> Self {
        let chosen = typed.get(name).map(String::as_str).unwrap_or_default();
        let mut choices = vec![Choice {
            value: String::new(),
            label: empty.to_owned(),
            selected: chosen.is_empty(),
        }];
        choices.extend(options.into_iter().map(|(value, label)| Choice {
            selected: value == chosen,
            value,
            label,
        }));
        Input {
            choices: Some(choices),
            ..Input::text(name, label, typed)
        }
    }
}

/// What the supplier typed, by field name.
type Typed = HashMap<&'static str, String>;

/// Which of the two forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    PurchaseOrder,
    Receivable,
}

impl Form {
    /// The API body's fields, in the form's order.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Form::PurchaseOrder => &["buyer_id", "po_number", "issue_date", "currency", "amount"],
            Form::Receivable => &[
                "buyer_id",
                "invoice_number",
                "issue_date",
                "due_date",
                "currency",
                "amount",
                "purchase_order_id",
            ],
        }
    }

    /// The fields a form sent (those it does not send, empty).
    fn typed(self, form: &[(String, String)]) -> Typed {
        self.fields()
            .iter()
            .map(|name| (*name, field(form, name).unwrap_or_default().to_owned()))
            .collect()
    }

    /// The API's request built from the typed fields (an empty optional
    /// field left out), to be parsed as the API parses it.
    fn request<T: DeserializeOwned>(typed: &Typed, optional: &[&str]) -> Result<T, PortalError> {
        let body: serde_json::Map<String, serde_json::Value> = typed
            .iter()
            .filter(|(name, value)| !(value.is_empty() && optional.contains(name)))
            .map(|(name, value)| ((*name).to_owned(), serde_json::Value::String(value.clone())))
            .collect();
        serde_json::from_value(serde_json::Value::Object(body)).map_err(|_| PortalError::BadRequest)
    }
}

/// What the form offers to choose from: the core enterprises onboarded
/// and (for an invoice) the supplier's open purchase orders.
struct Options {
    buyers: Vec<(String, String)>,
    orders: Vec<(String, String)>,
}

async fn options(state: &AppState, supplier: String, form: Form) -> Result<Options, PortalError> {
    Ok(state
        .database
        .run(move |connection| -> diesel::QueryResult<Options> {
            let ids = organizations_with_role(connection, Role::CoreEnterprise.as_str())?;
            let known = names(connection, &ids)?;
            let named = |id: &String| match known.get(id) {
                Some(name) => format!("{name} ({id})"),
                None => id.clone(),
            };
            let mut buyers: Vec<(String, String)> = ids.iter().map(|id| (id.clone(), named(id))).collect();
            buyers.sort_by(|a, b| a.1.cmp(&b.1));
            let orders = if form == Form::Receivable {
                purchase_orders_of(connection, Side::Supplier, &supplier, None, None, ORDERS_OFFERED)?
                    .into_iter()
                    .filter(|order| {
                        matches!(
                            order.status,
                            PurchaseOrderStatus::Registered | PurchaseOrderStatus::Acknowledged
                        )
                    })
                    .map(|order| {
                        let label = format!("{} · {}", order.po_number, named(&order.buyer_id));
                        (order.id, label)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Ok(Options { buyers, orders })
        })
        .await??)
}

/// The form with what was typed and `problem`.
async fn form_page(
    caller: &Caller,
    state: &AppState,
    form: Form,
    typed: &Typed,
    problem: Option<String>,
) -> Result<HttpResponse, PortalError> {
    let supplier = caller.supplier()?.organization_id.to_string();
    let t = caller.lang;
    let Options { buyers, orders } = options(state, supplier, form).await?;
    let buyer = Input::select("buyer_id", t.buyer(), typed, t.choose(), buyers);
    let page = match form {
        Form::PurchaseOrder => FormPage {
            frame: caller.frame(t.register_purchase_order(), "/purchase-orders"),
            problem,
            help: t.register_purchase_order_help(),
            action: "/purchase-orders/new",
            inputs: vec![
                buyer,
                Input::text("po_number", t.po_number(), typed),
                Input::date("issue_date", t.issue_date(), typed),
                Input::text("currency", t.currency(), typed),
                Input::decimal("amount", t.amount(), typed),
            ],
            submit: t.register(),
            back: "/purchase-orders",
            back_label: t.back_to_purchase_orders(),
        },
        Form::Receivable => FormPage {
            frame: caller.frame(t.register_invoice(), "/receivables"),
            problem,
            help: t.register_invoice_help(),
            action: "/receivables/new",
            inputs: vec![
                buyer,
                Input::text("invoice_number", t.invoice_number(), typed),
                Input::date("issue_date", t.issue_date(), typed),
                Input::date("due_date", t.due_date(), typed),
                Input::text("currency", t.currency(), typed),
                Input::decimal("amount", t.amount(), typed),
                Input {
                    required: false,
                    ..Input::select(
                        "purchase_order_id",
                        t.purchase_order(),
                        typed,
                        t.no_purchase_order(),
                        orders,
                    )
                },
            ],
            submit: t.register(),
            back: "/receivables",
            back_label: t.back_to_receivables(),
        },
    };
    html(&page)
}

/// An empty form (the currency filled in).
async fn blank(caller: Caller, state: web::Data<AppState>, form: Form) -> Result<HttpResponse, PortalError> {
    let mut typed = form.typed(&[]);
    typed.insert("currency", DEFAULT_CURRENCY.to_owned());
    form_page(&caller, &state, form, &typed, None).await
}

pub async fn purchase_order_form(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, PortalError> {
    blank(caller, state, Form::PurchaseOrder).await
}

pub async fn receivable_form(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, PortalError> {
    blank(caller, state, Form::Receivable).await
}

/// The reason a field was refused, naming it.
fn named(lang: Lang, error: &FieldError) -> String {
    field_problem(lang, &error.field, &error.detail)
}

/// `POST /purchase-orders/new`: registers the order as
/// `POST /v1/purchase-orders` does; 303 to its page.
pub async fn register_order(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, PortalError> {
    let supplier = caller.supplier()?.organization_id.to_string();
    let form = Form::PurchaseOrder;
    let typed = form.typed(&caller.form);
    let new = match Form::request::<PurchaseOrderRequest>(&typed, &[])?.parse() {
        Ok(new) => new,
        Err(error) => return form_page(&caller, &state, form, &typed, Some(named(caller.lang, &error))).await,
    };
    let key = state.fingerprint_key;
    let registered = state
        .database
        .run(move |connection| {
            Ok::<_, diesel::result::Error>(register_purchase_order(connection, &key, &supplier, new))
        })
        .await??;
    // A refusal may have written an alert to the ledger too.
    state.sequencer.wake();
    match registered {
        Ok((order, _)) => Ok(see_other(&format!("/purchase-orders/{}", order.id))),
        Err(error) => refused(&caller, &state, form, &typed, error).await,
    }
}

/// `POST /receivables/new`: registers the invoice through the
/// registrations' batcher as `POST /v1/receivables` does; 303 to its page.
pub async fn register_receivable(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, PortalError> {
    let supplier = caller.supplier()?.organization_id.to_string();
    let form = Form::Receivable;
    let typed = form.typed(&caller.form);
    let new = match Form::request::<ReceivableRequest>(&typed, &["purchase_order_id"])?.parse() {
        Ok(new) => new,
        Err(error) => return form_page(&caller, &state, form, &typed, Some(named(caller.lang, &error))).await,
    };
    let job = RegistrationJob {
        supplier_id: supplier,
        receivable: new,
        fingerprint_key: state.fingerprint_key,
        // The session was checked for this request.
        token: None,
    };
    let registered = state
        .registrations
        .run(job)
        .await
        .map_err(|error| PortalError::Internal(error.into()))?;
    // A refusal writes its alert to the ledger too.
    state.sequencer.wake();
    match registered {
        Ok(registered) => Ok(see_other(&format!("/receivables/{}", registered.receivable.id))),
        Err(error) => refused(&caller, &state, form, &typed, error).await,
    }
}

/// The form again with the refusal of what was sent; a fault is an error.
async fn refused(
    caller: &Caller,
    state: &AppState,
    form: Form,
    typed: &Typed,
    error: UseCaseError,
) -> Result<HttpResponse, PortalError> {
    match refusal_text(caller.lang, &error) {
        Some(problem) => form_page(caller, state, form, typed, Some(problem)).await,
        None => Err(error.into()),
    }
}
