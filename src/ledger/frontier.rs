//! The sequencer's incremental tree builder.
//!
//! Appending a leaf only touches the right edge of the tree: the perfect
//! subtrees of the binary decomposition of the size (at most 64). Keeping just
//! those lets the sequencer compute the new root in O(log n) without reading
//! the tree, and tells it exactly which perfect nodes became complete and must
//! be stored (each exactly once, never rewritten).

use crate::ledger::merkle::{empty_root, node_hash, perfect_subtrees, Hash, NodeId};

/// Why a frontier could not be built or grown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontierError {
    /// `from_nodes` needs one hash per set bit of the size.
    #[error("tree size {size} needs {expected} frontier hashes, got {got}")]
    WrongNodeCount { size: u64, expected: usize, got: usize },
    /// The size would no longer fit in u64.
    #[error("the tree cannot hold more than u64::MAX leaves")]
    Full,
}

/// The NodeIds a store must read to rebuild the [`Frontier`] of a tree of
/// `size` leaves, left to right (largest first).
pub fn frontier_nodes_for(size: u64) -> Vec<NodeId> {
    perfect_subtrees(0, size)
}

/// Right-edge perfect subtrees of a tree of `size` leaves.
///
/// Invariant: `nodes` are exactly [`frontier_nodes_for`]`(size)`, left to right,
/// with their hashes; fields are private so it cannot be broken.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    nodes: Vec<(NodeId, Hash)>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn empty() -> Self {
        Frontier::default()
    }

    /// Rebuilds a frontier from stored hashes, given in the order of
    /// [`frontier_nodes_for`]`(size)`.
    pub fn from_nodes(size: u64, hashes: Vec<Hash>) -> Result<Self, FrontierError> {
        let ids = frontier_nodes_for(size);
        if ids.len() != hashes.len() {
            return Err(FrontierError::WrongNodeCount {
                size,
                expected: ids.len(),
                got: hashes.len(),
            });
        }
        Ok(Frontier {
            size,
            nodes: ids.into_iter().zip(hashes).collect(),
        })
    }

    /// Number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The right-edge perfect subtrees, left to right.
    pub fn nodes(&self) -> &[(NodeId, Hash)] {
        &self.nodes
    }

    /// Appends one leaf hash and returns every perfect node it completed,
    /// bottom-up, starting with the leaf's own level-0 node. The caller stores
    /// all of them; nothing else in the tree changes.
    pub fn append(&mut self, leaf: Hash) -> Result<Vec<(NodeId, Hash)>, FrontierError> {
        let next_size = self.size.checked_add(1).ok_or(FrontierError::Full)?;
        let mut node = (NodeId::leaf(self.size), leaf);
        let mut created = vec![node];
        // Two neighbours of equal level are siblings: merge them into their parent.
        while let Some(&(left_id, left_hash)) = self.nodes.last() {
            if left_id.level != node.0.level {
                break;
            }
            self.nodes.pop();
            node = (
                NodeId::new(left_id.level + 1, left_id.index >> 1),
                node_hash(&left_hash, &node.1),
            );
            created.push(node);
        }
        self.nodes.push(node);
        self.size = next_size;
        Ok(created)
    }

    /// Appends leaves in order; all or nothing. Returns the new nodes of every
    /// append, in creation order.
    pub fn append_batch(&mut self, leaves: &[Hash]) -> Result<Vec<(NodeId, Hash)>, FrontierError> {
        let count = u64::try_from(leaves.len()).map_err(|_| FrontierError::Full)?;
        self.size.checked_add(count).ok_or(FrontierError::Full)?;
        let mut created = Vec::with_capacity(leaves.len().saturating_mul(2));
        for leaf in leaves {
            created.extend(self.append(*leaf)?);
        }
        Ok(created)
    }

    /// The tree's MTH: the frontier folded right to left; the empty root for size 0.
    pub fn root(&self) -> Hash {
        let mut hashes = self.nodes.iter().rev().map(|(_, hash)| *hash);
        match hashes.next() {
            None => empty_root(),
            Some(last) => hashes.fold(last, |right, left| node_hash(&left, &right)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::merkle::{leaf_hash, root_from_leaf_hashes};

    fn leaves(count: u64) -> Vec<Hash> {
        (0..count).map(|index| leaf_hash(&index.to_be_bytes())).collect()
    }

    #[test]
    fn root_matches_the_reference_at_every_size() {
        let all = leaves(100);
        let mut frontier = Frontier::empty();
        assert_eq!(frontier.root(), empty_root());
        for (count, leaf) in all.iter().enumerate() {
            frontier.append(*leaf).unwrap();
            assert_eq!(frontier.size(), count as u64 + 1);
            assert_eq!(
                frontier.root(),
                root_from_leaf_hashes(&all[..=count]),
                "size {}",
                count + 1
            );
            assert_eq!(
                frontier.nodes().iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                frontier_nodes_for(count as u64 + 1)
            );
        }
    }

    #[test]
    fn every_perfect_node_is_created_exactly_once() {
        let all = leaves(64);
        let mut frontier = Frontier::empty();
        let created = frontier.append_batch(&all).unwrap();
        // A perfect tree of 64 leaves has 127 nodes.
        assert_eq!(created.len(), 127);
        let mut ids: Vec<NodeId> = created.iter().map(|(id, _)| *id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 127);
        for (id, hash) in created {
            let range = id.leaf_range().unwrap();
            assert_eq!(
                hash,
                root_from_leaf_hashes(&all[range.start as usize..range.end as usize])
            );
        }
    }

    #[test]
    fn rebuilds_from_stored_nodes() {
        let all = leaves(37);
        let mut grown = Frontier::empty();
        grown.append_batch(&all).unwrap();
        let hashes = grown.nodes().iter().map(|(_, hash)| *hash).collect();
        let rebuilt = Frontier::from_nodes(37, hashes).unwrap();
        assert_eq!(rebuilt, grown);
        assert_eq!(
            Frontier::from_nodes(37, vec![[0; 32]]),
            Err(FrontierError::WrongNodeCount {
                size: 37,
                expected: 3,
                got: 1
            })
        );
    }
}
