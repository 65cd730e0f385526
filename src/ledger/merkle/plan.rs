//! Proof generation in two pure steps, so storage needs one batch read.
//!
//! RFC 9162 defines proofs recursively over the leaf list (PATH in §2.1.3.1,
//! SUBPROOF in §2.1.4.1). Each proof hash is the MTH of a leaf range that is
//! either a perfect aligned subtree or a range ending at the tree size. The
//! server only stores perfect subtrees, so:
//!
//! 1. [`inclusion_proof_plan`] / [`consistency_proof_plan`] compute the ranges
//!    (no I/O, O(log n));
//! 2. the caller reads every id of [`ProofPlan::nodes`] in one query;
//! 3. [`ProofPlan::assemble`] folds the nodes into the RFC proof hashes.

use std::collections::HashSet;

use super::{empty_root, largest_power_of_two_below, node_hash, perfect_subtrees, Hash, NodeId, ProofError};

/// One proof hash to produce: the MTH of leaves `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofElement {
    /// First leaf covered.
    pub start: u64,
    /// One past the last leaf covered.
    pub end: u64,
}

impl ProofElement {
    /// The stored perfect subtrees this element is made of, left to right.
    pub fn nodes(&self) -> Vec<NodeId> {
        perfect_subtrees(self.start, self.end)
    }
}

/// The leaf ranges of one proof, in RFC order (bottom of the tree first).
///
/// Only built by [`inclusion_proof_plan`] and [`consistency_proof_plan`], so
/// every element is a non-empty RFC subtree range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProofPlan {
    elements: Vec<ProofElement>,
}

impl ProofPlan {
    /// The proof elements in RFC order.
    pub fn elements(&self) -> &[ProofElement] {
        &self.elements
    }

    /// Number of hashes the assembled proof will contain.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// True when the proof is empty (single-leaf tree, or equal sizes).
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Every distinct perfect node the proof needs, in order of first use.
    /// Read them all in one batch and hand them to [`ProofPlan::assemble`].
    pub fn nodes(&self) -> Vec<NodeId> {
        let mut seen = HashSet::new();
        self.elements
            .iter()
            .flat_map(ProofElement::nodes)
            .filter(|id| seen.insert(*id))
            .collect()
    }

    /// Builds the proof hashes from stored nodes; fails with
    /// [`ProofError::MissingNode`] if `lookup` lacks one of [`ProofPlan::nodes`].
    pub fn assemble(&self, lookup: impl Fn(NodeId) -> Option<Hash>) -> Result<Vec<Hash>, ProofError> {
        self.elements
            .iter()
            .map(|element| range_hash(element.start, element.end, &lookup))
            .collect()
    }
}

/// MTH of leaves `[start, end)` from stored perfect nodes: the range's
/// perfect subtrees folded right to left with [`node_hash`].
///
/// Correct for any RFC subtree range, in particular for a tree prefix
/// `[0, size)`, i.e. the root of the tree at `size` (the empty root for 0).
pub fn range_hash(start: u64, end: u64, lookup: impl Fn(NodeId) -> Option<Hash>) -> Result<Hash, ProofError> {
    let ids = perfect_subtrees(start, end);
    let mut hashes = ids
        .iter()
        .rev()
        .map(|&id| lookup(id).ok_or(ProofError::MissingNode(id)));
    let Some(last) = hashes.next() else {
        return Ok(empty_root());
    };
    hashes.try_fold(last?, |right, left| Ok(node_hash(&left?, &right)))
}

/// `PATH(index, D[0:size])` of RFC 9162 §2.1.3.1 as leaf ranges.
///
/// Walks down from the root: at each split the sibling of the half holding
/// `index` is a proof element. The RFC lists them bottom-up, so the list is
/// reversed at the end.
pub fn inclusion_proof_plan(index: u64, size: u64) -> Result<ProofPlan, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut elements = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let mid = lo + largest_power_of_two_below(hi - lo);
        if index < mid {
            elements.push(ProofElement { start: mid, end: hi });
            hi = mid;
        } else {
            elements.push(ProofElement { start: lo, end: mid });
            lo = mid;
        }
    }
    elements.reverse();
    Ok(ProofPlan { elements })
}

