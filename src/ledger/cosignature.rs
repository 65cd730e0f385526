//! Verifier keys and witness cosignatures (C2SP `signed-note` and
//! `tlog-cosignature`).
//!
//! A verifier key names a signer in one line of text:
//!
//! ```text
//! <name>+<key id, 8 hex digits>+<base64(signature type ‖ public key)>
//! ```
//!
//! Type 0x01 is an Ed25519 signed-note key (the log's: key id
//! SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)\[:4\], [`super::note_key_id`]); type 0x04
//! an Ed25519 `cosignature/v1` key (a witness's: key id SHA-256(name ‖ "\n"
//! ‖ 0x04 ‖ key)\[:4\]).
//!
//! A cosignature is a signature line `— <witness name> base64(key id ‖
//! timestamp ‖ signature)`, the timestamp a big-endian u64 of seconds since
//! the epoch, the signature an Ed25519 signature over
//!
//! ```text
//! cosignature/v1
//! time <timestamp, decimal>
//! <the checkpoint's note text, with its final newline>
//! ```
//!
//! which states "as of this time, this is the largest consistent tree head I
//! have seen for this origin". An Anchorfin witness that mirrors the log
//! also states "and I hold every entry up to its size" (C2SP `tlog-mirror`).

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature types this code knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// An Ed25519 signed-note key (0x01): the log signs its checkpoints so.
    Ed25519Note,
    /// An Ed25519 `cosignature/v1` key (0x04): a witness cosigns so.
    CosignatureV1,
}

impl KeyType {
    pub fn byte(self) -> u8 {
        match self {
            Self::Ed25519Note => 0x01,
            Self::CosignatureV1 => 0x04,
        }
    }

    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0x01 => Some(Self::Ed25519Note),
            0x04 => Some(Self::CosignatureV1),
            _ => None,
        }
    }
}

/// A named public key, as a verifier key line describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub key_type: KeyType,
    pub key: VerifyingKey,
}

/// Why a verifier key line was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifierKeyError {
    #[error("a verifier key is name+keyid+base64key: {0}")]
    Malformed(&'static str),
    #[error("signature type 0x{0:02x} is not one this service knows (0x01 log key, 0x04 cosignature/v1 key)")]
    UnknownType(u8),
    #[error("the key id does not match the name and key")]
    WrongKeyId,
}

/// Why a signature line is not a valid cosignature by a given key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("the note has no signature line of {0:?} with its key id")]
    Missing(String),
    #[error("the cosignature of {0:?} does not verify")]
    BadSignature(String),
    #[error("{0:?} is not a cosignature/v1 key")]
    NotACosigner(String),
}

