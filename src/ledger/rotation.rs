//! Signing-key rotations (format version 3): the entry that hands the log
//! from one platform key to the next. Both keys sign it — the old one
//! proves the handover, the new one possession — and the entry's bytes
//! carry both signatures, so anyone holding the log checks a rotation
//! without anything else. A tree head of size `n` is signed with the key
//! in force after the entries `[0, n)`: the head that first covers a
//! rotation, and every head after it, is signed with its new key.
//!
//! Layout, version 3 (big-endian, no padding):
//!
//! ```text
//! u8   version = 3
//! u8   origin length, origin bytes (visible ASCII, 1 to 255)
//! u64  index: the entry's own leaf index, the size of the tree it extends
//! i64  time, microseconds since the Unix epoch (UTC)
//! [32] old public key
//! [32] new public key
//! [64] the old key's signature of the message
//! [64] the new key's signature of the message
//! ```
//!
//! Both keys sign the same message, in the form of the parties' signed
//! messages (`domain::signed_message`: lines joined by "\n", none after
//! the last):
//!
//! ```text
//! anchorfin/v1/rotate-signing-key
//! origin=<the log's checkpoint origin>
//! index=<decimal>
//! time=<microseconds, decimal>
//! old=<64 hex>
//! new=<64 hex>
//! ```
//!
//! The origin and the index bind a rotation to one place in one log: it
//! cannot be replayed elsewhere, nor moved.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::entry::EntryError;

/// The version byte of rotation entries.
pub const ROTATION_VERSION: u8 = 3;

/// The kind of a rotation entry, as the entries endpoint names it.
pub const ROTATION_KIND: &str = "signing_key_rotated";

/// The first line of the message both keys sign.
const MESSAGE_ACTION: &str = "anchorfin/v1/rotate-signing-key";

const MAX_ORIGIN_LEN: usize = 255;

/// One handover of the log from `old_key` to `new_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRotation {
    /// The origin line of the log's checkpoints.
    pub origin: String,
    /// The entry's own leaf index.
    pub index: u64,
    /// Microseconds since the epoch, UTC.
    pub time_micros: i64,
    pub old_key: [u8; 32],
    pub new_key: [u8; 32],
    pub old_signature: [u8; 64],
    pub new_signature: [u8; 64],
}

/// Why a rotation does not hold by itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    #[error("the {which} key {key} is not a valid ed25519 public key")]
    InvalidKey { which: &'static str, key: String },
    #[error("the rotation is not signed by the key it hands over from ({key}): its old-key signature does not verify")]
    OldSignature { key: String },
    #[error("the rotation is not signed by the key it hands over to ({key}): its new-key signature does not verify")]
    NewSignature { key: String },
    #[error("the rotation hands the log to the key it already has ({key})")]
    SameKey { key: String },
}

/// Whether `origin` can be written into a rotation (and a message line).
fn valid_origin(origin: &str) -> bool {
    (1..=MAX_ORIGIN_LEN).contains(&origin.len()) && origin.bytes().all(|byte| byte.is_ascii_graphic())
}

impl KeyRotation {
    /// The rotation at leaf `index` of the log named `origin`, signed by
    /// both keys.
    pub fn sign(origin: &str, index: u64, time_micros: i64, old: &SigningKey, new: &SigningKey) -> Self {
        let old_key = old.verifying_key().to_bytes();
        let new_key = new.verifying_key().to_bytes();
        let text = message(origin, index, time_micros, &old_key, &new_key);
        KeyRotation {
            origin: origin.to_owned(),
            index,
            time_micros,
            old_key,
            new_key,
            old_signature: old.sign(text.as_bytes()).to_bytes(),
            new_signature: new.sign(text.as_bytes()).to_bytes(),
        }
    }

    /// The text both keys sign.
    pub fn message(&self) -> String {
        message(&self.origin, self.index, self.time_micros, &self.old_key, &self.new_key)
    }

    /// Checks that the keys differ and that each signed the message.
    pub fn check_signatures(&self) -> Result<(), RotationError> {
        if self.old_key == self.new_key {
            return Err(RotationError::SameKey {
                key: hex::encode(self.old_key),
            });
        }
        let text = self.message();
        let old = verifying_key(&self.old_key, "old")?;
        let new = verifying_key(&self.new_key, "new")?;
        old.verify(text.as_bytes(), &Signature::from_bytes(&self.old_signature))
            .map_err(|_| RotationError::OldSignature {
                key: hex::encode(self.old_key),
            })?;
        new.verify(text.as_bytes(), &Signature::from_bytes(&self.new_signature))
            .map_err(|_| RotationError::NewSignature {
                key: hex::encode(self.new_key),
            })?;
        Ok(())
    }

