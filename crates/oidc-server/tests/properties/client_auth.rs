//! Client authentication and strict form parsing at the token, introspection and revocation
//! endpoints, and bearer parsing at userinfo: whatever a client sends.

use axum::http::{HeaderValue, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use oidc_server::ErrorCode;
use proptest::prelude::*;
use proptest::sample::{Index, select};

use crate::support::{Fixture, INTROSPECTION, RESOURCE_SERVER, REVOCATION, TOKEN, basic, check, form, jwt_part};

/// Client ids and secrets: any non-empty text, and text of the characters that RFC 6749 §2.3.1
/// makes clients encode.
fn credential() -> impl Strategy<Value = String> {
    let special = select(vec![':', '%', '+', ' ', '&', '=', '/', 'a', 'é', '\0', '\u{1f511}']);
    prop_oneof![
        prop::collection::vec(any::<char>(), 1..24).prop_map(|chars| chars.into_iter().collect::<String>()),
        prop::collection::vec(special, 1..12).prop_map(|chars| chars.into_iter().collect::<String>()),
    ]
}

/// Non-empty text without the characters in `excluded`.
fn raw_credential(excluded: &'static [char]) -> impl Strategy<Value = String> {
    let allowed = any::<char>().prop_filter("nothing to decode", move |c| !excluded.contains(c));
    prop::collection::vec(allowed, 1..24).prop_map(|chars| chars.into_iter().collect::<String>())
}

/// A Basic header with the scheme spelled `scheme`, in padded base64 or not, with the id and
/// secret form-urlencoded or as they are.
fn basic_with(scheme: &str, (client_id, secret): (&str, &str), padded: bool, encoded: bool) -> HeaderValue {
    let encode = |value: &str| -> String {
        if encoded { form_urlencoded::byte_serialize(value.as_bytes()).collect() } else { value.to_owned() }
    };
    let joined = format!("{}:{}", encode(client_id), encode(secret));
    let credentials = if padded { STANDARD.encode(joined) } else { STANDARD_NO_PAD.encode(joined) };
    HeaderValue::from_str(&format!("{scheme} {credentials}")).expect("base64 is a valid header value")
}

/// Asks for a client-credentials token with the header `header` makes of `secret`; checks that
/// exactly `client_id` got it, and that the header made of another secret is `invalid_client`.
fn authenticates_exactly(
    fixture: &Fixture,
    client_id: &str,
    secret: &str,
    header: impl Fn(&str) -> HeaderValue,
) -> Result<(), TestCaseError> {
    let grant = || form(&[("grant_type", "client_credentials")]);
    let (status, body) = fixture.post_form(TOKEN, Some(header(secret)), grant());
    prop_assert_eq!(status, StatusCode::OK, "{}", body);
    let payload = jwt_part(body["access_token"].as_str().unwrap_or_default(), 1);
    prop_assert_eq!(payload["client_id"].as_str(), Some(client_id));
    let (status, body) = fixture.post_form(TOKEN, Some(header(&format!("{secret}!"))), grant());
    prop_assert_eq!(status, StatusCode::UNAUTHORIZED);
    prop_assert_eq!(body["error"].as_str(), Some(ErrorCode::InvalidClient.as_str()));
    Ok(())
}

#[test]
fn encoded_basic_credentials_authenticate_exactly_their_client() {
    let fixture = Fixture::new();
    let strategy = (credential(), credential(), select(vec!["Basic", "basic", "BASIC"]), any::<bool>());
    check(64, strategy, |(client_id, secret, scheme, padded)| {
        fixture.clients.register(&client_id, &secret);
        let header = |secret: &str| basic_with(scheme, (client_id.as_str(), secret), padded, true);
        authenticates_exactly(&fixture, &client_id, &secret, header)
    });
}

#[test]
fn raw_basic_credentials_with_nothing_to_decode_authenticate_too() {
    let fixture = Fixture::new();
    let strategy = (raw_credential(&[':', '%', '+']), raw_credential(&['%', '+']), any::<bool>());
    check(64, strategy, |(client_id, secret, padded)| {
        fixture.clients.register(&client_id, &secret);
        let header = |secret: &str| basic_with("Basic", (client_id.as_str(), secret), padded, false);
        authenticates_exactly(&fixture, &client_id, &secret, header)
    });
}

/// Bytes a header value may hold: visible ASCII, space, tab and obs-text.
fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![0x20_u8..=0x7e, 0x80_u8..=0xff, Just(b'\t')], 0..max)
}

