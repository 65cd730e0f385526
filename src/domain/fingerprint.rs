//! Fingerprints: the identity of a receivable or purchase order.
//!
//! The ledger refuses a second asset with a fingerprint it already holds,
//! which is what makes double financing impossible. A fingerprint hashes the
//! *normalised* identifiers, so format variants of one invoice collide on
//! purpose, and nothing else does.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::identifier::{InvoiceNumber, LegalId, PoNumber};

/// Domain-separation tag of receivable fingerprints.
pub const RECEIVABLE_TAG: &[u8] = b"anchorfin/fingerprint/receivable/v1";
/// Domain-separation tag of purchase-order fingerprints.
pub const PURCHASE_ORDER_TAG: &[u8] = b"anchorfin/fingerprint/purchase_order/v1";
/// Domain tag of credit-note fingerprints.
pub const CREDIT_NOTE_TAG: &[u8] = b"anchorfin/fingerprint/credit_note/v1";

/// A SHA-256 digest over a tagged, length-prefixed encoding of normalised
/// identifiers. Written as 64 lower-case hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FingerprintError {
    #[error("fingerprint must be 64 hexadecimal characters")]
    NotHex,
}

impl Fingerprint {
    /// The fingerprint of the invoice `invoice` that `seller` issued to
    /// `buyer`: SHA-256 of [`RECEIVABLE_TAG`], then, for the normalised
    /// seller, buyer and invoice number in that order, a 4-byte big-endian
    /// byte length followed by the UTF-8 bytes.
    ///
    /// The length prefixes keep ("AB", "C") apart from ("A", "BC"); the tag
    /// keeps a receivable apart from a purchase order with the same fields.
    pub fn receivable(seller: &LegalId, buyer: &LegalId, invoice: &InvoiceNumber) -> Fingerprint {
        tagged_hash(
            RECEIVABLE_TAG,
            &[seller.normalized(), buyer.normalized(), invoice.normalized()],
        )
    }

    /// The fingerprint of purchase order `po` that `buyer` placed with
    /// `supplier`: as [`Fingerprint::receivable`] with
    /// [`PURCHASE_ORDER_TAG`] and the fields buyer, supplier, PO number.
    pub fn purchase_order(buyer: &LegalId, supplier: &LegalId, po: &PoNumber) -> Fingerprint {
        tagged_hash(
            PURCHASE_ORDER_TAG,
            &[buyer.normalized(), supplier.normalized(), po.normalized()],
        )
    }

    /// The fingerprint of credit note `number` that `seller` issued to
    /// `buyer`: as [`Fingerprint::receivable`] with [`CREDIT_NOTE_TAG`], so
    /// a credit note never collides with an invoice of the same number.
    pub fn credit_note(seller: &LegalId, buyer: &LegalId, number: &InvoiceNumber) -> Fingerprint {
        tagged_hash(
            CREDIT_NOTE_TAG,
            &[seller.normalized(), buyer.normalized(), number.normalized()],
        )
    }

    /// A fingerprint stored as its 32 raw bytes; `None` for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Fingerprint> {
        bytes.try_into().ok().map(Fingerprint)
    }

    /// Parses 64 hex characters, upper or lower case.
    pub fn parse_hex(raw: &str) -> Result<Fingerprint, FingerprintError> {
        let mut bytes = [0_u8; 32];
        if raw.len() != 64 {
            return Err(FingerprintError::NotHex);
        }
        hex::decode_to_slice(raw, &mut bytes).map_err(|_| FingerprintError::NotHex)?;
        Ok(Fingerprint(bytes))
    }

    /// 64 lower-case hex characters, the form used in signed messages.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Domain-separation of stored (keyed) fingerprints.
const STORED_TAG: &[u8] = b"anchorfin/fingerprint/stored/v1\0";
/// Domain-separation of the key's check value.
const CHECK_TAG: &[u8] = b"anchorfin/fingerprint/key-check/v1\0";

/// The platform's fingerprint secret: fingerprints are stored and compared
/// as HMAC-SHA256 under it, so that whoever reads the database without it
/// cannot test guessed invoice numbers against what is registered. The API
/// still speaks plain fingerprints, which a bank computes from the invoice
/// in front of it. Never printed.
#[derive(Clone, Copy)]
pub struct FingerprintKey([u8; 32]);

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(…)")
    }
}

