//! The statement of a certificate of non-encumbrance: what the log showed
//! about one fingerprint at one tree size, signed by the log's key as a
//! C2SP signed note (key name the log's origin, the same key id as its
//! checkpoints). Its text, each line ending in a newline:
//!
//! ```text
//! anchorfin/encumbrance-certificate/v1
//! origin <the log's origin>
//! fingerprint <64 hex: the fingerprint the bank asked about>
//! ledger_fingerprints <64 hex>[ <64 hex>]
//! registered yes|no
//! confirmed yes|no
//! encumbered yes|no
//! currency <ISO 4217 code>|none
//! face_value <decimal>|none
//! outstanding <decimal>|none
//! tree_size <decimal>
//! root_hash <base64 of 32 bytes>
//! issued_to <the bank's organisation id>
//! issued_at <RFC 3339, UTC>
//! entries <leaf index>[,<leaf index>…]|none
//! ```
//!
//! `ledger_fingerprints` are the keyed forms the ledger's entries record:
//! the asked fingerprint's, then, for an invoice under a purchase order,
//! the order's (a lien on the order reserves its invoices). `entries` are
//! the indexes, ascending, of every entry below `tree_size` that records
//! one of them and is of a kind in [`STATE_KINDS`]. The first line is
//! never a checkpoint's: a checkpoint's second line is a decimal size.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::merkle::Hash;

/// The first line of every statement.
pub const STATEMENT_HEADER: &str = "anchorfin/encumbrance-certificate/v1";

/// The kinds of entry a statement rests on: those that change whether the
/// fingerprint is registered, confirmed or encumbered, or its amounts.
/// Offers, loan records and alerts are left out: they change none of it.
pub const STATE_KINDS: &[&str] = &[
    "receivable_registered",
    "receivable_confirmed",
    "receivable_disputed",
    "receivable_superseded",
    "credit_note_recorded",
    "asset_split",
    "asset_pledged",
    "asset_assigned",
    "asset_paid",
    "lien_released",
    "lien_settled",
    "purchase_order_registered",
    "purchase_order_acknowledged",
    "purchase_order_pledged",
];

/// Kinds that encumber: each creates a lien (`details.lien_id`).
pub const LIEN_KINDS: &[&str] = &["asset_pledged", "asset_assigned", "purchase_order_pledged"];

/// Kinds that end a lien (`details.lien_id`).
pub const LIEN_ENDING_KINDS: &[&str] = &["lien_released", "lien_settled"];

/// Kinds that confirm the invoice or acknowledge the purchase order.
pub const CONFIRMING_KINDS: &[&str] = &["receivable_confirmed", "purchase_order_acknowledged"];

/// The amounts a bank may see of what it asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amounts {
    pub currency: String,
    pub face_value: String,
    pub outstanding: String,
}

/// What a certificate states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub origin: String,
    pub fingerprint: Hash,
    /// The keyed forms the entries record: the fingerprint's first.
    pub ledger_fingerprints: Vec<Hash>,
    pub registered: bool,
    pub confirmed: bool,
    pub encumbered: bool,
    /// `None` when the bank may not see them.
    pub amounts: Option<Amounts>,
    pub tree_size: u64,
    pub root_hash: Hash,
    pub issued_to: String,
    pub issued_at: String,
    /// Leaf indexes, ascending.
    pub entries: Vec<u64>,
}

/// Why a note's text is not a statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the statement's {line} line is malformed")]
pub struct StatementError {
    pub line: &'static str,
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

impl Statement {
    /// The note text the log signs.
    pub fn text(&self) -> String {
        let fingerprints: Vec<String> = self.ledger_fingerprints.iter().map(hex::encode).collect();
        let (currency, face_value, outstanding) = match &self.amounts {
            Some(amounts) => (
                amounts.currency.as_str(),
                amounts.face_value.as_str(),
                amounts.outstanding.as_str(),
            ),
            None => ("none", "none", "none"),
        };
        let entries = if self.entries.is_empty() {
            "none".to_owned()
        } else {
            self.entries.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
        };
        format!(
            "{STATEMENT_HEADER}\norigin {}\nfingerprint {}\nledger_fingerprints {}\nregistered {}\nconfirmed {}\n\
             encumbered {}\ncurrency {currency}\nface_value {face_value}\noutstanding {outstanding}\ntree_size {}\n\
             root_hash {}\nissued_to {}\nissued_at {}\nentries {entries}\n",
            self.origin,
            hex::encode(self.fingerprint),
            fingerprints.join(" "),
            yes_no(self.registered),
            yes_no(self.confirmed),
            yes_no(self.encumbered),
            self.tree_size,
            STANDARD.encode(self.root_hash),
            self.issued_to,
            self.issued_at,
        )
    }

