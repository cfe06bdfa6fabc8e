//! The log scan: every secret a test sends or receives over HTTP is remembered here, and
//! [`leaks_in`] finds any of them (or anything shaped like a JWT or a password hash) in a
//! server's log. The end-to-end harness runs its servers at `debug` and scans each log when the
//! server stops, so a secret that reaches a log line fails the test that exposed it.
//!
//! Remembered: form values whose name says password, secret, token or code; `Authorization`
//! credentials; `access_token`, `refresh_token`, `id_token` and `device_code` in JSON bodies and
//! redirects; `code` in redirects; every cookie value set. Values shorter than
//! [`MIN_SECRET_LEN`] are not scanned: a six-digit two-factor code would match the fractional
//! seconds of a log timestamp by chance.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

/// The shortest value the scan looks for.
pub const MIN_SECRET_LEN: usize = 8;

/// Every secret remembered by any test of this process: a server's log must hold none of them,
/// whichever test used it.
static SECRETS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Markers of values that are secret by their shape: a PHC Argon2 hash and an ASP.NET Identity
/// V3 hash. JWTs are found by [`holds_a_jwt`].
const SECRET_SHAPES: [(&str, &str); 2] = [("$argon2", "an Argon2 hash"), ("AQAAAAE", "an ASP.NET V3 hash")];

/// Remembers `value` as a secret that no log may contain.
pub fn remember(value: &str) {
    if value.len() >= MIN_SECRET_LEN {
        SECRETS.lock().unwrap_or_else(PoisonError::into_inner).insert(value.to_owned());
    }
}

/// Remembers the value of a form field when its name marks it secret.
pub fn remember_field(name: &str, value: &str) {
    if is_secret_field(name) {
        remember(value);
    }
}

/// Whether a form or query field called `name` carries a secret.
fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if name.ends_with("_type_hint") || name.starts_with("code_challenge") {
        // `token_type_hint=refresh_token` names a kind of token; a PKCE challenge is public.
        return false;
    }
    ["password", "secret", "token", "code"].iter().any(|marker| name.contains(marker))
}

/// Remembers the secrets a response carries: cookie values, the `code` and tokens of a
/// redirect, and the tokens of a JSON body.
pub fn remember_response(headers: &reqwest::header::HeaderMap, body: &str) {
    for set_cookie in headers.get_all("set-cookie").iter().filter_map(|value| value.to_str().ok()) {
        let pair = set_cookie.split(';').next().unwrap_or_default();
        if let Some((_, value)) = pair.split_once('=') {
            remember(value);
        }
    }
    if let Some(location) = headers.get("location").and_then(|value| value.to_str().ok()) {
        let parameters = location.split_once(['?', '#']).map_or("", |(_, rest)| rest);
        for (name, value) in form_urlencoded::parse(parameters.replace('#', "&").as_bytes()) {
            remember_field(&name, &value);
        }
    }
    if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(body) {
        for name in ["access_token", "refresh_token", "id_token", "device_code"] {
            if let Some(Value::String(token)) = fields.get(name) {
                remember(token);
            }
        }
    }
}

/// What in `log` is a remembered secret or shaped like one, described without the secret's
/// full value: an empty list when the log is clean.
pub fn leaks_in(log: &str) -> Vec<String> {
    let mut leaks: Vec<String> = SECRET_SHAPES
        .iter()
        .filter(|(marker, _)| log.contains(marker))
        .map(|(marker, shape)| format!("{shape} (`{marker}…`)"))
        .collect();
    if holds_a_jwt(log) {
        leaks.push("a JWT (`eyJ….eyJ…`)".to_owned());
    }
    let secrets = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    leaks.extend(
        secrets
            .iter()
            .filter(|secret| log.contains(secret.as_str()))
            .map(|secret| format!("a secret the tests used (`{}…`)", secret.chars().take(4).collect::<String>())),
    );
    leaks
}

/// Whether `text` holds a JWT: a base64url JSON object (`eyJ…`), a dot, and another (`eyJ…`).
/// The marker alone is not enough: random base64url values such as key ids contain `eyJ` now
/// and then.
fn holds_a_jwt(text: &str) -> bool {
    text.match_indices("eyJ").any(|(start, _)| {
        let rest = &text[start..];
        let header = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(rest.len());
        rest[header..].starts_with(".eyJ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_fields_responses_and_shapes_are_found_and_nothing_else() {
        remember_field("password", "hunter2-but-longer");
        remember_field("token_type_hint", "refresh_token");
        remember_field("username", "alice-the-user");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("set-cookie", "session=cookie-value-123; Path=/; HttpOnly".parse().expect("header"));
        headers.insert(
            "location",
            "https://client.example/cb?state=s&code=the-authorization-code".parse().expect("header"),
        );
        remember_response(&headers, r#"{"refresh_token":"opaque-refresh-token","token_type":"Bearer"}"#);

        for secret in ["hunter2-but-longer", "cookie-value-123", "the-authorization-code", "opaque-refresh-token"] {
            assert_eq!(leaks_in(&format!("line with {secret} in it")).len(), 1, "{secret}");
        }
        for shaped in ["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "$argon2id$v=19$m=19456", "AQAAAAEAACcQAAAAE"] {
            assert_eq!(leaks_in(shaped).len(), 1, "{shaped}: {:?}", leaks_in(shaped));
        }
        assert!(leaks_in("user alice-the-user signed in with a refresh_token grant at 12:00:00.123456").is_empty());
        assert!(leaks_in("signing key created kid=\"Ab3eyJq9_x-ZZ\" alg=RS256").is_empty(), "a key id is no JWT");
    }
}
