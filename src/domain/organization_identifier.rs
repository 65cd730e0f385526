//! The identifiers an organisation carries beside its legal id (SPEC §11):
//! a scheme — an ISO 6523 ICD code as Peppol uses them (`0088` for a GLN,
//! `0192` for a Norwegian organisation number, `9930` for a German VAT
//! number…) or `VAT` — and a value. Documents name their parties by them.

use super::identifier::{IdentifierError, IdentifierValue};

/// A scheme: four ASCII digits (an ICD code) or `VAT`, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdentifierScheme(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scheme must be an ISO 6523 ICD code of 4 digits (such as 0088 for a GLN) or VAT")]
pub struct IdentifierSchemeError;

impl IdentifierScheme {
    /// Trims and upper-cases `raw`; refuses anything but 4 ASCII digits or
    /// `VAT`.
    pub fn parse(raw: &str) -> Result<IdentifierScheme, IdentifierSchemeError> {
        let scheme = raw.trim().to_ascii_uppercase();
        let icd = scheme.len() == 4 && scheme.bytes().all(|byte| byte.is_ascii_digit());
        if icd || scheme == "VAT" {
            Ok(IdentifierScheme(scheme))
        } else {
            Err(IdentifierSchemeError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One identifier of an organisation. Two are equal when their schemes are
/// and their values normalise alike (`0088:7300010000001` and
/// `0088:7300-0100-00001` are one GLN).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrganizationIdentifier {
    pub scheme: IdentifierScheme,
    pub value: IdentifierValue,
}

/// Which half of an identifier is wrong, so that a client is told the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganizationIdentifierError {
    #[error(transparent)]
    Scheme(#[from] IdentifierSchemeError),
    #[error(transparent)]
    Value(#[from] IdentifierError),
}

impl OrganizationIdentifier {
    /// The scheme as [`IdentifierScheme::parse`] takes it; the value as a
    /// legal id is taken: trimmed, at most 64 characters, no invisible
    /// characters, something left after normalisation.
    pub fn parse(scheme: &str, value: &str) -> Result<OrganizationIdentifier, OrganizationIdentifierError> {
        Ok(OrganizationIdentifier {
            scheme: IdentifierScheme::parse(scheme)?,
            value: IdentifierValue::parse(value)?,
        })
    }
}

impl std::fmt::Display for OrganizationIdentifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.scheme.as_str(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_icd_codes_or_vat() {
        for (raw, scheme) in [("0088", "0088"), (" 9930 ", "9930"), ("vat", "VAT"), ("Vat", "VAT")] {
            assert_eq!(IdentifierScheme::parse(raw).unwrap().as_str(), scheme, "{raw:?}");
        }
        for raw in ["", "88", "00888", "GLN", "VAT1", "００８８", "0x88", "VA T", "٠٠٨٨"] {
            assert_eq!(IdentifierScheme::parse(raw), Err(IdentifierSchemeError), "{raw:?}");
        }
    }

    #[test]
    fn values_are_taken_as_legal_ids_are() {
        let gln = OrganizationIdentifier::parse("0088", " 7300-0100-00001 ").unwrap();
        assert_eq!(gln.value.as_str(), "7300-0100-00001");
        assert_eq!(gln.value.normalized(), "7300010000001");
        assert_eq!(gln.to_string(), "0088:7300-0100-00001");
        assert_eq!(gln, OrganizationIdentifier::parse("0088", "7300010000001").unwrap());
        assert_ne!(gln, OrganizationIdentifier::parse("0060", "7300010000001").unwrap());

        assert_eq!(
            OrganizationIdentifier::parse("0088", "---"),
            Err(OrganizationIdentifierError::Value(IdentifierError::Empty {
                kind: "identifier value"
            }))
        );
        assert!(matches!(
            OrganizationIdentifier::parse("0088", "SE55\u{200B}6"),
            Err(OrganizationIdentifierError::Value(
                IdentifierError::InvisibleCharacter { .. }
            ))
        ));
        assert!(matches!(
            OrganizationIdentifier::parse("VAT", &"1".repeat(65)),
            Err(OrganizationIdentifierError::Value(IdentifierError::TooLong { .. }))
        ));
        // The scheme is checked first.
        assert_eq!(
            OrganizationIdentifier::parse("GLN", "---"),
            Err(OrganizationIdentifierError::Scheme(IdentifierSchemeError))
        );
    }
}
