//! E-mail from the account pages (confirmation links, password resets): an [`EmailSender`]
//! trait with three senders, chosen by `[email]` in the configuration: SMTP through `lettre`
//! ([`smtp`]), a pickup directory that receives each message as an `.eml` file ([`pickup`], for
//! development and tests), or, with neither configured, a line in the log that leaves the
//! message's secret (its link, or its code) out ([`LogSender`]).
//!
//! Pages never wait for a sender: they put the message into the [`Outbox`], whose background
//! task sends it and tries again a bounded number of times, so a response takes as long whether a
//! message was sent or not, and a slow or broken SMTP server slows no page.

mod pickup;
mod smtp;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::error::{Failure, Result};
pub(crate) use pickup::PickupDirectorySender;
pub(crate) use smtp::SmtpSender;

/// How many messages may wait in the outbox; more are dropped (and logged).
const OUTBOX_CAPACITY: usize = 1024;
/// How many messages are delivered at once.
const CONCURRENT_DELIVERIES: usize = 4;
/// How long the outbox waits before each further attempt at a message that failed.
const RETRY_DELAYS: [Duration; 3] = [Duration::from_secs(2), Duration::from_secs(10), Duration::from_secs(60)];

/// A plain-text message with at most one secret (a link with a confirmation or reset code, or a
/// sign-in code; any link a message has goes there), which is left out of logs.
#[derive(Clone)]
pub(crate) struct EmailMessage {
    /// The recipient's address.
    pub(crate) to: String,
    pub(crate) subject: String,
    /// The text, before the secret.
    pub(crate) text: String,
    /// The secret (a link or a code), after the text on a line of its own.
    pub(crate) secret: Option<String>,
}

impl std::fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailMessage").field("subject", &self.subject).finish_non_exhaustive()
    }
}

impl EmailMessage {
    /// The body: the text, then the secret on a line of its own.
    pub(crate) fn body(&self) -> String {
        match &self.secret {
            Some(secret) => format!("{}\n\n{secret}\n", self.text),
            None => format!("{}\n", self.text),
        }
    }
}

/// Sends e-mail.
#[async_trait]
pub(crate) trait EmailSender: Send + Sync {
    /// Sends `message` once; an error is retried by the [`Outbox`].
    async fn send(&self, message: &EmailMessage) -> Result<()>;
}

/// The sender when no e-mail is configured: logs the message at `info`, without its secret.
#[derive(Debug)]
pub(crate) struct LogSender;

#[async_trait]
impl EmailSender for LogSender {
    async fn send(&self, message: &EmailMessage) -> Result<()> {
        tracing::info!(
            to = %message.to,
            subject = %message.subject,
            text = %message.text,
            "e-mail is not configured ([email] in the configuration): this message was not sent, and its link or code is left out"
        );
        Ok(())
    }
}

/// The `[email]` settings, resolved. `Debug` leaves the SMTP login out.
#[derive(Default)]
pub(crate) struct EmailSettings {
    /// `smtp://host:port` (STARTTLS when offered; `?tls=required` to insist) or
    /// `smtps://host:port` (TLS from the start).
    pub(crate) smtp_url: Option<String>,
    /// The sender address, `Name <address>` or `address`.
    pub(crate) from: Option<String>,
    /// The SMTP user name and password.
    pub(crate) smtp_credentials: Option<(String, String)>,
    /// A folder that receives every message as an `.eml` file instead.
    pub(crate) pickup_directory: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSettings")
            .field("smtp_url", &self.smtp_url)
            .field("from", &self.from)
            .field("pickup_directory", &self.pickup_directory)
            .finish_non_exhaustive()
    }
}

/// Whether `address` is one bare e-mail address (no display name, no list): what accounts
/// store and messages go to.
pub(crate) fn is_bare_address(address: &str) -> bool {
    address.parse::<lettre::Address>().is_ok_and(|parsed| AsRef::<str>::as_ref(&parsed) == address)
}

impl EmailSettings {
    /// The sender these settings describe: SMTP, a pickup directory, or the log.
    pub(crate) fn sender(&self) -> Result<Arc<dyn EmailSender>> {
        let from = || {
            self.from.clone().ok_or_else(|| Failure::new("[email] needs `from` (the sender address) to send e-mail"))
        };
        match (&self.smtp_url, &self.pickup_directory) {
            (Some(_), Some(_)) => {
                Err(Failure::new("[email] sets both smtp_url and pickup_directory: choose where messages go"))
            }
            (Some(url), None) => Ok(Arc::new(SmtpSender::new(url, &from()?, self.smtp_credentials.clone())?)),
            (None, Some(directory)) => Ok(Arc::new(PickupDirectorySender::new(directory, &from()?)?)),
            (None, None) => Ok(Arc::new(LogSender)),
        }
    }

    /// Whether messages really leave the server (the pages say so when they do not).
    pub(crate) fn is_configured(&self) -> bool {
        self.smtp_url.is_some() || self.pickup_directory.is_some()
    }
}

/// The queue between the pages and a sender. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    queue: mpsc::Sender<EmailMessage>,
    configured: bool,
}

