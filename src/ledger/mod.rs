//! The Anchorfin ledger core: an append-only Merkle log in the style of
//! Certificate Transparency (RFC 9162), without any I/O.
//!
//! - [`merkle`]: hashing, proof plans against perfect-subtree storage, and
//!   proof verification;
//! - [`frontier`]: the sequencer's incremental tree builder;
//! - [`entry`]: the canonical encoding of a public entry's header (the bytes
//!   the leaf hash covers);
//! - [`sealed`]: sealed business entries, whose header commits to a private
//!   body only their parties are given;
//! - [`rotation`]: handovers of the log to a new signing key, signed by
//!   both keys;
//! - [`checkpoint`]: signed tree heads as C2SP `tlog-checkpoint` signed notes;
//! - [`certificate`]: the signed statement of a certificate of
//!   non-encumbrance (what the log showed about one fingerprint at a size);
//! - [`cosignature`]: verifier keys and witnesses' C2SP `cosignature/v1`
//!   signatures on those notes.

pub mod certificate;
pub mod checkpoint;
pub mod cosignature;
pub mod entry;
pub mod frontier;
pub mod merkle;
pub mod rotation;
pub mod sealed;

pub use checkpoint::{
    check_origin, note_key_id, open_checkpoint, open_note, sign_note, unverified_checkpoint, Checkpoint,
    CheckpointError, OriginError, SignedCheckpoint,
};
pub use cosignature::{
    cosign, cosigned_message, note_text, signature_lines, valid_cosigners, CosignatureError, KeyType, VerifierKey,
    VerifierKeyError,
};
pub use entry::{details_hash, EntryError, EntryHeader, ENTRY_VERSION};
pub use frontier::{frontier_nodes_for, Frontier, FrontierError};
pub use merkle::{
    consistency_proof_plan, empty_root, inclusion_proof_plan, leaf_hash, node_hash, perfect_subtrees,
    root_from_inclusion_proof, root_from_leaf_hashes, verify_consistency, verify_inclusion, Hash, NodeId, ProofElement,
    ProofError, ProofPlan, HASH_LEN,
};
pub use rotation::{HandoverError, KeyChain, KeyRotation, RotationError, ROTATION_KIND, ROTATION_VERSION};
pub use sealed::{open as open_sealed, seal, Entry, SealError, SealedBody, SealedHeader, BUSINESS_KIND};
