//! UBL 2.0 and 2.1 uploads: one `Invoice`, `CreditNote` or `Order`
//! document, or a batch root element (any name, any namespace) whose child
//! elements are all such documents.
//!
//! Elements are matched by namespace URI and local name, never by prefix, and
//! only along the exact paths listed in [`Target::at`]: an `InvoiceLine`'s own
//! `cbc:ID`, a `Delivery/DeliveryParty`'s `EndpointID` and the like are
//! ignored. A DOCTYPE is refused (quick-xml expands no external entity
//! anyway), as is a declared encoding other than UTF-8 and nesting deeper
//! than [`MAX_DEPTH`].
//!
//! What is read (paths below the document root):
//!
//! - number `ID`; `IssueDate`; type `InvoiceTypeCode` / `CreditNoteTypeCode`
//!   (absent: the root's kind; UBL 2.0 free text such as `SalesInvoice` is an
//!   invoice);
//! - due date `DueDate`, else the first `PaymentMeans/PaymentDueDate`, else
//!   the first `PaymentTerms/PaymentDueDate` (UBL 2.0);
//! - currency `DocumentCurrencyCode`, else the `currencyID` of the amount;
//! - amount `LegalMonetaryTotal/PayableAmount`; orders
//!   `AnticipatedMonetaryTotal/PayableAmount`, else its `LineExtensionAmount`;
//! - `OrderReference/ID` (not for orders), the first
//!   `BillingReference/InvoiceDocumentReference/ID`;
//! - the buyer (`AccountingCustomerParty`, orders `BuyerCustomerParty`) and
//!   the seller (`AccountingSupplierParty`, orders `SellerSupplierParty`):
//!   every `Party/EndpointID`, `Party/PartyIdentification/ID`,
//!   `Party/PartyLegalEntity/CompanyID` (scheme `@schemeID`) and
//!   `Party/PartyTaxScheme/CompanyID` (scheme `@schemeID`, else the sibling
//!   `TaxScheme/ID`, e.g. `VAT`), in document order.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::{
    check_row_controls, normalize_date, DateForms, DocumentKind, Field, ImportError, ImportRow, Location, ParsedRow,
    RowRejection, CURRENCY_MISMATCH, DUPLICATE_FIELD, INVALID_DATE, MISSING_FIELD, UNSUPPORTED_DOCUMENT,
};
use crate::domain::PartyReference;

const NS_INVOICE: &[u8] = b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const NS_CREDIT_NOTE: &[u8] = b"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const NS_ORDER: &[u8] = b"urn:oasis:names:specification:ubl:schema:xsd:Order-2";
const NS_CBC: &[u8] = b"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
const NS_CAC: &[u8] = b"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
/// Every UBL document namespace is this, the document's name, then `-2`.
const NS_UBL_PREFIX: &str = "urn:oasis:names:specification:ubl:schema:xsd:";

/// Deeper nesting than this is refused; real documents stay far below it.
pub const MAX_DEPTH: usize = 256;

const SUPPORTED: &str = "only Invoice, CreditNote and Order are";

/// The supported document roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    Invoice,
    CreditNote,
    Order,
}

impl Root {
    fn of(namespace: &[u8], local: &[u8]) -> Option<Root> {
        match (namespace, local) {
            (NS_INVOICE, b"Invoice") => Some(Root::Invoice),
            (NS_CREDIT_NOTE, b"CreditNote") => Some(Root::CreditNote),
            (NS_ORDER, b"Order") => Some(Root::Order),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Root::Invoice => "Invoice",
            Root::CreditNote => "CreditNote",
            Root::Order => "Order",
        }
    }

    fn namespace(self) -> &'static [u8] {
        match self {
            Root::Invoice => NS_INVOICE,
            Root::CreditNote => NS_CREDIT_NOTE,
            Root::Order => NS_ORDER,
        }
    }

    fn from_local_name(local: &[u8]) -> Option<Root> {
        [Root::Invoice, Root::CreditNote, Root::Order]
            .into_iter()
            .find(|root| root.name().as_bytes() == local)
    }

    /// The party element of a role in this kind of document.
    fn party(self, role: Role) -> El {
        match (self, role) {
            (Root::Order, Role::Buyer) => El::BuyerCustomerParty,
            (Root::Order, Role::Seller) => El::SellerSupplierParty,
            (_, Role::Buyer) => El::AccountingCustomerParty,
            (_, Role::Seller) => El::AccountingSupplierParty,
        }
    }

    fn role(self, party: El) -> Option<Role> {
        [Role::Buyer, Role::Seller]
            .into_iter()
            .find(|role| self.party(*role) == party)
    }

    fn total(self) -> El {
        match self {
            Root::Order => El::AnticipatedMonetaryTotal,
            _ => El::LegalMonetaryTotal,
        }
    }

    fn type_code(self) -> Option<El> {
        match self {
            Root::Invoice => Some(El::InvoiceTypeCode),
            Root::CreditNote => Some(El::CreditNoteTypeCode),
            Root::Order => None,
        }
    }
}

/// The name of the UBL document a namespace is for, when it is one of the
/// other UBL documents (`ApplicationResponse`, `DespatchAdvice`, …).
fn other_ubl_document(namespace: &[u8]) -> Option<String> {
    let namespace = std::str::from_utf8(namespace).ok()?;
    let name = namespace.strip_prefix(NS_UBL_PREFIX)?.strip_suffix("-2")?;
    let component = name.starts_with("Common") || name.ends_with("DataTypes") || name.contains(':');
    (!component && !name.is_empty()).then(|| name.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Buyer,
    Seller,
}

/// The elements below a document root that matter; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum El {
    // cbc
    Id,
    IssueDate,
    DueDate,
    PaymentDueDate,
    InvoiceTypeCode,
    CreditNoteTypeCode,
    DocumentCurrencyCode,
    PayableAmount,
    LineExtensionAmount,
    CompanyId,
    EndpointId,
    // cac
    PaymentMeans,
    PaymentTerms,
    LegalMonetaryTotal,
    AnticipatedMonetaryTotal,
    OrderReference,
    BillingReference,
    InvoiceDocumentReference,
    AccountingSupplierParty,
    AccountingCustomerParty,
    SellerSupplierParty,
    BuyerCustomerParty,
    Party,
    PartyLegalEntity,
    PartyIdentification,
    PartyTaxScheme,
    TaxScheme,
    Other,
}

impl El {
    const CBC: [El; 11] = [
        El::Id,
        El::IssueDate,
        El::DueDate,
        El::PaymentDueDate,
        El::InvoiceTypeCode,
        El::CreditNoteTypeCode,
        El::DocumentCurrencyCode,
        El::PayableAmount,
        El::LineExtensionAmount,
        El::CompanyId,
        El::EndpointId,
    ];
    const CAC: [El; 16] = [
        El::PaymentMeans,
        El::PaymentTerms,
        El::LegalMonetaryTotal,
        El::AnticipatedMonetaryTotal,
        El::OrderReference,
        El::BillingReference,
        El::InvoiceDocumentReference,
        El::AccountingSupplierParty,
        El::AccountingCustomerParty,
        El::SellerSupplierParty,
        El::BuyerCustomerParty,
        El::Party,
        El::PartyLegalEntity,
        El::PartyIdentification,
        El::PartyTaxScheme,
        El::TaxScheme,
    ];