/// SHA-256(name ‖ "\n" ‖ type ‖ key)\[:4\], as C2SP `signed-note` computes a
/// key id.
pub fn key_id(name: &str, key_type: KeyType, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([key_type.byte()]);
    hasher.update(key.as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    [digest[0], digest[1], digest[2], digest[3]]
}

impl VerifierKey {
    /// The log's key: checkpoints are signed notes under its origin.
    pub fn log(origin: &str, key: VerifyingKey) -> Self {
        Self {
            name: origin.to_owned(),
            key_type: KeyType::Ed25519Note,
            key,
        }
    }

    /// A witness's `cosignature/v1` key.
    pub fn witness(name: &str, key: VerifyingKey) -> Self {
        Self {
            name: name.to_owned(),
            key_type: KeyType::CosignatureV1,
            key,
        }
    }

    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, self.key_type, &self.key)
    }

    /// Parses `name+keyid+base64`, checking the key id against the rest.
    pub fn parse(text: &str) -> Result<Self, VerifierKeyError> {
        let text = text.trim();
        // The name may not contain '+' and the key id is hex, so the first
        // two '+' split the line (base64 may contain '+').
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(VerifierKeyError::Malformed("fewer than two '+'"));
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(VerifierKeyError::Malformed("the name is empty or has white space"));
        }
        if id_hex.len() != 8 || !id_hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(VerifierKeyError::Malformed("the key id is not 8 hexadecimal digits"));
        }
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| VerifierKeyError::Malformed("the key is not base64"))?;
        let (&type_byte, key_bytes) = bytes
            .split_first()
            .ok_or(VerifierKeyError::Malformed("the key is empty"))?;
        let key_type = KeyType::from_byte(type_byte).ok_or(VerifierKeyError::UnknownType(type_byte))?;
        let key_bytes: [u8; 32] = key_bytes
            .try_into()
            .map_err(|_| VerifierKeyError::Malformed("an Ed25519 key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| VerifierKeyError::Malformed("not an Ed25519 public key"))?;
        let parsed = Self {
            name: name.to_owned(),
            key_type,
            key,
        };
        if hex::encode(parsed.key_id()) != id_hex.to_ascii_lowercase() {
            return Err(VerifierKeyError::WrongKeyId);
        }
        Ok(parsed)
    }

    /// The signature lines of `note` that carry this key's name and id,
    /// decoded (key id stripped), to be checked.
    pub(super) fn signatures<'a>(&'a self, note: &'a str) -> impl Iterator<Item = Vec<u8>> + 'a {
        let prefix = format!("\u{2014} {} ", self.name);
        let id = self.key_id();
        signature_lines(note)
            .filter_map(move |line| line.strip_prefix(prefix.as_str()).map(str::to_owned))
            .filter_map(|blob| STANDARD.decode(blob).ok())
            .filter(move |blob| blob.len() > 4 && blob[..4] == id)
            .map(|blob| blob[4..].to_vec())
    }

    /// Checks this witness's cosignature on `note` (a signed checkpoint
    /// with any number of signature lines) and returns its timestamp.
    pub fn verify_cosignature(&self, note: &str) -> Result<u64, CosignatureError> {
        if self.key_type != KeyType::CosignatureV1 {
            return Err(CosignatureError::NotACosigner(self.name.clone()));
        }
        let text = note_text(note);
        let mut seen = false;
        for blob in self.signatures(note) {
            seen = true;
            let Ok(timestamp) = <[u8; 8]>::try_from(&blob[..blob.len().min(8)]).map(u64::from_be_bytes) else {
                continue;
            };
            let Ok(signature) = Signature::from_slice(&blob[8..]) else {
                continue;
            };
            if self
                .key
                .verify(cosigned_message(text, timestamp).as_bytes(), &signature)
                .is_ok()
            {
                return Ok(timestamp);
            }
        }
        Err(if seen {
            CosignatureError::BadSignature(self.name.clone())
        } else {
            CosignatureError::Missing(self.name.clone())
        })
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut material = Vec::with_capacity(33);
        material.push(self.key_type.byte());
        material.extend_from_slice(self.key.as_bytes());
        write!(
            formatter,
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            STANDARD.encode(material)
        )
    }
}

/// The note text of a signed note (up to and with the newline before the
/// last blank line: C2SP `signed-note` lets the text hold blank lines, the
/// signatures cannot); the whole input when it has no signatures.
pub fn note_text(note: &str) -> &str {
    match note.rfind("\n\n") {
        Some(split) => &note[..=split],
        None => note,
    }
}

/// The signature lines of a signed note, without their newlines.
pub fn signature_lines(note: &str) -> impl Iterator<Item = &str> {
    let signatures = note.rfind("\n\n").map_or("", |split| &note[split + 2..]);
    signatures.lines().filter(|line| line.starts_with('\u{2014}'))
}

