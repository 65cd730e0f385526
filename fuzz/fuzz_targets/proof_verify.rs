//! RFC 9162 inclusion and consistency proofs: generation and verification.
//!
//! Input: one byte choosing the mode, then its data.
//! - Inclusion / Consistency: a tree of up to `MAX_LEAVES` leaves is grown
//!   with the sequencer's `Frontier` (its root checked against the RFC's
//!   recursive definition); a real proof is made from the stored perfect
//!   nodes and must verify; then the input mutates the proof, the leaf, the
//!   index, the sizes or the roots, and whenever the result still verifies
//!   against the true root of the claimed tree size, the claim must be true:
//!   the leaf is the one at that index (the first root the true one) and the
//!   proof is exactly the real proof. A no-op mutation therefore verifies,
//!   and any real change is refused.
//! - Raw: any leaf, index, sizes, roots and proof (wrong lengths and sizes
//!   up to 2^64 - 1 included) are refused or accepted without a panic or an
//!   overflow, and the proof plans for any sizes cover the tree exactly.

#![no_main]

use std::collections::HashMap;

use anchorfin::ledger::{
    consistency_proof_plan, frontier_nodes_for, inclusion_proof_plan, leaf_hash, merkle::range_hash,
    root_from_inclusion_proof, root_from_leaf_hashes, verify_consistency, verify_inclusion, Frontier, Hash, NodeId,
};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

const MAX_LEAVES: u64 = 300;

fuzz_target!(|data: &[u8]| {
    let mut input = Unstructured::new(data);
    let _ = match input.int_in_range(0..=2u8) {
        Ok(0) => inclusion(&mut input),
        Ok(1) => consistency(&mut input),
        _ => raw(&mut input),
    };
});

/// A tree as the server stores it: every perfect node, by id.
struct Tree {
    leaves: Vec<Hash>,
    nodes: HashMap<NodeId, Hash>,
}

impl Tree {
    fn grow(input: &mut Unstructured) -> Result<Tree> {
        let size = input.int_in_range(1..=MAX_LEAVES)?;
        let salt: u64 = input.arbitrary()?;
        let mut frontier = Frontier::empty();
        let mut leaves = Vec::new();
        let mut nodes = HashMap::new();
        for index in 0..size {
            let leaf = leaf_hash(&[salt.to_le_bytes(), index.to_le_bytes()].concat());
            leaves.push(leaf);
            nodes.extend(frontier.append(leaf).expect("far from full"));
        }
        assert_eq!(
            frontier.root(),
            root_from_leaf_hashes(&leaves),
            "frontier root at size {size}"
        );
        let stored: Vec<Hash> = frontier_nodes_for(size).iter().map(|id| nodes[id]).collect();
        assert_eq!(Frontier::from_nodes(size, stored), Ok(frontier));
        Ok(Tree { leaves, nodes })
    }

    fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    fn lookup(&self) -> impl Fn(NodeId) -> Option<Hash> + '_ {
        |id| self.nodes.get(&id).copied()
    }

    /// The root of the tree's prefix of `size` leaves, if it has as many.
    fn root(&self, size: u64) -> Option<Hash> {
        (size <= self.size()).then(|| range_hash(0, size, self.lookup()).expect("every node is stored"))
    }

    fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<Hash>> {
        let plan = inclusion_proof_plan(index, size).ok()?;
        Some(plan.assemble(self.lookup()).expect("every node is stored"))
    }

    fn consistency_proof(&self, first: u64, second: u64) -> Option<Vec<Hash>> {
        let plan = consistency_proof_plan(first, second).ok()?;
        Some(plan.assemble(self.lookup()).expect("every node is stored"))
    }
}

/// A size near `around` (or any size at all), as the mutation picks.
fn size_near(input: &mut Unstructured, around: u64) -> Result<u64> {
    Ok(match input.int_in_range(0..=3u8)? {
        0 => around.saturating_add(input.int_in_range(0..=3)?),
        1 => around.saturating_sub(input.int_in_range(0..=3)?),
        2 => input.int_in_range(0..=MAX_LEAVES)?,
        _ => input.arbitrary()?,
    })
}

