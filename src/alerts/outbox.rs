//! The e-mail outbox's sender: a tokio task that claims due messages (a
//! lease, so several server processes never send one message at the same
//! time), sends each with lettre over SMTP, and marks it sent — or records
//! the failure and retries with exponential backoff while the SMTP server is
//! down. Messages are rows written with their alert, so an outage or a
//! restart loses nothing.
//!
//! Delivery is exactly once per recipient as far as SMTP allows: a message
//! is marked sent only after the server accepted it, and only by the sender
//! that holds its lease. Should a process die between the server's "250 OK"
//! and the commit, the message is sent again after the lease runs out with
//! the same Message-ID, which mail systems use to recognise it.

use std::time::Duration;

use lettre::message::{header, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::store::alerts::{self as repository, DeliveryRow};
use crate::store::{self, write_transaction, Database};

/// How the sender behaves; from `AlertSettings`.
#[derive(Clone, Debug)]
pub struct OutboxSettings {
    pub smtp_url: Option<SecretString>,
    pub from_address: String,
    /// How often due messages are looked for.
    pub poll: Duration,
    /// The longest wait between attempts for one message.
    pub max_backoff: Duration,
}

type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// How long a claimed message is ours before another sender may take it.
const LEASE: Duration = Duration::from_secs(60);
/// Messages claimed per round.
const BATCH: i64 = 20;

/// Starts the sender. Without an SMTP URL it only logs that messages wait.
pub fn spawn_outbox(database: Database, settings: OutboxSettings) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let Some(url) = settings.smtp_url.clone() else {
        tracing::warn!("no SMTP server configured (ANCHORFIN_SMTP_URL): alert e-mails wait in the outbox");
        return Ok(tokio::spawn(async {}));
    };
    let mailer: Mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
        .map_err(|error| anyhow::anyhow!("ANCHORFIN_SMTP_URL is not a usable SMTP URL: {error}"))?
        .timeout(Some(Duration::from_secs(20)))
        .build();
    let from: Mailbox = settings
        .from_address
        .parse()
        .map_err(|error| anyhow::anyhow!("ANCHORFIN_ALERT_FROM is not an e-mail address: {error}"))?;
    let sender = Uuid::new_v4().to_string();
    Ok(tokio::spawn(async move {
        loop {
            match round(&database, &mailer, &from, &sender, &settings).await {
                Ok(0) => tokio::time::sleep(settings.poll).await,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "the alert outbox could not reach the database");
                    tokio::time::sleep(settings.poll).await;
                }
            }
        }
    }))
}

/// One round: claim, send, record. Returns how many messages it handled.
async fn round(
    database: &Database,
    mailer: &Mailer,
    from: &Mailbox,
    sender: &str,
    settings: &OutboxSettings,
) -> anyhow::Result<usize> {
    let claimer = sender.to_owned();
    let claimed = database
        .run(move |connection| {
            let now = store::now();
            let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_else(|_| chrono::Duration::seconds(60));
            write_transaction(connection, |connection| {
                repository::claim_due(connection, &claimer, now, lease_until, BATCH)
            })
        })
        .await??;
    let count = claimed.len();
    for delivery in claimed {
        let outcome = match message(&delivery, from) {
            Ok(message) => mailer
                .send(message)
                .await
                .map(|_| ())
                .map_err(|error| error.to_string()),
            Err(error) => Err(error),
        };
        let (id, owner) = (delivery.id.clone(), sender.to_owned());
        match outcome {
            Ok(()) => {
                database
                    .run(move |connection| repository::mark_sent(connection, &id, &owner, store::now()))
                    .await??;
                tracing::info!(alert = %delivery.alert_id, recipient = %delivery.recipient, "alert e-mail sent");
            }
            Err(error) => {
                let wait = backoff(delivery.attempts, settings.max_backoff);
                tracing::warn!(alert = %delivery.alert_id, %error, retry_in_ms = wait.as_millis() as u64, "alert e-mail not sent");
                let next =
                    store::now() + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::seconds(1));
                database
                    .run(move |connection| repository::mark_failed(connection, &id, &owner, &error, next))
                    .await??;
            }
        }
    }
    Ok(count)
}

/// 1 s, 2 s, 4 s … up to `max`.
fn backoff(attempts: i32, max: Duration) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    Duration::from_secs(1u64 << exponent).min(max)
}

fn message(delivery: &DeliveryRow, from: &Mailbox) -> Result<Message, String> {
    let to: Mailbox = delivery
        .recipient
        .parse()
        .map_err(|error| format!("the recipient address is unusable: {error}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(delivery.subject.clone())
        .message_id(Some(delivery.message_id.clone()))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(header::ContentType::TEXT_PLAIN)
                        .body(delivery.body_text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(header::ContentType::TEXT_HTML)
                        .body(delivery.body_html.clone()),
                ),
        )
        .map_err(|error| format!("the message cannot be built: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let cap = Duration::from_secs(300);
        assert_eq!(backoff(0, cap), Duration::from_secs(1));
        assert_eq!(backoff(3, cap), Duration::from_secs(8));
        assert_eq!(backoff(30, cap), cap);
        assert_eq!(backoff(-1, cap), Duration::from_secs(1));
    }
}