    /// Parses a statement's note text (with its final newline), strictly:
    /// every line in its place, so one statement has one text.
    pub fn parse(text: &str) -> Result<Self, StatementError> {
        let body = text.strip_suffix('\n').ok_or(StatementError { line: "last" })?;
        let mut lines = body.split('\n');
        if lines.next() != Some(STATEMENT_HEADER) {
            return Err(StatementError { line: "first" });
        }
        let mut field = |name: &'static str| {
            lines
                .next()
                .and_then(|line| line.strip_prefix(name))
                .and_then(|rest| rest.strip_prefix(' '))
                .filter(|value| !value.is_empty())
                .ok_or(StatementError { line: name })
        };
        let origin = field("origin")?.to_owned();
        let fingerprint = hash_hex(field("fingerprint")?).ok_or(StatementError { line: "fingerprint" })?;
        let ledger_fingerprints = field("ledger_fingerprints")?
            .split(' ')
            .map(hash_hex)
            .collect::<Option<Vec<_>>>()
            .ok_or(StatementError {
                line: "ledger_fingerprints",
            })?;
        let flag = |name: &'static str, value: &str| match value {
            "yes" => Ok(true),
            "no" => Ok(false),
            _ => Err(StatementError { line: name }),
        };
        let registered = flag("registered", field("registered")?)?;
        let confirmed = flag("confirmed", field("confirmed")?)?;
        let encumbered = flag("encumbered", field("encumbered")?)?;
        let currency = field("currency")?;
        let face_value = field("face_value")?;
        let outstanding = field("outstanding")?;
        let amounts = match (currency, face_value, outstanding) {
            ("none", "none", "none") => None,
            ("none", _, _) | (_, "none", _) | (_, _, "none") => return Err(StatementError { line: "currency" }),
            (currency, face_value, outstanding) => Some(Amounts {
                currency: currency.to_owned(),
                face_value: face_value.to_owned(),
                outstanding: outstanding.to_owned(),
            }),
        };
        let tree_size = canonical_decimal(field("tree_size")?).ok_or(StatementError { line: "tree_size" })?;
        let root_hash = STANDARD
            .decode(field("root_hash")?)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(StatementError { line: "root_hash" })?;
        let issued_to = field("issued_to")?.to_owned();
        let issued_at = field("issued_at")?.to_owned();
        let entries = match field("entries")? {
            "none" => Vec::new(),
            list => list
                .split(',')
                .map(canonical_decimal)
                .collect::<Option<Vec<_>>>()
                .filter(|indexes| indexes.windows(2).all(|pair| pair[0] < pair[1]))
                .ok_or(StatementError { line: "entries" })?,
        };
        if lines.next().is_some() {
            return Err(StatementError { line: "last" });
        }
        let statement = Statement {
            origin,
            fingerprint,
            ledger_fingerprints,
            registered,
            confirmed,
            encumbered,
            amounts,
            tree_size,
            root_hash,
            issued_to,
            issued_at,
            entries,
        };
        // Anything that would print otherwise (a stray space, a "yes" where
        // "no" was meant to be unreadable) is not the statement's one text.
        if statement.text() != text {
            return Err(StatementError { line: "canonical" });
        }
        Ok(statement)
    }
}

fn hash_hex(text: &str) -> Option<Hash> {
    if text.len() != 64 || text.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return None;
    }
    hex::decode(text).ok()?.try_into().ok()
}

/// A decimal without sign or leading zeros.
fn canonical_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{open_note, sign_note, Checkpoint};
    use ed25519_dalek::SigningKey;

    fn statement() -> Statement {
        Statement {
            origin: "anchorfin.local/ledger".to_owned(),
            fingerprint: [0x11; 32],
            ledger_fingerprints: vec![[0x22; 32], [0x33; 32]],
            registered: true,
            confirmed: true,
            encumbered: false,
            amounts: Some(Amounts {
                currency: "CNY".to_owned(),
                face_value: "100.00".to_owned(),
                outstanding: "80.00".to_owned(),
            }),
            tree_size: 12,
            root_hash: [0xab; 32],
            issued_to: "bank-1".to_owned(),
            issued_at: "2026-12-01T15:00:00Z".to_owned(),
            entries: vec![3, 7],
        }
    }

    #[test]
    fn round_trips_through_its_one_text() {
        let text = statement().text();
        assert!(text.starts_with("anchorfin/encumbrance-certificate/v1\norigin anchorfin.local/ledger\n"));
        assert!(text.ends_with("\nentries 3,7\n"));
        assert_eq!(Statement::parse(&text), Ok(statement()));
        let bare = Statement {
            amounts: None,
            entries: Vec::new(),
            registered: false,
            confirmed: false,
            ledger_fingerprints: vec![[0x22; 32]],
            ..statement()
        };
        assert!(bare
            .text()
            .contains("\ncurrency none\nface_value none\noutstanding none\n"));
        assert_eq!(Statement::parse(&bare.text()), Ok(bare));
    }

    #[test]
    fn refuses_texts_that_are_not_its_own() {
        let text = statement().text();
        for (from, to, line) in [
            ("registered yes", "registered maybe", "registered"),
            ("entries 3,7", "entries 7,3", "entries"),
            ("entries 3,7", "entries 03,7", "entries"),
            ("tree_size 12", "tree_size +12", "tree_size"),
            ("currency CNY", "currency none", "currency"),
            (
                "anchorfin/encumbrance-certificate/v1",
                "anchorfin.local/ledger",
                "first",
            ),
            ("confirmed yes\n", "confirmed yes\nextra x\n", "encumbered"),
        ] {
            let changed = text.replacen(from, to, 1);
            assert_eq!(Statement::parse(&changed), Err(StatementError { line }), "{to}");
        }
        assert!(Statement::parse(&format!("{text}more x\n")).is_err());
    }

    #[test]
    fn a_signed_statement_is_no_checkpoint() {
        let key = SigningKey::from_bytes(&[42; 32]);
        let (note, _) = sign_note(&statement().text(), "anchorfin.local/ledger", &key);
        let text = open_note(&note, "anchorfin.local/ledger", &key.verifying_key()).unwrap();
        assert_eq!(Statement::parse(text), Ok(statement()));
        assert!(Checkpoint::parse(text).is_err());
        assert!(crate::ledger::open_checkpoint(&note, "anchorfin.local/ledger", &key.verifying_key()).is_err());
    }
}
