//! Money as integer minor units of an ISO 4217 currency.
//!
//! Amounts arrive as decimal strings and are stored as `i64` minor units
//! (fen, cents, fils), never through `f64`: 0.1 + 0.2 must stay 0.30. The
//! written form, [`Money::amount_string`], is part of the signed messages, so
//! it has exactly one spelling per amount.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::currency::Currency;

/// A strictly positive amount of one currency, e.g. 120000.00 CNY.
///
/// Built only by [`Money::parse`] or [`Money::from_minor_units`]; the
/// largest amount is `i64::MAX` minor units (92233720368547758.07 CNY,
/// 9223372036854775807 JPY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyJson", into = "MoneyJson")]
pub struct Money {
    minor_units: i64,
    currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount must not be empty")]
    Empty,
    #[error("amount must be written without a sign")]
    Signed,
    #[error(
        "amount must be a plain decimal number such as 120000.00: digits with at most one '.' between digits, \
         no spaces, no exponent"
    )]
    Malformed,
    #[error("amount has more decimals than {currency} allows ({digits})")]
    TooManyDecimals { currency: &'static str, digits: u32 },
    #[error("amount is too large: at most {max} {currency}")]
    TooLarge { max: String, currency: &'static str },
    #[error("amount must be greater than zero")]
    NotPositive,
    #[error("cannot combine an amount in {left} with one in {right}")]
    CurrencyMismatch { left: &'static str, right: &'static str },
    #[error("the total is too large")]
    Overflow,
    #[error("cannot subtract {subtrahend} from {minuend}: the result would be negative")]
    Negative { minuend: String, subtrahend: String },
}

/// An integer part longer than this cannot fit `i64` in any currency; the
/// early check also keeps the value well inside `Decimal`'s 28 digits.
const MAX_INTEGER_DIGITS: usize = 19;

impl Money {
    /// Parses a plain decimal string ("120000.00", "500", "0.5").
    ///
    /// Strict on purpose: no sign, no spaces, no exponent, no thousands
    /// separators, digits on both sides of a '.', and at most
    /// `currency.minor_digits()` decimals as written ("500.00" is refused for
    /// JPY). Leading zeros are harmless and accepted ("007.50").
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, MoneyError> {
        if amount.is_empty() {
            return Err(MoneyError::Empty);
        }
        if amount.starts_with(['+', '-']) {
            return Err(MoneyError::Signed);
        }
        let (integer, fraction) = match amount.split_once('.') {
            Some((integer, fraction)) => (integer, fraction),
            None => (amount, ""),
        };
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        let dot_has_digits_after = !amount.contains('.') || !fraction.is_empty();
        if integer.is_empty() || !all_digits(integer) || !all_digits(fraction) || !dot_has_digits_after {
            return Err(MoneyError::Malformed);
        }
        if fraction.len() > currency.minor_digits() as usize {
            return Err(too_many_decimals(currency));
        }
        let significant = integer.trim_start_matches('0');
        if significant.len() > MAX_INTEGER_DIGITS {
            return Err(too_large(currency));
        }
        let significant = if significant.is_empty() { "0" } else { significant };
        let canonical = if fraction.is_empty() {
            significant.to_owned()
        } else {
            format!("{significant}.{fraction}")
        };
        let value = Decimal::from_str_exact(&canonical).map_err(|_| MoneyError::Malformed)?;
        let missing_digits = currency
            .minor_digits()
            .checked_sub(value.scale())
            .ok_or_else(|| too_many_decimals(currency))?;
        let minor_units = 10_i128
            .checked_pow(missing_digits)
            .and_then(|factor| value.mantissa().checked_mul(factor))
            .and_then(|units| i64::try_from(units).ok())
            .ok_or_else(|| too_large(currency))?;
        Money::from_minor_units(minor_units, currency)
    }

    /// An amount already in minor units (as stored in the database): 12345
    /// CNY minor units is 123.45 CNY. Zero and negative values are refused.
    pub fn from_minor_units(minor_units: i64, currency: Currency) -> Result<Money, MoneyError> {
        if minor_units <= 0 {
            return Err(MoneyError::NotPositive);
        }
        Ok(Money { minor_units, currency })
    }

    /// The amount in minor units; always > 0.
    pub fn minor_units(&self) -> i64 {
        self.minor_units
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The exact value, scaled to the currency's minor digits (123.45).
    pub fn to_decimal(&self) -> Decimal {
        // The table's minor digits are at most 4, far below Decimal's limit
        // of 28, so `try_new` cannot fail; the fallback only avoids a panic
        // path.
        Decimal::try_new(self.minor_units, self.currency.minor_digits())
            .unwrap_or_else(|_| Decimal::from(self.minor_units))
    }

    /// The amount written with exactly the currency's minor digits:
    /// "1000.00" CNY, "500" JPY, "1.500" BHD, "0.0001" CLF. No sign, no
    /// grouping, no exponent. This spelling is what parties sign.
    pub fn amount_string(&self) -> String {
        format_minor_units(self.minor_units, self.currency)
    }

    /// The sum of two amounts of the same currency.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor_units = self
            .minor_units
            .checked_add(other.minor_units)
            .ok_or(MoneyError::Overflow)?;
        Money::from_minor_units(minor_units, self.currency)
    }

    /// `self - other` in minor units of the shared currency.
    ///
    /// Returns plain minor units rather than `Money` because the difference
    /// may be zero (a receivable financed in full), and `Money` is always
    /// positive. The result is never negative: subtracting a larger amount is
    /// an error.
    pub fn checked_sub(&self, other: &Money) -> Result<i64, MoneyError> {
        self.same_currency(other)?;
        match self.minor_units.checked_sub(other.minor_units) {
            Some(difference) if difference >= 0 => Ok(difference),
            _ => Err(MoneyError::Negative {
                minuend: self.to_string(),
                subtrahend: other.to_string(),
            }),
        }
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency.code(),
                right: other.currency.code(),
            })
        }
    }
}