impl FingerprintKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, tag: &[u8], message: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        // An HMAC takes a key of any length: this cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts any key length"),
        };
        mac.update(tag);
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// How `fingerprint` is stored and looked up.
    pub fn stored(&self, fingerprint: &Fingerprint) -> [u8; 32] {
        self.mac(STORED_TAG, &fingerprint.0)
    }

    /// A value that tells this key from another without revealing it: kept
    /// in the database, so that a server started with another key refuses
    /// to run instead of missing every fingerprint.
    pub fn check_value(&self) -> [u8; 32] {
        self.mac(CHECK_TAG, b"")
    }
}

fn tagged_hash(tag: &[u8], fields: &[&str]) -> Fingerprint {
    let mut hasher = Sha256::new();
    hasher.update(tag);
    for field in fields {
        // Identifiers are at most 64 characters before normalisation, far
        // below 4 GiB; saturating keeps this total without a panic path.
        let length = u32::try_from(field.len()).unwrap_or(u32::MAX);
        hasher.update(length.to_be_bytes());
        hasher.update(field.as_bytes());
    }
    Fingerprint(hasher.finalize().into())
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = FingerprintError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Fingerprint::parse_hex(raw)
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = FingerprintError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Fingerprint::parse_hex(&raw)
    }
}

impl From<Fingerprint> for String {
    fn from(fingerprint: Fingerprint) -> String {
        fingerprint.to_hex()
    }
}

#[cfg(test)]
mod keyed_tests {
    use super::*;

    #[test]
    fn stored_fingerprints_depend_on_the_key_and_are_stable() {
        let fingerprint = Fingerprint([7; 32]);
        let key = FingerprintKey::from_bytes([1; 32]);
        let stored = key.stored(&fingerprint);
        assert_ne!(&stored, fingerprint.as_bytes());
        assert_ne!(stored, FingerprintKey::from_bytes([2; 32]).stored(&fingerprint));
        assert_ne!(stored, key.stored(&Fingerprint([8; 32])));
        assert_ne!(stored, key.check_value());
        // A vector computed with Python's hmac module: changing the
        // construction would orphan every stored fingerprint.
        assert_eq!(
            hex::encode(stored),
            "ace22e9255d8fddf02ec0b854bb9092cd7ed97e01afd620d3966971ae4cb53cd"
        );
        assert_eq!(format!("{key:?}"), "FingerprintKey(…)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legal(raw: &str) -> LegalId {
        LegalId::parse(raw).unwrap()
    }

    fn invoice(raw: &str) -> InvoiceNumber {
        InvoiceNumber::parse(raw).unwrap()
    }

    fn po(raw: &str) -> PoNumber {
        PoNumber::parse(raw).unwrap()
    }

    const SELLER: &str = "91310000MA1FL2ABCD";
    const BUYER: &str = "5493001234567890AB";

    #[test]
    fn format_variants_of_one_invoice_share_a_fingerprint() {
        let expected = Fingerprint::receivable(&legal(SELLER), &legal(BUYER), &invoice("INV-2024-001"));
        let variants = [
            ("91310000-ma1fl2abcd", "5493 0012 3456 7890 ab", "inv 2024 001"),
            (
                "９１３１００００ＭＡ１ＦＬ２ＡＢＣＤ",
                "5493.0012.3456.7890.AB",
                "ＩＮＶ－２０２４－００１",
            ),
            (" 0091310000MA1FL2ABCD ", "5493_0012_3456_7890_AB", "INV/2024/001"),
            (
                "91310000\u{00A0}MA1FL2ABCD",
                "5493\u{2013}0012\u{2013}3456\u{2013}7890\u{2013}AB",
                "0INV2024001",
            ),
        ];
        for (seller, buyer, number) in variants {
            assert_eq!(
                Fingerprint::receivable(&legal(seller), &legal(buyer), &invoice(number)),
                expected,
                "{seller:?} {buyer:?} {number:?}"
            );
        }
    }

    #[test]
    fn different_fields_give_different_fingerprints() {
        let base = Fingerprint::receivable(&legal(SELLER), &legal(BUYER), &invoice("INV-001"));
        let others = [
            Fingerprint::receivable(&legal(SELLER), &legal(BUYER), &invoice("INV-002")),
            Fingerprint::receivable(&legal(SELLER), &legal(BUYER), &invoice("INV-0010")),
            Fingerprint::receivable(&legal(BUYER), &legal(SELLER), &invoice("INV-001")),
            Fingerprint::receivable(&legal("91310000MA1FL2ABCE"), &legal(BUYER), &invoice("INV-001")),
            Fingerprint::purchase_order(&legal(SELLER), &legal(BUYER), &po("INV-001")),
        ];
        for other in others {
            assert_ne!(other, base);
        }
    }

    #[test]
    fn length_prefixes_keep_field_boundaries() {
        let ab_c = Fingerprint::receivable(&legal("AB"), &legal("C"), &invoice("D"));
        let a_bc = Fingerprint::receivable(&legal("A"), &legal("BC"), &invoice("D"));
        assert_ne!(ab_c, a_bc);
    }

    #[test]
    fn receivable_encoding_is_pinned() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"anchorfin/fingerprint/receivable/v1");
        bytes.extend_from_slice(&[0, 0, 0, 18]);
        bytes.extend_from_slice(b"91310000MA1FL2ABCD");
        bytes.extend_from_slice(&[0, 0, 0, 18]);
        bytes.extend_from_slice(b"5493001234567890AB");
        bytes.extend_from_slice(&[0, 0, 0, 10]);
        bytes.extend_from_slice(b"INV2024001");
        let expected: [u8; 32] = Sha256::digest(&bytes).into();

