//! Ed25519 public keys and signatures, in the hex forms the API uses.
//!
//! Parties sign the canonical messages of [`super::signed_message`] with
//! their own keys; the platform checks them with `verify_strict`, which
//! refuses malleable signatures and small-order keys, so that a signature
//! proves exactly one statement by exactly one key.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

/// An organisation's registered ed25519 verifying key: a canonical encoding
/// of a curve point that is not of small order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicKey(VerifyingKey);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    #[error("public key must be 64 hexadecimal characters (32 bytes)")]
    NotHex,
    #[error("public key is not a valid ed25519 point")]
    InvalidPoint,
    #[error("public key is not in canonical form (its y-coordinate is not reduced)")]
    NonCanonical,
    #[error("public key is a weak (small-order) ed25519 key")]
    Weak,
}

impl PublicKey {
    /// Parses 64 hex characters (either case) of a compressed point.
    ///
    /// Refuses bytes that are not a point, non-canonical encodings (a point
    /// written with y >= p, which would give one key two hex spellings and
    /// defeat the "key already registered" check) and weak keys, which can
    /// "sign" almost any message.
    pub fn parse_hex(raw: &str) -> Result<PublicKey, PublicKeyError> {
        let mut bytes = [0_u8; 32];
        if raw.len() != 64 {
            return Err(PublicKeyError::NotHex);
        }
        hex::decode_to_slice(raw, &mut bytes).map_err(|_| PublicKeyError::NotHex)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| PublicKeyError::InvalidPoint)?;
        if key.to_edwards().compress().to_bytes() != bytes {
            return Err(PublicKeyError::NonCanonical);
        }
        if key.is_weak() {
            return Err(PublicKeyError::Weak);
        }
        Ok(PublicKey(key))
    }

    /// 64 lower-case hex characters: the stored and displayed form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl TryFrom<String> for PublicKey {
    type Error = PublicKeyError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        PublicKey::parse_hex(&raw)
    }
}

impl From<PublicKey> for String {
    fn from(key: PublicKey) -> String {
        key.to_hex()
    }
}

/// An ed25519 signature as sent by a client: 128 hex characters (R || s).
/// Whether R and s are canonical is checked when verifying.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Signature(ed25519_dalek::Signature);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureParseError {
    #[error("signature must be 128 hexadecimal characters (64 bytes)")]
    NotHex,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signer has no registered public key")]
    NoKeys,
    #[error("the signature does not verify against any registered public key of the signer")]
    Invalid,
}

impl Signature {
    /// Parses 128 hex characters, upper or lower case.
    pub fn parse_hex(raw: &str) -> Result<Signature, SignatureParseError> {
        let mut bytes = [0_u8; 64];
        if raw.len() != 128 {
            return Err(SignatureParseError::NotHex);
        }
        hex::decode_to_slice(raw, &mut bytes).map_err(|_| SignatureParseError::NotHex)?;
        Ok(Signature(ed25519_dalek::Signature::from_bytes(&bytes)))
    }

    /// 128 lower-case hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }
}

