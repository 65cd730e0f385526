//! The canonical messages parties sign (the API contract).
//!
//! A message is UTF-8 lines joined by "\n", with no trailing newline. The
//! first line is `anchorfin/v1/<action>`; then `key=value` lines in a fixed
//! order per action. Amounts are [`Money::amount_string`] (exactly the
//! currency's minor digits), ids lower-case hyphenated UUIDs, fingerprints
//! lower-case hex, dates YYYY-MM-DD. Both the client and the server build
//! the text from typed values, so there is exactly one message per statement.
//! Changing a name, an order or a format breaks every client: add a new
//! action or a `v2` prefix instead.

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::fingerprint::Fingerprint;
use super::money::Money;

/// The message prefix; the action name follows it.
pub const MESSAGE_PREFIX: &str = "anchorfin/v1/";

/// The longest nonce accepted, in characters.
pub const MAX_NONCE_CHARS: usize = 255;

/// The nonce of a pledge or assignment: the request's `Idempotency-Key`,
/// which makes each signed financing request single-use.
///
/// Visible ASCII only (`!` to `~`) except '=', 1 to 255 characters. A line
/// break would let a value forge further `key=value` lines, so it must be
/// impossible; '=' and spaces are refused as well so that a verifier
/// splitting each line at its first '=' and reading it by eye never meets an
/// ambiguous line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nonce(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    #[error("nonce (Idempotency-Key) must be 1 to {max} characters", max = MAX_NONCE_CHARS)]
    Length,
    #[error("nonce (Idempotency-Key) may contain only visible ASCII characters other than '='")]
    Character,
}

