//! Business identifiers (legal ids, invoice and purchase-order numbers) and
//! the normalisation that makes their format variants compare equal.
//!
//! A receivable must be registered once. The same invoice typed as
//! "INV-001", "inv 001", "INV.0001" or with full-width characters from a
//! Chinese IME must therefore be recognised as one invoice, or a supplier
//! could pledge it twice under two spellings.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The longest raw (trimmed) identifier accepted, in characters.
pub const MAX_IDENTIFIER_CHARS: usize = 64;

/// The comparison form of an identifier:
///
/// 1. Unicode NFKC, so compatibility forms fold to their plain equivalent:
///    full-width "ＩＮＶ－００１" becomes "INV-001", a non-breaking space a
///    space, "ⅰ" an "i";
/// 2. upper case (full Unicode mapping, so "ß" becomes "SS");
/// 3. every white-space character and every separator dropped: '-', '.',
///    '/', '_', the dashes U+2010..=U+2015 (hyphen, non-breaking hyphen,
///    figure dash, en dash, em dash, horizontal bar) and U+2212 minus sign.
///    NFKC leaves those dashes alone (only U+2011 folds to U+2010), yet word
///    processors and ERP exports substitute them for '-' freely, so they are
///    dropped as '-' is;
/// 4. leading '0' characters of the whole value stripped ("0001234" and
///    "1234" are the same number in most ERPs).
///
/// The result may be empty (for "---" or "000"); the newtypes refuse that.
pub fn normalize_identifier(raw: &str) -> String {
    let folded: String = raw
        .nfkc()
        .flat_map(char::to_uppercase)
        .filter(|&c| !is_dropped(c))
        .collect();
    folded.trim_start_matches('0').to_owned()
}

fn is_dropped(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '.' | '/' | '_' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// Invisible characters that normalisation does not drop: a fraudster could
/// put one inside "INV001" to make a second, different-looking-alike
/// identifier, so they are refused rather than silently kept.
fn is_invisible(c: char) -> bool {
    (c.is_control() && !c.is_whitespace())
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("{kind} must contain a letter or a non-zero digit (spaces, separators and leading zeros are ignored)")]
    Empty { kind: &'static str },
    #[error("{kind} must be at most {max} characters", max = MAX_IDENTIFIER_CHARS)]
    TooLong { kind: &'static str },
    #[error("{kind} must not contain control or invisible formatting characters")]
    InvisibleCharacter { kind: &'static str },
}

/// What every identifier newtype holds: the trimmed raw form, shown to people,
/// and the normalised form, used to compare and to fingerprint.
#[derive(Debug, Clone)]
struct Identifier {
    raw: String,
    normalized: String,
}

impl Identifier {
    fn parse(raw: &str, kind: &'static str) -> Result<Identifier, IdentifierError> {
        let raw = raw.trim();
        if raw.chars().count() > MAX_IDENTIFIER_CHARS {
            return Err(IdentifierError::TooLong { kind });
        }
        if raw.chars().any(is_invisible) {
            return Err(IdentifierError::InvisibleCharacter { kind });
        }
        let normalized = normalize_identifier(raw);
        if normalized.is_empty() {
            return Err(IdentifierError::Empty { kind });
        }
        Ok(Identifier {
            raw: raw.to_owned(),
            normalized,
        })
    }
}

/// Defines an identifier newtype. Equality and hashing use the normalised
/// form only: "INV-001" and "inv 1" are the same invoice number.
macro_rules! identifier_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Identifier);

        impl $name {
            /// Trims `raw`, refuses it when longer than 64 characters, when it
            /// contains control or invisible characters, or when nothing is
            /// left after normalisation.
            pub fn parse(raw: &str) -> Result<$name, IdentifierError> {
                Identifier::parse(raw, $kind).map($name)
            }

            /// The trimmed form as given, for display.
            pub fn as_str(&self) -> &str {
                &self.0.raw
            }

            /// The form used for uniqueness and fingerprints; see
            /// [`normalize_identifier`].
            pub fn normalized(&self) -> &str {
                &self.0.normalized
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.normalized == other.0.normalized
            }
        }

        impl Eq for $name {}

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.0.normalized.hash(state);
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0.raw)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdentifierError;

            fn try_from(raw: String) -> Result<Self, Self::Error> {
                $name::parse(&raw)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdentifierError;

            fn try_from(raw: &str) -> Result<Self, Self::Error> {
                $name::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(identifier: $name) -> String {
                identifier.0.raw
            }
        }
    };
}