/// The message a `cosignature/v1` signs for checkpoint note `text` at
/// `timestamp` (seconds since the epoch).
pub fn cosigned_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// A witness's cosignature line (with its newline) on the checkpoint whose
/// note text is `text`, made at `timestamp`.
pub fn cosign(name: &str, key: &SigningKey, text: &str, timestamp: u64) -> String {
    let signature = key.sign(cosigned_message(text, timestamp).as_bytes());
    let id = key_id(name, KeyType::CosignatureV1, &key.verifying_key());
    signature_line(name, &id, &[&timestamp.to_be_bytes(), &signature.to_bytes()])
}

/// A signature line (with its newline): `— <name> base64(key id ‖ parts)`.
pub(super) fn signature_line(name: &str, key_id: &[u8; 4], parts: &[&[u8]]) -> String {
    let mut blob = key_id.to_vec();
    for part in parts {
        blob.extend_from_slice(part);
    }
    format!("\u{2014} {name} {}\n", STANDARD.encode(blob))
}

/// The witnesses among `witnesses` whose cosignature on `note` verifies,
/// each once, with the time it cosigned.
pub fn valid_cosigners<'a>(note: &str, witnesses: &'a [VerifierKey]) -> Vec<(&'a VerifierKey, u64)> {
    let mut valid: Vec<(&VerifierKey, u64)> = Vec::new();
    for witness in witnesses {
        if valid
            .iter()
            .any(|(seen, _)| seen.name == witness.name && seen.key == witness.key)
        {
            continue;
        }
        if let Ok(timestamp) = witness.verify_cosignature(note) {
            valid.push((witness, timestamp));
        }
    }
    valid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{note_key_id, Checkpoint};

    fn log_key() -> SigningKey {
        SigningKey::from_bytes(&[42; 32])
    }

    fn witness_key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "anchorfin.local/ledger".to_owned(),
            size: 4,
            root_hash: [0xab; 32],
            timestamp_ms: 1_764_000_000_000,
        }
    }

    #[test]
    fn verifier_keys_round_trip_and_name_their_type() {
        let log = VerifierKey::log("anchorfin.local/ledger", log_key().verifying_key());
        let text = log.to_string();
        assert_eq!(VerifierKey::parse(&text), Ok(log.clone()));
        // The log's key id is the one its checkpoints' signature lines carry.
        assert_eq!(
            log.key_id(),
            note_key_id("anchorfin.local/ledger", &log_key().verifying_key())
        );
        let material = |text: &str| STANDARD.decode(text.splitn(3, '+').nth(2).unwrap()).unwrap();
        assert!(text.starts_with(&format!("anchorfin.local/ledger+{}+", hex::encode(log.key_id()))));
        assert_eq!(material(&text)[0], 0x01);
        assert_eq!(&material(&text)[1..], log_key().verifying_key().as_bytes());
        let witness = VerifierKey::witness("bank-a.example/witness", witness_key().verifying_key());
        assert_eq!(material(&witness.to_string())[0], 0x04);
        assert_eq!(VerifierKey::parse(&witness.to_string()), Ok(witness.clone()));
        assert_ne!(
            witness.key_id(),
            VerifierKey::log("bank-a.example/witness", witness.key).key_id()
        );
    }

    #[test]
    fn refuses_malformed_verifier_keys() {
        let good = VerifierKey::witness("w", witness_key().verifying_key()).to_string();
        let encoded = good.splitn(3, '+').nth(2).unwrap();
        let wrong_id = format!("w+00000000+{encoded}");
        assert_eq!(VerifierKey::parse(&wrong_id), Err(VerifierKeyError::WrongKeyId));
        let mut material = STANDARD.decode(encoded).unwrap();
        material[0] = 0x02;
        let id = good.split('+').nth(1).unwrap();
        let unknown = format!("w+{id}+{}", STANDARD.encode(&material));
        assert_eq!(VerifierKey::parse(&unknown), Err(VerifierKeyError::UnknownType(0x02)));
        for bad in ["", "w", "w+abc", "+00000000+AQ==", "w+0000000g+AQ==", "w+00000000+!!"] {
            assert!(VerifierKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_cosignature_verifies_and_binds_note_time_and_key() {
        let signed = checkpoint().sign(&log_key());
        let line = cosign("w1", &witness_key(), &checkpoint().text(), 1_764_000_001);
        let cosigned = format!("{}{line}", signed.note);
        let witness = VerifierKey::witness("w1", witness_key().verifying_key());
        assert_eq!(witness.verify_cosignature(&cosigned), Ok(1_764_000_001));
        assert_eq!(valid_cosigners(&cosigned, &[witness.clone(), witness.clone()]).len(), 1);

        // Another size, another key, another name, a changed time: refused.
        let grown = cosigned.replacen("\n4\n", "\n5\n", 1);
        assert_eq!(
            witness.verify_cosignature(&grown),
            Err(CosignatureError::BadSignature("w1".into()))
        );
        let stranger = VerifierKey::witness("w1", log_key().verifying_key());
        assert_eq!(
            stranger.verify_cosignature(&cosigned),
            Err(CosignatureError::Missing("w1".into()))
        );
        let renamed = VerifierKey::witness("w2", witness_key().verifying_key());
        assert!(renamed.verify_cosignature(&cosigned).is_err());
        let mut blob = STANDARD.decode(line.trim_end().rsplit_once(' ').unwrap().1).unwrap();
        blob[11] ^= 1;
        let retimed = format!("{}\u{2014} w1 {}\n", signed.note, STANDARD.encode(&blob));
        assert_eq!(
            witness.verify_cosignature(&retimed),
            Err(CosignatureError::BadSignature("w1".into()))
        );
        // A log key is not a cosigner, even with the same name.
        let as_log = VerifierKey::log("w1", witness_key().verifying_key());
        assert_eq!(
            as_log.verify_cosignature(&cosigned),
            Err(CosignatureError::NotACosigner("w1".into()))
        );
    }

    #[test]
    fn signs_the_message_the_specification_spells_out() {
        // C2SP tlog-cosignature: two header lines, then the whole note body.
        assert_eq!(
            cosigned_message(&checkpoint().text(), 1_679_315_147),
            "cosignature/v1\ntime 1679315147\nanchorfin.local/ledger\n4\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\ntimestamp 1764000000000\n"
        );
        let line = cosign("w1", &witness_key(), &checkpoint().text(), 1_679_315_147);
        let blob = STANDARD
            .decode(line.trim_end().strip_prefix("\u{2014} w1 ").unwrap())
            .unwrap();
        assert_eq!(blob.len(), 4 + 8 + 64);
        assert_eq!(&blob[4..12], &1_679_315_147u64.to_be_bytes());
        let mut id_input = b"w1\n\x04".to_vec();
        id_input.extend_from_slice(witness_key().verifying_key().as_bytes());
        assert_eq!(&blob[..4], &Sha256::digest(&id_input)[..4]);
    }

    #[test]
    fn matches_an_independently_derived_vector() {
        // Derived outside this crate, from the C2SP tlog-cosignature text
        // alone: `anchorfin-go-checker derive-vector` (tests/interop/go,
        // Go's crypto/ed25519 with ed25519.NewKeyFromSeed([7; 32]), key id
        // SHA-256("w1" || "\n" || 0x04 || public key)[:4], then the u64
        // big-endian time and the signature over "cosignature/v1\ntime
        // 1679315147\n" + the note text). Ed25519 is deterministic, so
        // the line is too. docs/ARCHITECTURE.md ("Interoperability") tells how to rederive it.
        let line = cosign("w1", &witness_key(), &checkpoint().text(), 1_679_315_147);
        assert_eq!(
            line,
            "\u{2014} w1 TSsVigAAAABkGFDLVJf/6s5ZxkD0IxdeZVwgs54HJbrPBfDndJxU82V9oIS3/2KFdm+mA+qd34ELnNuCKzvjdAxZYQp040zMKoMXCg==\n"
        );
    }
}
