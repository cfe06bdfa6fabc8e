//! JOSE parsing and validation of access tokens, at introspection and userinfo: nothing but a
//! genuine token is ever active.

use axum::http::{HeaderValue, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Value, json};
use test_support::clock::START_SECONDS;

use test_support::json::documents;

use crate::support::{API_SCOPE, Fixture, ISSUER, RESOURCE_SERVER, check, inactive, jwt_part};

/// base64url (unpadded) of up to `max` arbitrary bytes.
fn base64url(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
}

/// Arbitrary text, three base64url parts, and one to five of them.
fn tokens() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(base64url(96), 3).prop_map(|parts| parts.join(".")),
        prop::collection::vec(base64url(48), 1..6).prop_map(|parts| parts.join(".")),
    ]
}

/// Checks that `token` is not active at introspection and is refused at userinfo (when it can be
/// sent in a header at all).
fn never_accepted(fixture: &Fixture, token: &str) -> Result<(), TestCaseError> {
    let (status, body) = fixture.introspect(token);
    // An empty token is a missing parameter; anything else gets an answer.
    prop_assert!(inactive(status, &body) || (token.is_empty() && status.is_client_error()), "{} {}", status, body);
    if let Ok(authorization) = HeaderValue::from_str(&format!("Bearer {token}")) {
        let status = fixture.userinfo(authorization);
        prop_assert!(status.is_client_error(), "userinfo answered {}", status);
    }
    Ok(())
}

#[test]
fn arbitrary_tokens_are_never_active() {
    let fixture = Fixture::new();
    check(256, tokens(), |token| never_accepted(&fixture, &token));
}

#[test]
fn forged_tokens_are_never_active_even_with_the_servers_key_id() {
    let fixture = Fixture::new();
    let genuine = fixture.access_token(RESOURCE_SERVER);
    let kid = jwt_part(&genuine, 0)["kid"].clone();
    assert!(kid.is_string(), "the genuine token names its key");
    let strategy = (
        select(vec!["EdDSA", "ES256", "RS256", "PS256", "HS256", "none", ""]),
        select(vec!["at+jwt", "JWT", "id_token+jwt", ""]),
        prop_oneof![Just(kid), any::<String>().prop_map(Value::String), Just(Value::Null)],
        prop::option::of(documents()),
        documents(),
        prop::collection::vec(any::<u8>(), 0..96),
    );
    check(256, strategy, |(alg, typ, kid, jwk, extra, signature)| {
        let mut header = json!({ "alg": alg, "typ": typ, "kid": kid });
        if let Some(jwk) = jwk {
            header["jwk"] = jwk;
        }
        let (client_id, _) = RESOURCE_SERVER;
        // The claims of a valid client-credentials token, valid by the fixture's clock.
        let payload = json!({
            "iss": ISSUER, "sub": client_id, "client_id": client_id, "scope": API_SCOPE,
            "aud": format!("{ISSUER}/resources"), "iat": START_SECONDS, "nbf": START_SECONDS,
            "exp": START_SECONDS + 3600, "jti": "forged", "extra": extra,
        });
        let signed = [header, payload].map(|part| URL_SAFE_NO_PAD.encode(part.to_string())).join(".");
        never_accepted(&fixture, &format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    });
}

#[test]
fn a_genuine_token_with_any_character_changed_is_never_active() {
    let fixture = Fixture::new();
    let genuine = fixture.access_token(RESOURCE_SERVER);
    let (status, body) = fixture.introspect(&genuine);
    assert_eq!((status, body["active"].as_bool()), (StatusCode::OK, Some(true)), "the genuine token is active: {body}");
    let replacement = prop_oneof![select(vec!['A', 'a', '0', '-', '_', '.', '=', '+', '/', ' ', 'é']), any::<char>()];
    check(256, (any::<Index>(), replacement), |(index, replacement)| {
        let mut chars: Vec<char> = genuine.chars().collect();
        let at = index.index(chars.len());
        if let Some(c) = chars.get_mut(at) {
            *c = replacement;
        }
        let changed: String = chars.into_iter().collect();
        prop_assume!(changed != genuine);
        never_accepted(&fixture, &changed)
    });
}