    /// The canonical bytes of this entry.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        if !valid_origin(&self.origin) {
            return Err(EntryError::InvalidText { field: "origin" });
        }
        let mut out = Vec::with_capacity(2 + self.origin.len() + 8 + 8 + 32 + 32 + 64 + 64);
        out.push(ROTATION_VERSION);
        out.push(self.origin.len() as u8);
        out.extend_from_slice(self.origin.as_bytes());
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&self.time_micros.to_be_bytes());
        out.extend_from_slice(&self.old_key);
        out.extend_from_slice(&self.new_key);
        out.extend_from_slice(&self.old_signature);
        out.extend_from_slice(&self.new_signature);
        Ok(out)
    }

    /// Parses canonical bytes; anything else is refused.
    pub fn decode(bytes: &[u8]) -> Result<Self, EntryError> {
        let (&version, rest) = bytes.split_first().ok_or(EntryError::Truncated)?;
        if version != ROTATION_VERSION {
            return Err(EntryError::UnsupportedVersion(version));
        }
        let (&origin_len, rest) = rest.split_first().ok_or(EntryError::Truncated)?;
        let (origin, rest) = split(rest, usize::from(origin_len))?;
        let origin = std::str::from_utf8(origin)
            .ok()
            .filter(|origin| valid_origin(origin))
            .ok_or(EntryError::InvalidText { field: "origin" })?
            .to_owned();
        let (index, rest) = array::<8>(rest)?;
        let (time, rest) = array::<8>(rest)?;
        let (old_key, rest) = array::<32>(rest)?;
        let (new_key, rest) = array::<32>(rest)?;
        let (old_signature, rest) = array::<64>(rest)?;
        let (new_signature, rest) = array::<64>(rest)?;
        if !rest.is_empty() {
            return Err(EntryError::TrailingBytes(rest.len()));
        }
        Ok(KeyRotation {
            origin,
            index: u64::from_be_bytes(index),
            time_micros: i64::from_be_bytes(time),
            old_key,
            new_key,
            old_signature,
            new_signature,
        })
    }
}

fn message(origin: &str, index: u64, time_micros: i64, old_key: &[u8; 32], new_key: &[u8; 32]) -> String {
    format!(
        "{MESSAGE_ACTION}\norigin={origin}\nindex={index}\ntime={time_micros}\nold={}\nnew={}",
        hex::encode(old_key),
        hex::encode(new_key)
    )
}

fn verifying_key(bytes: &[u8; 32], which: &'static str) -> Result<VerifyingKey, RotationError> {
    VerifyingKey::from_bytes(bytes).map_err(|_| RotationError::InvalidKey {
        which,
        key: hex::encode(bytes),
    })
}

fn split(bytes: &[u8], count: usize) -> Result<(&[u8], &[u8]), EntryError> {
    if bytes.len() < count {
        return Err(EntryError::Truncated);
    }
    Ok(bytes.split_at(count))
}

fn array<const N: usize>(bytes: &[u8]) -> Result<([u8; N], &[u8]), EntryError> {
    let (taken, rest) = split(bytes, N)?;
    let array = taken.try_into().map_err(|_| EntryError::Truncated)?;
    Ok((array, rest))
}

/// The log's rotations as a verifier meets them, in order: each must hold
/// by itself (both signatures, its own index and the log's origin) and
/// hand over from the key the one before it handed to.
#[derive(Debug, Clone, Default)]
pub struct KeyChain {
    /// `(index, old key, new key)` of every rotation followed, in order.
    handovers: Vec<(u64, [u8; 32], [u8; 32])>,
}

/// Why a rotation or a trusted key does not fit the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoverError {
    #[error("the rotation names index {claimed}, but it is entry {actual}: it was moved")]
    WrongIndex { claimed: u64, actual: u64 },
    #[error("the rotation names origin {found:?}, but the log's is {expected:?}")]
    WrongOrigin { expected: String, found: String },
    #[error(transparent)]
    Rotation(#[from] RotationError),
    #[error(
        "the rotation hands over from {old}, but the log's key here is {current} \
         (since the rotation at index {since}): a key that was not handed over properly"
    )]
    NotFromCurrentKey { old: String, current: String, since: u64 },
    #[error(
        "the key you trust, {trusted}, is not one of this log's signing keys: its first key is \
         {first}, and no rotation hands the log to yours"
    )]
    UnknownKey { trusted: String, first: String },
}

