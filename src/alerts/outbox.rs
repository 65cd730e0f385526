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

use crate::config::PublicUrl;
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
    /// Where people reach the service: each message then links to its
    /// alert's page in the portal.
    pub public_url: Option<PublicUrl>,
}

pub(crate) type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// The SMTP transport for `url` and the From mailbox, or why not: shared by
/// the platform's outbox and a witness's.
pub(crate) fn smtp_sender(url: &SecretString, from_address: &str) -> anyhow::Result<(Mailer, Mailbox)> {
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
        .map_err(|error| anyhow::anyhow!("ANCHORFIN_SMTP_URL is not a usable SMTP URL: {error}"))?
        .timeout(Some(Duration::from_secs(20)))
        .build();
    let from = from_address
        .parse()
        .map_err(|error| anyhow::anyhow!("ANCHORFIN_ALERT_FROM is not an e-mail address: {error}"))?;
    Ok((mailer, from))
}

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
    let (mailer, from) = smtp_sender(&url, &settings.from_address)?;
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
        let outcome = deliver(mailer, message(&delivery, from, settings.public_url.as_ref())).await;
        let (id, owner) = (delivery.id.clone(), sender.to_owned());
        match outcome {
            Ok(()) => {
                database
                    .run(move |connection| repository::mark_sent(connection, &id, &owner, store::now()))
                    .await??;
                tracing::info!(alert = %delivery.alert_id, recipient = %delivery.recipient, "alert e-mail sent");
            }
            Err(error) => {
                let (wait, next) = retry_at(delivery.attempts, settings.max_backoff);
                tracing::warn!(alert = %delivery.alert_id, %error, retry_in_ms = wait.as_millis() as u64, "alert e-mail not sent");
                database
                    .run(move |connection| repository::mark_failed(connection, &id, &owner, &error, next))
                    .await??;
            }
        }
    }
    Ok(count)
}

/// Sends a built message (or passes on why it could not be built): the
/// error text is what the outbox records.
pub(crate) async fn deliver(mailer: &Mailer, message: Result<Message, String>) -> Result<(), String> {
    mailer
        .send(message?)
        .await
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// After `attempts` failed tries: how long to wait, and until when.
pub(crate) fn retry_at(attempts: i32, max: Duration) -> (Duration, chrono::NaiveDateTime) {
    let wait = backoff(attempts, max);
    let next = store::now() + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::seconds(1));
    (wait, next)
}

/// 1 s, 2 s, 4 s … up to `max`.
fn backoff(attempts: i32, max: Duration) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    Duration::from_secs(1u64 << exponent).min(max)
}

fn message(delivery: &DeliveryRow, from: &Mailbox, public_url: Option<&PublicUrl>) -> Result<Message, String> {
    let to: Mailbox = delivery
        .recipient
        .parse()
        .map_err(|error| format!("the recipient address is unusable: {error}"))?;
    let (text, html) = bodies(delivery, public_url);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(delivery.subject.clone())
        .message_id(Some(delivery.message_id.clone()))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(header::ContentType::TEXT_PLAIN).body(text))
                .singlepart(SinglePart::builder().header(header::ContentType::TEXT_HTML).body(html)),
        )
        .map_err(|error| format!("the message cannot be built: {error}"))
}

/// The stored bodies, with a link to the alert's page in the portal when
/// the service's public URL is configured. The link is added as the
/// message leaves rather than stored with it, so messages waiting in the
/// outbox get it too once the URL is set; a resend is the same message.
fn bodies(delivery: &DeliveryRow, public_url: Option<&PublicUrl>) -> (String, String) {
    let Some(public_url) = public_url else {
        return (delivery.body_text.clone(), delivery.body_html.clone());
    };
    let link = public_url.join(&format!("/alerts/{}", delivery.alert_id));
    let text = format!("{}\nOpen it in the portal: {link}\n", delivery.body_text.trim_end());
    // The URL holds no quote or angle bracket (`PublicUrl`); `&` is escaped.
    let paragraph = format!(
        "<p><a href=\"{}\">Open it in the portal</a></p>",
        link.replace('&', "&amp;")
    );
    let html = match delivery.body_html.strip_suffix("</body></html>") {
        Some(start) => format!("{start}{paragraph}</body></html>"),
        None => format!("{}{paragraph}", delivery.body_html),
    };
    (text, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_link_to_the_alerts_page_when_the_public_url_is_known() {
        let now = crate::store::now();
        let delivery = DeliveryRow {
            id: "d1".to_owned(),
            alert_id: "0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90".to_owned(),
            risk_officer_id: "o1".to_owned(),
            recipient: "risk@bank.example".to_owned(),
            message_id: "<m1@anchorfin>".to_owned(),
            subject: "s".to_owned(),
            body_text: "Duplicate pledge.\n\nAlert: 1\n".to_owned(),
            body_html: "<!DOCTYPE html><html><body><p>x</p></body></html>".to_owned(),
            status: crate::domain::DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            leased_until: None,
            leased_by: None,
            last_error: None,
            sent_at: None,
            created_at: now,
        };
        assert_eq!(
            bodies(&delivery, None),
            (delivery.body_text.clone(), delivery.body_html.clone())
        );
        let url = PublicUrl::parse("https://portal.example/anchorfin?").ok();
        assert_eq!(url, None, "a query is refused");
        let url = PublicUrl::parse("https://portal.example/a&b/").unwrap();
        let (text, html) = bodies(&delivery, Some(&url));
        assert_eq!(
            text,
            "Duplicate pledge.\n\nAlert: 1\nOpen it in the portal: https://portal.example/a&b/alerts/0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90\n"
        );
        assert_eq!(
            html,
            "<!DOCTYPE html><html><body><p>x</p><p><a href=\"https://portal.example/a&amp;b/alerts/0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90\">Open it in the portal</a></p></body></html>"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let cap = Duration::from_secs(300);
        assert_eq!(backoff(0, cap), Duration::from_secs(1));
        assert_eq!(backoff(3, cap), Duration::from_secs(8));
        assert_eq!(backoff(30, cap), cap);
        assert_eq!(backoff(-1, cap), Duration::from_secs(1));
    }
}