/// Changes the proof in place: a bit flipped, an element replaced, removed,
/// inserted or duplicated.
fn mutate_proof(input: &mut Unstructured, proof: &mut Vec<Hash>) -> Result<()> {
    let at = input.int_in_range(0..=proof.len())?;
    match input.int_in_range(0..=3u8)? {
        0 if at < proof.len() => {
            let bit = input.int_in_range(0..=255usize)?;
            proof[at][bit / 8] ^= 1 << (bit % 8);
        }
        1 if at < proof.len() => proof[at] = input.arbitrary()?,
        2 if at < proof.len() => {
            proof.remove(at);
        }
        _ => {
            let hash = match proof.get(at) {
                Some(existing) if input.arbitrary()? => *existing,
                _ => input.arbitrary()?,
            };
            proof.insert(at, hash);
        }
    }
    Ok(())
}

fn inclusion(input: &mut Unstructured) -> Result<()> {
    let tree = Tree::grow(input)?;
    let size = input.int_in_range(1..=tree.size())?;
    let index = input.int_in_range(0..=size - 1)?;
    let leaf = tree.leaves[index as usize];
    let proof = tree.inclusion_proof(index, size).expect("index < size");
    let root = tree.root(size).expect("size <= tree size");
    assert_eq!(root, root_from_leaf_hashes(&tree.leaves[..size as usize]));
    verify_inclusion(&leaf, index, size, &proof, &root).expect("a real proof verifies");

    let (mut claimed_leaf, mut claimed_index, mut claimed_size) = (leaf, index, size);
    let (mut claimed_proof, mut root_size, mut claimed_root) = (proof, size, root);
    for _ in 0..input.int_in_range(0..=3u8)? {
        match input.int_in_range(0..=4u8)? {
            0 => mutate_proof(input, &mut claimed_proof)?,
            1 => {
                claimed_leaf = match input.int_in_range(0..=1u8)? {
                    0 => tree.leaves[input.choose_index(tree.leaves.len())?],
                    _ => input.arbitrary()?,
                }
            }
            2 => claimed_index = size_near(input, claimed_index)?,
            3 => claimed_size = size_near(input, claimed_size)?,
            _ => {
                root_size = size_near(input, root_size)?;
                claimed_root = tree.root(root_size).unwrap_or(input.arbitrary()?);
            }
        }
    }
    let computed = root_from_inclusion_proof(&claimed_leaf, claimed_index, claimed_size, &claimed_proof);
    let verified = verify_inclusion(
        &claimed_leaf,
        claimed_index,
        claimed_size,
        &claimed_proof,
        &claimed_root,
    );
    assert_eq!(verified.is_ok(), computed.as_ref() == Ok(&claimed_root));
    // Only a claim about the tree whose root is given can be held to account.
    if verified.is_ok() && tree.root(claimed_size) == Some(claimed_root) {
        assert!(claimed_index < claimed_size);
        assert_eq!(
            claimed_leaf, tree.leaves[claimed_index as usize],
            "a wrong leaf verified"
        );
        assert_eq!(
            Some(claimed_proof),
            tree.inclusion_proof(claimed_index, claimed_size),
            "a proof other than the real one verified (leaf {claimed_index} of {claimed_size})"
        );
    }
    Ok(())
}