/// No `Authorization` header, or any value: arbitrary bytes, or a scheme and credentials that are
/// base64 of arbitrary bytes or arbitrary visible characters.
fn authorizations() -> impl Strategy<Value = Option<HeaderValue>> {
    let scheme = select(vec!["Basic", "basic", "Bearer", "bearer", "Digest", ""]);
    let gap = select(vec![" ", "  ", "\t", ""]);
    let structured = (scheme, gap, prop::collection::vec(any::<u8>(), 0..48), any::<bool>()).prop_map(
        |(scheme, gap, bytes, in_base64)| {
            let credentials: String = if in_base64 {
                STANDARD.encode(bytes.as_slice())
            } else {
                bytes.iter().map(|byte| char::from(b'!' + byte % 94)).collect()
            };
            format!("{scheme}{gap}{credentials}").into_bytes()
        },
    );
    let value = prop_oneof![header_bytes(64), structured]
        .prop_map(|bytes| HeaderValue::from_bytes(&bytes).expect("bytes a header value may hold"));
    prop::option::of(value)
}

/// Form bodies: arbitrary bytes, and pairs of the endpoints' parameters with plausible, raw or
/// repeated values.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    let names =
        ["grant_type", "client_id", "client_secret", "scope", "token", "token_type_hint", "refresh_token", "code"];
    let known = ["client_credentials", "password", "refresh_token", "authorization_code", "api", "rs", "rs secret", ""];
    let value = prop_oneof![select(known.to_vec()).prop_map(str::to_owned), "[a-z0-9 %+&=:._-]{0,16}"];
    let pairs = prop::collection::vec((select(names.to_vec()), value), 0..5).prop_map(|pairs| {
        pairs.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("&").into_bytes()
    });
    prop_oneof![prop::collection::vec(any::<u8>(), 0..96), pairs]
}

#[test]
fn any_authorization_and_body_is_answered_without_a_server_error() {
    let fixture = Fixture::new();
    check(256, (authorizations(), bodies()), |(authorization, body)| {
        for path in [TOKEN, INTROSPECTION, REVOCATION] {
            let (status, answer) = fixture.post_form(path, authorization.clone(), body.clone());
            prop_assert!(!status.is_server_error(), "{} answered {}: {}", path, status, answer);
        }
        if let Some(authorization) = authorization {
            let status = fixture.userinfo(authorization);
            prop_assert!(status.is_client_error(), "userinfo answered {}", status);
        }
        Ok(())
    });
}

#[test]
fn repeated_parameters_are_invalid_requests() {
    let fixture = Fixture::new();
    let pairs = prop::collection::vec(("[a-z_]{1,12}", "\\PC{0,12}"), 0..4);
    let strategy = (pairs, "[a-z_]{1,12}", "\\PC{0,12}", "\\PC{0,12}", any::<Index>());
    check(64, strategy, |(mut pairs, name, first, second, at)| {
        pairs.insert(at.index(pairs.len() + 1), (name.clone(), first));
        pairs.push((name, second));
        let (client_id, secret) = RESOURCE_SERVER;
        for path in [TOKEN, INTROSPECTION, REVOCATION] {
            let (status, body) = fixture.post_form(path, Some(basic(client_id, secret)), form(&pairs));
            prop_assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {}", path, body);
            prop_assert_eq!(body["error"].as_str(), Some(ErrorCode::InvalidRequest.as_str()));
        }
        Ok(())
    });
}
