//! The SMTP sender, through `lettre`: `smtp://host:port` requires STARTTLS (a server that does
//! not offer it gets nothing: links in these messages are credentials), `smtps://host:port`
//! speaks TLS from the start, and `smtp://host:port?tls=none` sends in plain text, for a relay on
//! the same machine only, and never with a login. Certificates are checked against the bundled
//! web PKI roots.

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

/// The URL lettre takes for `url`, and whether it sends in plain text: `smtp://` without a
/// `tls` parameter requires STARTTLS (lettre's own default would be plain text); `tls=none`
/// asks for plain text, which lettre spells as no parameter at all. A login in the URL is
/// refused (it belongs in the environment).
fn lettre_url(url: &str) -> Result<(String, bool)> {
    let mut parsed = url::Url::parse(url).map_err(|_| Failure::new("[email] smtp_url is not a URL"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Failure::new(
            "[email] smtp_url must not hold a login: set IDENTITY_EMAIL__SMTP_USER and IDENTITY_EMAIL__SMTP_PASSWORD",
        ));
    }
    let tls = parsed.query_pairs().find(|(name, _)| name == "tls").map(|(_, value)| value.into_owned());
    let others: Vec<(String, String)> =
        parsed.query_pairs().filter(|(name, _)| name != "tls").map(|(n, v)| (n.into_owned(), v.into_owned())).collect();
    let tls = match (parsed.scheme(), tls.as_deref()) {
        ("smtp", None) => Some("required"),
        (_, Some("none")) => None,
        (_, other) => other,
    };
    let plain = parsed.scheme() == "smtp" && tls.is_none();
    parsed.set_query(None);
    {
        let mut query = parsed.query_pairs_mut();
        query.extend_pairs(others);
        if let Some(tls) = tls {
            query.append_pair("tls", tls);
        }
    }
    let mut text = parsed.to_string();
    if text.ends_with('?') {
        text.pop();
    }
    Ok((text, plain))
}

impl SmtpSender {
    /// A sender through the server at `url`, as `from`, logging in with `credentials` if given.
    pub(crate) fn new(url: &str, from: &str, credentials: Option<(String, String)>) -> Result<Self> {
        let (url, plain) = lettre_url(url)?;
        if plain && credentials.is_some() {
            return Err(Failure::new(
                "[email] smtp_url with tls=none would send the SMTP password in plain text: use TLS",
            ));
        }
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_urls_require_starttls_and_hold_no_login() {
        let url = |text| lettre_url(text).expect("valid");
        assert_eq!(url("smtp://mail.example.com:587"), ("smtp://mail.example.com:587?tls=required".into(), false));
        assert_eq!(url("smtp://127.0.0.1:25?tls=none"), ("smtp://127.0.0.1:25".into(), true));
        assert_eq!(
            url("smtp://mail.example.com?tls=opportunistic"),
            ("smtp://mail.example.com?tls=opportunistic".into(), false)
        );
        assert_eq!(url("smtps://mail.example.com"), ("smtps://mail.example.com".into(), false));
        assert!(lettre_url("smtp://user:secret@mail.example.com").is_err());
        let plain_with_login =
            SmtpSender::new("smtp://127.0.0.1:25?tls=none", "a@example.com", Some(("u".into(), "p".into())));
        assert!(plain_with_login.is_err(), "no password in plain text");
    }
}