    fn classify(namespace: &[u8], local: &[u8]) -> El {
        let candidates: &[El] = match namespace {
            NS_CBC => &El::CBC,
            NS_CAC => &El::CAC,
            _ => &[],
        };
        candidates
            .iter()
            .copied()
            .find(|element| element.name().as_bytes() == local)
            .unwrap_or(El::Other)
    }

    fn name(self) -> &'static str {
        match self {
            El::Id => "ID",
            El::IssueDate => "IssueDate",
            El::DueDate => "DueDate",
            El::PaymentDueDate => "PaymentDueDate",
            El::InvoiceTypeCode => "InvoiceTypeCode",
            El::CreditNoteTypeCode => "CreditNoteTypeCode",
            El::DocumentCurrencyCode => "DocumentCurrencyCode",
            El::PayableAmount => "PayableAmount",
            El::LineExtensionAmount => "LineExtensionAmount",
            El::CompanyId => "CompanyID",
            El::EndpointId => "EndpointID",
            El::PaymentMeans => "PaymentMeans",
            El::PaymentTerms => "PaymentTerms",
            El::LegalMonetaryTotal => "LegalMonetaryTotal",
            El::AnticipatedMonetaryTotal => "AnticipatedMonetaryTotal",
            El::OrderReference => "OrderReference",
            El::BillingReference => "BillingReference",
            El::InvoiceDocumentReference => "InvoiceDocumentReference",
            El::AccountingSupplierParty => "AccountingSupplierParty",
            El::AccountingCustomerParty => "AccountingCustomerParty",
            El::SellerSupplierParty => "SellerSupplierParty",
            El::BuyerCustomerParty => "BuyerCustomerParty",
            El::Party => "Party",
            El::PartyLegalEntity => "PartyLegalEntity",
            El::PartyIdentification => "PartyIdentification",
            El::PartyTaxScheme => "PartyTaxScheme",
            El::TaxScheme => "TaxScheme",
            El::Other => "*",
        }
    }
}

/// `Invoice/LegalMonetaryTotal/PayableAmount` for a path below a root.
fn path_text(root: Root, path: &[El]) -> String {
    let mut text = root.name().to_owned();
    for element in path {
        text.push('/');
        text.push_str(element.name());
    }
    text
}

/// A value read from one path below the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Number,
    IssueDate,
    DueDate,
    MeansDueDate,
    TermsDueDate,
    TypeCode,
    Currency,
    Amount,
    OrderLineExtension,
    OrderReference,
    BillingReference,
    Endpoint(Role),
    PartyId(Role),
    LegalCompanyId(Role),
    TaxCompanyId(Role),
    TaxSchemeId(Role),
}

impl Target {
    /// The value read from the element at `path` (relative to the root).
    fn at(root: Root, path: &[El]) -> Option<Target> {
        use El::*;
        let total = root.total();
        Some(match path {
            [Id] => Target::Number,
            [IssueDate] => Target::IssueDate,
            [DueDate] => Target::DueDate,
            [PaymentMeans, PaymentDueDate] => Target::MeansDueDate,
            [PaymentTerms, PaymentDueDate] => Target::TermsDueDate,
            [code] if Some(*code) == root.type_code() => Target::TypeCode,
            [DocumentCurrencyCode] => Target::Currency,
            [parent, PayableAmount] if *parent == total => Target::Amount,
            [AnticipatedMonetaryTotal, LineExtensionAmount] if root == Root::Order => Target::OrderLineExtension,
            [OrderReference, Id] if root != Root::Order => Target::OrderReference,
            [BillingReference, InvoiceDocumentReference, Id] => Target::BillingReference,
            [party, Party, rest @ ..] => {
                let role = root.role(*party)?;
                match rest {
                    [EndpointId] => Target::Endpoint(role),
                    [PartyIdentification, Id] => Target::PartyId(role),
                    [PartyLegalEntity, CompanyId] => Target::LegalCompanyId(role),
                    [PartyTaxScheme, CompanyId] => Target::TaxCompanyId(role),
                    [PartyTaxScheme, TaxScheme, Id] => Target::TaxSchemeId(role),
                    _ => return None,
                }
            }
            _ => return None,
        })
    }
}

/// True when the element at `path` may appear at most once per document
/// and leads to a value we read: a second one is ambiguous.
fn singular(root: Root, path: &[El]) -> bool {
    use El::*;
    let total = root.total();
    match path {
        [one] => {
            matches!(one, Id | IssueDate | DueDate | DocumentCurrencyCode)
                || Some(*one) == root.type_code()
                || *one == total
                || (*one == OrderReference && root != Root::Order)
                || root.role(*one).is_some()
        }
        [parent, PayableAmount] => *parent == total,
        [AnticipatedMonetaryTotal, LineExtensionAmount] => root == Root::Order,
        [OrderReference, Id] => root != Root::Order,
        [party, Party] | [party, Party, EndpointId] => root.role(*party).is_some(),
        _ => false,
    }
}

/// A `PartyTaxScheme` being read: its `CompanyID` waits for the sibling
/// `TaxScheme/ID`, which may come after it.
#[derive(Debug, Default)]
struct PendingTaxScheme {
    company_id: Option<(String, Option<String>)>,
    tax_scheme: Option<String>,
}

/// An element whose text is being collected.
#[derive(Debug)]
struct Capture {
    target: Target,
    depth: usize,
    text: String,
    scheme: Option<String>,
    currency: Option<String>,
}

/// What is read of one document while it streams past.
#[derive(Debug)]
struct DocumentReader {
    root: Root,
    /// Open elements below the root.
    path: Vec<El>,
    capture: Option<Capture>,
    number: Option<String>,
    issue_date: Option<String>,
    due_date: Option<String>,
    means_due_date: Option<String>,
    terms_due_date: Option<String>,
    type_code: Option<String>,
    currency: Option<String>,
    amount: Option<String>,
    amount_currency: Option<String>,
    line_extension: Option<String>,
    line_extension_currency: Option<String>,
    order_reference: Option<String>,
    billing_reference: Option<String>,
    buyer: Vec<PartyReference>,
    seller: Vec<PartyReference>,
    tax_scheme: Option<PendingTaxScheme>,
    /// Singular elements seen so far, and the first one seen twice.
    seen: Vec<Vec<El>>,
    duplicate: Option<Vec<El>>,
}

/// Keeps the first non-empty value.
fn first(slot: &mut Option<String>, text: &str) {
    if slot.is_none() && !text.is_empty() {
        *slot = Some(text.to_owned());
    }
}

impl DocumentReader {
    fn new(root: Root) -> Self {
        DocumentReader {
            root,
            path: Vec::new(),
            capture: None,
            number: None,
            issue_date: None,
            due_date: None,
            means_due_date: None,
            terms_due_date: None,
            type_code: None,
            currency: None,
            amount: None,
            amount_currency: None,
            line_extension: None,
            line_extension_currency: None,
            order_reference: None,
            billing_reference: None,
            buyer: Vec::new(),
            seller: Vec::new(),
            tax_scheme: None,
            seen: Vec::new(),
            duplicate: None,
        }
    }

