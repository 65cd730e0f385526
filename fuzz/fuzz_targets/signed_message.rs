//! The canonical messages parties sign, and the parsers of their values.
//!
//! Actions are built from fuzz input through the domain parsers the API
//! uses (`Nonce`, `LoanReference`, `UtcSecond`, `Money`, `Currency`,
//! `Fingerprint`, ISO dates). Properties: every parsed value written out
//! parses back equal; a message has no carriage return and no trailing
//! newline; and reading the message back (with the strict reader below)
//! gives the very action that wrote it, so no two statements share a
//! message and no value can forge a line. Public keys and signatures: one
//! that parses is written back as given, in lower case (one spelling each).

#![no_main]

use anchorfin::domain::{
    Currency, Fingerprint, LoanEntry, LoanReference, Money, Nonce, PublicKey, Signature, SignedAction, Subject,
    UtcSecond, MESSAGE_PREFIX,
};
use anchorfin::validation::{iso_date, EARLIEST_DATE, LATEST_DATE};
use chrono::{Datelike, NaiveDate};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

fuzz_target!(|data: &[u8]| {
    let mut input = Unstructured::new(data);
    if let Ok(key) = input.arbitrary::<[u8; 32]>() {
        check_public_key(&key);
    }
    if let Ok(signature) = input.arbitrary::<[u8; 64]>() {
        let hex = hex::encode(signature);
        let parsed = Signature::parse_hex(&hex.to_uppercase()).expect("128 hex characters");
        assert_eq!(parsed.to_hex(), hex);
    }
    let Ok(action) = action(&mut input) else { return };
    let message = action.canonical_message();
    assert!(!message.contains('\r'), "{message:?}");
    assert!(!message.ends_with('\n'), "{message:?}");
    assert_eq!(
        read(&message).as_ref(),
        Some(&action),
        "the message does not read back:\n{message}"
    );
});

/// A public key that parses has exactly one spelling: its hex, lower case.
fn check_public_key(bytes: &[u8; 32]) {
    let hex = hex::encode(bytes);
    if let Ok(key) = PublicKey::parse_hex(&hex) {
        assert_eq!(key.to_hex(), hex);
        assert_eq!(PublicKey::parse_hex(&hex.to_uppercase()), Ok(key));
    }
}

fn action(input: &mut Unstructured) -> Result<SignedAction> {
    Ok(match input.int_in_range(0..=11u8)? {
        0 => SignedAction::AcknowledgePo {
            purchase_order: id(input)?,
            fingerprint: fingerprint(input)?,
            amount: money(input)?,
            buyer: id(input)?,
        },
        1 => SignedAction::Confirm {
            receivable: id(input)?,
            fingerprint: fingerprint(input)?,
            amount: money(input)?,
            due_date: date(input)?,
            supplier: id(input)?,
            buyer: id(input)?,
        },
        2 => SignedAction::Dispute {
            receivable: id(input)?,
            fingerprint: fingerprint(input)?,
            buyer: id(input)?,
        },
        3 => SignedAction::OfferPledge {
            subject: subject(input)?,
            bank: id(input)?,
            amount: money(input)?,
            expires_at: utc_second(input)?,
            holder: id(input)?,
            nonce: nonce(input)?,
        },
        4 => SignedAction::OfferAssignment {
            subject: subject(input)?,
            bank: id(input)?,
            price: money(input)?,
            expires_at: utc_second(input)?,
            holder: id(input)?,
            nonce: nonce(input)?,
        },
        5 => SignedAction::WithdrawOffer {
            offer: id(input)?,
            holder: id(input)?,
        },
        6 => SignedAction::Pledge {
            offer: id(input)?,
            subject: subject(input)?,
            amount: money(input)?,
            bank: id(input)?,
            nonce: nonce(input)?,
        },
        7 => SignedAction::Assign {
            offer: id(input)?,
            subject: subject(input)?,
            price: money(input)?,
            bank: id(input)?,
            nonce: nonce(input)?,
        },
        8 => SignedAction::Disbursement(loan_entry(input)?),
        9 => SignedAction::Repayment(loan_entry(input)?),
        10 => SignedAction::Payment {
            asset: id(input)?,
            amount: money(input)?,
            paid_on: date(input)?,
            buyer: id(input)?,
            nonce: nonce(input)?,
        },
        _ => SignedAction::Receipt {
            lien: id(input)?,
            amount: money(input)?,
            bank: id(input)?,
        },
    })
}

fn id(input: &mut Unstructured) -> Result<Uuid> {
    Ok(Uuid::from_bytes(input.arbitrary()?))
}

fn subject(input: &mut Unstructured) -> Result<Subject> {
    Ok(if input.arbitrary()? {
        Subject::Asset(id(input)?)
    } else {
        Subject::PurchaseOrder(id(input)?)
    })
}

