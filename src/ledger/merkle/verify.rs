//! Proof verification, literally the algorithms of RFC 9162 §2.1.3.2
//! (inclusion) and §2.1.4.2 (consistency).
//!
//! Inputs are byte slices because they arrive untrusted (HTTP, JSON, files):
//! every hash is length-checked here instead of at each call site. `Hash`
//! values coerce: pass `&hash` and `&proof` where `proof: Vec<Hash>`.
//!
//! Edge cases match transparency-dev/merkle and its test vectors: `first >
//! second` and `first == 0` (even with `second == 0`) are rejected; `first ==
//! second` needs an empty proof and byte-identical roots.

use super::{node_hash, Hash, ProofError};

/// Converts untrusted bytes into a hash, rejecting any other length.
fn to_hash(bytes: &[u8]) -> Result<Hash, ProofError> {
    Hash::try_from(bytes).map_err(|_| ProofError::WrongHashLength(bytes.len()))
}

/// Shifts `fn_` and `sn` right together until `fn_` is odd or zero (RFC step
/// "right-shift both fn and sn equally until either LSB(fn) is set or fn is 0").
fn skip_right_border(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// The root that an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1–4 and
/// the `sn == 0` check of step 5). Compare it with a trusted root yourself, or
/// use [`verify_inclusion`].
pub fn root_from_inclusion_proof<P: AsRef<[u8]>>(
    leaf_hash: &[u8],
    index: u64,
    size: u64,
    proof: &[P],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let wrong_length = ProofError::WrongProofLength { got: proof.len() };
    let mut r = to_hash(leaf_hash)?;
    let (mut fn_, mut sn) = (index, size - 1);
    for p in proof {
        let p = to_hash(p.as_ref())?;
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(&p, &r);
            skip_right_border(&mut fn_, &mut sn);
        } else {
            r = node_hash(&r, &p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length);
    }
    Ok(r)
}

/// Checks that the leaf with `leaf_hash` is at `index` in the tree of `size`
/// leaves whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion<P: AsRef<[u8]>>(
    leaf_hash: &[u8],
    index: u64,
    size: u64,
    proof: &[P],
    root: &[u8],
) -> Result<(), ProofError> {
    let computed = root_from_inclusion_proof(leaf_hash, index, size, proof)?;
    if computed.as_slice() != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `first` leaves with `first_root` is a prefix of the
/// tree of `second` leaves with `second_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency<P: AsRef<[u8]>>(
    first: u64,
    second: u64,
    first_root: &[u8],
    second_root: &[u8],
    proof: &[P],
) -> Result<(), ProofError> {
    let wrong_length = ProofError::WrongProofLength { got: proof.len() };
    if first > second {
        return Err(ProofError::FirstAfterSecond { first, second });
    }
    if first == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    if first == second {
        if !proof.is_empty() {
            return Err(wrong_length);
        }
        if first_root != second_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    // Step 1: a non-trivial proof is never empty.
    if proof.is_empty() {
        return Err(wrong_length);
    }
    let first_root = to_hash(first_root)?;
    let second_root = to_hash(second_root)?;
    // Step 2: if first is a power of two its root is the proof's seed.
    let mut path = Vec::with_capacity(proof.len().saturating_add(1));
    if first.is_power_of_two() {
        path.push(first_root);
    }
    for p in proof {
        path.push(to_hash(p.as_ref())?);
    }
    // Steps 3 and 4.
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    let Some((seed, rest)) = path.split_first() else {
        return Err(wrong_length);
    };
    let (mut fr, mut sr) = (*seed, *seed);
    // Step 6.
    for c in rest {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            skip_right_border(&mut fn_, &mut sn);
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if sn != 0 {
        return Err(wrong_length);
    }
    if fr != first_root || sr != second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::merkle::{empty_root, leaf_hash};

    #[test]
    fn single_leaf_tree() {
        let leaf = leaf_hash(b"x");
        let none: [Hash; 0] = [];
        verify_inclusion(&leaf, 0, 1, &none, &leaf).unwrap();
        assert_eq!(
            verify_inclusion(&leaf, 0, 1, &[leaf], &leaf),
            Err(ProofError::WrongProofLength { got: 1 })
        );
        assert_eq!(
            verify_inclusion(&leaf, 1, 1, &none, &leaf),
            Err(ProofError::IndexOutOfRange { index: 1, size: 1 })
        );
        assert_eq!(
            verify_inclusion(&leaf[..31], 0, 1, &none, &leaf),
            Err(ProofError::WrongHashLength(31))
        );
    }

    #[test]
    fn consistency_edge_cases() {
        let e = empty_root();
        let none: [Hash; 0] = [];
        assert_eq!(verify_consistency(0, 0, &e, &e, &none), Err(ProofError::EmptyFirstTree));
        assert_eq!(verify_consistency(0, 5, &e, &e, &none), Err(ProofError::EmptyFirstTree));
        assert_eq!(
            verify_consistency(5, 4, &e, &e, &none),
            Err(ProofError::FirstAfterSecond { first: 5, second: 4 })
        );
        verify_consistency(4, 4, &e, &e, &none).unwrap();
        assert_eq!(
            verify_consistency(4, 4, &e, &e, &[e]),
            Err(ProofError::WrongProofLength { got: 1 })
        );
        assert_eq!(
            verify_consistency(4, 5, &e, &e, &none),
            Err(ProofError::WrongProofLength { got: 0 })
        );
    }

    #[test]
    fn huge_sizes_do_not_panic() {
        let h = leaf_hash(b"");
        let proof = vec![h; 70];
        for (index, size) in [(0, u64::MAX), (u64::MAX - 1, u64::MAX), (u64::MAX, u64::MAX)] {
            for len in [0, 1, 63, 64, 65, 70] {
                assert!(verify_inclusion(&h, index, size, &proof[..len], &h).is_err());
            }
        }
        for (first, second) in [(1, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 63, u64::MAX)] {
            for len in [0, 1, 63, 64, 65, 70] {
                assert!(verify_consistency(first, second, &h, &h, &proof[..len]).is_err());
            }
        }
    }
}
