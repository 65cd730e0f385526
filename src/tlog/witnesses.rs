//! The log asks its witnesses (C2SP `tlog-witness`): whenever the latest
//! signed head is larger than what a witness last cosigned, it is submitted
//! to that witness with a consistency proof from the witness's size; the
//! cosignatures that come back are checked with the witness's key and
//! stored. Each witness is served by its own task, so a slow or stopped one
//! delays nobody, and only the newest head is submitted (heads signed
//! meanwhile are skipped: a cosignature on a larger head covers them).
//! Writes never wait for any of this; `?wait=cosigned` answers poll the
//! stored cosignatures ([`wait_for_cosigned`]).
//!
//! A witness that holds a head the log cannot prove consistent with its
//! own — a larger one, the same size with another root, or one from which
//! its consistency proof is refused — has seen a fork of the log: the
//! operator's risk officers get a `log_inconsistency` alert, one per
//! witness and size.
//!
//! Several server processes may each run the submitter: a cosignature is
//! stored once per head and witness, whoever receives it first.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use tokio::sync::watch;

use super::read::{consistency_proof, ProofError, PublishedSize};
use crate::alerts::{self, AlertKind};
use crate::config::{WitnessPeer, WitnessSettings};
use crate::ledger::{valid_cosigners, Hash, VerifierKey};
use crate::store::ledger as ledger_repository;
use crate::store::witnesses::{self as repository, CosignatureRow, WitnessStateRow};
use crate::store::{self, write_transaction, Database, DbConnection};

/// The content type of a 409's body: the witness's size.
const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// How often `?wait=cosigned` looks again.
const WAIT_POLL: Duration = Duration::from_millis(50);

/// The body of a submission: `old <size>`, the consistency proof's hashes
/// in base64 one a line, a blank line, then the signed checkpoint note.
pub fn submission_body(old_size: u64, proof: &[Hash], note: &str) -> String {
    let mut body = format!("old {old_size}\n");
    for hash in proof {
        body.push_str(&STANDARD.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// What a witness answered, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200: its signature lines (without newlines).
    Cosigned(Vec<String>),
    /// 409 `text/x.tlog.size`: the size of the checkpoint it holds.
    HasSize(u64),
    /// 422: the consistency proof does not verify against what it holds.
    ProofRefused,
    /// Anything else, with its status.
    Refused(u16),
}

pub fn parse_answer(status: u16, content_type: Option<&str>, body: &str) -> Answer {
    match status {
        200 => Answer::Cosigned(
            body.lines()
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        409 if content_type.is_some_and(|value| value.trim().starts_with(SIZE_CONTENT_TYPE)) => {
            match body.trim_end_matches('\n').parse() {
                Ok(size) if !body.trim().is_empty() => Answer::HasSize(size),
                _ => Answer::Refused(status),
            }
        }
        422 => Answer::ProofRefused,
        other => Answer::Refused(other),
    }
}

/// The pause after `failures` failures in a row: 200 ms doubling, at most
/// `cap`.
pub fn backoff(failures: u32, cap: Duration) -> Duration {
    let base = Duration::from_millis(200).saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    base.min(cap)
}

/// The line of `lines` that is `witness`'s valid cosignature on `note`,
/// with its timestamp.
pub fn verified_cosignature(note: &str, lines: &[String], witness: &VerifierKey) -> Option<(String, u64)> {
    lines.iter().find_map(|line| {
        let cosigned = format!("{note}{line}\n");
        valid_cosigners(&cosigned, std::slice::from_ref(witness))
            .first()
            .map(|(_, timestamp)| (line.clone(), *timestamp))
    })
}

/// The signed head being submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub size: u64,
    pub note: String,
}

/// Why a submission failed, as counted in the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer (refused connection, timeout, reset).
    Unreachable(String),
    /// An answer other than a cosignature or a size.
    Refused(u16),
    /// 200 without a valid cosignature by the witness's key.
    BadCosignature,
    /// The witness holds a head inconsistent with ours.
    Inconsistent { witness_size: u64, detail: String },
    /// Our database failed us.
    Database(String),
}

impl Failure {
    /// The metrics' `reason` label.
    pub fn reason(&self) -> &'static str {
        match self {
            Failure::Unreachable(_) => "unreachable",
            Failure::Refused(_) => "refused",
            Failure::BadCosignature => "bad_cosignature",
            Failure::Inconsistent { .. } => "inconsistent",
            Failure::Database(_) => "database",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Unreachable(detail) => write!(formatter, "unreachable: {detail}"),
            Failure::Refused(status) => write!(formatter, "answered HTTP {status}"),
            Failure::BadCosignature => formatter.write_str("answered 200 without a valid cosignature by its key"),
            Failure::Inconsistent { witness_size, detail } => {
                write!(
                    formatter,
                    "holds a head of size {witness_size} inconsistent with the log: {detail}"
                )
            }
            Failure::Database(detail) => write!(formatter, "database: {detail}"),
        }
    }
}