impl Outbox {
    /// An outbox whose background task sends through `sender`, trying a failed message again
    /// after each of [`RETRY_DELAYS`].
    pub(crate) fn start(sender: Arc<dyn EmailSender>, configured: bool) -> Self {
        let (queue, mut messages) = mpsc::channel::<EmailMessage>(OUTBOX_CAPACITY);
        // Each message is delivered (and retried) in a task of its own, a few at a time, so a
        // message that keeps failing never holds up the others.
        let deliveries = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_DELIVERIES));
        tokio::spawn(async move {
            while let Some(message) = messages.recv().await {
                let Ok(permit) = Arc::clone(&deliveries).acquire_owned().await else { return };
                let sender = Arc::clone(&sender);
                tokio::spawn(async move {
                    deliver(sender.as_ref(), &message, &RETRY_DELAYS).await;
                    drop(permit);
                });
            }
        });
        Self { queue, configured }
    }

    /// Queues `message`; never waits. A message to anything but one bare address is dropped
    /// (it could never be sent), and so is one that finds the queue full, with a line in the log.
    pub(crate) fn send(&self, message: EmailMessage) {
        if !is_bare_address(&message.to) {
            tracing::warn!("a message to something that is not one e-mail address was dropped");
            return;
        }
        if let Err(error) = self.queue.try_send(message) {
            tracing::error!(%error, "the e-mail outbox is full or closed: a message was dropped");
        }
    }

    /// Whether e-mail is configured (otherwise messages only reach the log).
    pub(crate) fn is_configured(&self) -> bool {
        self.configured
    }
}

/// Sends `message`, trying again after each of `retry_delays`; logs the outcome.
async fn deliver(sender: &dyn EmailSender, message: &EmailMessage, retry_delays: &[Duration]) {
    let mut delays = retry_delays.iter();
    let mut attempt = 1;
    loop {
        match sender.send(message).await {
            Ok(()) => {
                tracing::info!(subject = %message.subject, attempt, "e-mail sent");
                return;
            }
            Err(error) => match delays.next() {
                Some(delay) => {
                    tracing::warn!(%error, attempt, "e-mail not sent; trying again");
                    tokio::time::sleep(*delay).await;
                    attempt += 1;
                }
                None => {
                    tracing::error!(%error, attempt, subject = %message.subject, "e-mail not sent; giving up");
                    return;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A sender that fails its first `failures` attempts and records what it sent.
    struct Flaky {
        failures: Mutex<usize>,
        sent: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl EmailSender for Flaky {
        async fn send(&self, message: &EmailMessage) -> Result<()> {
            let mut failures = self.failures.lock().expect("lock");
            if *failures > 0 {
                *failures -= 1;
                return Err(Failure::new("connection refused"));
            }
            self.sent.lock().expect("lock").push(message.subject.clone());
            Ok(())
        }
    }

    fn message(subject: &str) -> EmailMessage {
        EmailMessage {
            to: "a@example.com".into(),
            subject: subject.into(),
            text: "Hello".into(),
            secret: Some("https://id.example.com/x?code=secret".into()),
        }
    }

    #[tokio::test]
    async fn failed_messages_are_retried_a_bounded_number_of_times() {
        const NO_DELAYS: [Duration; 2] = [Duration::ZERO, Duration::ZERO];
        let recovers = Flaky { failures: Mutex::new(2), sent: Mutex::new(Vec::new()) };
        deliver(&recovers, &message("recovers"), &NO_DELAYS).await;
        assert_eq!(*recovers.sent.lock().expect("lock"), ["recovers"]);
        let broken = Flaky { failures: Mutex::new(3), sent: Mutex::new(Vec::new()) };
        deliver(&broken, &message("lost"), &NO_DELAYS).await;
        assert!(broken.sent.lock().expect("lock").is_empty(), "three attempts, then given up");
        assert_eq!(*broken.failures.lock().expect("lock"), 0);
    }

    #[test]
    fn the_link_follows_the_text_and_stays_out_of_debug_output() {
        let message = message("Confirm");
        assert_eq!(message.body(), "Hello\n\nhttps://id.example.com/x?code=secret\n");
        assert!(!format!("{message:?}").contains("secret"));
    }

    #[test]
    fn only_one_bare_address_is_an_address() {
        assert!(is_bare_address("carol@example.com"));
        for not_bare in
            ["Carol <victim@example.com>", "a@example.com, b@example.com", "carol", "x@y.com\r\nBcc: z@w.com"]
        {
            assert!(!is_bare_address(not_bare), "{not_bare:?}");
        }
    }

    #[test]
    fn both_destinations_or_no_sender_address_are_refused() {
        let both = EmailSettings {
            smtp_url: Some("smtp://127.0.0.1:25".into()),
            pickup_directory: Some("/tmp".into()),
            from: Some("id@example.com".into()),
            ..EmailSettings::default()
        };
        assert!(both.sender().is_err());
        let no_from = EmailSettings { smtp_url: Some("smtp://127.0.0.1:25".into()), ..EmailSettings::default() };
        assert!(no_from.sender().is_err());
        assert!(!EmailSettings::default().is_configured());
    }
}