impl Nonce {
    pub fn parse(raw: &str) -> Result<Nonce, NonceError> {
        if raw.is_empty() || raw.len() > MAX_NONCE_CHARS {
            return Err(NonceError::Length);
        }
        if !raw.bytes().all(|byte| byte.is_ascii_graphic() && byte != b'=') {
            return Err(NonceError::Character);
        }
        Ok(Nonce(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Nonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A statement a party signs. The currency line is taken from the `Money`
/// field, so amount and currency cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedAction {
    /// The supplier acknowledges a buyer's purchase order.
    AcknowledgePo {
        purchase_order: Uuid,
        fingerprint: Fingerprint,
        amount: Money,
        buyer: Uuid,
    },
    /// The buyer confirms it owes a receivable.
    Confirm {
        receivable: Uuid,
        fingerprint: Fingerprint,
        amount: Money,
        due_date: NaiveDate,
        supplier: Uuid,
        buyer: Uuid,
    },
    /// The buyer disputes a receivable.
    Dispute {
        receivable: Uuid,
        fingerprint: Fingerprint,
        buyer: Uuid,
    },
    /// A bank takes a pledge over an asset.
    Pledge {
        asset: Uuid,
        amount: Money,
        bank: Uuid,
        nonce: Nonce,
    },
    /// A bank buys an asset outright; `price` is written as `amount`.
    Assign {
        asset: Uuid,
        price: Money,
        bank: Uuid,
        nonce: Nonce,
    },
}

impl SignedAction {
    /// The `<action>` of the first line.
    pub fn action_name(&self) -> &'static str {
        match self {
            SignedAction::AcknowledgePo { .. } => "acknowledge_po",
            SignedAction::Confirm { .. } => "confirm",
            SignedAction::Dispute { .. } => "dispute",
            SignedAction::Pledge { .. } => "pledge",
            SignedAction::Assign { .. } => "assign",
        }
    }

    /// The exact text to sign, e.g.
    ///
    /// ```text
    /// anchorfin/v1/dispute
    /// receivable=0b9e5a4c-…
    /// fingerprint=5f1c…
    /// buyer=41e0…
    /// ```
    pub fn canonical_message(&self) -> String {
        let mut message = format!("{MESSAGE_PREFIX}{}", self.action_name());
        for (key, value) in self.fields() {
            message.push('\n');
            message.push_str(key);
            message.push('=');
            message.push_str(&value);
        }
        message
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            SignedAction::AcknowledgePo {
                purchase_order,
                fingerprint,
                amount,
                buyer,
            } => vec![
                ("purchase_order", uuid(purchase_order)),
                ("fingerprint", fingerprint.to_hex()),
                ("amount", amount.amount_string()),
                ("currency", amount.currency().code().to_owned()),
                ("buyer", uuid(buyer)),
            ],
            SignedAction::Confirm {
                receivable,
                fingerprint,
                amount,
                due_date,
                supplier,
                buyer,
            } => vec![
                ("receivable", uuid(receivable)),
                ("fingerprint", fingerprint.to_hex()),
                ("amount", amount.amount_string()),
                ("currency", amount.currency().code().to_owned()),
                ("due_date", date(due_date)),
                ("supplier", uuid(supplier)),
                ("buyer", uuid(buyer)),
            ],
            SignedAction::Dispute {
                receivable,
                fingerprint,
                buyer,
            } => vec![
                ("receivable", uuid(receivable)),
                ("fingerprint", fingerprint.to_hex()),
                ("buyer", uuid(buyer)),
            ],
            SignedAction::Pledge {
                asset,
                amount,
                bank,
                nonce,
            } => vec![
                ("asset", uuid(asset)),
                ("amount", amount.amount_string()),
                ("currency", amount.currency().code().to_owned()),
                ("bank", uuid(bank)),
                ("nonce", nonce.as_str().to_owned()),
            ],
            SignedAction::Assign {
                asset,
                price,
                bank,
                nonce,
            } => vec![
                ("asset", uuid(asset)),
                ("amount", price.amount_string()),
                ("currency", price.currency().code().to_owned()),
                ("bank", uuid(bank)),
                ("nonce", nonce.as_str().to_owned()),
            ],
        }
    }
}

/// Lower-case, hyphenated: "0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90".
fn uuid(id: &Uuid) -> String {
    id.hyphenated().to_string()
}

/// YYYY-MM-DD. Written from the fields rather than through chrono's `%Y`,
/// whose output for years past 9999 ("+10000") no client would reproduce.
/// Dates are only well defined here for years 0000 to 9999; the API should
/// refuse others when it parses a due date.
fn date(date: &NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::currency::Currency;

    fn id(text: &str) -> Uuid {
        Uuid::parse_str(text).unwrap()
    }

    fn money(amount: &str, code: &str) -> Money {
        Money::parse(amount, Currency::parse(code).unwrap()).unwrap()
    }

    const RECEIVABLE: &str = "0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90";
    const SUPPLIER: &str = "7d3a2b1c-0e9f-4d8c-b7a6-958473625140";
    const BUYER: &str = "41e0c9d8-b7a6-4f5e-8d3c-2b1a09f8e7d6";
    const BANK: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
    const FINGERPRINT: &str = "5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c";

    fn fingerprint() -> Fingerprint {
        Fingerprint::parse_hex(FINGERPRINT).unwrap()
    }

    #[test]
    fn acknowledge_po_message() {
        let action = SignedAction::AcknowledgePo {
            purchase_order: id("9A8B7C6D-5E4F-4321-8765-0FEDCBA98765"),
            fingerprint: fingerprint(),
            amount: money("500000", "CNY"),
            buyer: id(BUYER),
        };
        assert_eq!(action.action_name(), "acknowledge_po");
        assert_eq!(
            action.canonical_message(),
            "anchorfin/v1/acknowledge_po\n\
             purchase_order=9a8b7c6d-5e4f-4321-8765-0fedcba98765\n\
             fingerprint=5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c\n\
             amount=500000.00\n\
             currency=CNY\n\
             buyer=41e0c9d8-b7a6-4f5e-8d3c-2b1a09f8e7d6"
        );
    }

    #[test]
    fn confirm_message() {
        let action = SignedAction::Confirm {
            receivable: id(RECEIVABLE),
            fingerprint: Fingerprint::parse_hex(&FINGERPRINT.to_uppercase()).unwrap(),
            amount: money("120000.00", "CNY"),
            due_date: NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
            supplier: id(SUPPLIER),
            buyer: id(BUYER),
        };
        assert_eq!(action.action_name(), "confirm");
        assert_eq!(
            action.canonical_message(),
            "anchorfin/v1/confirm\n\
             receivable=0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90\n\
             fingerprint=5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c\n\
             amount=120000.00\n\
             currency=CNY\n\
             due_date=2027-03-31\n\
             supplier=7d3a2b1c-0e9f-4d8c-b7a6-958473625140\n\
             buyer=41e0c9d8-b7a6-4f5e-8d3c-2b1a09f8e7d6"
        );
    }

    #[test]
    fn dispute_message() {
        let action = SignedAction::Dispute {
            receivable: id(RECEIVABLE),
            fingerprint: fingerprint(),
            buyer: id(BUYER),
        };
        assert_eq!(action.action_name(), "dispute");
        assert_eq!(
            action.canonical_message(),
            "anchorfin/v1/dispute\n\
             receivable=0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90\n\
             fingerprint=5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c\n\
             buyer=41e0c9d8-b7a6-4f5e-8d3c-2b1a09f8e7d6"
        );
    }

    #[test]
    fn pledge_message() {
        let action = SignedAction::Pledge {
            asset: id(RECEIVABLE),
            amount: money("96000", "JPY"),
            bank: id(BANK),
            nonce: Nonce::parse("idem-2027-03-01-0001").unwrap(),
        };
        assert_eq!(action.action_name(), "pledge");
        assert_eq!(
            action.canonical_message(),
            "anchorfin/v1/pledge\n\
             asset=0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90\n\
             amount=96000\n\
             currency=JPY\n\
             bank=c0ffee00-1234-4abc-8def-0123456789ab\n\
             nonce=idem-2027-03-01-0001"
        );
    }

    #[test]
    fn assign_message_writes_the_price_as_amount() {
        let action = SignedAction::Assign {
            asset: id(RECEIVABLE),
            price: money("1.5", "BHD"),
            bank: id(BANK),
            nonce: Nonce::parse("7f0e3c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b").unwrap(),
        };
        assert_eq!(action.action_name(), "assign");
        assert_eq!(
            action.canonical_message(),
            "anchorfin/v1/assign\n\
             asset=0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90\n\
             amount=1.500\n\
             currency=BHD\n\
             bank=c0ffee00-1234-4abc-8def-0123456789ab\n\
             nonce=7f0e3c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b"
        );
    }

    #[test]
    fn messages_have_no_trailing_newline_or_carriage_returns() {
        let action = SignedAction::Dispute {
            receivable: id(RECEIVABLE),
            fingerprint: fingerprint(),
            buyer: id(BUYER),
        };
        let message = action.canonical_message();
        assert!(!message.ends_with('\n'));
        assert!(!message.contains('\r'));
        assert_eq!(message.lines().count(), 4);
    }

    #[test]
    fn dates_are_zero_padded() {
        assert_eq!(date(&NaiveDate::from_ymd_opt(2027, 1, 5).unwrap()), "2027-01-05");
        assert_eq!(date(&NaiveDate::from_ymd_opt(999, 12, 31).unwrap()), "0999-12-31");
    }

    #[test]
    fn nonces_that_could_forge_lines_are_refused() {
        for raw in [
            "a\nb", "a\r\nb", "a\rb", "a=b", "=", "a b", "a\tb", "é", "a\u{0}b", " a",
        ] {
            assert_eq!(Nonce::parse(raw), Err(NonceError::Character), "{raw:?}");
        }
        assert_eq!(Nonce::parse(""), Err(NonceError::Length));
        assert_eq!(Nonce::parse(&"k".repeat(256)), Err(NonceError::Length));
        assert!(Nonce::parse(&"k".repeat(255)).is_ok());
        assert!(Nonce::parse("a!#$%&'()*+,-./:;<>?@[]^_`{|}~Z9").is_ok());
        assert_eq!(
            NonceError::Character.to_string(),
            "nonce (Idempotency-Key) may contain only visible ASCII characters other than '='"
        );
    }
}
