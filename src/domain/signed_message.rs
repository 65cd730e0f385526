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

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
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

    /// A fresh nonce: `portal-` and a random UUID (visible ASCII without
    /// '=', well under the length limit), for the portal's signed forms.
    pub fn fresh() -> Nonce {
        Nonce(format!("portal-{}", Uuid::new_v4()))
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
    /// The buyer acknowledges a purchase order its supplier registered.
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
    /// The holder offers an asset (or the supplier an acknowledged
    /// purchase order) to one bank for a pledge of at most `amount`.
    OfferPledge {
        subject: Subject,
        bank: Uuid,
        amount: Money,
        expires_at: UtcSecond,
        holder: Uuid,
        nonce: Nonce,
    },
    /// The holder offers an asset to one bank for sale at `price`.
    OfferAssignment {
        subject: Subject,
        bank: Uuid,
        price: Money,
        expires_at: UtcSecond,
        holder: Uuid,
        nonce: Nonce,
    },
    /// The holder withdraws an open offer.
    WithdrawOffer { offer: Uuid, holder: Uuid },
    /// A bank accepts an offer with a pledge over its subject.
    Pledge {
        offer: Uuid,
        subject: Subject,
        amount: Money,
        bank: Uuid,
        nonce: Nonce,
    },
    /// A bank accepts an offer by buying the asset; `price` is written as
    /// `amount`.
    Assign {
        offer: Uuid,
        subject: Subject,
        price: Money,
        bank: Uuid,
        nonce: Nonce,
    },
    /// The lienholder records money it lent against its lien.
    Disbursement(LoanEntry),
    /// The lienholder records money repaid to it.
    Repayment(LoanEntry),
    /// The buyer pays an asset at maturity.
    Payment {
        asset: Uuid,
        amount: Money,
        paid_on: NaiveDate,
        buyer: Uuid,
        nonce: Nonce,
    },
    /// A lienholder confirms it received its share of the buyer's payment.
    Receipt { lien: Uuid, amount: Money, bank: Uuid },
}

impl SignedAction {
    /// The `<action>` of the first line.
    pub fn action_name(&self) -> &'static str {
        match self {
            SignedAction::AcknowledgePo { .. } => "acknowledge_po",
            SignedAction::Confirm { .. } => "confirm",
            SignedAction::Dispute { .. } => "dispute",
            SignedAction::OfferPledge { .. } => "offer_pledge",
            SignedAction::OfferAssignment { .. } => "offer_assignment",
            SignedAction::WithdrawOffer { .. } => "withdraw_offer",
            SignedAction::Pledge { .. } => "pledge",
            SignedAction::Assign { .. } => "assign",
            SignedAction::Disbursement(_) => "disbursement",
            SignedAction::Repayment(_) => "repayment",
            SignedAction::Payment { .. } => "payment",
            SignedAction::Receipt { .. } => "receipt",
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
            SignedAction::OfferPledge {
                subject,
                bank,
                amount: money,
                expires_at,
                holder,
                nonce,
            }
            | SignedAction::OfferAssignment {
                subject,
                bank,
                price: money,
                expires_at,
                holder,
                nonce,
            } => vec![
                ("subject", subject.to_string()),
                ("bank", uuid(bank)),
                ("amount", money.amount_string()),
                ("currency", money.currency().code().to_owned()),
                ("expires_at", expires_at.to_string()),
                ("holder", uuid(holder)),
                ("nonce", nonce.as_str().to_owned()),
            ],
            SignedAction::WithdrawOffer { offer, holder } => vec![("offer", uuid(offer)), ("holder", uuid(holder))],
            SignedAction::Pledge {
                offer,
                subject,
                amount: money,
                bank,
                nonce,
            }
            | SignedAction::Assign {
                offer,
                subject,
                price: money,
                bank,
                nonce,
            } => vec![
                ("offer", uuid(offer)),
                ("subject", subject.to_string()),
                ("amount", money.amount_string()),
                ("currency", money.currency().code().to_owned()),
                ("bank", uuid(bank)),
                ("nonce", nonce.as_str().to_owned()),
            ],
            SignedAction::Disbursement(entry) | SignedAction::Repayment(entry) => vec![
                ("lien", uuid(&entry.lien)),
                ("amount", entry.amount.amount_string()),
                ("currency", entry.amount.currency().code().to_owned()),
                ("value_date", date(&entry.value_date)),
                ("reference", entry.reference.as_str().to_owned()),
                ("bank", uuid(&entry.bank)),
                ("nonce", entry.nonce.as_str().to_owned()),
            ],
            SignedAction::Payment {
                asset,
                amount,
                paid_on,
                buyer,
                nonce,
            } => vec![
                ("asset", uuid(asset)),
                ("amount", amount.amount_string()),
                ("currency", amount.currency().code().to_owned()),
                ("paid_on", date(paid_on)),
                ("buyer", uuid(buyer)),
                ("nonce", nonce.as_str().to_owned()),
            ],
            SignedAction::Receipt { lien, amount, bank } => vec![
                ("lien", uuid(lien)),
                ("amount", amount.amount_string()),
                ("currency", amount.currency().code().to_owned()),
                ("bank", uuid(bank)),
            ],
        }
    }
}