fn fingerprint(input: &mut Unstructured) -> Result<Fingerprint> {
    if input.arbitrary()? {
        if let Ok(parsed) = Fingerprint::parse_hex(input.arbitrary()?) {
            assert_eq!(Fingerprint::parse_hex(&parsed.to_hex()), Ok(parsed.clone()));
            return Ok(parsed);
        }
    }
    let bytes: [u8; 32] = input.arbitrary()?;
    Ok(Fingerprint::from_bytes(&bytes).expect("32 bytes"))
}

fn money(input: &mut Unstructured) -> Result<Money> {
    let currency = if input.arbitrary()? {
        Currency::parse(input.arbitrary()?).ok()
    } else {
        None
    };
    let currency = match currency {
        Some(currency) => currency,
        None => *input.choose(&Currency::all().collect::<Vec<_>>())?,
    };
    assert_eq!(Currency::parse(currency.code()), Ok(currency));
    if input.arbitrary()? {
        let raw: &str = input.arbitrary()?;
        if let Ok(parsed) = Money::parse(raw, currency) {
            assert_eq!(Money::parse(&parsed.amount_string(), currency), Ok(parsed), "{raw:?}");
            return Ok(parsed);
        }
    }
    let minor_units: i64 = input.arbitrary()?;
    let money = Money::from_minor_units(minor_units.checked_abs().unwrap_or(i64::MAX).max(1), currency)
        .expect("positive minor units");
    assert_eq!(Money::parse(&money.amount_string(), currency), Ok(money));
    Ok(money)
}

/// A date as the API reads one (ISO 8601, 1900 to 2200).
fn date(input: &mut Unstructured) -> Result<NaiveDate> {
    if input.arbitrary()? {
        if let Ok(parsed) = iso_date(input.arbitrary()?) {
            assert_eq!(iso_date(&parsed.format("%Y-%m-%d").to_string()), Ok(parsed));
            return Ok(parsed);
        }
    }
    let span = LATEST_DATE.num_days_from_ce() - EARLIEST_DATE.num_days_from_ce();
    let days = input.int_in_range(0..=span)?;
    Ok(NaiveDate::from_num_days_from_ce_opt(EARLIEST_DATE.num_days_from_ce() + days).expect("in range"))
}

fn utc_second(input: &mut Unstructured) -> Result<UtcSecond> {
    let raw: String = if input.arbitrary()? {
        input.arbitrary::<&str>()?.to_owned()
    } else {
        let year = input.int_in_range(0..=9999)?;
        let (month, day) = (input.int_in_range(1..=12)?, input.int_in_range(1..=31)?);
        let (hour, minute, second) = (
            input.int_in_range(0..=23)?,
            input.int_in_range(0..=59)?,
            input.int_in_range(0..=59)?,
        );
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    };
    match UtcSecond::parse(&raw) {
        Ok(parsed) => {
            assert_eq!(parsed.to_string(), raw, "a UTC second has one spelling");
            assert_eq!(UtcSecond::from_naive(parsed.naive()), parsed);
            Ok(parsed)
        }
        Err(_) => Ok(UtcSecond::parse("2027-01-31T18:00:00Z").expect("valid")),
    }
}

fn nonce(input: &mut Unstructured) -> Result<Nonce> {
    if input.arbitrary()? {
        if let Ok(parsed) = Nonce::parse(input.arbitrary()?) {
            assert_eq!(Nonce::parse(parsed.as_str()), Ok(parsed.clone()));
            return Ok(parsed);
        }
    }
    // Visible ASCII but '=', 1 to 255 characters, from the input's bytes.
    let length = input.int_in_range(1..=255usize)?;
    let raw: String = input
        .bytes(length.min(input.len()).max(1))
        .unwrap_or(b"k")
        .iter()
        .map(|&byte| match b'!' + byte % 94 {
            b'=' => '_',
            visible => char::from(visible),
        })
        .collect();
    Ok(Nonce::parse(&raw).expect("visible ASCII other than '='"))
}

fn loan_entry(input: &mut Unstructured) -> Result<LoanEntry> {
    let lien = id(input)?;
    let amount = money(input)?;
    let value_date = date(input)?;
    let reference = match LoanReference::parse(input.arbitrary()?) {
        Ok(parsed) => {
            assert_eq!(LoanReference::parse(parsed.as_str()), Ok(parsed.clone()));
            parsed
        }
        Err(_) => LoanReference::parse("LN 2026/0042 = tranche 1").expect("valid"),
    };
    Ok(LoanEntry {
        lien,
        amount,
        value_date,
        reference,
        bank: id(input)?,
        nonce: nonce(input)?,
    })
}