/// What the submitter tells the metrics after each attempt.
#[derive(Debug, Clone)]
pub struct WitnessReport {
    /// The witness's name (from its verifier key).
    pub witness: String,
    pub cosigned_size: Option<u64>,
    pub head_size: u64,
    /// `None` after a success.
    pub failure: Option<&'static str>,
}

pub type WitnessObserver = Arc<dyn Fn(&WitnessReport) + Send + Sync>;

/// Starts one task following the latest signed head and one per witness
/// submitting it. Returns every task, to abort on shutdown.
pub fn spawn_witness_submitters(
    database: Database,
    settings: &WitnessSettings,
    published: Arc<PublishedSize>,
    observe: WitnessObserver,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    if settings.witnesses.is_empty() {
        return Ok(Vec::new());
    }
    let client = reqwest::Client::builder()
        .timeout(settings.request_timeout)
        .connect_timeout(settings.request_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .build()?;
    let (heads, _) = watch::channel(None::<Head>);
    let mut tasks = vec![spawn_head_follower(database.clone(), settings.poll, heads.clone())];
    for peer in &settings.witnesses {
        let submitter = Submitter {
            database: database.clone(),
            client: client.clone(),
            peer: peer.clone(),
            published: published.clone(),
            observe: observe.clone(),
            max_backoff: settings.max_backoff,
        };
        tasks.push(tokio::spawn(submitter.run(heads.subscribe())));
    }
    Ok(tasks)
}

/// Publishes the latest signed head whenever it grows (any process's
/// sequencer may have signed it).
fn spawn_head_follower(
    database: Database,
    poll: Duration,
    heads: watch::Sender<Option<Head>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(poll);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match database.run(ledger_repository::latest_tree_head).await {
                Ok(Ok(Some(row))) => {
                    let head = Head {
                        size: row.tree_size as u64,
                        note: row.checkpoint,
                    };
                    heads.send_if_modified(|current| {
                        let newer = current.as_ref().is_none_or(|known| known.size < head.size);
                        if newer {
                            *current = Some(head);
                        }
                        newer
                    });
                }
                Ok(Ok(None)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "cannot read the latest tree head for the witnesses"),
                Err(error) => tracing::debug!(%error, "no database to read the latest tree head"),
            }
        }
    })
}

struct Submitter {
    database: Database,
    client: reqwest::Client,
    peer: WitnessPeer,
    published: Arc<PublishedSize>,
    observe: WitnessObserver,
    max_backoff: Duration,
}

impl Submitter {
    fn key(&self) -> String {
        self.peer.vkey.to_string()
    }

