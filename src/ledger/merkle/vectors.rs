//! Runs the RFC 9162 test vectors of transparency-dev/merkle (tests/data/rfc9162):
//! every `wantErr: false` case must verify, every `wantErr: true` case must fail.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use super::{verify_consistency, verify_inclusion, ProofError};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc9162");

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            out.push(path);
        }
    }
}

fn bytes(case: &Value, field: &str) -> Vec<u8> {
    let text = case[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string"));
    STANDARD.decode(text).unwrap_or_else(|e| panic!("{field}: {e}"))
}

fn number(case: &Value, field: &str) -> u64 {
    case[field].as_u64().unwrap_or_else(|| panic!("{field} is not a u64"))
}

fn proof(case: &Value) -> Vec<Vec<u8>> {
    match &case["proof"] {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|item| STANDARD.decode(item.as_str().unwrap()).unwrap())
            .collect(),
        other => panic!("proof is {other}"),
    }
}

fn run(case: &Value) -> Result<(), ProofError> {
    if case.get("leafIdx").is_some() {
        verify_inclusion(
            &bytes(case, "leafHash"),
            number(case, "leafIdx"),
            number(case, "treeSize"),
            &proof(case),
            &bytes(case, "root"),
        )
    } else {
        verify_consistency(
            number(case, "size1"),
            number(case, "size2"),
            &bytes(case, "root1"),
            &bytes(case, "root2"),
            &proof(case),
        )
    }
}

#[test]
fn rfc9162_vectors() {
    let mut files = Vec::new();
    json_files(Path::new(VECTORS), &mut files);
    assert_eq!(files.len(), 196, "expected the 196 vector files under {VECTORS}");

    // [inclusion accepted, inclusion rejected, consistency accepted, consistency rejected]
    let mut counts = [0usize; 4];
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let case: Value = serde_json::from_str(&text).unwrap();
        let want_err = case["wantErr"].as_bool().expect("wantErr");
        let result = run(&case);
        assert_eq!(result.is_err(), want_err, "{}: got {result:?}", path.display());
        let slot = usize::from(case.get("leafIdx").is_none()) * 2 + usize::from(want_err);
        counts[slot] += 1;
    }
    assert!(counts.iter().all(|&c| c > 0), "vacuous vector run: {counts:?}");
    assert_eq!(counts.iter().sum::<usize>(), files.len());
}