        let fingerprint = Fingerprint::receivable(
            &legal("91310000-MA1FL2ABCD"),
            &legal("5493 0012 3456 7890 AB"),
            &invoice("INV-2024-001"),
        );
        assert_eq!(fingerprint.as_bytes(), &expected);
        assert_eq!(
            fingerprint.to_hex(),
            "f2e052d6fec2778046aaa296d8aa20d75b7475a24e315a73a3348be1cfff9f8c"
        );
    }

    #[test]
    fn purchase_order_encoding_is_pinned() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"anchorfin/fingerprint/purchase_order/v1");
        bytes.extend_from_slice(&[0, 0, 0, 18]);
        bytes.extend_from_slice(b"5493001234567890AB");
        bytes.extend_from_slice(&[0, 0, 0, 18]);
        bytes.extend_from_slice(b"91310000MA1FL2ABCD");
        bytes.extend_from_slice(&[0, 0, 0, 6]);
        bytes.extend_from_slice(b"PO7731");
        let expected: [u8; 32] = Sha256::digest(&bytes).into();

        let fingerprint = Fingerprint::purchase_order(
            &legal("5493001234567890AB"),
            &legal("91310000MA1FL2ABCD"),
            &po("po-7731"),
        );
        assert_eq!(fingerprint.as_bytes(), &expected);
        assert_eq!(
            fingerprint.to_hex(),
            "06c444474d10f4d9beecbc9f98997d813a887768afe73048e74d05c0e0a4577e"
        );
    }

    #[test]
    fn multi_byte_lengths_count_bytes() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(RECEIVABLE_TAG);
        for field in ["A", "B", "发票001"] {
            bytes.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
            bytes.extend_from_slice(field.as_bytes());
        }
        assert_eq!("发票001".len(), 9);
        let expected: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(
            Fingerprint::receivable(&legal("a"), &legal("b"), &invoice("发票-001")).as_bytes(),
            &expected
        );
    }

    #[test]
    fn hex_round_trips_in_either_case() {
        let fingerprint = Fingerprint::receivable(&legal(SELLER), &legal(BUYER), &invoice("1"));
        let hex = fingerprint.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(hex, hex.to_lowercase());
        assert_eq!(Fingerprint::parse_hex(&hex), Ok(fingerprint));
        assert_eq!(Fingerprint::parse_hex(&hex.to_uppercase()), Ok(fingerprint));
        assert_eq!(fingerprint.to_string(), hex);
        assert_eq!(format!("{fingerprint:?}"), format!("Fingerprint({hex})"));
    }

    #[test]
    fn malformed_hex_is_refused() {
        let valid = "ab".repeat(32);
        for raw in [
            String::new(),
            "ab".repeat(31),
            "ab".repeat(33),
            format!("{}zz", "ab".repeat(31)),
            format!(" {}", &valid[1..]),
            format!("{}é", &valid[2..]),
            format!("0x{}", &valid[2..]),
        ] {
            assert_eq!(Fingerprint::parse_hex(&raw), Err(FingerprintError::NotHex), "{raw:?}");
        }
    }

    #[test]
    fn serde_uses_lower_case_hex() {
        let fingerprint = Fingerprint::receivable(&legal(SELLER), &legal(BUYER), &invoice("1"));
        let json = serde_json::to_string(&fingerprint).unwrap();
        assert_eq!(json, format!("\"{}\"", fingerprint.to_hex()));
        assert_eq!(serde_json::from_str::<Fingerprint>(&json).unwrap(), fingerprint);
        assert!(serde_json::from_str::<Fingerprint>("\"abc\"").is_err());
    }
}