    async fn run(self, mut heads: watch::Receiver<Option<Head>>) {
        let key = self.key();
        let mut cosigned = self.stored_size(&key).await;
        let mut failures: u32 = 0;
        loop {
            let head = heads.borrow_and_update().clone();
            let Some(head) = head.filter(|head| cosigned.is_none_or(|size| size < head.size)) else {
                if heads.changed().await.is_err() {
                    return;
                }
                continue;
            };
            let outcome = self.submit(&head, cosigned.unwrap_or(0)).await;
            let failure = outcome.as_ref().err().map(Failure::reason);
            match outcome {
                Ok(size) => {
                    failures = 0;
                    cosigned = Some(cosigned.map_or(size, |known| known.max(size)));
                }
                Err(failure) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(witness = %self.peer.vkey.name, %failure, failures, "witness submission failed");
                    self.record_failure(&key, &head, &failure, failures, cosigned).await;
                }
            }
            (self.observe)(&WitnessReport {
                witness: self.peer.vkey.name.clone(),
                cosigned_size: cosigned,
                head_size: head.size,
                failure,
            });
            if failures > 0 {
                tokio::time::sleep(backoff(failures, self.max_backoff)).await;
            }
        }
    }

    /// What this witness cosigned last, as stored (by any process).
    async fn stored_size(&self, key: &str) -> Option<u64> {
        let key = key.to_owned();
        let mut attempts = 0;
        loop {
            let lookup = key.clone();
            match self
                .database
                .run(move |connection| repository::state(connection, &lookup))
                .await
            {
                Ok(Ok(state)) => return state.and_then(|state| state.cosigned_size).map(|size| size as u64),
                _ if attempts >= 5 => return None,
                _ => {
                    attempts += 1;
                    tokio::time::sleep(backoff(attempts, self.max_backoff)).await;
                }
            }
        }
    }

    /// Submits `head` to the witness, believed to hold `old`; follows one
    /// or two 409s to the size it really holds. Returns the size it has
    /// cosigned.
    async fn submit(&self, head: &Head, mut old: u64) -> Result<u64, Failure> {
        // Whether `old` is a size the witness told us it holds.
        let mut told = false;
        for _ in 0..3 {
            let proof = self.proof(old, head.size).await?;
            let body = submission_body(old, &proof, &head.note);
            let answer = self.post(body).await?;
            match answer {
                Answer::Cosigned(lines) => {
                    let (line, timestamp) =
                        verified_cosignature(&head.note, &lines, &self.peer.vkey).ok_or(Failure::BadCosignature)?;
                    self.store(head.size, line, timestamp).await?;
                    return Ok(head.size);
                }
                Answer::HasSize(size) if told && size == old => {
                    return Err(Failure::Inconsistent {
                        witness_size: size,
                        detail: "it holds another root for this size".to_owned(),
                    })
                }
                Answer::HasSize(size) if size > head.size => {
                    // Another process of this log may have submitted a newer head.
                    let latest = self.latest_size().await?;
                    if size <= latest {
                        return Ok(size);
                    }
                    return Err(Failure::Inconsistent {
                        witness_size: size,
                        detail: format!("it holds a head larger than the log's latest ({latest})"),
                    });
                }
                Answer::HasSize(size) => {
                    old = size;
                    told = true;
                }
                Answer::ProofRefused => {
                    return Err(Failure::Inconsistent {
                        witness_size: old,
                        detail: format!("it refused the log's consistency proof from {old} to {}", head.size),
                    })
                }
                Answer::Refused(status) => return Err(Failure::Refused(status)),
            }
        }
        Err(Failure::Refused(409))
    }

    async fn proof(&self, old: u64, size: u64) -> Result<Vec<Hash>, Failure> {
        if old == 0 || old >= size {
            return Ok(Vec::new());
        }
        let published = self.published.clone();
        self.database
            .run(move |connection| consistency_proof(connection, &published, old, size))
            .await
            .map_err(|error| Failure::Database(error.to_string()))?
            .map_err(|error| match error {
                ProofError::Invalid(detail) => Failure::Database(detail),
                other => Failure::Database(other.to_string()),
            })
    }

    async fn latest_size(&self) -> Result<u64, Failure> {
        let head = self
            .database
            .run(ledger_repository::latest_tree_head)
            .await
            .map_err(|error| Failure::Database(error.to_string()))?
            .map_err(|error| Failure::Database(error.to_string()))?;
        Ok(head.map_or(0, |head| head.tree_size as u64))
    }

    async fn post(&self, body: String) -> Result<Answer, Failure> {
        let response = self
            .client
            .post(self.peer.submission_url())
            .body(body)
            .send()
            .await
            .map_err(|error| Failure::Unreachable(describe(&error)))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let text = response
            .text()
            .await
            .map_err(|error| Failure::Unreachable(describe(&error)))?;
        Ok(parse_answer(status, content_type.as_deref(), &text))
    }

    async fn store(&self, size: u64, line: String, timestamp: u64) -> Result<(), Failure> {
        let key = self.key();
        self.database
            .run(move |connection| {
                let now = store::now();
                write_transaction(connection, |connection| {
                    repository::insert_cosignature(
                        connection,
                        &CosignatureRow {
                            tree_size: size as i64,
                            witness: key.clone(),
                            signature_line: line,
                            witness_timestamp: i64::try_from(timestamp).unwrap_or(i64::MAX),
                            received_at: now,
                        },
                    )?;
                    let previous = repository::state(connection, &key)?.and_then(|state| state.cosigned_size);
                    repository::save_state(
                        connection,
                        &WitnessStateRow {
                            witness: key.clone(),
                            cosigned_size: larger(previous, Some(size as i64)),
                            failures: 0,
                            last_error: None,
                            updated_at: now,
                        },
                    )
                })
            })
            .await
            .map_err(|error| Failure::Database(error.to_string()))?
            .or_else(|error| {
                // Another process stored the same cosignature first.
                if store::is_unique_violation(&error) {
                    Ok(())
                } else {
                    Err(Failure::Database(error.to_string()))
                }
            })
    }

    async fn record_failure(&self, key: &str, head: &Head, failure: &Failure, failures: u32, cosigned: Option<u64>) {
        let key = key.to_owned();
        let error = failure.to_string();
        let inconsistent = match failure {
            Failure::Inconsistent { witness_size, .. } => Some(*witness_size),
            _ => None,
        };
        let (name, url, log_size) = (self.peer.vkey.name.clone(), self.peer.url.clone(), head.size);
        let recorded = self
            .database
            .run(move |connection| -> Result<(), diesel::result::Error> {
                let now = store::now();
                if let Some(witness_size) = inconsistent {
                    raise_inconsistency(connection, &key, &name, &url, witness_size, log_size, &error, now)?;
                }
                let result = write_transaction(connection, |connection| {
                    let previous = repository::state(connection, &key)?.and_then(|state| state.cosigned_size);
                    repository::save_state(
                        connection,
                        &WitnessStateRow {
                            witness: key.clone(),
                            cosigned_size: larger(previous, cosigned.map(|size| size as i64)),
                            failures: i64::from(failures),
                            last_error: Some(error.clone()),
                            updated_at: now,
                        },
                    )
                });
                match result {
                    Err(error) if store::is_unique_violation(&error) => Ok(()),
                    other => other,
                }
            })
            .await;
        match recorded {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "cannot record a witness's failure"),
            Err(error) => tracing::debug!(%error, "no database to record a witness's failure"),
        }
    }
}

