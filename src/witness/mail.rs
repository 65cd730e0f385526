//! The witness's e-mail sender: drains its outbox table over SMTP with
//! lettre, retrying with exponential backoff while the SMTP server is down.
//! Messages are written with their evidence, so an outage or a restart
//! loses nothing. One witness process owns its data directory (it is
//! locked), so no lease is needed.

use std::time::Duration;

use lettre::message::{header, Mailbox};
use lettre::Message;
use secrecy::SecretString;

use super::store::{self, MailRow, SharedConnection};
use crate::alerts::{deliver, retry_at, smtp_sender, Mailer};

/// How the sender behaves.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub smtp_url: Option<SecretString>,
    pub from_address: String,
    pub poll: Duration,
    pub max_backoff: Duration,
}

/// Starts the sender on its own connection to the witness's database.
pub fn spawn_sender(database: SharedConnection, settings: MailSettings) -> anyhow::Result<()> {
    let Some(url) = settings.smtp_url.clone() else {
        tracing::warn!(
            "no SMTP server configured (ANCHORFIN_SMTP_URL): the witness's alert e-mails wait in its outbox"
        );
        return Ok(());
    };
    let (mailer, from) = smtp_sender(&url, &settings.from_address)?;
    tokio::spawn(async move {
        loop {
            match round(&database, &mailer, &from, &settings).await {
                Ok(0) => tokio::time::sleep(settings.poll).await,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "the witness's outbox could not reach its database");
                    tokio::time::sleep(settings.poll).await;
                }
            }
        }
    });
    Ok(())
}

async fn round(
    database: &SharedConnection,
    mailer: &Mailer,
    from: &Mailbox,
    settings: &MailSettings,
) -> anyhow::Result<usize> {
    let due = database
        .run(|connection| store::due_mail(connection, crate::store::now(), 20))
        .await?;
    let count = due.len();
    for mail in due {
        let outcome = deliver(mailer, message(&mail, from)).await;
        let id = mail.id;
        match outcome {
            Ok(()) => {
                database
                    .run(move |connection| store::mark_sent(connection, id, crate::store::now()))
                    .await?;
                tracing::info!(recipient = %mail.recipient, "witness alert e-mail sent");
            }
            Err(error) => {
                let (wait, next) = retry_at(mail.attempts, settings.max_backoff);
                tracing::warn!(%error, retry_in_ms = wait.as_millis() as u64, "witness alert e-mail not sent");
                database
                    .run(move |connection| store::mark_failed(connection, id, &error, next))
                    .await?;
            }
        }
    }
    Ok(count)
}

fn message(mail: &MailRow, from: &Mailbox) -> Result<Message, String> {
    let to: Mailbox = mail
        .recipient
        .parse()
        .map_err(|error| format!("the recipient address is unusable: {error}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()))
        .header(header::ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|error| format!("the message cannot be built: {error}"))
}
