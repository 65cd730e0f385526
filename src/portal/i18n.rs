//! The portal's two languages: which one a request gets (the `lang`
//! cookie set by the switch, else `Accept-Language`, else English), and
//! how amounts and times are written in each. The words themselves are in
//! the one catalogue, `messages.rs`.

use actix_web::http::header;
use actix_web::HttpRequest;
use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::domain::Currency;

/// The cookie the language switch sets.
pub const LANGUAGE_COOKIE: &str = "lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The code in the switch's URL and the cookie: `en`, `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The BCP 47 tag of `<html lang>` and `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-Hans",
        }
    }

    /// The language's own name, as the switch shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "简体中文",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|lang| lang.code() == code)
    }

    /// The request's language: the switch's cookie, else the best of
    /// `Accept-Language`, else English.
    pub fn of(request: &HttpRequest) -> Lang {
        let chosen = super::cookies::get(request, LANGUAGE_COOKIE).and_then(|code| Lang::parse(&code));
        chosen.unwrap_or_else(|| {
            request
                .headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(negotiate)
                .unwrap_or(Lang::En)
        })
    }

    /// `1,234,567.50 EUR` in English; `EUR 1,234,567.50` in Chinese (the
    /// CLDR `zh` pattern `¤#,##0.00`, with the ISO code for the symbol so
    /// that yuan, yen and dollars are never confused). Exact: written
    /// from the stored minor units through `rust_decimal`, never a float.
    pub fn format_amount(self, minor_units: i64, currency: Currency) -> String {
        let value = rust_decimal::Decimal::try_new(minor_units, currency.minor_digits())
            .unwrap_or_else(|_| rust_decimal::Decimal::from(minor_units));
        let plain = format!("{:.*}", currency.minor_digits() as usize, value);
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(digits) => ("-", digits),
            None => ("", plain.as_str()),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (digits, None),
        };
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (position, digit) in whole.chars().enumerate() {
            if position > 0 && (whole.len() - position) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        let number = match fraction {
            Some(fraction) => format!("{sign}{grouped}.{fraction}"),
            None => format!("{sign}{grouped}"),
        };
        match self {
            Lang::En => format!("{number} {currency}"),
            Lang::Zh => format!("{currency} {number}"),
        }
    }

    /// `2026-12-01` in English (ISO 8601), `2026年12月1日` in Chinese.
    pub fn format_date(self, date: NaiveDate) -> String {
        match self {
            Lang::En => date.format("%Y-%m-%d").to_string(),
            Lang::Zh => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
        }
    }

    /// A UTC time to the second: `2026-12-01 08:30:05 UTC`,
    /// `2026年12月1日 08:30:05 UTC`.
    pub fn format_time(self, time: NaiveDateTime) -> String {
        format!("{} {} UTC", self.format_date(time.date()), time.format("%H:%M:%S"))
    }
}

/// The supported language `Accept-Language` prefers (RFC 9110 §12.5.4):
/// the highest weight wins, the first listed among equals; `*` and other
/// languages are ignored; a weight of 0 refuses.
fn negotiate(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, u16)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let weight = parts
            .find_map(|parameter| {
                let (name, value) = parameter.split_once('=')?;
                (name.trim() == "q").then(|| quality(value.trim()))
            })
            .unwrap_or(Some(1000));
        let Some(weight) = weight else { continue };
        let primary = range.split('-').next().unwrap_or_default();
        let Some(lang) = Lang::parse(primary) else { continue };
        if weight > 0 && best.is_none_or(|(_, best_weight)| weight > best_weight) {
            best = Some((lang, weight));
        }
    }
    best.map(|(lang, _)| lang)
}

/// A weight `0` to `1` with up to three decimals, in thousandths.
fn quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::Zh));
        assert_eq!(negotiate("en-GB,en;q=0.9,zh-CN;q=0.8"), Some(Lang::En));
        assert_eq!(negotiate("fr-FR, zh-Hans;q=0.5, en;q=0.4"), Some(Lang::Zh));
        assert_eq!(negotiate("en;q=0.2, zh-TW;q=0.7"), Some(Lang::Zh));
        assert_eq!(negotiate("zh;q=0, en;q=0.1"), Some(Lang::En));
        assert_eq!(negotiate("ZH-cn"), Some(Lang::Zh));
        assert_eq!(negotiate("fr, de;q=0.5, *;q=0.1"), None);
        assert_eq!(negotiate("zh;q=2, en;q=0.5"), Some(Lang::En));
        assert_eq!(negotiate(""), None);
    }

    #[test]
    fn amounts_are_grouped_exactly_with_the_currency_code_shown() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let bhd = Currency::parse("BHD").unwrap();
        let cny = Currency::parse("CNY").unwrap();
        assert_eq!(Lang::En.format_amount(123_456_750, eur), "1,234,567.50 EUR");
        assert_eq!(Lang::Zh.format_amount(123_456_750, cny), "CNY 1,234,567.50");
        assert_eq!(Lang::En.format_amount(5, eur), "0.05 EUR");
        assert_eq!(Lang::En.format_amount(100_000, jpy), "100,000 JPY");
        assert_eq!(Lang::En.format_amount(1_500, bhd), "1.500 BHD");
        assert_eq!(Lang::En.format_amount(99_999, eur), "999.99 EUR");
        assert_eq!(Lang::En.format_amount(-123_400, eur), "-1,234.00 EUR");
        // The largest stored amount, exactly (a float would round it).
        assert_eq!(Lang::En.format_amount(i64::MAX, eur), "92,233,720,368,547,758.07 EUR");
    }

    #[test]
    fn dates_and_times_are_iso_in_english_and_long_in_chinese() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(Lang::En.format_date(date), "2026-12-01");
        assert_eq!(Lang::Zh.format_date(date), "2026年12月1日");
        let time = date.and_hms_opt(8, 30, 5).unwrap();
        assert_eq!(Lang::En.format_time(time), "2026-12-01 08:30:05 UTC");
        assert_eq!(Lang::Zh.format_time(time), "2026年12月1日 08:30:05 UTC");
    }
}
