//! A small HTTP/1.1 client over one keep-alive TCP connection, enough for the load generator to
//! drive the server's endpoints without pulling an HTTP stack into xtask: each request is written
//! whole, and each response is read by its `Content-Length` or its chunked transfer coding.
//!
//! Blocking I/O on one thread per connection is deliberate: a closed loop of `connections`
//! clients, each waiting for its answer before sending the next request, is what the scenarios
//! measure, and its CPU use is reported beside the results so that a saturated generator shows.

use std::io::{self, BufRead as _, BufReader, Read as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long one response may take before the connection counts as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// A request to send: method, path with query, extra headers and a body.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    method: &'static str,
    target: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Request {
    /// A `GET` of `target` (path and query).
    pub(crate) fn get(target: impl Into<String>) -> Self {
        Self { method: "GET", target: target.into(), headers: Vec::new(), body: Vec::new() }
    }

    /// A `POST` of an `application/x-www-form-urlencoded` body made of `fields`.
    pub(crate) fn post_form(target: impl Into<String>, fields: &[(&str, &str)]) -> Self {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        Self { method: "POST", target: target.into(), headers: Vec::new(), body: body.into_bytes() }
            .header("content-type", "application/x-www-form-urlencoded")
    }

    /// The same request with one more header.
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The same request with HTTP Basic client authentication (RFC 6749 §2.3.1: the id and
    /// secret are form-encoded before they are joined).
    pub(crate) fn basic_auth(self, client_id: &str, secret: &str) -> Self {
        let credentials = format!("{}:{}", form_encode(client_id), form_encode(secret));
        self.header("authorization", format!("Basic {}", base64(credentials.as_bytes())))
    }

    fn write_to(&self, host: &str, out: &mut impl io::Write) -> io::Result<()> {
        let mut head = format!("{} {} HTTP/1.1\r\nhost: {host}\r\n", self.method, self.target);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if self.method == "POST" {
            head.push_str(&format!("content-length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

/// A response: status, headers (names in lower case) and body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (lower case).
    pub(crate) fn headers<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The string value of `"name"` in a flat JSON object body, without unescaping (tokens and
    /// codes are base64url or similar and carry no escapes).
    pub(crate) fn json_string(&self, name: &str) -> Option<String> {
        let text = std::str::from_utf8(&self.body).ok()?;
        let start = text.find(&format!("\"{name}\":\""))? + name.len() + 4;
        let length = text[start..].find('"')?;
        Some(text[start..start + length].to_owned())
    }
}

/// One keep-alive connection to the server.
#[derive(Debug)]
pub(crate) struct Connection {
    address: SocketAddr,
    stream: BufReader<TcpStream>,
}

impl Connection {
    /// Connects to `address`.
    pub(crate) fn open(address: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(RESPONSE_TIMEOUT))?;
        Ok(Self { address, stream: BufReader::new(stream) })
    }

    /// Sends `request` and reads its response. After an error the connection is reopened, so
    /// the next request starts clean.
    pub(crate) fn send(&mut self, request: &Request) -> io::Result<Response> {
        let outcome = self.exchange(request);
        let closing = match &outcome {
            // A body without a length ends with the connection.
            Ok(response) => {
                response.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
                    || (response.header("content-length").is_none() && response.header("transfer-encoding").is_none())
            }
            Err(_) => true,
        };
        if closing {
            *self = Self::open(self.address)?;
        }
        outcome
    }

    fn exchange(&mut self, request: &Request) -> io::Result<Response> {
        request.write_to(&self.address.to_string(), self.stream.get_mut())?;
        let status_line = self.read_line()?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| invalid(format!("not an HTTP status line: {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or_else(|| invalid(format!("not a header: {line:?}")))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let mut response = Response { status, headers, body: Vec::new() };
        if response.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            response.body = self.read_chunked()?;
        } else if let Some(length) = response.header("content-length") {
            let length: usize = length.parse().map_err(|_| invalid(format!("bad content-length {length}")))?;
            response.body = vec![0; length];
            self.stream.read_exact(&mut response.body)?;
        } else if !(status == 204 || status == 304 || (100..200).contains(&status)) {
            self.stream.read_to_end(&mut response.body)?;
        }
        Ok(response)
    }

    fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let size_line = self.read_line()?;
            let size_text = size_line.split(';').next().unwrap_or_default().trim();
            let size =
                usize::from_str_radix(size_text, 16).map_err(|_| invalid(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                while !self.read_line()?.is_empty() {}
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.stream.read_exact(&mut body[start..])?;
            self.read_line()?;
        }
    }

    fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.stream.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// `application/x-www-form-urlencoded` encoding of one name or value.
pub(crate) fn form_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => encoded.push(char::from(byte)),
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

/// Decodes percent escapes and `+` of a query-string value.
pub(crate) fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' if index + 2 < bytes.len() => match (hex_digit(bytes[index + 1]), hex_digit(bytes[index + 2])) {
                (Some(high), Some(low)) => {
                    decoded.push(high << 4 | low);
                    index += 2;
                }
                _ => decoded.push(b'%'),
            },
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).and_then(|digit| u8::try_from(digit).ok())
}

/// The value of query parameter `name` in a URL or path, decoded.
pub(crate) fn query_parameter(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(key) == name).then(|| form_decode(value))
    })
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0_u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for position in 0..4 {
            if position <= chunk.len() {
                encoded.push(char::from(ALPHABET[(group >> (18 - 6 * position) & 63) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let vectors =
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy")];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn form_encoding_round_trips() {
        for text in ["Pass123$", "a b+c&d=e", "http://127.0.0.1/callback?x=1", "é"] {
            assert_eq!(form_decode(&form_encode(text)), text);
        }
        assert_eq!(form_encode("a b$"), "a+b%24");
        assert_eq!(form_decode("100%"), "100%");
    }

    #[test]
    fn query_parameters_are_found_and_decoded() {
        let url = "http://127.0.0.1/cb?code=abc%2Bd&state=s+1";
        assert_eq!(query_parameter(url, "code").as_deref(), Some("abc+d"));
        assert_eq!(query_parameter(url, "state").as_deref(), Some("s 1"));
        assert_eq!(query_parameter(url, "nonce"), None);
    }

    #[test]
    fn json_strings_are_read_from_flat_objects() {
        let response = Response {
            status: 200,
            headers: Vec::new(),
            body: br#"{"access_token":"eyJ.a.b","token_type":"Bearer","expires_in":3600}"#.to_vec(),
        };
        assert_eq!(response.json_string("access_token").as_deref(), Some("eyJ.a.b"));
        assert_eq!(response.json_string("refresh_token"), None);
    }
}
