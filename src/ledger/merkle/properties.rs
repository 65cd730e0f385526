//! Property tests: for random tree sizes, every inclusion and consistency
//! proof planned against stored perfect subtrees verifies, and every proof
//! with one flipped bit, a dropped or extra hash, or shifted parameters is
//! rejected.

use std::collections::HashMap;

use proptest::prelude::*;

use super::{
    consistency_proof_plan, inclusion_proof_plan, leaf_hash, verify_consistency, verify_inclusion, Hash, NodeId,
};
use crate::ledger::Frontier;

/// A tree of `size` leaves with every perfect node stored, as the sequencer
/// stores them, and the root of every prefix.
fn tree(size: u64) -> (HashMap<NodeId, Hash>, Vec<Hash>) {
    let mut frontier = Frontier::empty();
    let mut nodes = HashMap::new();
    let mut roots = vec![frontier.root()];
    for index in 0..size {
        for (id, hash) in frontier.append(leaf_hash(&index.to_be_bytes())).unwrap() {
            nodes.insert(id, hash);
        }
        roots.push(frontier.root());
    }
    (nodes, roots)
}

fn flip(proof: &mut [Hash], element: usize, bit: usize) {
    proof[element][bit / 8] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn inclusion_proofs_verify_and_mutations_fail(size in 1u64..3000, index_seed in any::<u64>(), bit in 0usize..256, element_seed in any::<usize>()) {
        let index = index_seed % size;
        let (nodes, roots) = tree(size);
        let root = roots[size as usize];
        let leaf = leaf_hash(&index.to_be_bytes());
        let proof = inclusion_proof_plan(index, size).unwrap().assemble(|id| nodes.get(&id).copied()).unwrap();
        prop_assert!(proof.len() <= 64 - size.leading_zeros() as usize);
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &root).is_ok());

        if !proof.is_empty() {
            let mut mutated = proof.clone();
            flip(&mut mutated, element_seed % proof.len(), bit);
            prop_assert!(verify_inclusion(&leaf, index, size, &mutated, &root).is_err());
            prop_assert!(verify_inclusion(&leaf, index, size, &proof[..proof.len() - 1], &root).is_err());
        }
        let mut longer = proof.clone();
        longer.push([0; 32]);
        prop_assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
        let mut other_leaf = leaf;
        other_leaf[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(&other_leaf, index, size, &proof, &root).is_err());
        if size > 1 {
            let other_index = (index + 1) % size;
            prop_assert!(verify_inclusion(&leaf, other_index, size, &proof, &root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_mutations_fail(second in 1u64..3000, first_seed in any::<u64>(), bit in 0usize..256, element_seed in any::<usize>()) {
        let first = 1 + first_seed % second;
        let (nodes, roots) = tree(second);
        let (first_root, second_root) = (roots[first as usize], roots[second as usize]);
        let proof = consistency_proof_plan(first, second).unwrap().assemble(|id| nodes.get(&id).copied()).unwrap();
        prop_assert!(verify_consistency(first, second, &first_root, &second_root, &proof).is_ok());

        if !proof.is_empty() {
            let mut mutated = proof.clone();
            flip(&mut mutated, element_seed % proof.len(), bit);
            prop_assert!(verify_consistency(first, second, &first_root, &second_root, &mutated).is_err());
            prop_assert!(verify_consistency(first, second, &first_root, &second_root, &proof[1..]).is_err());
        }
        let mut other_root = first_root;
        other_root[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(first, second, &other_root, &second_root, &proof).is_err());
        if first < second {
            // A history rewritten from `first` on does not verify.
            let mut rewritten = second_root;
            rewritten[0] ^= 1;
            prop_assert!(verify_consistency(first, second, &first_root, &rewritten, &proof).is_err());
        }
    }
}