/// "120000.00 CNY".
/// Any non-negative count of minor units written as [`Money::amount_string`]
/// writes amounts ("0.00" for nothing yet invoiced, "1000.00" CNY, "500"
/// JPY). A negative count is written with its magnitude: callers never
/// produce one, and a sign would not be a valid amount anyway.
pub fn format_minor_units(minor_units: i64, currency: Currency) -> String {
    let digits = currency.minor_digits();
    let units = minor_units.unsigned_abs();
    if digits == 0 {
        return units.to_string();
    }
    // At most 4 minor digits (see the currency table): no overflow.
    let scale = 10_u64.pow(digits);
    format!("{}.{:0width$}", units / scale, units % scale, width = digits as usize)
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

fn too_many_decimals(currency: Currency) -> MoneyError {
    MoneyError::TooManyDecimals {
        currency: currency.code(),
        digits: currency.minor_digits(),
    }
}

fn too_large(currency: Currency) -> MoneyError {
    let max = Money {
        minor_units: i64::MAX,
        currency,
    };
    MoneyError::TooLarge {
        max: max.amount_string(),
        currency: currency.code(),
    }
}

/// The JSON form: `{"amount": "120000.00", "currency": "CNY"}`, the amount
/// a string so no JSON parser turns it into a float.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyJson {
    amount: String,
    currency: Currency,
}

impl From<Money> for MoneyJson {
    fn from(money: Money) -> Self {
        MoneyJson {
            amount: money.amount_string(),
            currency: money.currency,
        }
    }
}

impl TryFrom<MoneyJson> for Money {
    type Error = MoneyError;