    /// An element opens below the root.
    fn start(&mut self, element: El, attributes: Attributes) {
        self.path.push(element);
        if singular(self.root, &self.path) {
            if self.seen.contains(&self.path) {
                if self.duplicate.is_none() {
                    self.duplicate = Some(self.path.clone());
                }
            } else {
                self.seen.push(self.path.clone());
            }
        }
        if let [party, El::Party, El::PartyTaxScheme] = self.path.as_slice() {
            if self.root.role(*party).is_some() {
                self.tax_scheme = Some(PendingTaxScheme::default());
            }
        }
        if self.capture.is_none() {
            if let Some(target) = Target::at(self.root, &self.path) {
                self.capture = Some(Capture {
                    target,
                    depth: self.path.len(),
                    text: String::new(),
                    scheme: attributes.scheme_id,
                    currency: attributes.currency_id,
                });
            }
        }
    }

    /// Text (unescaped) directly inside the innermost open element.
    fn text(&mut self, text: &str) {
        if let Some(capture) = &mut self.capture {
            if capture.depth == self.path.len() {
                capture.text.push_str(text);
            }
        }
    }

    fn end(&mut self) {
        if self
            .capture
            .as_ref()
            .is_some_and(|capture| capture.depth == self.path.len())
        {
            if let Some(capture) = self.capture.take() {
                self.store(capture);
            }
        }
        if let [party, El::Party, El::PartyTaxScheme] = self.path.as_slice() {
            if let Some(role) = self.root.role(*party) {
                if let Some(PendingTaxScheme {
                    company_id: Some((value, scheme)),
                    tax_scheme,
                }) = self.tax_scheme.take()
                {
                    let source = format!("{}/Party/PartyTaxScheme/CompanyID", party.name());
                    let scheme = scheme.or(tax_scheme);
                    self.references(role)
                        .push(PartyReference::new(scheme.as_deref(), &value, &source));
                }
            }
        }
        self.path.pop();
    }

    fn references(&mut self, role: Role) -> &mut Vec<PartyReference> {
        match role {
            Role::Buyer => &mut self.buyer,
            Role::Seller => &mut self.seller,
        }
    }

    fn store(&mut self, capture: Capture) {
        let text = capture.text.trim();
        let root = self.root;
        let party = |role: Role, tail: &str| format!("{}/Party/{tail}", root.party(role).name());
        match capture.target {
            Target::Number => first(&mut self.number, text),
            Target::IssueDate => first(&mut self.issue_date, text),
            Target::DueDate => first(&mut self.due_date, text),
            Target::MeansDueDate => first(&mut self.means_due_date, text),
            Target::TermsDueDate => first(&mut self.terms_due_date, text),
            Target::TypeCode => first(&mut self.type_code, text),
            Target::Currency => first(&mut self.currency, text),
            Target::Amount => {
                if self.amount.is_none() && !text.is_empty() {
                    self.amount = Some(text.to_owned());
                    self.amount_currency = capture.currency.filter(|currency| !currency.is_empty());
                }
            }
            Target::OrderLineExtension => {
                if self.line_extension.is_none() && !text.is_empty() {
                    self.line_extension = Some(text.to_owned());
                    self.line_extension_currency = capture.currency.filter(|currency| !currency.is_empty());
                }
            }
            Target::OrderReference => first(&mut self.order_reference, text),
            Target::BillingReference => first(&mut self.billing_reference, text),
            Target::Endpoint(role) | Target::PartyId(role) | Target::LegalCompanyId(role) if !text.is_empty() => {
                let tail = match capture.target {
                    Target::Endpoint(_) => "EndpointID",
                    Target::PartyId(_) => "PartyIdentification/ID",
                    _ => "PartyLegalEntity/CompanyID",
                };
                let source = party(role, tail);
                self.references(role)
                    .push(PartyReference::new(capture.scheme.as_deref(), text, &source));
            }
            Target::TaxCompanyId(_) => {
                if let Some(pending) = &mut self.tax_scheme {
                    if pending.company_id.is_none() && !text.is_empty() {
                        pending.company_id = Some((text.to_owned(), capture.scheme));
                    }
                }
            }
            Target::TaxSchemeId(_) => {
                if let Some(pending) = &mut self.tax_scheme {
                    first(&mut pending.tax_scheme, text);
                }
            }
            Target::Endpoint(_) | Target::PartyId(_) | Target::LegalCompanyId(_) => {}
        }
    }

    /// The row, and where its fault (or the document) is.
    fn finish(self, document: usize) -> ParsedRow {
        let root = self.root;
        let invoice_number = self.number.clone();
        let at = |path: String| Location::Element { document, path };
        let (location, outcome) = match self.read() {
            Ok(row) => (at(root.name().to_owned()), Ok(row)),
            Err((path, rejection)) => (at(path.unwrap_or_else(|| root.name().to_owned())), Err(rejection)),
        };
        ParsedRow {
            location,
            invoice_number,
            outcome,
        }
    }