fn consistency(input: &mut Unstructured) -> Result<()> {
    let tree = Tree::grow(input)?;
    let second = input.int_in_range(1..=tree.size())?;
    let first = input.int_in_range(1..=second)?;
    let proof = tree.consistency_proof(first, second).expect("0 < first <= second");
    let (first_root, second_root) = (tree.root(first).expect("stored"), tree.root(second).expect("stored"));
    verify_consistency(first, second, &first_root, &second_root, &proof).expect("a real proof verifies");

    let (mut claimed_first, mut claimed_second, mut claimed_proof) = (first, second, proof);
    let (mut claimed_first_root, mut claimed_second_root) = (first_root, second_root);
    for _ in 0..input.int_in_range(0..=3u8)? {
        match input.int_in_range(0..=4u8)? {
            0 => mutate_proof(input, &mut claimed_proof)?,
            1 => claimed_first = size_near(input, claimed_first)?,
            2 => claimed_second = size_near(input, claimed_second)?,
            3 => {
                let size = size_near(input, claimed_first)?;
                claimed_first_root = tree.root(size).unwrap_or(input.arbitrary()?);
            }
            _ => {
                let size = size_near(input, claimed_second)?;
                claimed_second_root = tree.root(size).unwrap_or(input.arbitrary()?);
            }
        }
    }
    let verified = verify_consistency(
        claimed_first,
        claimed_second,
        &claimed_first_root,
        &claimed_second_root,
        &claimed_proof,
    );
    if verified.is_ok() && tree.root(claimed_second) == Some(claimed_second_root) {
        assert!(0 < claimed_first && claimed_first <= claimed_second);
        assert_eq!(
            tree.root(claimed_first),
            Some(claimed_first_root),
            "a wrong first root verified ({claimed_first} to {claimed_second})"
        );
        assert_eq!(
            Some(claimed_proof),
            tree.consistency_proof(claimed_first, claimed_second),
            "a proof other than the real one verified ({claimed_first} to {claimed_second})"
        );
    }
    Ok(())
}

/// Bytes of a hash, usually 32 long.
fn hash_bytes(input: &mut Unstructured) -> Result<Vec<u8>> {
    let length = match input.int_in_range(0..=7u8)? {
        0 => input.int_in_range(0..=64usize)?,
        _ => 32,
    };
    Ok(input.bytes(length)?.to_vec())
}

fn raw(input: &mut Unstructured) -> Result<()> {
    let (index, size): (u64, u64) = (input.arbitrary()?, input.arbitrary()?);
    check_inclusion_plan(index, size);
    check_consistency_plan(index, size);
    let (leaf, root) = (hash_bytes(input)?, hash_bytes(input)?);
    let mut proof = Vec::new();
    for _ in 0..input.int_in_range(0..=80u8)? {
        proof.push(hash_bytes(input)?);
    }
    let computed = root_from_inclusion_proof(&leaf, index, size, &proof);
    let verified = verify_inclusion(&leaf, index, size, &proof, &root);
    assert_eq!(
        verified.is_ok(),
        computed.is_ok_and(|computed| computed[..] == root[..])
    );
    let first_root = hash_bytes(input)?;
    let _ = verify_consistency(index, size, &first_root, &root, &proof);
    Ok(())
}

/// An inclusion plan's ranges and the leaf tile the tree: disjoint, and
/// every leaf covered once; each range is made of its perfect subtrees.
fn check_inclusion_plan(index: u64, size: u64) {
    let Ok(plan) = inclusion_proof_plan(index, size) else {
        assert!(index >= size);
        return;
    };
    assert!(plan.len() <= 64);
    let mut ranges: Vec<(u64, u64)> = plan
        .elements()
        .iter()
        .map(|element| (element.start, element.end))
        .collect();
    ranges.push((index, index + 1));
    ranges.sort_unstable();
    let mut covered = 0;
    for (start, end) in ranges {
        assert_eq!(
            start, covered,
            "plan for leaf {index} of {size} leaves a gap or overlaps"
        );
        covered = end;
    }
    assert_eq!(covered, size);
    for element in plan.elements() {
        check_tiles(element.start, element.end, &element.nodes());
    }
}

/// A consistency plan's ranges lie in the second tree, each made of its
/// perfect subtrees.
fn check_consistency_plan(first: u64, second: u64) {
    let Ok(plan) = consistency_proof_plan(first, second) else {
        assert!(first == 0 || first > second);
        return;
    };
    assert!(plan.len() <= 128);
    assert_eq!(plan.is_empty(), first == second);
    for element in plan.elements() {
        assert!(element.start < element.end && element.end <= second);
        check_tiles(element.start, element.end, &element.nodes());
    }
}

fn check_tiles(start: u64, end: u64, nodes: &[NodeId]) {
    let mut covered = start;
    for node in nodes {
        let range = node.leaf_range().expect("a node of a real tree");
        assert_eq!(range.start, covered, "subtrees of [{start}, {end}) leave a gap");
        covered = range.end;
    }
    assert_eq!(covered, end);
}
