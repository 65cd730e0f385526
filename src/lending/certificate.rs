//! `GET /v1/encumbrance/{fingerprint}/certificate`: what a look-up says,
//! as a statement the log signs for one tree size, with the entries it
//! rests on and their inclusion proofs, so a bank can hand it to anyone
//! who checks it offline (`anchorfin certificate verify`) and anyone who
//! later replays the log up to that size can tell whether it was true.
//!
//! The answer and the entries are read after the signed head, in one
//! connection: every entry below the head's size was committed (with the
//! state change it records) before the head was signed, so the state read
//! afterwards includes it. An entry about the fingerprint that the head
//! does not cover yet (queued, or sequenced past it) means the state may
//! be ahead of the head: the caller asks again once a newer head is signed.

use chrono::SecondsFormat;

use super::encumbrance::{look_up, Found};
use crate::ledger::certificate::{Amounts, Statement, STATE_KINDS};
use crate::ledger::Hash;
use crate::registry::{amount, visible_receivable, Viewer};
use crate::store::ledger as ledger_repository;
use crate::store::registry as registry_repository;
use crate::store::DbConnection;
use crate::tlog::{self, ProofError, PublishedSize, Reader, VisibleEntry};

/// One entry a certificate rests on.
#[derive(Debug, Clone)]
pub struct CertifiedEntry {
    pub entry: VisibleEntry,
    pub inclusion_proof: Vec<Hash>,
}

/// Everything a certificate holds but its statement's signature.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub statement: Statement,
    pub checkpoint: String,
    pub entries: Vec<CertifiedEntry>,
}

/// Who asks, about what, for the log of which origin.
#[derive(Debug, Clone)]
pub struct CertificateRequest {
    pub bank_id: String,
    pub fingerprint: Hash,
    /// The fingerprint's stored (keyed) form.
    pub stored: Hash,
    pub origin: String,
    /// The witnesses (verifier key lines) a quorum of which must have
    /// cosigned the checkpoint the certificate speaks for.
    pub witnesses: Vec<String>,
    /// 0: the latest signed head, whatever cosignatures it has.
    pub quorum: usize,
}

/// The certificate for `request` at the newest checkpoint with a quorum of
/// witness cosignatures (the latest signed head when the quorum is 0), or
/// `None` when that checkpoint does not yet include every entry about the
/// fingerprint (or there is none yet).
pub fn certificate(
    connection: &mut DbConnection,
    published: &PublishedSize,
    request: &CertificateRequest,
) -> Result<Option<Certificate>, ProofError> {
    let Some(cosigned) = tlog::cosigned_checkpoint(connection, &request.witnesses, request.quorum)? else {
        return Ok(None);
    };
    let tree_size = cosigned.size;
    let head = ledger_repository::tree_head(connection, tree_size as i64)?
        .ok_or_else(|| ProofError::Corrupt(format!("no signed head of size {tree_size}")))?;
    let root_hash: Hash = head
        .root_hash
        .as_slice()
        .try_into()
        .map_err(|_| ProofError::Corrupt("a tree head's root is not 32 bytes".to_owned()))?;
    let found = look_up(connection, &request.stored)?;
    let ledger_fingerprints = ledger_fingerprints(connection, &found, request.stored)?;
    let amounts = amounts(connection, &found, &request.bank_id)?;
    // Read last, so that a change committed while the rest was read shows
    // here as an entry the head does not cover.
    let keys: Vec<Vec<u8>> = ledger_fingerprints.iter().map(|key| key.to_vec()).collect();
    let about = ledger_repository::entries_about(connection, &keys, STATE_KINDS)?;
    let mut indexes = Vec::with_capacity(about.len());
    for (_, index) in about {
        match index {
            Some(index) if (index as u64) < tree_size => indexes.push(index as u64),
            _ => return Ok(None),
        }
    }
    indexes.sort_unstable();
    let reader = Reader::Organization(request.bank_id.clone());
    let mut entries = Vec::with_capacity(indexes.len());
    for &index in &indexes {
        let entry = tlog::entries(connection, index, index + 1, &reader)?
            .pop()
            .ok_or_else(|| ProofError::Corrupt(format!("entry {index} is missing")))?;
        let inclusion_proof = tlog::inclusion_proof(connection, published, index, tree_size)?;
        entries.push(CertifiedEntry { entry, inclusion_proof });
    }
    let checkpoint = cosigned.note;
    let answer = found.answer;
    Ok(Some(Certificate {
        statement: Statement {
            origin: request.origin.clone(),
            fingerprint: request.fingerprint,
            ledger_fingerprints,
            registered: answer.registered,
            confirmed: answer.confirmed,
            encumbered: answer.encumbered,
            amounts,
            tree_size,
            root_hash,
            issued_to: request.bank_id.clone(),
            issued_at: crate::store::now().and_utc().to_rfc3339_opts(SecondsFormat::Secs, true),
            entries: indexes,
        },
        checkpoint,
        entries,
    }))
}

/// The keyed fingerprints the entries record: the asked one's, and for an
/// invoice under a purchase order the order's, whose lien reserves it.
fn ledger_fingerprints(connection: &mut DbConnection, found: &Found, stored: Hash) -> diesel::QueryResult<Vec<Hash>> {
    let mut fingerprints = vec![stored];
    let Some(receivable_id) = &found.receivable_id else {
        return Ok(fingerprints);
    };
    let order = match registry_repository::find_receivable(connection, receivable_id)?
        .and_then(|receivable| receivable.purchase_order_id)
    {
        Some(order_id) => registry_repository::find_purchase_order(connection, &order_id)?,
        None => None,
    };
    if let Some(order) = order.and_then(|order| Hash::try_from(order.fingerprint.as_slice()).ok()) {
        fingerprints.push(order);
    }
    Ok(fingerprints)
}

/// The invoice's amounts, when the bank may see the invoice (as
/// `GET /v1/receivables/{id}` decides); `None` otherwise, and for a
/// purchase order.
fn amounts(connection: &mut DbConnection, found: &Found, bank_id: &str) -> diesel::QueryResult<Option<Amounts>> {
    let Some(receivable_id) = &found.receivable_id else {
        return Ok(None);
    };
    let viewer = Viewer {
        organization_id: bank_id.to_owned(),
        role: crate::domain::Role::Bank,
    };
    Ok(
        visible_receivable(connection, &viewer, receivable_id)?.map(|receivable| Amounts {
            face_value: amount(receivable.amount_minor, &receivable.currency),
            outstanding: amount(
                receivable.amount_minor - receivable.credited_minor,
                &receivable.currency,
            ),
            currency: receivable.currency,
        }),
    )
}