/// A transport error with its causes ("error sending request" alone says
/// little: connection refused? timed out?).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The larger of two sizes either may be unknown: what a witness cosigned
/// only grows, whichever process heard of it.
fn larger(stored: Option<i64>, ours: Option<i64>) -> Option<i64> {
    stored.max(ours)
}

/// Raises the `log_inconsistency` alert for this witness and size unless
/// it was raised already.
#[allow(clippy::too_many_arguments)]
fn raise_inconsistency(
    connection: &mut DbConnection,
    key: &str,
    name: &str,
    url: &str,
    witness_size: u64,
    log_size: u64,
    detail: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    let raised = alerts::raise_once_for_operator(
        connection,
        AlertKind::LogInconsistency,
        format!("witness:{name}:{witness_size}"),
        json!({
            "witness": name,
            "witness_key": key,
            "witness_url": url,
            "witness_size": witness_size,
            "log_size": log_size,
            "detail": detail,
        }),
        now,
    )?;
    if raised {
        tracing::error!(
            witness = name,
            witness_size,
            log_size,
            "a witness holds a head inconsistent with the log"
        );
    }
    Ok(())
}

/// The newest head with at least `quorum` cosignatures among `witnesses`
/// (verifier key lines), as a signed note: the log's signature line, then
/// every cosignature stored for it. With a quorum of 0, the newest head
/// with whatever it has. `None` before there is one.
pub fn cosigned_checkpoint(
    connection: &mut DbConnection,
    witnesses: &[String],
    quorum: usize,
) -> diesel::QueryResult<Option<Cosigned>> {
    let Some(size) = repository::newest_cosigned_size(connection, witnesses, quorum as i64)? else {
        return Ok(None);
    };
    Ok(
        repository::head_with_cosignatures(connection, size)?.map(|(head, cosignatures)| {
            let mut note = head.checkpoint;
            for cosignature in cosignatures {
                note.push_str(&cosignature.signature_line);
                note.push('\n');
            }
            Cosigned {
                size: size as u64,
                note,
            }
        }),
    )
}

/// A cosigned checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    pub size: u64,
    pub note: String,
}

/// The verifier key lines of the configured witnesses.
pub fn witness_keys(settings: &WitnessSettings) -> Vec<String> {
    settings.witnesses.iter().map(|peer| peer.vkey.to_string()).collect()
}

