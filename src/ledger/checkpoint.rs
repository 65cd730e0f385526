//! Signed tree heads as C2SP `tlog-checkpoint` signed notes.
//!
//! A checkpoint's note text is
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//! timestamp <milliseconds since the epoch>
//! ```
//!
//! (the last line is a checkpoint extension line, so the time of the head is
//! signed too), each line ending in a newline. The signed note appends a blank
//! line and one signature line per signer, `— <key name> <base64(key id ‖
//! signature)>`, where the key name is the origin and the key id is the first
//! four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key) as C2SP
//! `signed-note` defines for Ed25519. The signature is over the note text.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::cosignature::{key_id, note_text, signature_line, KeyType, VerifierKey};
use super::merkle::Hash;

const TIMESTAMP_PREFIX: &str = "timestamp ";

/// A tree head before or after signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root_hash: Hash,
    pub timestamp_ms: i64,
}

/// A checkpoint with its signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The whole signed note: text, blank line, signature line.
    pub note: String,
    /// The raw ed25519 signature over the note text.
    pub signature: [u8; 64],
}

/// Why a signed note was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the note has no blank line between its text and its signatures")]
    NoSignatures,
    #[error("no signature line of key {0:?} with the expected key id")]
    NoSignatureByKey(String),
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the note text is not a checkpoint: {0}")]
    Malformed(&'static str),
    #[error("the origin is {found:?}, expected {expected:?}")]
    WrongOrigin { expected: String, found: String },
}

/// Why a name cannot be a log's origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the log origin {0:?} must be non-empty, with no white space and no '+' (a C2SP signed-note key name)")]
pub struct OriginError(pub String);

/// Checks that `origin` can name a log. It is the first line of every
/// checkpoint and the key name on its signature line, so C2SP
/// `signed-note`'s rule for key names applies: non-empty, no Unicode white
/// space, no '+'. Under any other origin (one with a line break, or none)
/// the log would sign notes that no verifier can open.
pub fn check_origin(origin: &str) -> Result<(), OriginError> {
    if origin.is_empty() || origin.contains(|c: char| c.is_whitespace() || c == '+') {
        return Err(OriginError(origin.to_owned()));
    }
    Ok(())
}

/// The C2SP key id of an Ed25519 signed-note key named `name`.
pub fn note_key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    key_id(name, KeyType::Ed25519Note, key)
}

impl Checkpoint {
    /// The note text the signature covers.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{TIMESTAMP_PREFIX}{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root_hash),
            self.timestamp_ms
        )
    }

    /// Signs the note text with the platform key, named by the origin, which
    /// must pass [`check_origin`] for the note to open again.
    pub fn sign(&self, key: &SigningKey) -> SignedCheckpoint {
        let (note, signature) = sign_note(&self.text(), &self.origin, key);
        SignedCheckpoint { note, signature }
    }

    /// Parses note text (with its trailing newline); checks no signature.
    pub(crate) fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("the text does not end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|origin| !origin.is_empty())
            .ok_or(CheckpointError::Malformed("no origin line"))?;
        let size_line = lines.next().ok_or(CheckpointError::Malformed("no size line"))?;
        // Decimal without a sign or leading zeros, so one size has one text.
        if size_line.is_empty()
            || !size_line.bytes().all(|byte| byte.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(CheckpointError::Malformed("the size is not a canonical decimal"));
        }
        let size = size_line
            .parse()
            .map_err(|_| CheckpointError::Malformed("the size does not fit in 64 bits"))?;
        let root_hash: Hash = lines
            .next()
            .and_then(|line| STANDARD.decode(line).ok())
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(CheckpointError::Malformed("the root hash is not 32 bytes of base64"))?;
        let mut timestamp_ms = None;
        for line in lines {
            if line.is_empty() {
                return Err(CheckpointError::Malformed("an empty extension line"));
            }
            if let Some(value) = line.strip_prefix(TIMESTAMP_PREFIX) {
                timestamp_ms = Some(
                    value
                        .parse()
                        .map_err(|_| CheckpointError::Malformed("the timestamp is not an integer"))?,
                );
            }
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root_hash,
            timestamp_ms: timestamp_ms.ok_or(CheckpointError::Malformed("no timestamp line"))?,
        })
    }
}

/// The checkpoint a signed note states, no signature checked: a verifier
/// that learns from the log itself which key must sign a head of this size
/// (after a rotation, [`super::rotation`]) reads it first, then opens the
/// note with that key.
pub fn unverified_checkpoint(note: &str) -> Result<Checkpoint, CheckpointError> {
    let split = note.rfind("\n\n").ok_or(CheckpointError::NoSignatures)?;
    Checkpoint::parse(&note[..=split])
}

/// Signs `text` (note text, each line ending in a newline) with `key`
/// named `name`: the C2SP signed note (text, blank line, one signature
/// line) and the raw signature.
pub fn sign_note(text: &str, name: &str, key: &SigningKey) -> (String, [u8; 64]) {
    let signature = key.sign(text.as_bytes()).to_bytes();
    let line = signature_line(name, &note_key_id(name, &key.verifying_key()), &[&signature]);
    (format!("{text}\n{line}"), signature)
}

