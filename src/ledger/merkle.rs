//! Merkle tree hashing of RFC 9162 §2.1 (Certificate Transparency v2).
//!
//! The ledger is an append-only list of entries; its Merkle Tree Hash (MTH)
//! commits to every entry and to their order. Leaves and interior nodes are
//! hashed with distinct one-byte prefixes so that a leaf can never be passed
//! off as an interior node (second-preimage protection, RFC 9162 §2.1.1).
//!
//! Storage model: the server keeps every *perfect* subtree (a [`NodeId`]) once.
//! Any hash an RFC proof needs can be rebuilt from O(log n) of those nodes, see
//! [`ProofPlan`]. Verification lives in [`verify_inclusion`] and
//! [`verify_consistency`] and needs nothing but the proof.

use sha2::{Digest, Sha256};

mod plan;
mod verify;

pub use plan::{consistency_proof_plan, inclusion_proof_plan, range_hash, ProofElement, ProofPlan};
pub use verify::{root_from_inclusion_proof, verify_consistency, verify_inclusion};

/// A SHA-256 digest: leaf hash, node hash or tree root.
pub type Hash = [u8; 32];

/// Length in bytes of every [`Hash`](type@Hash).
pub const HASH_LEN: usize = 32;

/// Domain-separation prefix for leaves (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix for interior nodes (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// Hash of one ledger entry as a leaf: SHA-256(0x00 ‖ entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// Hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// MTH of RFC 9162 §2.1.1 over already-hashed leaves.
///
/// Recursive by definition (depth ≤ 64); used as the reference the incremental
/// [`crate::ledger::Frontier`] is tested against, and by offline verifiers that
/// hold every leaf.
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [only] => *only,
        _ => {
            let split = largest_power_of_two_below(leaves.len() as u64);
            // `split < leaves.len()`, so it fits in usize and both halves are non-empty.
            let (left, right) = leaves.split_at(split as usize);
            node_hash(&root_from_leaf_hashes(left), &root_from_leaf_hashes(right))
        }
    }
}

/// The perfect subtree covering leaves `[index << level, (index + 1) << level)`.
///
/// Perfect subtrees never change once complete, which is why they are the unit
/// of storage: each is written exactly once, when its last leaf is appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves; 0 is a single leaf.
    pub level: u8,
    /// Position among the nodes of the same level, counted from the left.
    pub index: u64,
}

impl NodeId {
    /// A node id from its parts.
    pub const fn new(level: u8, index: u64) -> Self {
        NodeId { level, index }
    }

    /// The level-0 node of leaf `index`.
    pub const fn leaf(index: u64) -> Self {
        NodeId { level: 0, index }
    }

    /// The leaves this node covers, or `None` if the range does not fit in
    /// u64 (such a node cannot exist in any tree, so stores may reject it).
    pub fn leaf_range(&self) -> Option<std::ops::Range<u64>> {
        let width = 1u64.checked_shl(u32::from(self.level))?;
        let start = self.index.checked_mul(width)?;
        let end = start.checked_add(width)?;
        Some(start..end)
    }
}

/// Splits the leaf range `[start, end)` into perfect aligned subtrees, left to
/// right, each as large as alignment and the remaining length allow.
///
/// For a range that is an RFC 9162 subtree (its start is a multiple of a power
/// of two ≥ its length, e.g. any prefix `[0, size)`), folding these right to
/// left with [`node_hash`] yields exactly its MTH. Empty if `start >= end`.
pub fn perfect_subtrees(start: u64, end: u64) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    let mut cursor = start;
    while cursor < end {
        let remaining = end - cursor;
        let by_alignment = if cursor == 0 { 63 } else { cursor.trailing_zeros() };
        let by_length = 63 - remaining.leading_zeros();
        let level = by_alignment.min(by_length);
        // level ≤ 63, so it fits in u8 and the shift is in range.
        nodes.push(NodeId::new(level as u8, cursor >> level));
        cursor += 1u64 << level;
    }
    nodes
}

