//! Sealed entries (format version 2): the public header of a business entry
//! proves the log's shape and nothing else. Everything an outsider could
//! learn business from — the kind, the ids, the fingerprint, the actor, its
//! key and signature, amounts — is in the private body, which the header
//! commits to with a salted SHA-256. Anyone recomputes every leaf and the
//! tree; a party given the body and its salt checks it against the header
//! and the signature inside it against the signer's key.
//!
//! Layout, version 2 (big-endian, no padding), always 42 bytes:
//!
//! ```text
//! u8   version = 2
//! u8   class = 1 (business)
//! i64  time, whole seconds since the Unix epoch (UTC), truncated
//! [32] commitment = SHA-256("anchorfin/v1/entry-details\0" ‖ salt ‖ body JSON)
//! ```
//!
//! The body is the JSON of [`SealedBody`], hashed exactly as stored and
//! served (the `json` of an entry's details), so no canonical re-encoding
//! is needed to check it. Onboarding an organisation and registering its
//! keys stay public (version 1, [`super::EntryHeader`]): the keys that
//! verify signatures are themselves on the log.

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entry::{details_hash, EntryError, EntryHeader};
use super::merkle::Hash;
use super::rotation::{KeyRotation, ROTATION_VERSION};

/// The version byte of sealed entries.
pub const SEALED_VERSION: u8 = 2;

/// The one class of sealed entries so far.
pub const BUSINESS_CLASS: u8 = 1;

/// The kind an outsider sees of a sealed business entry.
pub const BUSINESS_KIND: &str = "business";

/// The public header of a sealed entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedHeader {
    pub class: u8,
    /// Whole seconds since the epoch, UTC (the exact time is in the body).
    pub time_seconds: i64,
    /// Salted SHA-256 of the body's JSON.
    pub commitment: Hash,
}

impl SealedHeader {
    pub const LEN: usize = 1 + 1 + 8 + 32;

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(SEALED_VERSION);
        out.push(self.class);
        out.extend_from_slice(&self.time_seconds.to_be_bytes());
        out.extend_from_slice(&self.commitment);
        out
    }

    /// Parses the canonical bytes; anything else is refused.
    pub fn decode(bytes: &[u8]) -> Result<Self, EntryError> {
        if bytes.len() < Self::LEN {
            return Err(EntryError::Truncated);
        }
        if bytes.len() > Self::LEN {
            return Err(EntryError::TrailingBytes(bytes.len() - Self::LEN));
        }
        if bytes[0] != SEALED_VERSION {
            return Err(EntryError::UnsupportedVersion(bytes[0]));
        }
        if bytes[1] != BUSINESS_CLASS {
            return Err(EntryError::UnknownClass(bytes[1]));
        }
        let mut time = [0u8; 8];
        time.copy_from_slice(&bytes[2..10]);
        let mut commitment = [0u8; 32];
        commitment.copy_from_slice(&bytes[10..42]);
        Ok(SealedHeader {
            class: bytes[1],
            time_seconds: i64::from_be_bytes(time),
            commitment,
        })
    }
}

/// What a sealed entry commits to: everything a public (version 1) header
/// would say, and the details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedBody {
    pub kind: String,
    pub subjects: Vec<String>,
    /// Hex, when the entry is about a receivable or a purchase order.
    pub fingerprint: Option<String>,
    pub actor: Option<String>,
    /// The exact time, microseconds since the epoch, UTC.
    pub time_micros: i64,
    /// Hex of the signer's ed25519 key, for signed actions.
    pub signer_key: Option<String>,
    /// Hex of the signature over `details.message`, for signed actions.
    pub signature: Option<String>,
    pub details: Value,
}

/// Any entry, by its version byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Public(EntryHeader),
    Sealed(SealedHeader),
    /// A handover of the log to a new signing key ([`super::rotation`]).
    Rotation(KeyRotation),
}

impl Entry {
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        match bytes.first() {
            Some(&SEALED_VERSION) => SealedHeader::decode(bytes).map(Entry::Sealed),
            Some(&ROTATION_VERSION) => KeyRotation::decode(bytes).map(Entry::Rotation),
            Some(_) => EntryHeader::decode(bytes).map(Entry::Public),
            None => Err(EntryError::Truncated),
        }
    }
}

/// Why a body does not open a sealed header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the body does not match the commitment in the header")]
    Commitment,
    #[error("the body is not a sealed entry's JSON: {0}")]
    Malformed(String),
    #[error("the body's time is not the header's second")]
    Time,
    #[error("the signer key and signature must be both present or both absent")]
    HalfSignature,
    #[error("the signature does not verify over the details' message with the signer key")]
    Signature,
}

/// Seals `body` (its JSON as stored) under `salt`, at its own time.
pub fn seal(salt: &[u8; 32], body_json: &str, time_micros: i64) -> SealedHeader {
    SealedHeader {
        class: BUSINESS_CLASS,
        time_seconds: time_micros.div_euclid(1_000_000),
        commitment: details_hash(salt, body_json.as_bytes()),
    }
}