impl KeyChain {
    /// Follows the rotation found at leaf `index` of the log named `origin`.
    pub fn follow(&mut self, rotation: &KeyRotation, index: u64, origin: &str) -> Result<(), HandoverError> {
        if rotation.index != index {
            return Err(HandoverError::WrongIndex {
                claimed: rotation.index,
                actual: index,
            });
        }
        if rotation.origin != origin {
            return Err(HandoverError::WrongOrigin {
                expected: origin.to_owned(),
                found: rotation.origin.clone(),
            });
        }
        rotation.check_signatures()?;
        if let Some(&(since, _, current)) = self.handovers.last() {
            if rotation.old_key != current {
                return Err(HandoverError::NotFromCurrentKey {
                    old: hex::encode(rotation.old_key),
                    current: hex::encode(current),
                    since,
                });
            }
        }
        self.handovers.push((index, rotation.old_key, rotation.new_key));
        Ok(())
    }

    /// How many rotations were followed.
    pub fn len(&self) -> usize {
        self.handovers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.handovers.is_empty()
    }

    /// The index of the last rotation followed.
    pub fn last_index(&self) -> Option<u64> {
        self.handovers.last().map(|(index, _, _)| *index)
    }

    /// The key that must sign the heads after every rotation followed,
    /// given the key a verifier trusts: that key itself when the log was
    /// never rotated; else the last rotation's new key, provided the
    /// trusted key is the log's first key or one a rotation handed the log
    /// to (the heads that key signed vouch for the log before it, and from
    /// it on every handover is signed by the key it leaves).
    pub fn key_in_force(&self, trusted: &[u8; 32]) -> Result<[u8; 32], HandoverError> {
        let (Some(&(_, first, _)), Some(&(_, _, last))) = (self.handovers.first(), self.handovers.last()) else {
            return Ok(*trusted);
        };
        let known = first == *trusted || self.handovers.iter().any(|(_, _, new)| new == trusted);
        if !known {
            return Err(HandoverError::UnknownKey {
                trusted: hex::encode(trusted),
                first: hex::encode(first),
            });
        }
        Ok(last)
    }

    /// The rotation that retired `key`, if one did: `(index, new key)`.
    pub fn retired(&self, key: &[u8; 32]) -> Option<(u64, [u8; 32])> {
        self.handovers
            .iter()
            .rev()
            .find(|(_, old, _)| old == key)
            .map(|&(index, _, new)| (index, new))
    }

