//! The canonical encoding of a public ledger entry's header (version 1):
//! the exact bytes its leaf hash covers. Onboarding an organisation and
//! registering its keys are written so; business entries are sealed
//! (version 2, [`super::sealed`]).
//!
//! Anyone can recompute every leaf from these bytes; the private details
//! (amounts, counterparties) enter only through `details_hash`, a salted
//! SHA-256 that a party who sees the details checks against the header.
//!
//! Layout, version 1 (all integers big-endian, no padding):
//!
//! ```text
//! u8  version = 1
//! u8  kind length, kind bytes ([a-z_]{1,64})
//! u8  subject count (≤ 16), per subject: u16 length, UTF-8 bytes (≤ 256)
//! u8  0 | 1, then the 32-byte fingerprint when 1
//! u8  0 | 1, then u16 length and the acting organisation's id when 1
//! i64 time, microseconds since the Unix epoch (UTC)
//! [32] details hash
//! u8  0 | 1, then the 32-byte signer key and 64-byte signature when 1
//! ```
//!
//! Decoding is strict: a flag other than 0 or 1, an unknown version, a kind
//! outside its alphabet, invalid UTF-8 or trailing bytes are refused, so one
//! header has exactly one encoding.

use sha2::{Digest, Sha256};

use super::merkle::Hash;

/// The only version this code writes and reads.
pub const ENTRY_VERSION: u8 = 1;

const MAX_KIND_LEN: usize = 64;
const MAX_SUBJECTS: usize = 16;
const MAX_TEXT_LEN: usize = 256;

/// Domain separation of the details hash from every other SHA-256 we compute.
const DETAILS_DOMAIN: &[u8] = b"anchorfin/v1/entry-details\0";

/// The public header of one ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryHeader {
    /// What happened, e.g. `org_onboarded`.
    pub kind: String,
    /// Ids of what the entry is about (organisation, receivable, asset …).
    pub subjects: Vec<String>,
    /// The receivable's or purchase order's fingerprint, when there is one.
    pub fingerprint: Option<Hash>,
    /// The acting organisation's id, when an organisation acted.
    pub actor: Option<String>,
    /// When the change was made, microseconds since the epoch, UTC.
    pub time_micros: i64,
    /// Salted SHA-256 of the canonical JSON of the private details.
    pub details_hash: Hash,
    /// The actor's ed25519 public key, for signed actions.
    pub signer_key: Option<[u8; 32]>,
    /// The actor's ed25519 signature over the action's canonical message.
    pub signature: Option<[u8; 64]>,
}

/// Why a header cannot be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("unsupported entry version {0}")]
    UnsupportedVersion(u8),
    #[error("unknown class {0} of a sealed entry")]
    UnknownClass(u8),
    #[error("kind must be 1 to 64 characters of a-z and _")]
    InvalidKind,
    #[error("at most {MAX_SUBJECTS} subjects are allowed")]
    TooManySubjects,
    #[error("{field} must be valid UTF-8 of at most {MAX_TEXT_LEN} bytes")]
    InvalidText { field: &'static str },
    #[error("signer key and signature must be both present or both absent")]
    HalfSignature,
    #[error("flag byte {0} is neither 0 nor 1")]
    InvalidFlag(u8),
    #[error("the entry ends early")]
    Truncated,
    #[error("{0} bytes follow the entry")]
    TrailingBytes(usize),
}

/// The salted hash of an entry's private details.
pub fn details_hash(salt: &[u8; 32], details: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(DETAILS_DOMAIN);
    hasher.update(salt);
    hasher.update(details);
    hasher.finalize().into()
}

fn valid_kind(kind: &str) -> bool {
    (1..=MAX_KIND_LEN).contains(&kind.len()) && kind.bytes().all(|byte| byte.is_ascii_lowercase() || byte == b'_')
}

