//! ISO 4217 currencies and their minor units.
//!
//! The number of minor digits decides how an amount is stored (integer minor
//! units) and how it is written in signed messages, so it comes from one
//! hand-written table rather than from a client.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A currency this service accepts: an active ISO 4217 code that has a
/// defined number of minor digits.
///
/// Codes whose ISO minor unit is "N.A." are not money that can be invoiced
/// and are unknown here: precious metals (XAU, XAG, XPD, XPT), bond-market
/// units (XBA–XBD), XDR, XSU, XUA, the testing code XTS and XXX ("no
/// currency").
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    minor_digits: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    #[error("currency must be a three-letter ISO 4217 code in upper case, such as CNY")]
    NotACode,
    #[error("{0} is not an ISO 4217 currency this service accepts")]
    Unknown(String),
}

impl Currency {
    /// Parses an exact upper-case ISO 4217 code ("CNY"); "cny", " CNY" and
    /// unknown codes are refused.
    pub fn parse(raw: &str) -> Result<Currency, CurrencyError> {
        if raw.len() != 3 || !raw.bytes().all(|byte| byte.is_ascii_uppercase()) {
            return Err(CurrencyError::NotACode);
        }
        TABLE
            .binary_search_by(|(code, _)| (*code).cmp(raw))
            .ok()
            .and_then(|index| TABLE.get(index))
            .map(|&(code, minor_digits)| Currency { code, minor_digits })
            .ok_or_else(|| CurrencyError::Unknown(raw.to_owned()))
    }

    /// The three-letter code, e.g. "CNY".
    pub fn code(self) -> &'static str {
        self.code
    }

    /// How many decimals an amount in this currency has: 2 for CNY, 0 for
    /// JPY, 3 for BHD, 4 for CLF. At most 4 for every entry of the table.
    pub fn minor_digits(self) -> u32 {
        self.minor_digits
    }

    /// Every currency of the table, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        TABLE
            .iter()
            .map(|&(code, minor_digits)| Currency { code, minor_digits })
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code)
    }
}

impl std::fmt::Debug for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Currency({})", self.code)
    }
}

impl std::str::FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Currency::parse(raw)
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Currency::parse(&raw)
    }
}

impl TryFrom<&str> for Currency {
    type Error = CurrencyError;

    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        Currency::parse(raw)
    }
}

impl From<Currency> for &'static str {
    fn from(currency: Currency) -> Self {
        currency.code
    }
}

/// Serialised as the code string, "CNY". Written by hand: a derived impl
/// would treat the `&'static str` field as borrowed from the input.
impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Currency::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Active ISO 4217 codes with a numeric minor unit (ISO list one, published
/// 2024-06-25, plus XCG from amendment 176), sorted by code for binary search.
///
/// Kept although being withdrawn: ANG (replaced by XCG in 2025) and BGN
/// (Bulgaria joined the euro in 2026), so invoices issued before the switch
/// can still be registered. Fund codes with a minor unit (BOV, CHE, CHW, CLF,
/// COU, MXV, USN, UYI, UYW) are in the list as ISO publishes them.
const TABLE: &[(&str, u32)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(code: &str) -> u32 {
        Currency::parse(code).unwrap().minor_digits()
    }

    #[test]
    fn the_table_is_sorted_unique_and_well_formed() {
        for pair in TABLE.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} must come before {}", pair[0].0, pair[1].0);
        }
        for (code, minor_digits) in TABLE {
            assert!(
                code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
                "{code}"
            );
            assert!(*minor_digits <= 4, "{code}");
        }
        assert_eq!(TABLE.len(), 167);
        assert_eq!(Currency::all().count(), TABLE.len());
    }

    #[test]
    fn minor_digits_follow_iso_4217() {
        assert_eq!(digits("CNY"), 2);
        assert_eq!(digits("USD"), 2);
        assert_eq!(digits("EUR"), 2);
        assert_eq!(digits("JPY"), 0);
        assert_eq!(digits("KRW"), 0);
        assert_eq!(digits("CLP"), 0);
        assert_eq!(digits("BHD"), 3);
        assert_eq!(digits("KWD"), 3);
        assert_eq!(digits("TND"), 3);
        assert_eq!(digits("CLF"), 4);
        assert_eq!(digits("UYW"), 4);
    }

    #[test]
    fn every_table_code_parses_back_to_itself() {
        for currency in Currency::all() {
            assert_eq!(Currency::parse(currency.code()), Ok(currency));
        }
    }

    #[test]
    fn lower_case_padded_and_odd_lengths_are_not_codes() {
        for raw in ["cny", "Cny", " CNY", "CNY ", "CN", "CNYY", "", "C1Y", "ＣＮＹ", "CNÝ"] {
            assert_eq!(Currency::parse(raw), Err(CurrencyError::NotACode), "{raw:?}");
        }
    }

    #[test]
    fn codes_without_minor_units_and_withdrawn_codes_are_unknown() {
        for raw in [
            "XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XDR", "XSU", "XUA", "XBA", "HRK", "ZWL", "SLL", "ABC",
        ] {
            assert_eq!(
                Currency::parse(raw),
                Err(CurrencyError::Unknown(raw.to_owned())),
                "{raw}"
            );
        }
    }

    #[test]
    fn errors_read_well() {
        assert_eq!(
            Currency::parse("XTS").unwrap_err().to_string(),
            "XTS is not an ISO 4217 currency this service accepts"
        );
        assert_eq!(
            Currency::parse("cny").unwrap_err().to_string(),
            "currency must be a three-letter ISO 4217 code in upper case, such as CNY"
        );
    }

    #[test]
    fn serde_uses_the_code_string() {
        let cny = Currency::parse("CNY").unwrap();
        assert_eq!(serde_json::to_string(&cny).unwrap(), "\"CNY\"");
        assert_eq!(serde_json::from_str::<Currency>("\"CNY\"").unwrap(), cny);
        assert!(serde_json::from_str::<Currency>("\"cny\"").is_err());
        assert!(serde_json::from_str::<Currency>("\"XXX\"").is_err());
        assert!(serde_json::from_str::<Currency>("156").is_err());
    }

    #[test]
    fn display_and_from_str() {
        let bhd: Currency = "BHD".parse().unwrap();
        assert_eq!(bhd.to_string(), "BHD");
        assert_eq!(format!("{bhd:?}"), "Currency(BHD)");
    }
}