/// `PROOF(first, D[0:second]) = SUBPROOF(first, D[0:second], true)` of RFC 9162
/// §2.1.4.1 as leaf ranges.
///
/// Edge cases follow the verifier: `first > second` and `first == 0` are
/// errors (nothing could verify them); `first == second` is the empty proof.
pub fn consistency_proof_plan(first: u64, second: u64) -> Result<ProofPlan, ProofError> {
    if first > second {
        return Err(ProofError::FirstAfterSecond { first, second });
    }
    if first == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    let mut elements = Vec::new();
    // Invariant: the current subtree is D[lo:hi] and holds `m` leaves of the
    // first tree (its prefix D[lo:lo+m]); `known` is the RFC's flag b, true
    // while D[lo:lo+m] is a subtree whose hash the verifier already has.
    let (mut lo, mut hi, mut m, mut known) = (0u64, second, first, true);
    while m < hi - lo {
        let k = largest_power_of_two_below(hi - lo);
        let mid = lo + k;
        if m <= k {
            elements.push(ProofElement { start: mid, end: hi });
            hi = mid;
        } else {
            elements.push(ProofElement { start: lo, end: mid });
            lo = mid;
            m -= k;
            known = false;
        }
    }
    if !known {
        elements.push(ProofElement { start: lo, end: hi });
    }
    elements.reverse();
    Ok(ProofPlan { elements })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::{leaf_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion};
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n as u64).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    /// Every perfect node of the tree, the way the server stores them.
    fn store(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
        let mut nodes = HashMap::new();
        for level in 0..8u8 {
            let width = 1usize << level;
            for (index, chunk) in leaves.chunks_exact(width).enumerate() {
                nodes.insert(NodeId::new(level, index as u64), root_from_leaf_hashes(chunk));
            }
        }
        nodes
    }

    /// RFC 9162 §2.1.3.1 PATH, literally.
    fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
        if d.len() <= 1 {
            return Vec::new();
        }
        let k = largest_power_of_two_below(d.len() as u64) as usize;
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(root_from_leaf_hashes(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(root_from_leaf_hashes(&d[..k]));
            p
        }
    }

    /// RFC 9162 §2.1.4.1 SUBPROOF, literally.
    fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { Vec::new() } else { vec![root_from_leaf_hashes(d)] };
        }
        let k = largest_power_of_two_below(n as u64) as usize;
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(root_from_leaf_hashes(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(root_from_leaf_hashes(&d[..k]));
            p
        }
    }

    #[test]
    fn plans_match_rfc_definitions_and_verify() {
        let all = leaves(40);
        let nodes = store(&all);
        let lookup = |id: NodeId| nodes.get(&id).copied();
        for size in 1..=all.len() {
            let tree = &all[..size];
            let root = root_from_leaf_hashes(tree);
            for (index, leaf) in tree.iter().enumerate() {
                let plan = inclusion_proof_plan(index as u64, size as u64).unwrap();
                let proof = plan.assemble(lookup).unwrap();
                assert_eq!(proof, path(index, tree), "index {index} size {size}");
                verify_inclusion(leaf, index as u64, size as u64, &proof, &root).unwrap();
            }
            for first in 1..=size {
                let plan = consistency_proof_plan(first as u64, size as u64).unwrap();
                let proof = plan.assemble(lookup).unwrap();
                assert_eq!(proof, subproof(first, tree, true), "first {first} second {size}");
                let first_root = root_from_leaf_hashes(&all[..first]);
                verify_consistency(first as u64, size as u64, &first_root, &root, &proof).unwrap();
            }
        }
    }

    #[test]
    fn generation_edge_cases() {
        assert_eq!(
            inclusion_proof_plan(0, 0),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            inclusion_proof_plan(5, 5),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert!(inclusion_proof_plan(0, 1).unwrap().is_empty());
        assert_eq!(
            consistency_proof_plan(3, 2),
            Err(ProofError::FirstAfterSecond { first: 3, second: 2 })
        );
        assert_eq!(consistency_proof_plan(0, 0), Err(ProofError::EmptyFirstTree));
        assert_eq!(consistency_proof_plan(0, 9), Err(ProofError::EmptyFirstTree));
        assert!(consistency_proof_plan(7, 7).unwrap().is_empty());
        assert!(consistency_proof_plan(u64::MAX, u64::MAX).unwrap().is_empty());
    }

    #[test]
    fn missing_node_is_reported() {
        let plan = inclusion_proof_plan(2, 7).unwrap();
        let wanted = plan.nodes()[0];
        assert_eq!(plan.assemble(|_| None), Err(ProofError::MissingNode(wanted)));
    }

    fn ceil_log2(n: u64) -> usize {
        (64 - (n - 1).leading_zeros()) as usize
    }

    #[test]
    fn node_reads_stay_logarithmic() {
        let size = 10_000_000u64;
        let log = ceil_log2(size);
        assert_eq!(log, 24);
        for index in [0, 1, 4_999_999, 8_388_607, 8_388_608, size - 2, size - 1] {
            let plan = inclusion_proof_plan(index, size).unwrap();
            assert!(plan.len() <= log, "index {index}: {} hashes", plan.len());
            assert!(
                plan.nodes().len() <= 2 * log,
                "index {index}: {} nodes",
                plan.nodes().len()
            );
        }
        for first in [1, 2, 3, 1_000_000, 8_388_607, 8_388_608, 9_999_999] {
            let plan = consistency_proof_plan(first, size).unwrap();
            assert!(plan.len() <= log + 1, "first {first}: {} hashes", plan.len());
            assert!(
                plan.nodes().len() <= 2 * log + 1,
                "first {first}: {} nodes",
                plan.nodes().len()
            );
        }
        // Worst case over the whole u64 range: still bounded, and no overflow.
        for (index, size) in [(0, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 62, u64::MAX)] {
            let plan = inclusion_proof_plan(index, size).unwrap();
            assert!(plan.len() <= 64 && plan.nodes().len() <= 128);
        }
        for first in [1, 1 << 40, u64::MAX - 1] {
            let plan = consistency_proof_plan(first, u64::MAX).unwrap();
            assert!(plan.len() <= 65 && plan.nodes().len() <= 130);
        }
    }

    #[test]
    fn plan_nodes_are_distinct_and_cover_elements() {
        for size in 1..200u64 {
            for index in [0, size / 3, size - 1] {
                let plan = inclusion_proof_plan(index, size).unwrap();
                let nodes = plan.nodes();
                let distinct: HashSet<_> = nodes.iter().collect();
                assert_eq!(distinct.len(), nodes.len());
                let total: usize = plan.elements().iter().map(|e| e.nodes().len()).sum();
                assert_eq!(total, nodes.len());
            }
        }
    }
}