/// What a financing request is about: `asset:<id>` or `purchase_order:<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Asset(Uuid),
    PurchaseOrder(Uuid),
}

impl Subject {
    pub fn id(self) -> Uuid {
        match self {
            Subject::Asset(id) | Subject::PurchaseOrder(id) => id,
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Asset(id) => write!(f, "asset:{}", uuid(id)),
            Subject::PurchaseOrder(id) => write!(f, "purchase_order:{}", uuid(id)),
        }
    }
}

/// A disbursement or repayment the lienholder records against its lien.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanEntry {
    pub lien: Uuid,
    pub amount: Money,
    pub value_date: NaiveDate,
    pub reference: LoanReference,
    pub bank: Uuid,
    pub nonce: Nonce,
}

/// The longest loan reference accepted, in characters.
pub const MAX_REFERENCE_CHARS: usize = 100;

/// A bank's own reference for a disbursement or repayment: 1 to 100
/// characters, no control characters (so no line breaks, which would forge
/// message lines), no leading or trailing white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanReference(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoanReferenceError {
    #[error("must be 1 to {max} characters", max = MAX_REFERENCE_CHARS)]
    Length,
    #[error("may not contain control characters such as line breaks")]
    Control,
    #[error("may not begin or end with white space")]
    Padded,
}