impl EntryHeader {
    /// The canonical bytes of this header.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        if !valid_kind(&self.kind) {
            return Err(EntryError::InvalidKind);
        }
        if self.subjects.len() > MAX_SUBJECTS {
            return Err(EntryError::TooManySubjects);
        }
        let mut out = Vec::with_capacity(256);
        out.push(ENTRY_VERSION);
        out.push(self.kind.len() as u8);
        out.extend_from_slice(self.kind.as_bytes());
        out.push(self.subjects.len() as u8);
        for subject in &self.subjects {
            put_text(&mut out, subject, "subject")?;
        }
        match &self.fingerprint {
            Some(fingerprint) => {
                out.push(1);
                out.extend_from_slice(fingerprint);
            }
            None => out.push(0),
        }
        match &self.actor {
            Some(actor) => {
                out.push(1);
                put_text(&mut out, actor, "actor")?;
            }
            None => out.push(0),
        }
        out.extend_from_slice(&self.time_micros.to_be_bytes());
        out.extend_from_slice(&self.details_hash);
        match (&self.signer_key, &self.signature) {
            (Some(key), Some(signature)) => {
                out.push(1);
                out.extend_from_slice(key);
                out.extend_from_slice(signature);
            }
            (None, None) => out.push(0),
            _ => return Err(EntryError::HalfSignature),
        }
        Ok(out)
    }

    /// Parses canonical bytes; anything else is refused.
    pub fn decode(bytes: &[u8]) -> Result<Self, EntryError> {
        let mut reader = Reader { bytes };
        let version = reader.byte()?;
        if version != ENTRY_VERSION {
            return Err(EntryError::UnsupportedVersion(version));
        }
        let kind_len = usize::from(reader.byte()?);
        let kind = std::str::from_utf8(reader.take(kind_len)?)
            .map_err(|_| EntryError::InvalidKind)?
            .to_owned();
        if !valid_kind(&kind) {
            return Err(EntryError::InvalidKind);
        }
        let count = usize::from(reader.byte()?);
        if count > MAX_SUBJECTS {
            return Err(EntryError::TooManySubjects);
        }
        let mut subjects = Vec::with_capacity(count);
        for _ in 0..count {
            subjects.push(reader.text("subject")?);
        }
        let fingerprint = if reader.flag()? {
            Some(reader.array::<32>()?)
        } else {
            None
        };
        let actor = if reader.flag()? {
            Some(reader.text("actor")?)
        } else {
            None
        };
        let time_micros = i64::from_be_bytes(reader.array::<8>()?);
        let details_hash = reader.array::<32>()?;
        let (signer_key, signature) = if reader.flag()? {
            (Some(reader.array::<32>()?), Some(reader.array::<64>()?))
        } else {
            (None, None)
        };
        if !reader.bytes.is_empty() {
            return Err(EntryError::TrailingBytes(reader.bytes.len()));
        }
        Ok(EntryHeader {
            kind,
            subjects,
            fingerprint,
            actor,
            time_micros,
            details_hash,
            signer_key,
            signature,
        })
    }
}

