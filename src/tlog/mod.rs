//! The ledger as a service: use cases append entries inside their own
//! transactions, the sequencer integrates them into the Merkle tree and signs
//! tree heads, readers serve heads, entries and proofs. The math lives in
//! the pure `crate::ledger` module; the tables in `crate::store::ledger`.

mod append;
mod read;
mod rotate;
mod sequencer;
mod watch;
mod witnesses;

pub use append::{append, append_prepared, prepare, Appended, NewEntry, Prepared, Visibility};
pub use read::{
    consistency_proof, entries, inclusion_proof, latest_head, leaf_index, ProofError, PublishedSize, Reader,
    VisibleEntry, MAX_ENTRIES_PER_PAGE,
};
pub use rotate::{rotate_signing_key, rotations, RotateError, Rotated};
pub use sequencer::{sequence_batch, spawn_sequencer, SequencerError, SequencerHandle};
pub use watch::{spawn_ledger_watch, watch_once, Lag, LagObserver};
pub use witnesses::{
    backoff as witness_backoff, cosigned_checkpoint, parse_answer, spawn_witness_submitters, submission_body,
    verified_cosignature, wait_for_cosigned, witness_keys, Answer, Cosigned, Failure, Head, WitnessObserver,
    WitnessReport,
};
