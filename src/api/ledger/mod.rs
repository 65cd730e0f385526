//! `/v1/ledger/*`: anyone may read heads, entries and proofs; the private
//! details of an entry only its parties and the operator.

mod cosigned;
mod entries;
mod head;
mod proofs;

pub use cosigned::{checkpoint, vkey};
pub use entries::{entries, leaf};
pub use head::{head, public_key};
pub use proofs::{consistency, inclusion};