    /// The row, or the rejection with the path of the element at fault.
    fn read(self) -> Result<ImportRow, (Option<String>, RowRejection)> {
        let root = self.root;
        let path = |elements: &[El]| path_text(root, elements);
        let fault = |path: String, rejection: RowRejection| (Some(path.clone()), rejection.field(path));

        if let Some(duplicate) = &self.duplicate {
            let path = path(duplicate);
            return Err(fault(
                path.clone(),
                RowRejection::new(DUPLICATE_FIELD, format!("{path} appears more than once")),
            ));
        }
        let kind = match (root, &self.type_code) {
            (Root::Order, _) => DocumentKind::Order,
            (Root::Invoice, None) => DocumentKind::Invoice,
            (Root::CreditNote, None) => DocumentKind::CreditNote,
            (_, Some(code)) => {
                let kind = DocumentKind::from_type_code(code)
                    .filter(|kind| root != Root::CreditNote || *kind == DocumentKind::CreditNote);
                match (kind, root.type_code()) {
                    (Some(kind), _) => kind,
                    (None, element) => {
                        let path = path(&[element.unwrap_or(El::Other)]);
                        return Err(fault(
                            path.clone(),
                            RowRejection::new(
                                UNSUPPORTED_DOCUMENT,
                                format!(
                                    "{path} {code:?} is not a supported document type: invoices (380, 326, 388, 389, \
                                     393, 875-877), credit notes (381, 396, 81, 83, 261, 262, 532) and corrected \
                                     invoices (384) are"
                                ),
                            )
                            .value(code),
                        ));
                    }
                }
            }
        };
        let amount_path = path(&[root.total(), El::PayableAmount]);
        let (amount, amount_currency) = match (self.amount, root) {
            (Some(amount), _) => (Some(amount), self.amount_currency),
            (None, Root::Order) => (self.line_extension, self.line_extension_currency),
            (None, _) => (None, None),
        };
        let currency = self.currency.clone().or_else(|| amount_currency.clone());
        let row = ImportRow {
            kind,
            invoice_number: self.number.unwrap_or_default(),
            buyer: self.buyer,
            seller: self.seller,
            issue_date: self.issue_date.unwrap_or_default(),
            due_date: self.due_date.or(self.means_due_date).or(self.terms_due_date),
            currency: currency.unwrap_or_default(),
            amount: amount.unwrap_or_default(),
            order_reference: self.order_reference,
            billing_reference: self.billing_reference,
        };

        let field_path = |field: Field| match field {
            Field::InvoiceNumber => path(&[El::Id]),
            Field::IssueDate => path(&[El::IssueDate]),
            Field::DueDate => path(&[El::DueDate]),
            Field::Currency => path(&[El::DocumentCurrencyCode]),
            Field::Amount => amount_path.clone(),
            Field::OrderReference => path(&[El::OrderReference, El::Id]),
            Field::BillingReference => path(&[El::BillingReference, El::InvoiceDocumentReference, El::Id]),
        };
        if let Err(mut rejection) = check_row_controls(&row, &field_path) {
            // Party references name their source below the root.
            let field = rejection.field.take().unwrap_or_default();
            let field = if field.starts_with(root.name()) {
                field
            } else {
                format!("{}/{field}", root.name())
            };
            return Err(fault(field, rejection));
        }

        let mut missing = Vec::new();
        if row.invoice_number.is_empty() {
            missing.push(path(&[El::Id]));
        }
        if row.issue_date.is_empty() {
            missing.push(path(&[El::IssueDate]));
        }
        if row.currency.is_empty() {
            missing.push(format!(
                "{} (or {amount_path}/@currencyID)",
                path(&[El::DocumentCurrencyCode])
            ));
        }
        if row.amount.is_empty() {
            missing.push(if root == Root::Order {
                format!("{amount_path} (or {})", path(&[root.total(), El::LineExtensionAmount]))
            } else {
                amount_path.clone()
            });
        }
        if row.buyer.is_empty() {
            missing.push(format!(
                "{} (an EndpointID, PartyIdentification/ID, PartyLegalEntity/CompanyID or PartyTaxScheme/CompanyID)",
                path(&[root.party(Role::Buyer), El::Party])
            ));
        }
        if let Some(first_missing) = missing.first() {
            let field = first_missing.split(" (").next().unwrap_or_default().to_owned();
            return Err((
                None,
                RowRejection::new(
                    MISSING_FIELD,
                    format!("missing required element(s): {}", missing.join(", ")),
                )
                .field(field),
            ));
        }

        let issue_date = normalize_date(&row.issue_date, DateForms::XmlSchema)
            .ok_or_else(|| invalid_date(path(&[El::IssueDate]), &row.issue_date))
            .map_err(|(path, rejection)| fault(path, rejection))?;
        let due_date = match &row.due_date {
            None => None,
            Some(due) => Some(
                normalize_date(due, DateForms::XmlSchema)
                    .ok_or_else(|| invalid_date(path(&[El::DueDate]), due))
                    .map_err(|(path, rejection)| fault(path, rejection))?,
            ),
        };

        if let (Some(document), Some(found)) = (&self.currency, &amount_currency) {
            if document != found {
                return Err(fault(
                    amount_path.clone(),
                    RowRejection::new(
                        CURRENCY_MISMATCH,
                        format!("{amount_path} currencyID {found:?} differs from DocumentCurrencyCode {document:?}"),
                    )
                    .value(found),
                ));
            }
        }
        Ok(ImportRow {
            issue_date,
            due_date,
            ..row
        })
    }
}

fn invalid_date(path: String, text: &str) -> (String, RowRejection) {
    let rejection = RowRejection::new(
        INVALID_DATE,
        format!("{path} is not an xs:date (YYYY-MM-DD, optionally with a time zone)"),
    )
    .value(text);
    (path, rejection)
}

/// The attributes read of an element.
#[derive(Debug, Default)]
struct Attributes {
    currency_id: Option<String>,
    scheme_id: Option<String>,
}

/// Checks every attribute of an element is well-formed (quick-xml parses
/// them lazily) and returns the trimmed, unescaped values of its unprefixed
/// `currencyID` and `schemeID` attributes, the only ones read.
fn read_attributes(start: &BytesStart) -> Result<Attributes, String> {
    let mut found = Attributes::default();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| error.to_string())?;
        let value = attribute.unescape_value().map_err(|error| error.to_string())?;
        let slot = match attribute.key.as_ref() {
            b"currencyID" => &mut found.currency_id,
            b"schemeID" => &mut found.scheme_id,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.trim().to_owned());
        }
    }
    Ok(found)
}

/// What the root element turned out to be.
#[derive(Debug)]
enum Top {
    /// Not seen yet.
    Pending,
    /// A single document.
    Single,
    /// A batch container, named so: its children must be documents.
    Batch(String),
    /// Closed: only comments, processing instructions and whitespace may follow.
    Closed,
}

