//! Signed tree heads (C2SP `tlog-checkpoint` signed notes).
//!
//! Input: one byte choosing the mode, then its data.
//! - Text: any note text that parses, written out again, parses to the
//!   same checkpoint.
//! - Sign: any checkpoint the server can sign (any origin `check_origin`
//!   accepts, any size, root and time) opens again, with the origin as the
//!   key name, to exactly that checkpoint.
//! - Open: a note signed by the key, edited by the input (bytes replaced,
//!   inserted, removed) or replaced by raw input, opens only if its signed
//!   text is unchanged, and then to the signed checkpoint.

#![no_main]

use std::sync::LazyLock;

use anchorfin::fuzzing::checkpoint_text;
use anchorfin::ledger::{check_origin, open_checkpoint, Checkpoint};
use ed25519_dalek::SigningKey;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

const ORIGIN: &str = "anchorfin.local/ledger";

static KEY: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::from_bytes(&[42; 32]));

/// The checkpoint the key signed, and its note.
static SIGNED: LazyLock<(Checkpoint, String)> = LazyLock::new(|| {
    let checkpoint = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: 4,
        root_hash: [0xab; 32],
        timestamp_ms: 1_764_000_000_000,
    };
    let note = checkpoint.sign(&KEY).note;
    (checkpoint, note)
});

fuzz_target!(|data: &[u8]| {
    let mut input = Unstructured::new(data);
    let _ = match input.int_in_range(0..=2u8) {
        Ok(0) => text(input),
        Ok(1) => sign(&mut input),
        _ => open(&mut input),
    };
});

fn text(input: Unstructured) -> Result<()> {
    let Ok(text) = std::str::from_utf8(input.take_rest()) else {
        return Ok(());
    };
    if let Ok(checkpoint) = checkpoint_text(text) {
        assert_eq!(checkpoint_text(&checkpoint.text()), Ok(checkpoint.clone()), "{text:?}");
        assert!(!checkpoint.origin.is_empty() && !checkpoint.origin.contains('\n'));
    }
    Ok(())
}

fn sign(input: &mut Unstructured) -> Result<()> {
    let checkpoint = Checkpoint {
        origin: input.arbitrary()?,
        size: input.arbitrary()?,
        root_hash: input.arbitrary()?,
        timestamp_ms: input.arbitrary()?,
    };
    // The server refuses to start under any other origin.
    if check_origin(&checkpoint.origin).is_err() {
        return Ok(());
    }
    let signed = checkpoint.sign(&KEY);
    assert!(signed.note.starts_with(&checkpoint.text()));
    let opened = open_checkpoint(&signed.note, &checkpoint.origin, &KEY.verifying_key());
    assert_eq!(opened, Ok(checkpoint), "the note:\n{}", signed.note);
    Ok(())
}

fn open(input: &mut Unstructured) -> Result<()> {
    let (checkpoint, note) = &*SIGNED;
    let mut edited: Vec<u8> = if input.arbitrary()? {
        note.clone().into_bytes()
    } else {
        Vec::new()
    };
    for _ in 0..input.int_in_range(0..=4u8)? {
        let at = input.int_in_range(0..=edited.len())?;
        match input.int_in_range(0..=2u8)? {
            0 if at < edited.len() => edited[at] = input.arbitrary()?,
            1 => {
                let inserted: Vec<u8> = input.arbitrary()?;
                edited.splice(at..at, inserted);
            }
            _ => {
                let end = input.int_in_range(at..=edited.len())?;
                edited.drain(at..end);
            }
        }
    }
    edited.extend_from_slice(input.bytes(input.len())?);
    let Ok(edited) = String::from_utf8(edited) else {
        return Ok(());
    };
    if let Ok(opened) = open_checkpoint(&edited, ORIGIN, &KEY.verifying_key()) {
        let text = &edited[..edited.find("\n\n").expect("an opened note has a blank line") + 1];
        assert_eq!(
            text,
            checkpoint.text(),
            "a note opened whose signed text was changed:\n{edited}"
        );
        assert_eq!(&opened, checkpoint);
    }
    Ok(())
}