/// Reads a canonical message back into its action, strictly: the fields in
/// their order, each value in its one canonical spelling; anything else is
/// `None`.
fn read(message: &str) -> Option<SignedAction> {
    let mut lines = message.split('\n');
    let name = lines.next()?.strip_prefix(MESSAGE_PREFIX)?;
    let fields = lines.map(|line| line.split_once('=')).collect::<Option<Vec<_>>>()?;
    let mut fields = Fields(fields.into_iter());
    let fields = &mut fields;
    let action = match name {
        "acknowledge_po" => SignedAction::AcknowledgePo {
            purchase_order: fields.id("purchase_order")?,
            fingerprint: fields.fingerprint()?,
            amount: fields.money()?,
            buyer: fields.id("buyer")?,
        },
        "confirm" => SignedAction::Confirm {
            receivable: fields.id("receivable")?,
            fingerprint: fields.fingerprint()?,
            amount: fields.money()?,
            due_date: fields.date("due_date")?,
            supplier: fields.id("supplier")?,
            buyer: fields.id("buyer")?,
        },
        "dispute" => SignedAction::Dispute {
            receivable: fields.id("receivable")?,
            fingerprint: fields.fingerprint()?,
            buyer: fields.id("buyer")?,
        },
        "offer_pledge" => SignedAction::OfferPledge {
            subject: fields.subject()?,
            bank: fields.id("bank")?,
            amount: fields.money()?,
            expires_at: UtcSecond::parse(fields.take("expires_at")?).ok()?,
            holder: fields.id("holder")?,
            nonce: fields.nonce()?,
        },
        "offer_assignment" => SignedAction::OfferAssignment {
            subject: fields.subject()?,
            bank: fields.id("bank")?,
            price: fields.money()?,
            expires_at: UtcSecond::parse(fields.take("expires_at")?).ok()?,
            holder: fields.id("holder")?,
            nonce: fields.nonce()?,
        },
        "withdraw_offer" => SignedAction::WithdrawOffer {
            offer: fields.id("offer")?,
            holder: fields.id("holder")?,
        },
        "pledge" => SignedAction::Pledge {
            offer: fields.id("offer")?,
            subject: fields.subject()?,
            amount: fields.money()?,
            bank: fields.id("bank")?,
            nonce: fields.nonce()?,
        },
        "assign" => SignedAction::Assign {
            offer: fields.id("offer")?,
            subject: fields.subject()?,
            price: fields.money()?,
            bank: fields.id("bank")?,
            nonce: fields.nonce()?,
        },
        "disbursement" => SignedAction::Disbursement(fields.loan_entry()?),
        "repayment" => SignedAction::Repayment(fields.loan_entry()?),
        "payment" => SignedAction::Payment {
            asset: fields.id("asset")?,
            amount: fields.money()?,
            paid_on: fields.date("paid_on")?,
            buyer: fields.id("buyer")?,
            nonce: fields.nonce()?,
        },
        "receipt" => SignedAction::Receipt {
            lien: fields.id("lien")?,
            amount: fields.money()?,
            bank: fields.id("bank")?,
        },
        _ => return None,
    };
    fields.0.next().is_none().then_some(action)
}

struct Fields<'a>(std::vec::IntoIter<(&'a str, &'a str)>);

impl<'a> Fields<'a> {
    fn take(&mut self, key: &str) -> Option<&'a str> {
        let (found, value) = self.0.next()?;
        (found == key).then_some(value)
    }

    fn id(&mut self, key: &str) -> Option<Uuid> {
        canonical_id(self.take(key)?)
    }

    fn fingerprint(&mut self) -> Option<Fingerprint> {
        let raw = self.take("fingerprint")?;
        Fingerprint::parse_hex(raw).ok().filter(|parsed| parsed.to_hex() == raw)
    }

    fn money(&mut self) -> Option<Money> {
        let amount = self.take("amount")?;
        let currency = Currency::parse(self.take("currency")?).ok()?;
        Money::parse(amount, currency)
            .ok()
            .filter(|parsed| parsed.amount_string() == amount)
    }

    fn date(&mut self, key: &str) -> Option<NaiveDate> {
        let raw = self.take(key)?;
        let parsed = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
        let canonical = format!("{:04}-{:02}-{:02}", parsed.year(), parsed.month(), parsed.day());
        (canonical == raw).then_some(parsed)
    }

    fn subject(&mut self) -> Option<Subject> {
        let raw = self.take("subject")?;
        if let Some(id) = raw.strip_prefix("asset:") {
            return canonical_id(id).map(Subject::Asset);
        }
        canonical_id(raw.strip_prefix("purchase_order:")?).map(Subject::PurchaseOrder)
    }

    fn nonce(&mut self) -> Option<Nonce> {
        Nonce::parse(self.take("nonce")?).ok()
    }

    fn loan_entry(&mut self) -> Option<LoanEntry> {
        Some(LoanEntry {
            lien: self.id("lien")?,
            amount: self.money()?,
            value_date: self.date("value_date")?,
            reference: LoanReference::parse(self.take("reference")?).ok()?,
            bank: self.id("bank")?,
            nonce: self.nonce()?,
        })
    }
}

fn canonical_id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw)
        .ok()
        .filter(|id| id.hyphenated().to_string() == raw)
}