impl LoanReference {
    pub fn parse(raw: &str) -> Result<LoanReference, LoanReferenceError> {
        let count = raw.chars().count();
        if count == 0 || count > MAX_REFERENCE_CHARS {
            return Err(LoanReferenceError::Length);
        }
        if raw.chars().any(char::is_control) {
            return Err(LoanReferenceError::Control);
        }
        if raw.trim() != raw {
            return Err(LoanReferenceError::Padded);
        }
        Ok(LoanReference(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An instant in UTC to the second, written exactly `YYYY-MM-DDTHH:MM:SSZ`
/// (RFC 3339): one spelling per instant, so a signed message can be built
/// again from the stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcSecond(NaiveDateTime);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an RFC 3339 time in UTC to the second, written like 2027-01-31T18:00:00Z")]
pub struct UtcSecondError;

impl UtcSecond {
    pub fn parse(raw: &str) -> Result<UtcSecond, UtcSecondError> {
        let shaped = raw.len() == 20
            && raw.bytes().enumerate().all(|(index, byte)| match index {
                4 | 7 => byte == b'-',
                10 => byte == b'T',
                13 | 16 => byte == b':',
                19 => byte == b'Z',
                _ => byte.is_ascii_digit(),
            });
        if !shaped {
            return Err(UtcSecondError);
        }
        NaiveDateTime::parse_from_str(&raw[..19], "%Y-%m-%dT%H:%M:%S")
            .map(UtcSecond)
            .map_err(|_| UtcSecondError)
    }

    /// The stored instant, truncated to the second.
    pub fn from_naive(time: NaiveDateTime) -> UtcSecond {
        UtcSecond(time.with_nanosecond(0).unwrap_or(time))
    }

    pub fn naive(self) -> NaiveDateTime {
        self.0
    }
}

impl std::fmt::Display for UtcSecond {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}T{:02}:{:02}:{:02}Z",
            date(&self.0.date()),
            self.0.hour(),
            self.0.minute(),
            self.0.second()
        )
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

    const OFFER: &str = "5e0f6a7b-8c9d-4e1f-a2b3-c4d5e6f7a8b9";
    const LIEN: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

    #[test]
    fn pledge_message() {
        let action = SignedAction::Pledge {
            offer: id(OFFER),
            subject: Subject::Asset(id(RECEIVABLE)),
            amount: money("96000", "JPY"),
            bank: id(BANK),
            nonce: Nonce::parse("idem-2027-03-01-0001").unwrap(),
        };
        assert_eq!(action.action_name(), "pledge");
        assert_eq!(
            action.canonical_message(),
            "anchorfin/v1/pledge\n\
             offer=5e0f6a7b-8c9d-4e1f-a2b3-c4d5e6f7a8b9\n\
             subject=asset:0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90\n\
             amount=96000\n\
             currency=JPY\n\
             bank=c0ffee00-1234-4abc-8def-0123456789ab\n\
             nonce=idem-2027-03-01-0001"
        );
    }

    #[test]
    fn assign_message_writes_the_price_as_amount() {
        let action = SignedAction::Assign {
            offer: id(OFFER),
            subject: Subject::Asset(id(RECEIVABLE)),
            price: money("1.5", "BHD"),
            bank: id(BANK),
            nonce: Nonce::parse("7f0e3c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b").unwrap(),
        };
        assert_eq!(action.action_name(), "assign");
        assert_eq!(
            action.canonical_message(),
            "anchorfin/v1/assign\n\
             offer=5e0f6a7b-8c9d-4e1f-a2b3-c4d5e6f7a8b9\n\
             subject=asset:0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90\n\
             amount=1.500\n\
             currency=BHD\n\
             bank=c0ffee00-1234-4abc-8def-0123456789ab\n\
             nonce=7f0e3c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b"
        );
    }

    #[test]
    fn offer_messages_name_the_subject_bank_terms_and_holder() {
        let expires_at = UtcSecond::parse("2027-01-31T18:00:00Z").unwrap();
        let pledge = SignedAction::OfferPledge {
            subject: Subject::Asset(id(RECEIVABLE)),
            bank: id(BANK),
            amount: money("800", "CNY"),
            expires_at,
            holder: id(SUPPLIER),
            nonce: Nonce::parse("offer-2027-0001").unwrap(),
        };
        assert_eq!(
            pledge.canonical_message(),
            "anchorfin/v1/offer_pledge\n\
             subject=asset:0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90\n\
             bank=c0ffee00-1234-4abc-8def-0123456789ab\n\
             amount=800.00\n\
             currency=CNY\n\
             expires_at=2027-01-31T18:00:00Z\n\
             holder=7d3a2b1c-0e9f-4d8c-b7a6-958473625140\n\
             nonce=offer-2027-0001"
        );
        let sale = SignedAction::OfferAssignment {
            subject: Subject::PurchaseOrder(id(RECEIVABLE)),
            bank: id(BANK),
            price: money("950", "CNY"),
            expires_at,
            holder: id(SUPPLIER),
            nonce: Nonce::parse("offer-2027-0002").unwrap(),
        };
        let message = sale.canonical_message();
        assert!(message.starts_with("anchorfin/v1/offer_assignment\nsubject=purchase_order:0b9e5a4c-"));
        assert!(message.contains("\namount=950.00\n"), "{message}");
        let withdrawal = SignedAction::WithdrawOffer {
            offer: id(OFFER),
            holder: id(SUPPLIER),
        };
        assert_eq!(
            withdrawal.canonical_message(),
            "anchorfin/v1/withdraw_offer\n\
             offer=5e0f6a7b-8c9d-4e1f-a2b3-c4d5e6f7a8b9\n\
             holder=7d3a2b1c-0e9f-4d8c-b7a6-958473625140"
        );
    }

    #[test]
    fn payment_receipt_and_loan_messages() {
        let payment = SignedAction::Payment {
            asset: id(RECEIVABLE),
            amount: money("1000", "CNY"),
            paid_on: NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
            buyer: id(BUYER),
            nonce: Nonce::parse("pay-1").unwrap(),
        };
        assert_eq!(
            payment.canonical_message(),
            "anchorfin/v1/payment\n\
             asset=0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90\n\
             amount=1000.00\n\
             currency=CNY\n\
             paid_on=2027-03-31\n\
             buyer=41e0c9d8-b7a6-4f5e-8d3c-2b1a09f8e7d6\n\
             nonce=pay-1"
        );
        let receipt = SignedAction::Receipt {
            lien: id(LIEN),
            amount: money("700", "CNY"),
            bank: id(BANK),
        };
        assert_eq!(
            receipt.canonical_message(),
            "anchorfin/v1/receipt\n\
             lien=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\n\
             amount=700.00\n\
             currency=CNY\n\
             bank=c0ffee00-1234-4abc-8def-0123456789ab"
        );
        let entry = LoanEntry {
            lien: id(LIEN),
            amount: money("650", "CNY"),
            value_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            reference: LoanReference::parse("LN 2026/0042 = tranche 1").unwrap(),
            bank: id(BANK),
            nonce: Nonce::parse("loan-1").unwrap(),
        };
        assert_eq!(
            SignedAction::Disbursement(entry.clone()).canonical_message(),
            "anchorfin/v1/disbursement\n\
             lien=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\n\
             amount=650.00\n\
             currency=CNY\n\
             value_date=2026-12-01\n\
             reference=LN 2026/0042 = tranche 1\n\
             bank=c0ffee00-1234-4abc-8def-0123456789ab\n\
             nonce=loan-1"
        );
        let repayment = SignedAction::Repayment(entry).canonical_message();
        assert!(repayment.starts_with("anchorfin/v1/repayment\nlien="), "{repayment}");
    }

    #[test]
    fn references_cannot_forge_lines() {
        for bad in ["a\nb", "a\rb", "a\u{85}b", "\tx", " padded", "padded ", ""] {
            assert!(LoanReference::parse(bad).is_err(), "{bad:?}");
        }
        assert!(LoanReference::parse(&"x".repeat(101)).is_err());
        assert!(LoanReference::parse(&"贷".repeat(100)).is_ok());
    }

    #[test]
    fn utc_seconds_have_one_spelling() {
        let time = UtcSecond::parse("2027-01-31T18:00:05Z").unwrap();
        assert_eq!(time.to_string(), "2027-01-31T18:00:05Z");
        assert_eq!(UtcSecond::from_naive(time.naive()), time);
        for bad in [
            "2027-01-31T18:00:05+00:00",
            "2027-01-31T18:00:05.5Z",
            "2027-01-31 18:00:05Z",
            "2027-01-31T18:00Z",
            "2027-02-30T18:00:05Z",
            "2027-01-31T24:00:00Z",
            "2027-01-31t18:00:05z",
        ] {
            assert_eq!(UtcSecond::parse(bad), Err(UtcSecondError), "{bad}");
        }
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