/// Checks a body against its sealed header, and the signature inside it
/// over the details' `message` with the signer key it names; returns the
/// body. Whether that key was the actor's is the caller's to check (the
/// keys are public on the log).
pub fn open(header: &SealedHeader, salt: &[u8; 32], body_json: &str) -> Result<SealedBody, SealError> {
    if details_hash(salt, body_json.as_bytes()) != header.commitment {
        return Err(SealError::Commitment);
    }
    let body: SealedBody = serde_json::from_str(body_json).map_err(|error| SealError::Malformed(error.to_string()))?;
    if body.time_micros.div_euclid(1_000_000) != header.time_seconds {
        return Err(SealError::Time);
    }
    match (&body.signer_key, &body.signature) {
        (None, None) => {}
        (Some(key), Some(signature)) => {
            let key: [u8; 32] = hex::decode(key)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(SealError::Signature)?;
            let signature: [u8; 64] = hex::decode(signature)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(SealError::Signature)?;
            let message = body.details["message"].as_str().ok_or(SealError::Signature)?;
            VerifyingKey::from_bytes(&key)
                .map_err(|_| SealError::Signature)?
                .verify_strict(message.as_bytes(), &Signature::from_bytes(&signature))
                .map_err(|_| SealError::Signature)?;
        }
        _ => return Err(SealError::HalfSignature),
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};
    use serde_json::json;

    use super::*;

    fn body(signing: Option<&SigningKey>) -> String {
        let message = "anchorfin/v1/dispute\nreceivable=r\nfingerprint=f\nbuyer=b";
        let (key, signature) = match signing {
            Some(signing) => (
                Some(hex::encode(signing.verifying_key().to_bytes())),
                Some(hex::encode(signing.sign(message.as_bytes()).to_bytes())),
            ),
            None => (None, None),
        };
        serde_json::to_string(&SealedBody {
            kind: "receivable_disputed".to_owned(),
            subjects: vec!["r".to_owned()],
            fingerprint: Some("ab".repeat(32)),
            actor: Some("b".to_owned()),
            time_micros: 1_764_000_000_654_321,
            signer_key: key,
            signature,
            details: json!({ "message": message, "reason": "goods not delivered" }),
        })
        .unwrap()
    }

    #[test]
    fn a_sealed_header_says_nothing_but_its_second_and_commitment() {
        let json = body(None);
        let header = seal(&[3; 32], &json, 1_764_000_000_654_321);
        let bytes = header.encode();
        assert_eq!(bytes.len(), 42);
        assert_eq!(&bytes[..2], &[2, 1]);
        assert_eq!(i64::from_be_bytes(bytes[2..10].try_into().unwrap()), 1_764_000_000);
        assert_eq!(Entry::decode(&bytes), Ok(Entry::Sealed(header)));
        assert!(!String::from_utf8_lossy(&bytes).contains("receivable"));
    }

    #[test]
    fn a_party_opens_it_and_checks_the_signature_inside() {
        let signing = SigningKey::from_bytes(&[5; 32]);
        let json = body(Some(&signing));
        let header = seal(&[3; 32], &json, 1_764_000_000_654_321);
        let opened = open(&header, &[3; 32], &json).unwrap();
        assert_eq!(opened.kind, "receivable_disputed");
        assert_eq!(open(&header, &[4; 32], &json), Err(SealError::Commitment));
        let edited = json.replace("goods not delivered", "goods delivered");
        assert_eq!(open(&header, &[3; 32], &edited), Err(SealError::Commitment));
        // A body whose signature is not over its message, resealed by
        // whoever holds the salt: the commitment holds, the signature not.
        let forged = json.replace("buyer=b", "buyer=c");
        let resealed = seal(&[3; 32], &forged, 1_764_000_000_654_321);
        assert_eq!(open(&resealed, &[3; 32], &forged), Err(SealError::Signature));
        let late = SealedHeader {
            time_seconds: header.time_seconds + 1,
            ..header
        };
        assert_eq!(open(&late, &[3; 32], &json), Err(SealError::Time));
    }

    #[test]
    fn decoding_is_strict() {
        let bytes = seal(&[0; 32], "{}", 0).encode();
        assert_eq!(Entry::decode(&bytes[..41]), Err(EntryError::Truncated));
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(Entry::decode(&long), Err(EntryError::TrailingBytes(1)));
        let mut class = bytes.clone();
        class[1] = 2;
        assert_eq!(Entry::decode(&class), Err(EntryError::UnknownClass(2)));
        assert_eq!(Entry::decode(&[9]), Err(EntryError::UnsupportedVersion(9)));
        assert_eq!(Entry::decode(&[]), Err(EntryError::Truncated));
    }
}