identifier_type!(
    /// An organisation's legal identifier (unified social credit code, LEI,
    /// company number…), as registered at onboarding.
    LegalId,
    "legal id"
);

identifier_type!(
    /// The value of one of an organisation's identifiers (a GLN, a VAT
    /// number…), the scheme aside; see `OrganizationIdentifier`.
    IdentifierValue,
    "identifier value"
);

identifier_type!(
    /// An invoice number as printed on the supplier's invoice.
    InvoiceNumber,
    "invoice number"
);

identifier_type!(
    /// A purchase-order number as issued by the buyer.
    PoNumber,
    "purchase order number"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn all_normalize_to(expected: &str, variants: &[&str]) {
        for variant in variants {
            assert_eq!(normalize_identifier(variant), expected, "{variant:?}");
        }
    }

    #[test]
    fn separators_and_white_space_are_dropped() {
        all_normalize_to(
            "INV2024123",
            &[
                "INV2024123",
                "INV-2024-123",
                "INV 2024 123",
                "INV\t2024\t123",
                "INV\u{00A0}2024\u{00A0}123",
                "INV\u{3000}2024\u{202F}123",
                "INV.2024.123",
                "INV/2024/123",
                "INV_2024_123",
                " INV - 2024 / 123 ",
                "INV\r\n2024\n123",
                "-INV-2024-123-",
                "INV\u{2010}2024\u{2011}123",
                "INV\u{2012}2024\u{2013}123",
                "INV\u{2014}2024\u{2015}123",
                "INV\u{2212}2024\u{2212}123",
            ],
        );
    }

    #[test]
    fn case_is_folded_to_upper() {
        all_normalize_to("INV2024ABC", &["inv2024abc", "Inv2024Abc", "INV2024abc"]);
        assert_eq!(normalize_identifier("straße"), "STRASSE");
    }

    #[test]
    fn leading_zeros_of_the_whole_value_are_stripped() {
        all_normalize_to(
            "1234",
            &["1234", "01234", "0001234", "000-1234", " 0 0 1234", "0.0.1234"],
        );
        // Only leading zeros: inner and trailing ones are significant.
        assert_eq!(normalize_identifier("INV0010"), "INV0010");
        assert_eq!(normalize_identifier("1000"), "1000");
        assert_eq!(normalize_identifier("0INV"), "INV");
        assert_eq!(normalize_identifier("000"), "");
    }

    #[test]
    fn full_width_forms_fold_to_ascii() {
        all_normalize_to(
            "INV001",
            &[
                "ＩＮＶ－００１",
                "ｉｎｖ－００１",
                "INV－001",
                "ＩＮＶ　００１",
                "ＩＮＶ．００１",
                "ＩＮＶ／００１",
                "ＩＮＶ＿００１",
            ],
        );
        assert_eq!(normalize_identifier("９１３１０００００"), "913100000");
    }

    #[test]
    fn mixtures_a_sloppy_export_produces() {
        all_normalize_to(
            "91310000MA1FL2ABCD",
            &[
                "91310000MA1FL2ABCD",
                " 91310000-ma1f.l2ab_cd ",
                "９１３１００００ＭＡ１ＦＬ２ＡＢＣＤ",
                "9131 0000 MA1F L2AB CD",
                "0091310000\u{00A0}MA1FL2ABCD",
                "9131/0000\u{2013}ma1fl2abcd",
            ],
        );
    }

    #[test]
    fn letters_and_digits_are_never_dropped() {
        assert_ne!(normalize_identifier("INV-001"), normalize_identifier("INV-002"));
        assert_ne!(normalize_identifier("INV-001"), normalize_identifier("INV-0010"));
        assert_ne!(normalize_identifier("A1"), normalize_identifier("A-I"));
        assert_eq!(normalize_identifier("发票-001"), "发票001");
    }

    #[test]
    fn legal_id_keeps_the_trimmed_raw_form_and_the_normalised_form() {
        let id = LegalId::parse("  91310000-ma1fl2abcd \n").unwrap();
        assert_eq!(id.as_str(), "91310000-ma1fl2abcd");
        assert_eq!(id.normalized(), "91310000MA1FL2ABCD");
        assert_eq!(id.to_string(), "91310000-ma1fl2abcd");
    }

    #[test]
    fn identifiers_compare_by_normalised_form() {
        assert_eq!(
            InvoiceNumber::parse("INV-001").unwrap(),
            InvoiceNumber::parse("ｉｎｖ　００１").unwrap()
        );
        assert_eq!(
            InvoiceNumber::parse("0001234").unwrap(),
            InvoiceNumber::parse("12-34").unwrap()
        );
        assert_ne!(
            InvoiceNumber::parse("INV-001").unwrap(),
            InvoiceNumber::parse("INV-002").unwrap()
        );
        let mut set = std::collections::HashSet::new();
        set.insert(PoNumber::parse("PO/7").unwrap());
        assert!(set.contains(&PoNumber::parse("po_7").unwrap()));
        assert!(!set.contains(&PoNumber::parse("po-007").unwrap()));
    }

    #[test]
    fn empty_after_normalisation_is_refused() {
        for raw in ["", "   ", "---", "000", "0-0-0", "./_", "\u{3000}", "－－"] {
            assert_eq!(
                LegalId::parse(raw).unwrap_err(),
                IdentifierError::Empty { kind: "legal id" },
                "{raw:?}"
            );
        }
        assert_eq!(
            InvoiceNumber::parse("000").unwrap_err().to_string(),
            "invoice number must contain a letter or a non-zero digit (spaces, separators and leading zeros are ignored)"
        );
    }

    #[test]
    fn more_than_64_raw_characters_are_refused() {
        let sixty_four = "A".repeat(64);
        assert!(LegalId::parse(&sixty_four).is_ok());
        assert!(
            LegalId::parse(&format!("  {sixty_four}  ")).is_ok(),
            "trimmed before counting"
        );
        assert!(InvoiceNumber::parse(&"发".repeat(64)).is_ok(), "characters, not bytes");
        assert_eq!(
            PoNumber::parse(&"A".repeat(65)).unwrap_err(),
            IdentifierError::TooLong {
                kind: "purchase order number"
            }
        );
        assert_eq!(
            LegalId::parse(&"1".repeat(65)).unwrap_err().to_string(),
            "legal id must be at most 64 characters"
        );
    }

    #[test]
    fn invisible_characters_are_refused() {
        for raw in [
            "INV\u{200B}001",
            "INV\u{00AD}001",
            "\u{FEFF}INV001",
            "INV\u{202E}100",
            "INV\u{0000}1",
            "INV\u{7}1",
        ] {
            assert_eq!(
                InvoiceNumber::parse(raw).unwrap_err(),
                IdentifierError::InvisibleCharacter { kind: "invoice number" },
                "{raw:?}"
            );
        }
    }

    #[test]
    fn serde_uses_the_raw_string_and_validates() {
        let id: LegalId = serde_json::from_str("\"5493-0012-3456-7890-AB\"").unwrap();
        assert_eq!(id.normalized(), "5493001234567890AB");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"5493-0012-3456-7890-AB\"");
        assert!(serde_json::from_str::<LegalId>("\"---\"").is_err());
    }
}