/// Verifies a signed note's signature by `key` named `name` and returns its
/// text (with its final newline). Signature lines of other keys are
/// ignored, as C2SP allows co-signers.
pub fn open_note<'a>(note: &'a str, name: &str, key: &VerifyingKey) -> Result<&'a str, CheckpointError> {
    if !note.contains("\n\n") {
        return Err(CheckpointError::NoSignatures);
    }
    let text = note_text(note);
    let signature = VerifierKey::log(name, *key)
        .signatures(note)
        .find(|signature| signature.len() == 64)
        .ok_or_else(|| CheckpointError::NoSignatureByKey(name.to_owned()))?;
    let signature = Signature::from_slice(&signature).map_err(|_| CheckpointError::BadSignature)?;
    key.verify(text.as_bytes(), &signature)
        .map_err(|_| CheckpointError::BadSignature)?;
    Ok(text)
}

/// Verifies a signed note by `key` named `origin` and returns its checkpoint.
/// Signature lines of other keys are ignored, as C2SP allows co-signers.
pub fn open_checkpoint(note: &str, origin: &str, key: &VerifyingKey) -> Result<Checkpoint, CheckpointError> {
    let checkpoint = Checkpoint::parse(open_note(note, origin, key)?)?;
    if checkpoint.origin != origin {
        return Err(CheckpointError::WrongOrigin {
            expected: origin.to_owned(),
            found: checkpoint.origin,
        });
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[42; 32])
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
    fn signs_and_opens() {
        let signed = checkpoint().sign(&key());
        let opened = open_checkpoint(&signed.note, "anchorfin.local/ledger", &key().verifying_key()).unwrap();
        assert_eq!(opened, checkpoint());
        assert!(signed.note.starts_with("anchorfin.local/ledger\n4\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\ntimestamp 1764000000000\n\n\u{2014} anchorfin.local/ledger "));
        key()
            .verifying_key()
            .verify(
                checkpoint().text().as_bytes(),
                &Signature::from_bytes(&signed.signature),
            )
            .unwrap();
    }

    #[test]
    fn reads_a_note_before_its_signature_is_checked() {
        let signed = checkpoint().sign(&key());
        assert_eq!(unverified_checkpoint(&signed.note), Ok(checkpoint()));
        assert_eq!(
            unverified_checkpoint(&checkpoint().text()),
            Err(CheckpointError::NoSignatures)
        );
    }

    #[test]
    fn key_id_follows_c2sp() {
        // The key id only depends on the name and the key: recomputed by hand.
        let verifying = key().verifying_key();
        let mut input = b"anchorfin.local/ledger\n\x01".to_vec();
        input.extend_from_slice(verifying.as_bytes());
        assert_eq!(
            note_key_id("anchorfin.local/ledger", &verifying)[..],
            Sha256::digest(&input)[..4]
        );
    }

    #[test]
    fn refuses_tampered_or_foreign_notes() {
        let signed = checkpoint().sign(&key());
        let origin = "anchorfin.local/ledger";
        let verifying = key().verifying_key();
        let grown = signed.note.replacen("\n4\n", "\n5\n", 1);
        assert_eq!(
            open_checkpoint(&grown, origin, &verifying),
            Err(CheckpointError::BadSignature)
        );
        let other = SigningKey::from_bytes(&[7; 32]).verifying_key();
        assert!(matches!(
            open_checkpoint(&signed.note, origin, &other),
            Err(CheckpointError::NoSignatureByKey(_))
        ));
        assert!(matches!(
            open_checkpoint(&signed.note, "elsewhere", &verifying),
            Err(CheckpointError::NoSignatureByKey(_))
        ));
        let unsigned = checkpoint().text();
        assert_eq!(
            open_checkpoint(&unsigned, origin, &verifying),
            Err(CheckpointError::NoSignatures)
        );
    }

    /// Found by `fuzz/fuzz_targets/checkpoint.rs`: the server signed under
    /// any origin it was given, and a line break in it (here after the
    /// name, from `--ledger-origin`) made a note that does not open.
    #[test]
    fn origins_that_cannot_name_a_key_are_refused() {
        let broken = Checkpoint {
            origin: "anchorfin.local/ledger\n !\"#$%&'".to_owned(),
            ..checkpoint()
        };
        let signed = broken.sign(&key());
        assert!(open_checkpoint(&signed.note, &broken.origin, &key().verifying_key()).is_err());
        for bad in [
            broken.origin.as_str(),
            "",
            "anchorfin.local/ledger ",
            "a\tb",
            "a+b",
            "a\u{2028}b",
        ] {
            assert_eq!(check_origin(bad), Err(OriginError(bad.to_owned())), "{bad:?}");
        }
        for good in ["anchorfin.local/ledger", "example.com/log/2027", "—"] {
            assert_eq!(check_origin(good), Ok(()), "{good:?}");
            let checkpoint = Checkpoint {
                origin: good.to_owned(),
                ..checkpoint()
            };
            let opened = open_checkpoint(&checkpoint.sign(&key()).note, good, &key().verifying_key());
            assert_eq!(opened, Ok(checkpoint));
        }
    }

    #[test]
    fn parses_only_canonical_sizes() {
        for bad in ["04", "-4", "+4", "", "4x"] {
            let text = format!("o\n{bad}\n{}\ntimestamp 1\n", STANDARD.encode([0u8; 32]));
            assert!(Checkpoint::parse(&text).is_err(), "{bad:?}");
        }
    }
}