/// Waits, at most `bound`, for a checkpoint with a quorum of cosignatures
/// that covers every ledger entry appended before this call (a decision
/// committed just before, say): first for the sequencer to sign a head
/// holding them, then for that head (or a larger one) to be cosigned. It
/// polls, holding a database connection only while it looks. `None` when
/// the bound passed first.
pub async fn wait_for_cosigned(database: &Database, settings: &WitnessSettings) -> Option<String> {
    let deadline = tokio::time::Instant::now() + settings.wait_timeout;
    let (witnesses, quorum) = (Arc::new(witness_keys(settings)), settings.quorum);
    let newest = loop {
        match database.run(repository::newest_queue_id).await {
            Ok(Ok(newest)) => break newest,
            _ if tokio::time::Instant::now() >= deadline => return None,
            _ => tokio::time::sleep(WAIT_POLL).await,
        }
    };
    // The size of the first head holding every entry appended so far.
    let mut target: Option<i64> = None;
    loop {
        let keys = witnesses.clone();
        let looked = database
            .run(
                move |connection| -> diesel::QueryResult<(Option<i64>, Option<Cosigned>)> {
                    let target = match target {
                        Some(size) => Some(size),
                        None => match newest {
                            Some(id) if repository::queued_at_or_below(connection, id)? => None,
                            _ => ledger_repository::latest_tree_head(connection)?.map(|head| head.tree_size),
                        },
                    };
                    let Some(size) = target else {
                        return Ok((None, None));
                    };
                    let cosigned =
                        cosigned_checkpoint(connection, &keys, quorum)?.filter(|cosigned| cosigned.size >= size as u64);
                    Ok((Some(size), cosigned))
                },
            )
            .await;
        match looked {
            Ok(Ok((_, Some(cosigned)))) => return Some(cosigned.note),
            Ok(Ok((found, None))) => target = found,
            Ok(Err(error)) => tracing::warn!(%error, "cannot look for a cosigned checkpoint"),
            Err(error) => tracing::debug!(%error, "no database to look for a cosigned checkpoint"),
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return None;
        }
        tokio::time::sleep(WAIT_POLL.min(deadline - now)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{cosign, note_text, Checkpoint};
    use ed25519_dalek::SigningKey;

    fn note() -> String {
        Checkpoint {
            origin: "anchorfin.test/ledger".to_owned(),
            size: 5,
            root_hash: [9; 32],
            timestamp_ms: 1_700_000_000_000,
        }
        .sign(&SigningKey::from_bytes(&[1; 32]))
        .note
    }

    #[test]
    fn a_submission_is_the_old_size_the_proof_a_blank_line_and_the_note() {
        let note = note();
        let body = submission_body(3, &[[0; 32], [255; 32]], &note);
        let expected = format!(
            "old 3\n{}\n{}\n\n{note}",
            STANDARD.encode([0u8; 32]),
            STANDARD.encode([255u8; 32])
        );
        assert_eq!(body, expected);
        assert_eq!(submission_body(0, &[], &note), format!("old 0\n\n{note}"));
    }

    #[test]
    fn answers_are_read_by_status_and_content_type() {
        assert_eq!(
            parse_answer(200, Some("text/plain"), "— w AAAA\n— w BBBB\n"),
            Answer::Cosigned(vec!["— w AAAA".to_owned(), "— w BBBB".to_owned()])
        );
        assert_eq!(parse_answer(409, Some("text/x.tlog.size"), "12\n"), Answer::HasSize(12));
        assert_eq!(parse_answer(409, Some("text/plain"), "12\n"), Answer::Refused(409));
        assert_eq!(
            parse_answer(409, Some("text/x.tlog.size"), "twelve\n"),
            Answer::Refused(409)
        );
        assert_eq!(parse_answer(422, None, "bad proof"), Answer::ProofRefused);
        assert_eq!(parse_answer(403, None, ""), Answer::Refused(403));
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let cap = Duration::from_secs(5);
        assert_eq!(backoff(1, cap), Duration::from_millis(200));
        assert_eq!(backoff(2, cap), Duration::from_millis(400));
        assert_eq!(backoff(4, cap), Duration::from_millis(1600));
        assert_eq!(backoff(10, cap), cap);
        assert_eq!(backoff(u32::MAX, cap), cap);
    }

    #[test]
    fn only_the_witnesses_own_valid_cosignature_is_taken() {
        let note = note();
        let key = SigningKey::from_bytes(&[2; 32]);
        let witness = VerifierKey::witness("bank1.test/witness", key.verifying_key());
        let other = SigningKey::from_bytes(&[3; 32]);
        let good = cosign("bank1.test/witness", &key, note_text(&note), 1_700_000_001);
        let forged = cosign("bank1.test/witness", &other, note_text(&note), 1_700_000_001);
        let lines = vec![forged.trim_end().to_owned(), good.trim_end().to_owned()];
        assert_eq!(
            verified_cosignature(&note, &lines, &witness),
            Some((good.trim_end().to_owned(), 1_700_000_001))
        );
        assert_eq!(verified_cosignature(&note, &lines[..1], &witness), None);
        let other_note = note.replacen("\n5\n", "\n6\n", 1);
        assert_eq!(verified_cosignature(&other_note, &lines, &witness), None);
    }
}