/// Largest power of two strictly below `n`; the RFC's split point `k`.
/// Callers only pass `n ≥ 2`; for `n < 2` it returns 1 rather than panicking.
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    if n < 2 {
        return 1;
    }
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Why a proof could not be generated or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Inclusion needs `index < size`.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A log never shrinks, so the first tree cannot be larger than the second.
    #[error("first tree size {first} is greater than second tree size {second}")]
    FirstAfterSecond { first: u64, second: u64 },
    /// Every tree extends the empty tree; such a proof proves nothing and is refused.
    #[error("a consistency proof from the empty tree is meaningless")]
    EmptyFirstTree,
    /// The proof has too few or too many hashes for the given sizes.
    #[error("proof has the wrong number of hashes ({got})")]
    WrongProofLength { got: usize },
    /// A leaf hash, root or proof element is not a 32-byte SHA-256 digest.
    #[error("hash has {0} bytes, expected 32")]
    WrongHashLength(usize),
    /// The proof is well-formed but does not lead to the expected root.
    #[error("computed root does not match the expected root")]
    RootMismatch,
    /// Storage did not return a node the proof plan needs.
    #[error("node at level {} index {} is missing from storage", .0.level, .0.index)]
    MissingNode(NodeId),
    /// The requested tree size is beyond the leaves the tree holds.
    #[error("tree size {size} exceeds the {available} leaves available")]
    SizeBeyondTree { size: u64, available: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn rfc6962_reference_roots() {
        // The classic CT test tree: leaves are the byte strings below; roots from
        // transparency-dev/merkle's testonly package.
        let data: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let hashes: Vec<Hash> = data.iter().map(|d| leaf_hash(d)).collect();
        let want = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        for (n, want) in want.iter().enumerate() {
            assert_eq!(
                hex::encode(root_from_leaf_hashes(&hashes[..=n])),
                *want,
                "size {}",
                n + 1
            );
        }
    }

    #[test]
    fn perfect_subtrees_of_prefix_follow_binary_decomposition() {
        assert!(perfect_subtrees(0, 0).is_empty());
        assert_eq!(
            perfect_subtrees(0, 13),
            vec![NodeId::new(3, 0), NodeId::new(2, 2), NodeId::new(0, 12)]
        );
        assert_eq!(
            perfect_subtrees(6, 11),
            vec![NodeId::new(1, 3), NodeId::new(1, 4), NodeId::new(0, 10)]
        );
        assert_eq!(perfect_subtrees(0, u64::MAX).len(), 64);
        assert!(perfect_subtrees(5, 3).is_empty());
    }

    #[test]
    fn folding_prefix_subtrees_gives_mth() {
        let all = leaves(70);
        for size in 0..=70u64 {
            let ids = perfect_subtrees(0, size);
            let lookup = |id: NodeId| {
                let range = id.leaf_range()?;
                Some(root_from_leaf_hashes(&all[range.start as usize..range.end as usize]))
            };
            assert_eq!(
                range_hash(0, size, lookup),
                Ok(root_from_leaf_hashes(&all[..size as usize]))
            );
            assert!(ids.windows(2).all(|w| w[0].level > w[1].level));
        }
    }

    #[test]
    fn node_id_leaf_range_is_checked() {
        assert_eq!(NodeId::new(3, 2).leaf_range(), Some(16..24));
        assert_eq!(NodeId::new(63, 1).leaf_range(), None);
        assert_eq!(NodeId::new(64, 0).leaf_range(), None);
        assert_eq!(NodeId::new(255, u64::MAX).leaf_range(), None);
        assert_eq!(NodeId::leaf(u64::MAX - 1).leaf_range(), Some(u64::MAX - 1..u64::MAX));
    }

    #[test]
    fn split_point() {
        assert_eq!(largest_power_of_two_below(2), 1);
        assert_eq!(largest_power_of_two_below(3), 2);
        assert_eq!(largest_power_of_two_below(4), 2);
        assert_eq!(largest_power_of_two_below(5), 4);
        assert_eq!(largest_power_of_two_below(u64::MAX), 1 << 63);
    }
}

#[cfg(test)]
mod vectors;

#[cfg(test)]
mod properties;