fn put_text(out: &mut Vec<u8>, text: &str, field: &'static str) -> Result<(), EntryError> {
    if text.len() > MAX_TEXT_LEN {
        return Err(EntryError::InvalidText { field });
    }
    out.extend_from_slice(&(text.len() as u16).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8], EntryError> {
        if self.bytes.len() < count {
            return Err(EntryError::Truncated);
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, EntryError> {
        Ok(self.take(1)?[0])
    }

    fn flag(&mut self) -> Result<bool, EntryError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(EntryError::InvalidFlag(other)),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EntryError> {
        self.take(N)?.try_into().map_err(|_| EntryError::Truncated)
    }

    fn text(&mut self, field: &'static str) -> Result<String, EntryError> {
        let len = usize::from(u16::from_be_bytes(self.array::<2>()?));
        if len > MAX_TEXT_LEN {
            return Err(EntryError::InvalidText { field });
        }
        std::str::from_utf8(self.take(len)?)
            .map(str::to_owned)
            .map_err(|_| EntryError::InvalidText { field })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EntryHeader {
        EntryHeader {
            kind: "receivable_confirmed".to_owned(),
            subjects: vec!["0b9e0000-0000-4000-8000-000000000001".to_owned(), "a".to_owned()],
            fingerprint: Some([7; 32]),
            actor: Some("41e00000-0000-4000-8000-000000000002".to_owned()),
            time_micros: 1_764_000_000_123_456,
            details_hash: [9; 32],
            signer_key: Some([1; 32]),
            signature: Some([2; 64]),
        }
    }

    #[test]
    fn round_trips_with_and_without_optional_parts() {
        let full = sample();
        assert_eq!(EntryHeader::decode(&full.encode().unwrap()), Ok(full.clone()));
        let bare = EntryHeader {
            subjects: vec![],
            fingerprint: None,
            actor: None,
            signer_key: None,
            signature: None,
            ..full
        };
        let bytes = bare.encode().unwrap();
        assert_eq!(bytes.len(), 1 + 1 + 20 + 1 + 1 + 1 + 8 + 32 + 1);
        assert_eq!(EntryHeader::decode(&bytes), Ok(bare));
    }

    #[test]
    fn encoding_is_fixed() {
        // A recorded vector: changing the layout changes every leaf ever written.
        let header = EntryHeader {
            kind: "org_onboarded".to_owned(),
            subjects: vec!["x".to_owned()],
            fingerprint: None,
            actor: None,
            time_micros: 1,
            details_hash: [0; 32],
            signer_key: None,
            signature: None,
        };
        let expected = format!(
            "010d{}0100017800000000000000000001{}00",
            hex::encode("org_onboarded"),
            "00".repeat(32)
        );
        assert_eq!(hex::encode(header.encode().unwrap()), expected);
    }

    #[test]
    fn refuses_what_is_not_canonical() {
        let bytes = sample().encode().unwrap();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(EntryHeader::decode(&trailing), Err(EntryError::TrailingBytes(1)));
        for cut in 0..bytes.len() {
            assert!(EntryHeader::decode(&bytes[..cut]).is_err(), "prefix of {cut} bytes");
        }
        let mut version = bytes.clone();
        version[0] = 2;
        assert_eq!(EntryHeader::decode(&version), Err(EntryError::UnsupportedVersion(2)));
        let mut kind = bytes.clone();
        kind[2] = b'R';
        assert_eq!(EntryHeader::decode(&kind), Err(EntryError::InvalidKind));
        let mut flag = sample();
        flag.subjects.clear();
        let mut flagged = flag.encode().unwrap();
        let fingerprint_flag = 2 + flag.kind.len() + 1;
        flagged[fingerprint_flag] = 2;
        assert_eq!(EntryHeader::decode(&flagged), Err(EntryError::InvalidFlag(2)));
    }

    #[test]
    fn refuses_to_encode_invalid_headers() {
        let mut header = sample();
        header.kind = "Bad-Kind".to_owned();
        assert_eq!(header.encode(), Err(EntryError::InvalidKind));
        let mut header = sample();
        header.signature = None;
        assert_eq!(header.encode(), Err(EntryError::HalfSignature));
        let mut header = sample();
        header.subjects = vec!["s".to_owned(); 17];
        assert_eq!(header.encode(), Err(EntryError::TooManySubjects));
        let mut header = sample();
        header.actor = Some("a".repeat(257));
        assert_eq!(header.encode(), Err(EntryError::InvalidText { field: "actor" }));
    }

    #[test]
    fn details_hash_depends_on_salt_and_details() {
        let base = details_hash(&[0; 32], b"{\"amount\":\"1.00\"}");
        assert_ne!(base, details_hash(&[1; 32], b"{\"amount\":\"1.00\"}"));
        assert_ne!(base, details_hash(&[0; 32], b"{\"amount\":\"1.01\"}"));
        assert_eq!(base, details_hash(&[0; 32], b"{\"amount\":\"1.00\"}"));
    }
}