/// Parses a UBL upload into one row per document, numbered from 1 in
/// document order; at most `limit` documents.
pub(super) fn parse_ubl(body: &[u8], limit: usize) -> Result<Vec<ParsedRow>, ImportError> {
    let mut xml = NsReader::from_reader(body);
    xml.config_mut().expand_empty_elements = true;
    xml.config_mut().check_end_names = true;

    let mut buf = Vec::new();
    // Namespace URI of the last start tag; empty when unbound.
    let mut namespace = Vec::new();
    let mut top = Top::Pending;
    // Open elements, the root included.
    let mut depth = 0usize;
    let mut document: Option<DocumentReader> = None;
    let mut rows = Vec::new();

    loop {
        buf.clear();
        let (resolved, event) = match xml.read_resolved_event_into(&mut buf) {
            Ok((resolved, event)) => {
                namespace.clear();
                let resolved = match resolved {
                    ResolveResult::Bound(bound) => {
                        namespace.extend_from_slice(bound.as_ref());
                        Ok(())
                    }
                    ResolveResult::Unbound => Ok(()),
                    ResolveResult::Unknown(prefix) => Err(prefix),
                };
                (resolved, event)
            }
            Err(quick_xml::Error::Io(error)) => {
                return Err(ImportError::Unreadable {
                    detail: error.to_string(),
                })
            }
            Err(error) => {
                return Err(malformed(format!(
                    "not well-formed XML at byte {}: {error}",
                    xml.error_position()
                )))
            }
        };
        let at = xml.buffer_position();
        let structural = |detail: String| malformed(format!("{detail} (at byte {at})"));
        let ill_formed = |error: String| structural(format!("not well-formed XML: {error}"));

        match event {
            Event::Start(start) => {
                if let Err(prefix) = resolved {
                    let prefix = String::from_utf8_lossy(&prefix);
                    return Err(structural(format!("namespace prefix {prefix:?} is not declared")));
                }
                let attributes = read_attributes(&start).map_err(ill_formed)?;
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(structural(format!("elements nested deeper than {MAX_DEPTH}")));
                }
                let local = start.local_name();
                if let Some(reader) = &mut document {
                    reader.start(El::classify(&namespace, local.as_ref()), attributes);
                    continue;
                }
                let supported = Root::of(&namespace, local.as_ref());
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                let other = || {
                    other_ubl_document(&namespace).map(|other| {
                        structural(format!(
                            "<{name}> is a UBL {other} document: not supported, {SUPPORTED}"
                        ))
                    })
                };
                let root = match (&top, supported) {
                    (Top::Pending, Some(root)) => {
                        top = Top::Single;
                        root
                    }
                    (Top::Pending, None) => {
                        if let Some(root) = Root::from_local_name(local.as_ref()) {
                            return Err(structural(format!(
                                "root element <{name}> is not a UBL {}: its namespace is {}, not {}",
                                root.name(),
                                describe_namespace(&namespace),
                                String::from_utf8_lossy(root.namespace())
                            )));
                        }
                        if let Some(error) = other() {
                            return Err(error);
                        }
                        top = Top::Batch(name);
                        continue;
                    }
                    (Top::Batch(_), Some(root)) => root,
                    (Top::Batch(batch), None) => {
                        if let Some(error) = other() {
                            return Err(error);
                        }
                        return Err(structural(format!(
                            "element <{name}> (namespace {}) inside the batch root <{batch}> is not a UBL Invoice, \
                             CreditNote or Order",
                            describe_namespace(&namespace)
                        )));
                    }
                    // The document reader sees every element below a root document.
                    (Top::Single | Top::Closed, _) => {
                        return Err(structural(format!("<{name}> is a second root element")))
                    }
                };
                if rows.len() == limit {
                    return Err(ImportError::TooManyRows { limit });
                }
                document = Some(DocumentReader::new(root));
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some(mut reader) = document.take() {
                    if reader.path.is_empty() {
                        rows.push(reader.finish(rows.len() + 1));
                    } else {
                        reader.end();
                        document = Some(reader);
                    }
                }
                if depth == 0 {
                    top = Top::Closed;
                }
            }
            Event::Text(text) => {
                let text = text.unescape().map_err(|error| ill_formed(error.to_string()))?;
                if depth == 0 && !text.trim().is_empty() {
                    return Err(structural("text outside the root element".to_owned()));
                }
                if let Some(reader) = &mut document {
                    reader.text(&text);
                }
            }
            Event::CData(cdata) => {
                let text = cdata.decode().map_err(|error| ill_formed(error.to_string()))?;
                if depth == 0 {
                    return Err(structural("CDATA outside the root element".to_owned()));
                }
                if let Some(reader) = &mut document {
                    reader.text(&text);
                }
            }
            Event::DocType(_) => return Err(structural("DOCTYPE declarations are not accepted".to_owned())),
            Event::Decl(decl) => {
                if let Some(encoding) = decl.encoding() {
                    let encoding = encoding.map_err(|error| ill_formed(error.to_string()))?;
                    if !encoding.eq_ignore_ascii_case(b"utf-8") {
                        return Err(structural(format!(
                            "encoding {:?} is not supported, only UTF-8",
                            String::from_utf8_lossy(&encoding)
                        )));
                    }
                }
            }
            // `Empty` does not occur: empty elements are expanded to Start + End.
            Event::Comment(_) | Event::PI(_) | Event::Empty(_) => {}
            Event::Eof => {
                if depth > 0 {
                    return Err(structural(
                        "the document ends inside an element that is not closed".to_owned(),
                    ));
                }
                if rows.is_empty() {
                    return Err(structural(format!(
                        "no UBL Invoice, CreditNote or Order element (namespaces {}, {}, {})",
                        String::from_utf8_lossy(NS_INVOICE),
                        String::from_utf8_lossy(NS_CREDIT_NOTE),
                        String::from_utf8_lossy(NS_ORDER)
                    )));
                }
                return Ok(rows);
            }
        }
    }
}

fn malformed(detail: String) -> ImportError {
    ImportError::Malformed { detail }
}