    fn try_from(json: MoneyJson) -> Result<Self, Self::Error> {
        Money::parse(&json.amount, json.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn money(amount: &str, code: &str) -> Money {
        Money::parse(amount, currency(code)).unwrap()
    }

    #[test]
    fn parses_plain_decimals_into_minor_units() {
        assert_eq!(money("120000.00", "CNY").minor_units(), 12_000_000);
        assert_eq!(money("500", "CNY").minor_units(), 50_000);
        assert_eq!(money("0.5", "CNY").minor_units(), 50);
        assert_eq!(money("0.01", "CNY").minor_units(), 1);
        assert_eq!(money("500", "JPY").minor_units(), 500);
        assert_eq!(money("1.5", "BHD").minor_units(), 1_500);
        assert_eq!(money("1.234", "KWD").minor_units(), 1_234);
        assert_eq!(money("0.0001", "CLF").minor_units(), 1);
        assert_eq!(money("007.50", "USD").minor_units(), 750);
        assert_eq!(money("1", "EUR").currency(), currency("EUR"));
    }

    #[test]
    fn the_largest_amount_is_i64_max_minor_units() {
        assert_eq!(money("92233720368547758.07", "CNY").minor_units(), i64::MAX);
        assert_eq!(money("9223372036854775807", "JPY").minor_units(), i64::MAX);
        assert_eq!(money("0009223372036854775.807", "BHD").minor_units(), i64::MAX);
        let too_large = MoneyError::TooLarge {
            max: "92233720368547758.07".into(),
            currency: "CNY",
        };
        assert_eq!(
            Money::parse("92233720368547758.08", currency("CNY")),
            Err(too_large.clone())
        );
        assert_eq!(
            Money::parse("100000000000000000", currency("CNY")),
            Err(too_large.clone())
        );
        assert_eq!(Money::parse(&"9".repeat(40), currency("CNY")), Err(too_large));
        assert!(matches!(
            Money::parse("9223372036854775808", currency("JPY")),
            Err(MoneyError::TooLarge { .. })
        ));
    }

    #[test]
    fn zero_is_refused() {
        for raw in ["0", "0.00", "000", "0.0"] {
            assert_eq!(
                Money::parse(raw, currency("CNY")),
                Err(MoneyError::NotPositive),
                "{raw}"
            );
        }
        assert_eq!(
            Money::from_minor_units(0, currency("CNY")),
            Err(MoneyError::NotPositive)
        );
        assert_eq!(
            Money::from_minor_units(-1, currency("CNY")),
            Err(MoneyError::NotPositive)
        );
        assert_eq!(
            Money::from_minor_units(i64::MIN, currency("CNY")),
            Err(MoneyError::NotPositive)
        );
    }

    #[test]
    fn signs_are_refused() {
        for raw in ["-5", "+5", "-0.01", "+0"] {
            assert_eq!(Money::parse(raw, currency("CNY")), Err(MoneyError::Signed), "{raw}");
        }
    }

    #[test]
    fn anything_but_a_plain_decimal_is_malformed() {
        let malformed = [
            " 5",
            "5 ",
            "1 000",
            "1,000.00",
            "1e5",
            "1E5",
            "1.5e1",
            ".5",
            "5.",
            ".",
            "1..0",
            "1.0.0",
            "0x10",
            "NaN",
            "inf",
            "５",
            "1_000",
            "1.5CNY",
            "¥5",
            "\u{00a0}5",
            "5\n",
        ];
        for raw in malformed {
            assert_eq!(
                Money::parse(raw, currency("CNY")),
                Err(MoneyError::Malformed),
                "{raw:?}"
            );
        }
        assert_eq!(Money::parse("", currency("CNY")), Err(MoneyError::Empty));
    }

    #[test]
    fn more_decimals_than_the_currency_has_are_refused() {
        let error = Money::parse("1.001", currency("CNY")).unwrap_err();
        assert_eq!(error.to_string(), "amount has more decimals than CNY allows (2)");
        assert_eq!(
            Money::parse("500.00", currency("JPY")).unwrap_err().to_string(),
            "amount has more decimals than JPY allows (0)"
        );
        assert_eq!(
            Money::parse("500.0", currency("JPY")),
            Err(MoneyError::TooManyDecimals {
                currency: "JPY",
                digits: 0
            })
        );
        assert!(Money::parse("1.0000", currency("BHD")).is_err());
        assert!(Money::parse("1.00000", currency("CLF")).is_err());
        // Trailing zeros count as written: the currency fixes the spelling.
        assert!(Money::parse("1.500", currency("USD")).is_err());
    }

    #[test]
    fn amount_string_has_exactly_the_minor_digits() {
        assert_eq!(money("1000", "CNY").amount_string(), "1000.00");
        assert_eq!(money("120000.00", "CNY").amount_string(), "120000.00");
        assert_eq!(money("0.5", "CNY").amount_string(), "0.50");
        assert_eq!(money("0.05", "CNY").amount_string(), "0.05");
        assert_eq!(money("007.50", "USD").amount_string(), "7.50");
        assert_eq!(money("500", "JPY").amount_string(), "500");
        assert_eq!(money("1", "KRW").amount_string(), "1");
        assert_eq!(money("1.5", "BHD").amount_string(), "1.500");
        assert_eq!(money("0.001", "KWD").amount_string(), "0.001");
        assert_eq!(money("12.0001", "CLF").amount_string(), "12.0001");
        assert_eq!(money("3", "CLF").amount_string(), "3.0000");
        let max = |code| {
            Money::from_minor_units(i64::MAX, currency(code))
                .unwrap()
                .amount_string()
        };
        assert_eq!(max("CNY"), "92233720368547758.07");
        assert_eq!(max("JPY"), "9223372036854775807");
        assert_eq!(max("BHD"), "9223372036854775.807");
        assert_eq!(max("CLF"), "922337203685477.5807");
        assert_eq!(
            Money::from_minor_units(1, currency("CNY")).unwrap().amount_string(),
            "0.01"
        );
    }

    #[test]
    fn to_decimal_is_exact() {
        assert_eq!(
            money("120000.00", "CNY").to_decimal(),
            Decimal::from_str("120000.00").unwrap()
        );
        assert_eq!(money("120000.00", "CNY").to_decimal().to_string(), "120000.00");
        assert_eq!(money("1.5", "BHD").to_decimal().to_string(), "1.500");
        assert_eq!(money("500", "JPY").to_decimal().to_string(), "500");
        for currency in Currency::all() {
            let max = Money::from_minor_units(i64::MAX, currency).unwrap();
            assert_eq!(max.to_decimal().to_string(), max.amount_string());
        }
    }

    #[test]
    fn adding_checks_currency_and_overflow() {
        let a = money("100.25", "CNY");
        let b = money("0.75", "CNY");
        assert_eq!(a.checked_add(&b), Ok(money("101", "CNY")));
        assert_eq!(
            a.checked_add(&money("1", "USD")),
            Err(MoneyError::CurrencyMismatch {
                left: "CNY",
                right: "USD"
            })
        );
        let max = Money::from_minor_units(i64::MAX, currency("CNY")).unwrap();
        assert_eq!(max.checked_add(&money("0.01", "CNY")), Err(MoneyError::Overflow));
    }

    #[test]
    fn subtracting_gives_non_negative_minor_units() {
        let a = money("100.25", "CNY");
        assert_eq!(a.checked_sub(&money("0.25", "CNY")), Ok(10_000));
        assert_eq!(a.checked_sub(&a), Ok(0));
        let error = money("3", "CNY").checked_sub(&money("5", "CNY")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot subtract 5.00 CNY from 3.00 CNY: the result would be negative"
        );
        assert!(matches!(
            a.checked_sub(&money("1", "JPY")),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn display_and_json() {
        let m = money("120000", "CNY");
        assert_eq!(m.to_string(), "120000.00 CNY");
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"120000.00","currency":"CNY"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1.001","currency":"CNY"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":1.5,"currency":"CNY"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"0","currency":"CNY"}"#).is_err());
    }

    fn any_money() -> impl Strategy<Value = Money> {
        let currencies: Vec<Currency> = Currency::all().collect();
        (
            proptest::sample::select(currencies),
            prop_oneof![1..=1_000_000_i64, 1..=i64::MAX, (i64::MAX - 1000)..=i64::MAX],
        )
            .prop_map(|(currency, units)| Money::from_minor_units(units, currency).unwrap())
    }

    proptest! {
        #[test]
        fn amount_string_round_trips(m in any_money()) {
            prop_assert_eq!(Money::parse(&m.amount_string(), m.currency()), Ok(m));
        }

        #[test]
        fn amount_string_agrees_with_decimal(m in any_money()) {
            prop_assert_eq!(m.to_decimal().to_string(), m.amount_string());
            prop_assert_eq!(Decimal::from_str_exact(&m.amount_string()).unwrap(), m.to_decimal());
        }

        #[test]
        fn parsing_never_panics(raw in "\\PC{0,40}", code in "(CNY|JPY|BHD|CLF)") {
            let _ = Money::parse(&raw, currency(&code));
        }

        #[test]
        fn parsing_digit_strings_never_panics(raw in "[0-9]{0,45}(\\.[0-9]{0,6})?") {
            if let Ok(m) = Money::parse(&raw, currency("CLF")) {
                prop_assert!(m.minor_units() > 0);
            }
        }
    }
}
