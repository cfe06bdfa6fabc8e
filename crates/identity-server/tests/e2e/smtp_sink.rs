//! A minimal SMTP server for the tests: it accepts every message (no TLS, no authentication) and
//! hands each one's text to the test, so e-mail travels through a real SMTP conversation.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long a test waits for a message.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// A running sink.
pub(crate) struct SmtpSink {
    /// `smtp://127.0.0.1:PORT?tls=none` (the sink speaks no TLS), for `[email] smtp_url`.
    pub(crate) url: String,
    messages: mpsc::UnboundedReceiver<Mail>,
}

/// A received message.
#[derive(Debug)]
pub(crate) struct Mail {
    /// The envelope recipient.
    pub(crate) to: String,
    /// The message as sent (headers and body).
    pub(crate) data: String,
}

impl Mail {
    /// The `Subject` header.
    pub(crate) fn subject(&self) -> &str {
        self.data.lines().find_map(|line| line.strip_prefix("Subject: ")).unwrap_or_default()
    }

    /// The body, with a quoted-printable transfer encoding undone.
    pub(crate) fn body(&self) -> String {
        let (headers, body) = self.data.split_once("\r\n\r\n").unwrap_or((&self.data, ""));
        if headers.contains("Content-Transfer-Encoding: quoted-printable") { unquote(body) } else { body.to_owned() }
    }

    /// The first `http` link of the body, as a path and query on the server.
    pub(crate) fn link_path(&self) -> String {
        let body = self.body();
        let start = body.find("http://").unwrap_or_else(|| panic!("no link in {body}"));
        let link = body[start..].split_whitespace().next().expect("a link");
        let after_scheme = &link["http://".len()..];
        after_scheme[after_scheme.find('/').expect("a path")..].to_owned()
    }
}

/// Quoted-printable text decoded (RFC 2045 §6.7): soft line breaks joined, `=XX` bytes decoded.
fn unquote(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes.get(index + 1..index + 3).and_then(|pair| std::str::from_utf8(pair).ok());
        match (bytes[index], hex.and_then(|hex| u8::from_str_radix(hex, 16).ok())) {
            (b'=', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(decoded).expect("UTF-8")
}

impl SmtpSink {
    /// Starts a sink on an ephemeral port.
    pub(crate) async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let url = format!("smtp://{}?tls=none", listener.local_addr().expect("an address"));
        let (sender, messages) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(converse(stream, sender.clone()));
            }
        });
        Self { url, messages }
    }

    /// The next message, failing the test after a while.
    pub(crate) async fn next(&mut self) -> Mail {
        tokio::time::timeout(MESSAGE_TIMEOUT, self.messages.recv())
            .await
            .expect("a message arrives in time")
            .expect("the sink runs")
    }
}

/// One SMTP session: every command accepted, each message delivered to `sink`.
async fn converse(stream: TcpStream, sink: mpsc::UnboundedSender<Mail>) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let _ = writer.write_all(b"220 sink ESMTP\r\n").await;
    let mut to = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let command = line.to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if command.starts_with("RCPT TO:") {
            to = line[8..].trim().trim_matches(['<', '>']).to_owned();
            b"250 OK\r\n"
        } else if command == "DATA" {
            let _ = writer.write_all(b"354 go ahead\r\n").await;
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push_str("\r\n");
            }
            let _ = sink.send(Mail { to: std::mem::take(&mut to), data });
            b"250 queued\r\n"
        } else if command == "QUIT" {
            let _ = writer.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if writer.write_all(reply).await.is_err() {
            return;
        }
    }
}