    /// Every key the log was signed with, oldest first.
    pub fn keys(&self) -> Vec<[u8; 32]> {
        let mut keys: Vec<[u8; 32]> = self.handovers.first().map(|(_, old, _)| *old).into_iter().collect();
        keys.extend(self.handovers.iter().map(|(_, _, new)| *new));
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "anchorfin.local/ledger";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn public(seed: u8) -> [u8; 32] {
        key(seed).verifying_key().to_bytes()
    }

    fn rotation(index: u64, old: u8, new: u8) -> KeyRotation {
        KeyRotation::sign(ORIGIN, index, 1_764_000_000_123_456, &key(old), &key(new))
    }

    #[test]
    fn round_trips_and_checks_both_signatures() {
        let signed = rotation(7, 1, 2);
        let bytes = signed.encode().unwrap();
        assert_eq!(bytes.len(), 2 + ORIGIN.len() + 8 + 8 + 32 + 32 + 64 + 64);
        let decoded = KeyRotation::decode(&bytes).unwrap();
        assert_eq!(decoded, signed);
        assert_eq!(decoded.check_signatures(), Ok(()));
    }

    #[test]
    fn the_kind_is_the_one_the_partial_index_names() {
        // migrations/*/…_key_rotations and `store::ledger` write it literally.
        assert_eq!(ROTATION_KIND, "signing_key_rotated");
    }

    #[test]
    fn the_message_is_fixed() {
        // A recorded message: changing it breaks every rotation ever signed.
        let signed = rotation(7, 1, 2);
        assert_eq!(
            signed.message(),
            format!(
                "anchorfin/v1/rotate-signing-key\norigin=anchorfin.local/ledger\nindex=7\n\
                 time=1764000000123456\nold={}\nnew={}",
                hex::encode(public(1)),
                hex::encode(public(2))
            )
        );
        let bytes = signed.encode().unwrap();
        assert_eq!(
            hex::encode(&bytes[..2 + ORIGIN.len() + 16]),
            format!("0316{}00000000000000070006445941642240", hex::encode(ORIGIN))
        );
    }

    #[test]
    fn a_rotation_signed_by_only_one_key_is_refused() {
        let honest = rotation(3, 1, 2);
        // The new key signs for the old one: the handover is forged.
        let mut forged = honest.clone();
        forged.old_signature = key(2).sign(honest.message().as_bytes()).to_bytes();
        assert_eq!(
            forged.check_signatures(),
            Err(RotationError::OldSignature {
                key: hex::encode(public(1))
            })
        );
        // The old key hands over to a key nobody proved to hold.
        let mut unpossessed = honest.clone();
        unpossessed.new_signature = key(1).sign(honest.message().as_bytes()).to_bytes();
        assert!(matches!(
            unpossessed.check_signatures(),
            Err(RotationError::NewSignature { .. })
        ));
        // A signature over another message (another index) does not carry over.
        let mut moved = honest.clone();
        moved.index = 4;
        assert!(matches!(
            moved.check_signatures(),
            Err(RotationError::OldSignature { .. })
        ));
        let same = rotation(3, 1, 1);
        assert!(matches!(same.check_signatures(), Err(RotationError::SameKey { .. })));
    }

    #[test]
    fn refuses_what_is_not_canonical() {
        let bytes = rotation(1, 1, 2).encode().unwrap();
        for cut in 0..bytes.len() {
            assert!(KeyRotation::decode(&bytes[..cut]).is_err(), "prefix of {cut} bytes");
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(KeyRotation::decode(&trailing), Err(EntryError::TrailingBytes(1)));
        let mut version = bytes.clone();
        version[0] = 1;
        assert_eq!(KeyRotation::decode(&version), Err(EntryError::UnsupportedVersion(1)));
        let mut origin = bytes.clone();
        origin[2] = b'\n';
        assert_eq!(
            KeyRotation::decode(&origin),
            Err(EntryError::InvalidText { field: "origin" })
        );
        let mut spaced = rotation(1, 1, 2);
        spaced.origin = "two words".to_owned();
        assert_eq!(spaced.encode(), Err(EntryError::InvalidText { field: "origin" }));
        spaced.origin = "a".repeat(256);
        assert_eq!(spaced.encode(), Err(EntryError::InvalidText { field: "origin" }));
    }

    #[test]
    fn a_chain_follows_proper_handovers_only() {
        let mut chain = KeyChain::default();
        assert_eq!(chain.key_in_force(&public(1)), Ok(public(1)));
        chain.follow(&rotation(4, 1, 2), 4, ORIGIN).unwrap();
        chain.follow(&rotation(9, 2, 3), 9, ORIGIN).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain.keys(), vec![public(1), public(2), public(3)]);
        // Whichever of the log's keys a verifier trusts, heads now need the last.
        for trusted in [1, 2, 3] {
            assert_eq!(chain.key_in_force(&public(trusted)), Ok(public(3)));
        }
        assert!(matches!(
            chain.key_in_force(&public(8)),
            Err(HandoverError::UnknownKey { .. })
        ));
        assert_eq!(chain.retired(&public(1)), Some((4, public(2))));
        assert_eq!(chain.retired(&public(3)), None);

        // A key the log does not have cannot hand it over, however well it signs.
        let mut next = chain.clone();
        assert_eq!(
            next.follow(&rotation(12, 7, 8), 12, ORIGIN),
            Err(HandoverError::NotFromCurrentKey {
                old: hex::encode(public(7)),
                current: hex::encode(public(3)),
                since: 9,
            })
        );
        assert!(matches!(
            next.follow(&rotation(12, 3, 4), 13, ORIGIN),
            Err(HandoverError::WrongIndex {
                claimed: 12,
                actual: 13
            })
        ));
        assert!(matches!(
            next.follow(&rotation(12, 3, 4), 12, "elsewhere/ledger"),
            Err(HandoverError::WrongOrigin { .. })
        ));
        let mut forged = rotation(12, 3, 4);
        forged.old_signature = key(4).sign(forged.message().as_bytes()).to_bytes();
        assert!(matches!(
            next.follow(&forged, 12, ORIGIN),
            Err(HandoverError::Rotation(RotationError::OldSignature { .. }))
        ));
        assert_eq!(next.len(), 2, "a refused rotation is not followed");
        next.follow(&rotation(12, 3, 4), 12, ORIGIN).unwrap();
        assert_eq!(next.key_in_force(&public(1)), Ok(public(4)));
    }
}