fn describe_namespace(namespace: &[u8]) -> String {
    if namespace.is_empty() {
        "none".to_owned()
    } else {
        String::from_utf8_lossy(namespace).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CONTROL_CHARACTER, MAX_ROWS};
    use super::*;

    const SINGLE: &str = include_str!("../../../tests/data/import/ubl-invoice.xml");
    const BATCH: &str = include_str!("../../../tests/data/import/ubl-batch.xml");

    /// The body of a minimal valid invoice, prefixed cbc/cac.
    const FIELDS: &str = r#"
        <cbc:ID>X-1</cbc:ID>
        <cbc:IssueDate>2024-01-01</cbc:IssueDate>
        <cbc:DueDate>2024-02-01</cbc:DueDate>
        <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
        <cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity>
            <cbc:CompanyID>BUYER-1</cbc:CompanyID>
        </cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>
        <cac:LegalMonetaryTotal>
            <cbc:PayableAmount currencyID="EUR">10.00</cbc:PayableAmount>
        </cac:LegalMonetaryTotal>"#;

    fn invoice(fields: &str) -> String {
        document("Invoice", fields)
    }

    fn document(root: &str, fields: &str) -> String {
        format!(
            "<{root} xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:{root}-2\" \
             xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\" \
             xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\">{fields}</{root}>"
        )
    }

    fn parse(text: &str) -> Result<Vec<ParsedRow>, ImportError> {
        parse_ubl(text.as_bytes(), MAX_ROWS)
    }

    /// The row of a document holding exactly one document.
    fn single_row(text: &str) -> ParsedRow {
        let rows = parse(text).unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].location.number(), 1);
        rows.into_iter().next().unwrap()
    }

    fn single(text: &str) -> Result<ImportRow, RowRejection> {
        single_row(text).outcome
    }

    fn reference(scheme: Option<&str>, value: &str, source: &str) -> PartyReference {
        PartyReference::new(scheme, value, source)
    }

    fn minimal_row() -> ImportRow {
        ImportRow {
            kind: DocumentKind::Invoice,
            invoice_number: "X-1".to_owned(),
            buyer: vec![reference(
                None,
                "BUYER-1",
                "AccountingCustomerParty/Party/PartyLegalEntity/CompanyID",
            )],
            seller: vec![],
            issue_date: "2024-01-01".to_owned(),
            due_date: Some("2024-02-01".to_owned()),
            currency: "EUR".to_owned(),
            amount: "10.00".to_owned(),
            order_reference: None,
            billing_reference: None,
        }
    }

    fn malformed(text: &str) -> String {
        match parse(text) {
            Err(ImportError::Malformed { detail }) => detail,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn single_invoice_fixture_reads_every_field_from_its_own_path() {
        let row = single_row(SINGLE);
        assert_eq!(
            row.location,
            Location::Element {
                document: 1,
                path: "Invoice".to_owned()
            }
        );
        assert_eq!(row.invoice_number.as_deref(), Some("INV-2024/0042"));
        assert_eq!(
            row.outcome,
            Ok(ImportRow {
                kind: DocumentKind::Invoice,
                // Not an InvoiceLine's cbc:ID ("1", "2"), nor an address's or a contact's.
                invoice_number: "INV-2024/0042".to_owned(),
                buyer: vec![
                    reference(Some("0204"), "991-12345-67", "AccountingCustomerParty/Party/EndpointID"),
                    reference(
                        None,
                        "CUST-0815",
                        "AccountingCustomerParty/Party/PartyIdentification/ID"
                    ),
                    reference(
                        Some("VAT"),
                        "DE123456789",
                        "AccountingCustomerParty/Party/PartyTaxScheme/CompanyID"
                    ),
                    // Trimmed.
                    reference(
                        None,
                        "HRB 724411",
                        "AccountingCustomerParty/Party/PartyLegalEntity/CompanyID"
                    ),
                ],
                seller: vec![
                    reference(
                        Some("0009"),
                        "55210055400013",
                        "AccountingSupplierParty/Party/EndpointID"
                    ),
                    reference(
                        Some("0088"),
                        "5790000435968",
                        "AccountingSupplierParty/Party/PartyIdentification/ID"
                    ),
                    reference(
                        Some("VAT"),
                        "FR40552100554",
                        "AccountingSupplierParty/Party/PartyTaxScheme/CompanyID"
                    ),
                    reference(
                        Some("0002"),
                        "552100554",
                        "AccountingSupplierParty/Party/PartyLegalEntity/CompanyID"
                    ),
                ],
                issue_date: "2024-03-15".to_owned(),
                // cbc:DueDate wins over PaymentMeans/PaymentDueDate (2024-06-30).
                due_date: Some("2024-05-14".to_owned()),
                currency: "EUR".to_owned(),
                // Not TaxInclusiveAmount, LineExtensionAmount nor a line's amount.
                amount: "14814.00".to_owned(),
                // OrderReference/ID, not ContractDocumentReference/ID (FA-7).
                order_reference: Some("PO-4500012345".to_owned()),
                billing_reference: None,
            })
        );
    }

    #[test]
    fn batch_fixture_numbers_documents_in_document_order() {
        let rows = parse(BATCH).unwrap();
        assert_eq!(rows.len(), 3);
        let first = rows[0].outcome.as_ref().unwrap();
        assert_eq!(first.invoice_number, "B-1001");
        assert_eq!(
            first.buyer,
            vec![reference(
                None,
                "NL-KVK-12345678",
                "AccountingCustomerParty/Party/PartyLegalEntity/CompanyID"
            )]
        );
        assert_eq!(first.seller[0].value, "SE5561234567");
        assert_eq!(first.order_reference.as_deref(), Some("PO-1"));
        let second = rows[1].outcome.as_ref().unwrap();
        assert_eq!(
            second.buyer,
            vec![reference(
                Some("0007"),
                "5569876543",
                "AccountingCustomerParty/Party/PartyIdentification/ID"
            )]
        );
        assert_eq!(second.due_date.as_deref(), Some("2024-06-01"));
        assert_eq!((second.currency.as_str(), second.amount.as_str()), ("SEK", "25000"));
        assert_eq!(
            rows[2],
            ParsedRow {
                location: Location::Element {
                    document: 3,
                    path: "Invoice".to_owned()
                },
                invoice_number: Some("B-1003".to_owned()),
                outcome: Err(RowRejection::new(
                    MISSING_FIELD,
                    "missing required element(s): Invoice/LegalMonetaryTotal/PayableAmount"
                )
                .field("Invoice/LegalMonetaryTotal/PayableAmount")),
            }
        );
    }

    #[test]
    fn minimal_invoice_parses() {
        assert_eq!(single(&invoice(FIELDS)), Ok(minimal_row()));
    }

    #[test]
    fn prefixes_do_not_matter_only_namespaces() {
        // cbc and cac swapped: a prefix-matching parser would find nothing.
        let swapped = invoice(FIELDS)
            .replace("xmlns:cbc=", "xmlns:TMP=")
            .replace("xmlns:cac=", "xmlns:cbc=")
            .replace("xmlns:TMP=", "xmlns:cac=")
            .replace("<cbc:", "<TMP:")
            .replace("</cbc:", "</TMP:")
            .replace("<cac:", "<cbc:")
            .replace("</cac:", "</cbc:")
            .replace("<TMP:", "<cac:")
            .replace("</TMP:", "</cac:");
        assert!(swapped.contains("<cac:ID>X-1</cac:ID>"), "{swapped}");
        assert_eq!(single(&swapped), Ok(minimal_row()));
    }

    #[test]
    fn elements_in_other_namespaces_are_ignored() {
        let fields = FIELDS.replace(
            "<cbc:ID>X-1</cbc:ID>",
            "<cbc:ID xmlns:cbc=\"urn:example:not-ubl\">X-1</cbc:ID>",
        );
        let rejection = single(&invoice(&fields)).unwrap_err();
        assert_eq!(
            (rejection.code, rejection.field.as_deref()),
            (MISSING_FIELD, Some("Invoice/ID"))
        );
    }

    #[test]
    fn line_and_delivery_elements_are_not_header_elements() {
        let fields = FIELDS.replace("<cbc:ID>X-1</cbc:ID>", "")
            + "<cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:OrderLineReference><cac:OrderReference><cbc:ID>PO-L</cbc:ID>\
               </cac:OrderReference></cac:OrderLineReference></cac:InvoiceLine>\
               <cac:Delivery><cac:DeliveryParty><cbc:EndpointID schemeID=\"0088\">DELIVERY</cbc:EndpointID>\
               </cac:DeliveryParty></cac:Delivery>";
        let row = single_row(&invoice(&fields));
        assert_eq!(row.invoice_number, None);
        let rejection = row.outcome.unwrap_err();
        assert_eq!(rejection.detail, "missing required element(s): Invoice/ID");
        let fields = FIELDS.to_owned()
            + "<cac:Delivery><cac:DeliveryParty><cbc:EndpointID>DELIVERY</cbc:EndpointID></cac:DeliveryParty>\
               </cac:Delivery><cac:InvoiceLine><cac:OrderLineReference><cac:OrderReference><cbc:ID>PO-L</cbc:ID>\
               </cac:OrderReference></cac:OrderLineReference></cac:InvoiceLine>";
        assert_eq!(single(&invoice(&fields)), Ok(minimal_row()));
    }

    #[test]
    fn every_missing_required_element_is_named() {
        let row = single_row(&invoice("<cbc:ID>X-1</cbc:ID>"));
        assert_eq!(
            row.location,
            Location::Element {
                document: 1,
                path: "Invoice".to_owned()
            }
        );
        assert_eq!(row.invoice_number.as_deref(), Some("X-1"));
        let rejection = row.outcome.unwrap_err();
        assert_eq!(
            (rejection.code, rejection.field.as_deref()),
            (MISSING_FIELD, Some("Invoice/IssueDate"))
        );
        for element in [
            "Invoice/IssueDate",
            "Invoice/DocumentCurrencyCode (or Invoice/LegalMonetaryTotal/PayableAmount/@currencyID)",
            "Invoice/LegalMonetaryTotal/PayableAmount",
            "Invoice/AccountingCustomerParty/Party (an EndpointID",
        ] {
            assert!(
                rejection.detail.contains(element),
                "{element} not in {}",
                rejection.detail
            );
        }
    }

    #[test]
    fn due_date_falls_back_and_may_be_absent() {
        let fields = FIELDS.replace("<cbc:DueDate>2024-02-01</cbc:DueDate>", "<cbc:DueDate/>")
            + "<cac:PaymentTerms><cbc:PaymentDueDate>2024-04-01</cbc:PaymentDueDate></cac:PaymentTerms>\
               <cac:PaymentMeans><cbc:PaymentDueDate>2024-03-01+02:00</cbc:PaymentDueDate></cac:PaymentMeans>";
        assert_eq!(
            single(&invoice(&fields)).map(|row| row.due_date),
            Ok(Some("2024-03-01".to_owned()))
        );
        let fields = FIELDS.replace("<cbc:DueDate>2024-02-01</cbc:DueDate>", "")
            + "<cac:PaymentTerms><cbc:PaymentDueDate>2024-04-01Z</cbc:PaymentDueDate></cac:PaymentTerms>";
        assert_eq!(
            single(&invoice(&fields)).map(|row| row.due_date),
            Ok(Some("2024-04-01".to_owned()))
        );
        let without = FIELDS.replace("<cbc:DueDate>2024-02-01</cbc:DueDate>", "<cbc:DueDate>  </cbc:DueDate>");
        assert_eq!(single(&invoice(&without)).map(|row| row.due_date), Ok(None));
    }

    #[test]
    fn dates_that_are_no_xs_date_are_rejected_at_their_element() {
        let fields = FIELDS.replace("2024-01-01", "01/01/2024");
        let row = single_row(&invoice(&fields));
        assert_eq!(
            row.location,
            Location::Element {
                document: 1,
                path: "Invoice/IssueDate".to_owned()
            }
        );
        let rejection = row.outcome.unwrap_err();
        assert_eq!(
            (rejection.code, rejection.field.as_deref(), rejection.value.as_deref()),
            (INVALID_DATE, Some("Invoice/IssueDate"), Some("01/01/2024"))
        );
        let fields = FIELDS.replace("2024-01-01", "2024-01-01+01:00");
        assert_eq!(single(&invoice(&fields)), Ok(minimal_row()));
    }

    #[test]
    fn text_is_unescaped_and_cdata_read() {
        let fields = FIELDS
            .replace("X-1", " A&amp;B&#x2F;<!-- note -->C<![CDATA[<D>]]> ")
            .replace("BUYER-1", "&lt;BUYER&gt;");
        let row = single(&invoice(&fields)).unwrap();
        assert_eq!(row.invoice_number, "A&B/C<D>");
        assert_eq!(row.buyer[0].value, "<BUYER>");
    }

    #[test]
    fn control_character_in_a_value_is_rejected_with_its_path() {
        let fields = FIELDS.replace("X-1", "X&#10;1");
        let row = single_row(&invoice(&fields));
        let rejection = row.outcome.unwrap_err();
        assert_eq!(
            (rejection.code, rejection.field.as_deref(), rejection.value.as_deref()),
            (CONTROL_CHARACTER, Some("Invoice/ID"), Some("X\\n1"))
        );
        let fields = FIELDS.replace("BUYER-1", "BUYER&#9;1");
        let row = single_row(&invoice(&fields));
        assert_eq!(
            row.location,
            Location::Element {
                document: 1,
                path: "Invoice/AccountingCustomerParty/Party/PartyLegalEntity/CompanyID".to_owned()
            }
        );
    }

    #[test]
    fn currency_comes_from_the_amount_when_the_document_names_none() {
        let fields = FIELDS.replace("<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>", "");
        assert_eq!(single(&invoice(&fields)), Ok(minimal_row()));
    }

    #[test]
    fn mismatched_currency_id_rejects_the_row() {
        let fields = FIELDS.replace("currencyID=\"EUR\"", "currencyID=\"USD\"");
        let row = single_row(&invoice(&fields));
        assert_eq!(
            row.location,
            Location::Element {
                document: 1,
                path: "Invoice/LegalMonetaryTotal/PayableAmount".to_owned()
            }
        );
        let rejection = row.outcome.unwrap_err();
        assert_eq!(rejection.code, CURRENCY_MISMATCH);
        assert_eq!(
            rejection.detail,
            "Invoice/LegalMonetaryTotal/PayableAmount currencyID \"USD\" differs from DocumentCurrencyCode \"EUR\""
        );
        let absent = FIELDS.replace(" currencyID=\"EUR\"", "");
        assert_eq!(single(&invoice(&absent)), Ok(minimal_row()));
    }

    #[test]
    fn duplicate_singular_element_rejects_the_row() {
        let row = single_row(&invoice(&format!("{FIELDS}<cbc:ID>X-2</cbc:ID>")));
        let rejection = row.outcome.unwrap_err();
        assert_eq!(
            (rejection.code, rejection.detail.as_str()),
            (DUPLICATE_FIELD, "Invoice/ID appears more than once")
        );
        let fields = format!(
            "{FIELDS}<cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity>\
             <cbc:CompanyID>BUYER-2</cbc:CompanyID></cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>"
        );
        let rejection = single(&invoice(&fields)).unwrap_err();
        assert_eq!(
            (rejection.code, rejection.field.as_deref()),
            (DUPLICATE_FIELD, Some("Invoice/AccountingCustomerParty"))
        );
        // Several PartyIdentification and PartyLegalEntity elements are allowed.
        let fields = FIELDS.replace(
            "</cac:PartyLegalEntity>",
            "</cac:PartyLegalEntity><cac:PartyLegalEntity><cbc:CompanyID schemeID=\"0002\">B2</cbc:CompanyID>\
             </cac:PartyLegalEntity>",
        );
        assert_eq!(single(&invoice(&fields)).unwrap().buyer.len(), 2);
    }

    #[test]
    fn type_codes_decide_the_kind() {
        let typed = |code: &str| {
            single(&invoice(&format!(
                "{FIELDS}<cbc:InvoiceTypeCode>{code}</cbc:InvoiceTypeCode>"
            )))
        };
        assert_eq!(typed("380").map(|row| row.kind), Ok(DocumentKind::Invoice));
        assert_eq!(typed("381").map(|row| row.kind), Ok(DocumentKind::CreditNote));
        assert_eq!(typed("384").map(|row| row.kind), Ok(DocumentKind::CorrectedInvoice));
        let rejection = typed("386").unwrap_err();
        assert_eq!(
            (rejection.code, rejection.field.as_deref(), rejection.value.as_deref()),
            (UNSUPPORTED_DOCUMENT, Some("Invoice/InvoiceTypeCode"), Some("386"))
        );
        assert!(rejection.detail.contains("\"386\""), "{}", rejection.detail);
        // A credit note's type code must be a credit note's.
        let credit = |code: &str| {
            single(&document(
                "CreditNote",
                &format!("{FIELDS}<cbc:CreditNoteTypeCode>{code}</cbc:CreditNoteTypeCode>"),
            ))
        };
        assert_eq!(credit("381").map(|row| row.kind), Ok(DocumentKind::CreditNote));
        assert_eq!(credit("380").unwrap_err().code, UNSUPPORTED_DOCUMENT);
    }

    #[test]
    fn credit_note_with_billing_reference() {
        let fields = format!(
            "{FIELDS}<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-9</cbc:ID>\
             </cac:InvoiceDocumentReference></cac:BillingReference>"
        );
        let row = single(&document("CreditNote", &fields)).unwrap();
        assert_eq!(row.kind, DocumentKind::CreditNote);
        assert_eq!(row.billing_reference.as_deref(), Some("INV-9"));
    }

    #[test]
    fn order_reads_its_own_parties_and_anticipated_total() {
        let fields = r#"<cbc:ID>PO-1</cbc:ID><cbc:IssueDate>2024-01-01</cbc:IssueDate>
            <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
            <cac:BuyerCustomerParty><cac:Party><cbc:EndpointID schemeID="0088">B-1</cbc:EndpointID></cac:Party></cac:BuyerCustomerParty>
            <cac:SellerSupplierParty><cac:Party><cac:PartyIdentification><cbc:ID>S-1</cbc:ID></cac:PartyIdentification></cac:Party></cac:SellerSupplierParty>
            <cac:AccountingCustomerParty><cac:Party><cbc:EndpointID>NOT-THE-BUYER</cbc:EndpointID></cac:Party></cac:AccountingCustomerParty>
            <cac:AnticipatedMonetaryTotal><cbc:LineExtensionAmount currencyID="EUR">90</cbc:LineExtensionAmount></cac:AnticipatedMonetaryTotal>"#;
        let row = single(&document("Order", fields)).unwrap();
        assert_eq!(row.kind, DocumentKind::Order);
        assert_eq!(
            row.buyer,
            vec![reference(Some("0088"), "B-1", "BuyerCustomerParty/Party/EndpointID")]
        );
        assert_eq!(
            row.seller,
            vec![reference(
                None,
                "S-1",
                "SellerSupplierParty/Party/PartyIdentification/ID"
            )]
        );
        assert_eq!(row.amount, "90");
        assert_eq!(row.due_date, None);
    }

    #[test]
    fn bad_rows_do_not_stop_the_batch() {
        let bad = invoice(&FIELDS.replace("<cbc:IssueDate>2024-01-01</cbc:IssueDate>", ""));
        let good = invoice(FIELDS);
        let credit = document("CreditNote", FIELDS);
        let rows = parse(&format!(
            "<batch xmlns=\"urn:example:batch\">{good}{bad}{credit}</batch>"
        ))
        .unwrap();
        assert_eq!(
            rows.iter().map(|r| r.location.number()).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(rows[0].outcome, Ok(minimal_row()));
        assert_eq!(rows[1].outcome.as_ref().unwrap_err().code, MISSING_FIELD);
        assert_eq!(
            rows[2].outcome.as_ref().map(|row| row.kind),
            Ok(DocumentKind::CreditNote)
        );
    }

    #[test]
    fn other_ubl_documents_are_refused_clearly() {
        let response =
            "<ApplicationResponse xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2\"/>";
        let detail = malformed(response);
        assert!(
            detail.contains("<ApplicationResponse> is a UBL ApplicationResponse document: not supported, only Invoice, CreditNote and Order are"),
            "{detail}"
        );
        let detail = malformed(&format!(
            "<Batch>{}<DespatchAdvice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2\"/></Batch>",
            invoice(FIELDS)
        ));
        assert!(
            detail.contains("UBL DespatchAdvice document: not supported"),
            "{detail}"
        );
    }

    #[test]
    fn no_document_element_is_malformed() {
        assert!(malformed("<Invoices/>").contains("no UBL Invoice, CreditNote or Order element"));
        assert!(malformed("<Invoices>\n  <!-- nothing -->\n</Invoices>").contains("no UBL Invoice"));
        assert!(malformed("").contains("no UBL Invoice"));
        assert!(malformed("<?xml version=\"1.0\"?>\n").contains("no UBL Invoice"));
    }

    #[test]
    fn document_outside_the_ubl_namespace_is_malformed() {
        let detail =
            malformed(&invoice(FIELDS).replace("xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"", ""));
        assert!(
            detail.contains("root element <Invoice> is not a UBL Invoice"),
            "{detail}"
        );
        let detail = malformed("<CreditNote xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"/>");
        assert!(
            detail.contains("root element <CreditNote> is not a UBL CreditNote"),
            "{detail}"
        );
        let detail = malformed("<Invoices><Invoice xmlns=\"urn:example\"/></Invoices>");
        assert!(detail.contains("<Invoice> (namespace urn:example)"), "{detail}");
    }

    #[test]
    fn non_document_child_of_the_batch_root_is_malformed() {
        let detail = malformed(&format!("<Invoices>{}<Header/></Invoices>", invoice(FIELDS)));
        assert!(
            detail.contains("element <Header> (namespace none) inside the batch root <Invoices>"),
            "{detail}"
        );
    }

    #[test]
    fn xml_that_is_not_well_formed_is_malformed() {
        let detail = malformed(&format!(
            "<Invoices>{}",
            invoice(FIELDS).replace("</Invoice>", "</Invoices>")
        ));
        assert!(detail.starts_with("not well-formed XML at byte "), "{detail}");
        assert!(detail.contains("expected `</Invoice>`"), "{detail}");

        let detail = malformed(&invoice(FIELDS).replace("</Invoice>", ""));
        assert!(detail.contains("not closed"), "{detail}");

        let detail = malformed(&invoice(&FIELDS.replace("X-1", "X&nbsp;1")));
        assert!(detail.contains("not well-formed XML"), "{detail}");

        let detail = malformed(&invoice(
            &FIELDS.replace("<cbc:ID>X-1</cbc:ID>", "<foo:ID>X-1</foo:ID>"),
        ));
        assert!(detail.contains("namespace prefix \"foo\" is not declared"), "{detail}");

        let detail = malformed(&invoice(&FIELDS.replace("currencyID=\"EUR\"", "currencyID=EUR")));
        assert!(detail.contains("not well-formed XML"), "{detail}");

        let detail = malformed(&invoice(&FIELDS.replace("<cbc:ID>", "<cbc:ID a=\"1\" a=\"2\">")));
        assert!(detail.contains("not well-formed XML"), "{detail}");

        let detail = malformed(&format!("{}{}", invoice(FIELDS), invoice(FIELDS)));
        assert!(detail.contains("second root element"), "{detail}");

        let detail = malformed(&format!("{} trailing", invoice(FIELDS)));
        assert!(detail.contains("text outside the root element"), "{detail}");

        let detail = malformed("<Invoices");
        assert!(detail.starts_with("not well-formed XML at byte 0"), "{detail}");

        let deep = invoice(&format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH)));
        assert!(malformed(&deep).contains("nested deeper than"));
    }

    #[test]
    fn doctype_is_refused() {
        let xxe = format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n{}",
            invoice(&FIELDS.replace("X-1", "&xxe;"))
        );
        assert!(malformed(&xxe).contains("DOCTYPE declarations are not accepted"));
        let plain = format!("<!DOCTYPE Invoice>{}", invoice(FIELDS));
        assert!(malformed(&plain).contains("DOCTYPE declarations are not accepted"));
    }

    #[test]
    fn only_utf8_is_accepted() {
        let latin1 = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{}", invoice(FIELDS));
        assert!(malformed(&latin1).contains("encoding \"ISO-8859-1\" is not supported"));
        let bom = format!("\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}", invoice(FIELDS));
        assert_eq!(single(&bom), Ok(minimal_row()));
    }

    #[test]
    fn the_document_limit_holds() {
        let batch = |count: usize| format!("<Invoices>{}</Invoices>", invoice(FIELDS).repeat(count));
        let rows = parse_ubl(batch(20).as_bytes(), 20).unwrap();
        assert_eq!(rows.len(), 20);
        assert_eq!(rows[19].location.number(), 20);
        match parse_ubl(batch(21).as_bytes(), 20) {
            Err(ImportError::TooManyRows { limit }) => assert_eq!(limit, 20),
            other => panic!("expected TooManyRows, got {other:?}"),
        }
    }
}
