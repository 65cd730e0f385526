//! What every page that asks for a signature shares: the exact canonical
//! message (SPEC §8, built by the same code the decision verifies with),
//! the form that carries the signature and the terms the message was
//! built from, and `static/sign.js`, which signs the message in the
//! browser with a key file the person picks — the key never leaves the
//! page. Without JavaScript the form takes a signature pasted from
//! `anchorfin sign`. The server never trusts the message a form could
//! carry: it rebuilds it from the terms and verifies the signature.

use crate::domain::{Nonce, Signature};
use crate::portal::assets::assets;
use crate::portal::caller::{field, Caller};
use crate::portal::frame::Frame;

/// A message to sign and the form that sends its signature
/// (`templates/signing.html`).
pub struct Signing {
    /// The form's id (a page may hold two: confirm and dispute).
    pub id: &'static str,
    /// Where the form posts.
    pub action: String,
    pub message: String,
    /// The terms the message was built from, sent back with the signature.
    pub fields: Vec<(String, String)>,
    /// Whether the form asks for a reason (a dispute's, which is recorded
    /// but not signed).
    pub reason: bool,
    pub submit: &'static str,
}

/// The frame of a page with signing forms: it loads the signing script.
pub fn with_signer(mut frame: Frame) -> Frame {
    frame.scripts.push(&assets().sign.path);
    frame
}

/// The signature a form sent, as the API reads it (128 hex characters);
/// the parser's reason when it is not one.
pub fn signature(caller: &Caller) -> Result<Signature, String> {
    Signature::parse_hex(field(&caller.form, "signature").unwrap_or_default().trim()).map_err(|error| error.to_string())
}

/// The nonce a signed form sent back.
pub fn sent_nonce(caller: &Caller) -> Option<Nonce> {
    field(&caller.form, "nonce").and_then(|nonce| Nonce::parse(nonce).ok())
}
