//! The pickup-directory sender: each message becomes an `.eml` file (RFC 5322, as an SMTP server
//! would have received it) in a folder, for development and tests. Files appear whole: each is
//! written under a temporary name and renamed.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use identity_core::{Clock as _, SystemClock};
use lettre::message::Mailbox;
use rand::RngCore as _;

use super::smtp::{mailbox, rfc5322};
use super::{EmailMessage, EmailSender};
use crate::error::{Failure, Result};

/// Writes messages into a folder.
#[derive(Debug)]
pub(crate) struct PickupDirectorySender {
    directory: PathBuf,
    from: Mailbox,
}

impl PickupDirectorySender {
    /// A sender into `directory` (created if missing), as `from`.
    pub(crate) fn new(directory: &Path, from: &str) -> Result<Self> {
        std::fs::create_dir_all(directory).map_err(|error| {
            Failure::context(format!("[email] pickup_directory {} cannot be created", directory.display()), error)
        })?;
        Ok(Self { directory: directory.to_owned(), from: mailbox(from)? })
    }
}

#[async_trait]
impl EmailSender for PickupDirectorySender {
    async fn send(&self, message: &EmailMessage) -> Result<()> {
        let bytes = rfc5322(&self.from, message)?.formatted();
        let mut random = [0_u8; 6];
        rand::rng().fill_bytes(&mut random);
        let suffix: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
        let name = format!("{}-{suffix}.eml", SystemClock.now().format("%Y%m%dT%H%M%S%.6fZ"));
        let temporary = self.directory.join(format!(".{name}.tmp"));
        tokio::fs::write(&temporary, bytes).await?;
        tokio::fs::rename(&temporary, self.directory.join(name)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_message_is_one_eml_file() {
        let directory = tempfile::tempdir().expect("a directory");
        let sender = PickupDirectorySender::new(directory.path(), "Identity <id@example.com>").expect("a sender");
        let message = EmailMessage {
            to: "carol@example.com".into(),
            subject: "Confirm your email".into(),
            text: "Please confirm.".into(),
            secret: Some("http://127.0.0.1/account/confirm-email?code=abc".into()),
        };
        sender.send(&message).await.expect("written");
        let files: Vec<_> =
            std::fs::read_dir(directory.path()).expect("listed").map(|entry| entry.expect("entry").path()).collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let eml = std::fs::read_to_string(&files[0]).expect("read");
        for expected in
            ["To: carol@example.com", "Subject: Confirm your email", "From: Identity <id@example.com>", "code=abc"]
        {
            assert!(eml.contains(expected), "{expected}: {eml}");
        }
        assert!(sender.send(&EmailMessage { to: "not an address".into(), ..message }).await.is_err());
    }
}