impl From<ed25519_dalek::Signature> for Signature {
    fn from(signature: ed25519_dalek::Signature) -> Self {
        Signature(signature)
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl TryFrom<String> for Signature {
    type Error = SignatureParseError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Signature::parse_hex(&raw)
    }
}

impl From<Signature> for String {
    fn from(signature: Signature) -> String {
        signature.to_hex()
    }
}

/// Checks `signature` over `message` against each of an organisation's keys
/// (it may hold several during a rotation) and returns the first key that
/// verifies, so the ledger can record which key signed.
pub fn verify_with_any(keys: &[PublicKey], message: &[u8], signature: &Signature) -> Result<PublicKey, SignatureError> {
    if keys.is_empty() {
        return Err(SignatureError::NoKeys);
    }
    keys.iter()
        .find(|key| key.0.verify_strict(message, &signature.0).is_ok())
        .copied()
        .ok_or(SignatureError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn public_key(seed: u8) -> PublicKey {
        PublicKey::parse_hex(&hex::encode(signing_key(seed).verifying_key().as_bytes())).unwrap()
    }

    fn sign(seed: u8, message: &[u8]) -> Signature {
        Signature::parse_hex(&hex::encode(signing_key(seed).sign(message).to_bytes())).unwrap()
    }

    #[test]
    fn public_keys_round_trip_through_hex() {
        let key = public_key(1);
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(hex, hex.to_lowercase());
        assert_eq!(PublicKey::parse_hex(&hex.to_uppercase()), Ok(key));
        assert_eq!(key.to_string(), hex);
        assert_eq!(format!("{key:?}"), format!("PublicKey({hex})"));
        assert_eq!(key.as_bytes(), signing_key(1).verifying_key().as_bytes());
    }

    #[test]
    fn public_key_hex_must_be_64_hex_characters() {
        let hex = public_key(1).to_hex();
        for raw in [
            String::new(),
            hex[2..].to_owned(),
            format!("{hex}00"),
            format!("{}zz", &hex[2..]),
            format!(" {}", &hex[1..]),
        ] {
            assert_eq!(PublicKey::parse_hex(&raw), Err(PublicKeyError::NotHex), "{raw:?}");
        }
    }

    #[test]
    fn bytes_that_are_not_a_point_are_refused() {
        // y = 2 is not the y-coordinate of any point of edwards25519.
        let mut bytes = [0_u8; 32];
        bytes[0] = 2;
        assert_eq!(
            PublicKey::parse_hex(&hex::encode(bytes)),
            Err(PublicKeyError::InvalidPoint)
        );
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        // y = 3 is a point of large order; y = p + 3 (p = 2^255 - 19) is
        // another spelling of it, which the curve library accepts.
        let mut canonical = [0_u8; 32];
        canonical[0] = 3;
        let mut non_canonical = [0xff_u8; 32];
        non_canonical[0] = 0xed + 3;
        non_canonical[31] = 0x7f;
        assert!(PublicKey::parse_hex(&hex::encode(canonical)).is_ok());
        assert!(VerifyingKey::from_bytes(&non_canonical).is_ok());
        assert_eq!(
            PublicKey::parse_hex(&hex::encode(non_canonical)),
            Err(PublicKeyError::NonCanonical)
        );
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity (y = 1) and the point of order 2 (y = -1): small order.
        let mut identity = [0_u8; 32];
        identity[0] = 1;
        let mut order_two = [0xff_u8; 32];
        order_two[0] = 0xec;
        order_two[31] = 0x7f;
        for bytes in [identity, order_two] {
            assert_eq!(PublicKey::parse_hex(&hex::encode(bytes)), Err(PublicKeyError::Weak));
        }
        assert_eq!(
            PublicKeyError::Weak.to_string(),
            "public key is a weak (small-order) ed25519 key"
        );
    }

    #[test]
    fn signatures_must_be_128_hex_characters() {
        let hex = sign(1, b"m").to_hex();
        assert_eq!(hex.len(), 128);
        assert_eq!(Signature::parse_hex(&hex.to_uppercase()).unwrap().to_hex(), hex);
        for raw in [
            String::new(),
            hex[2..].to_owned(),
            format!("{hex}00"),
            format!("{}zz", &hex[2..]),
        ] {
            assert_eq!(Signature::parse_hex(&raw), Err(SignatureParseError::NotHex), "{raw:?}");
        }
    }

    #[test]
    fn verify_with_any_returns_the_key_that_signed() {
        let message = b"anchorfin/v1/dispute\nreceivable=x";
        let keys = [public_key(1), public_key(2), public_key(3)];
        assert_eq!(verify_with_any(&keys, message, &sign(2, message)), Ok(public_key(2)));
        assert_eq!(verify_with_any(&keys, message, &sign(3, message)), Ok(public_key(3)));
    }

    #[test]
    fn verify_with_any_refuses_other_keys_messages_and_empty_key_lists() {
        let message = b"anchorfin/v1/dispute\nreceivable=x";
        let keys = [public_key(1), public_key(2)];
        assert_eq!(
            verify_with_any(&keys, message, &sign(9, message)),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify_with_any(&keys, b"anchorfin/v1/dispute\nreceivable=y", &sign(1, message)),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify_with_any(&[], message, &sign(1, message)),
            Err(SignatureError::NoKeys)
        );
        let mut flipped = sign(1, message).to_bytes();
        flipped[10] ^= 1;
        let flipped = Signature::parse_hex(&hex::encode(flipped)).unwrap();
        assert_eq!(verify_with_any(&keys, message, &flipped), Err(SignatureError::Invalid));
    }

    #[test]
    fn malleated_signatures_are_refused() {
        // s + l (the group order) verifies under lax checks but not strictly.
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let message = b"m";
        let mut bytes = sign(1, message).to_bytes();
        let mut carry = 0_u16;
        for (byte, l) in bytes[32..].iter_mut().zip(L) {
            let sum = u16::from(*byte) + u16::from(l) + carry;
            *byte = (sum & 0xff) as u8;
            carry = sum >> 8;
        }
        let malleated = Signature::parse_hex(&hex::encode(bytes)).unwrap();
        assert_eq!(
            verify_with_any(&[public_key(1)], message, &malleated),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn serde_uses_hex() {
        let key = public_key(4);
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{}\"", key.to_hex()));
        assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), key);
        let signature = sign(4, b"m");
        let json = serde_json::to_string(&signature).unwrap();
        assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), signature);
        assert!(serde_json::from_str::<PublicKey>("\"00\"").is_err());
    }
}
