//! How a document names a party: the identifiers it carries, each with the
//! scheme it states (an ISO 6523 ICD code such as `0088` for a GLN, `VAT`
//! for a VAT number) or none. Raw strings, as the document gave them; the
//! registry matches them against onboarded organisations.

/// One identifier a document gives for a party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyReference {
    /// The scheme the document states (`schemeID`, or the tax scheme for a
    /// `PartyTaxScheme/CompanyID`); `None` when it states none.
    pub scheme: Option<String>,
    /// The identifier, trimmed.
    pub value: String,
    /// Where it came from: a CSV column name, or an element path such as
    /// `AccountingCustomerParty/Party/EndpointID`.
    pub source: String,
}

impl PartyReference {
    pub fn new(scheme: Option<&str>, value: &str, source: &str) -> PartyReference {
        PartyReference {
            scheme: scheme
                .map(str::trim)
                .filter(|scheme| !scheme.is_empty())
                .map(str::to_owned),
            value: value.trim().to_owned(),
            source: source.to_owned(),
        }
    }
}
