//! The body of a C2SP `tlog-witness` `add-checkpoint` request:
//!
//! ```text
//! old <size, decimal>
//! <consistency proof hash, base64>     (0 to 63 lines)
//!
//! <signed checkpoint note>
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::ledger::Hash;

/// The most proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    /// The signed note, as received.
    pub note: String,
}

/// Why a request is malformed (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed add-checkpoint request: {0}")]
pub struct Malformed(pub &'static str);

impl AddCheckpoint {
    pub fn parse(body: &str) -> Result<Self, Malformed> {
        let (first, rest) = body.split_once('\n').ok_or(Malformed("no old size line"))?;
        let size = first
            .strip_prefix("old ")
            .ok_or(Malformed("the first line is not \"old <size>\""))?;
        if size.is_empty()
            || !size.bytes().all(|byte| byte.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(Malformed("the old size is not a canonical decimal"));
        }
        let old_size = size
            .parse()
            .map_err(|_| Malformed("the old size does not fit in 64 bits"))?;
        let mut proof = Vec::new();
        let mut rest = rest;
        loop {
            let (line, after) = rest
                .split_once('\n')
                .ok_or(Malformed("no blank line before the checkpoint"))?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(Malformed("more than 63 consistency proof lines"));
            }
            let hash = STANDARD
                .decode(line)
                .ok()
                .and_then(|bytes| Hash::try_from(bytes).ok())
                .ok_or(Malformed("a proof line is not a 32-byte hash in base64"))?;
            proof.push(hash);
        }
        if rest.is_empty() {
            return Err(Malformed("no checkpoint"));
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            note: rest.to_owned(),
        })
    }

    /// The request's body (what a log sends).
    pub fn to_body(&self) -> String {
        let mut body = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            body.push_str(&STANDARD.encode(hash));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.note);
        body
    }

    /// The proof lines, as kept in evidence.
    pub fn proof_lines(&self) -> String {
        self.proof
            .iter()
            .map(|hash| format!("{}\n", STANDARD.encode(hash)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_back() {
        let request = AddCheckpoint {
            old_size: 3,
            proof: vec![[1; 32], [2; 32]],
            note: "o\n5\nroot\n\n— o sig\n".to_owned(),
        };
        assert_eq!(AddCheckpoint::parse(&request.to_body()), Ok(request.clone()));
        let empty = AddCheckpoint {
            old_size: 0,
            proof: Vec::new(),
            ..request
        };
        assert!(empty.to_body().starts_with("old 0\n\n"));
        assert_eq!(AddCheckpoint::parse(&empty.to_body()), Ok(empty));
    }

    #[test]
    fn refuses_malformed_bodies() {
        let line = STANDARD.encode([1u8; 32]);
        let too_many = format!("old 1\n{}\nnote\n", format!("{line}\n").repeat(64));
        let at_limit = format!("old 1\n{}\nnote\n", format!("{line}\n").repeat(63));
        assert!(AddCheckpoint::parse(&at_limit).is_ok());
        for bad in [
            "",
            "old 1",
            "new 1\n\nnote\n",
            "old 01\n\nnote\n",
            "old -1\n\nnote\n",
            "old 1\nnot base64!\n\nnote\n",
            "old 1\nAAAA\n\nnote\n",
            "old 1\n\n",
            "old 1\nnote\n",
            too_many.as_str(),
        ] {
            assert!(AddCheckpoint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
