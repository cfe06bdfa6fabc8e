//! The SMTP sender, through `lettre`: `smtp://host:port` upgrades to TLS with STARTTLS when the
//! server offers it (`smtp://host:port?tls=required` insists), `smtps://host:port` speaks TLS
//! from the start; certificates are checked against the bundled web PKI roots.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::{EmailMessage, EmailSender};
use crate::error::{Failure, Result};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends through an SMTP server.
pub(crate) struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

/// `from` as a mailbox.
pub(super) fn mailbox(from: &str) -> Result<Mailbox> {
    from.parse().map_err(|error| Failure::context(format!("[email] from `{from}` is not an e-mail address"), error))
}

/// `message` as an RFC 5322 message from `from`.
pub(super) fn rfc5322(from: &Mailbox, message: &EmailMessage) -> Result<Message> {
    let to: Mailbox =
        message.to.parse().map_err(|error| Failure::context("the recipient is not an e-mail address", error))?;
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(message.body())?)
}

impl SmtpSender {
    /// A sender through the server at `url`, as `from`, logging in with `credentials` if given.
    pub(crate) fn new(url: &str, from: &str, credentials: Option<(String, String)>) -> Result<Self> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| Failure::context("[email] smtp_url is not a valid smtp:// or smtps:// URL", error))?
            .timeout(Some(SMTP_TIMEOUT));
        let builder = match credentials {
            Some((user, password)) => builder.credentials(Credentials::new(user, password)),
            None => builder,
        };
        Ok(Self { transport: builder.build(), from: mailbox(from)? })
    }
}

#[async_trait]
impl EmailSender for SmtpSender {
    async fn send(&self, message: &EmailMessage) -> Result<()> {
        self.transport.send(rfc5322(&self.from, message)?).await?;
        Ok(())
    }
}
