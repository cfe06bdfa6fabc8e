//! The hostile requests and the answer each must get, endpoint by endpoint and page by page.
//! Every one is refused (or, for a page, shown without acting) and must change no row: wrong
//! passwords name users that do not exist, and nothing here redeems, rotates or revokes a real
//! grant.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use test_support::http::{form, jwt_payload};

use super::{Expect, Fixtures, PUBLIC_CLIENT, Probe, TOKEN, chunked, shorten};
use crate::interactive::{CLIENT_BASE, INVALID_CREDENTIALS, QUICK, WEB};
use crate::support::{M2M_CLIENT, PASSWORD_CLIENT};

/// The userinfo endpoint.
const USERINFO: &str = "/connect/userinfo";
/// The introspection endpoint.
const INTROSPECT: &str = "/connect/introspect";
/// The revocation endpoint.
const REVOKE: &str = "/connect/revocation";
/// A well-formed S256 challenge (RFC 7636, appendix B).
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// A well-formed verifier that matches no challenge of the server's.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// SQL that reads as "every row" where it is pasted into a query; only in fields that are not
/// secret (names, ids, scopes, addresses), which the server may log.
const SQL_ANY: &str = "' OR '1'='1' --";
/// SQL that drops the users where it is pasted into a query; only in secret fields (passwords,
/// tokens, codes), which the log scan of `Server::drop` looks for in the log.
const SQL_DROP: &str = "x'; DROP TABLE \"AspNetUsers\"; --";
/// A name that forges a log line at level ERROR where CR and LF reach the log unescaped (the scan
/// of the log for such lines then finds it).
const FORGED_LOG_LINE: &str = "nobody\r\n2000-01-01T00:00:00.000000Z ERROR forged: an injected line\u{1b}[31m";
/// The attacker's site.
const EVIL: &str = "https://evil.example/";
/// The login page's form field that shows the page was rendered.
const CSRF_FIELD: &str = "name=\"__csrf\"";
/// The answer to a page form refused by the CSRF check (bad or missing token or cookie).
const FORM_REFUSED: &str = "The form has expired";
/// The answer to a page form sent from another site.
const OTHER_SITE: &str = "The form was sent from another site.";
/// The answer to page parameters that are not UTF-8.
const NOT_UTF8: &str = "not valid UTF-8";
/// The summary of a form with errors.
const CORRECT_ERRORS: &str = "Please correct the errors below.";
/// The answer of the e-mail forms, whatever the address.
const CHECK_EMAIL: &str = "Please check your email";
/// The signed-out page, without a logout id.
const LOGGED_OUT: &str = "/account/logout/loggedout";
/// Where a page sends a browser without a session.
const TO_LOGIN: Expect = Expect::Redirect("/account/login?returnUrl=");

/// Every probe.
pub(super) fn probes(fixtures: &Fixtures) -> Vec<Probe> {
    let groups = [token_endpoint(fixtures), bearer_endpoints(fixtures), browser_endpoints(fixtures), pages(fixtures)];
    groups.into_iter().flatten().chain(wire()).collect()
}

/// 10,000 characters, for fields that are not secret (the server may log a name or a client id).
fn long() -> String {
    "x".repeat(10_000)
}

/// 10,000 other characters, for secret fields (passwords, tokens, codes): the log scan looks for
/// these, so they must not be what [`long`] puts in a logged name.
fn long_secret() -> String {
    "s".repeat(10_000)
}

/// `token` with its payload changed by `change` and its header and signature kept.
fn tampered(token: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut parts = token.split('.');
    let (header, _, signature) = (parts.next(), parts.next(), parts.next());
    let mut payload = jwt_payload(token);
    change(&mut payload);
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    format!("{}.{payload}.{}", header.expect("a JWT header"), signature.expect("a JWT signature"))
}

/// `token` with `alg: none` in its header and no signature.
fn unsigned(token: &str) -> String {
    let (header, rest) = token.split_once('.').expect("a JWT");
    let header = URL_SAFE_NO_PAD.decode(header).expect("a base64url header");
    let mut header: Value = serde_json::from_slice(&header).expect("a JSON header");
    header["alg"] = "none".into();
    let payload = rest.split('.').next().expect("a JWT payload");
    format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(header.to_string()))
}

/// `token`'s header (its `kid` and `typ`) and claims, signed with HS256 and the attacker's key.
fn foreign_signed(token: &str) -> String {
    let original = jsonwebtoken::decode_header(token).expect("a JWT header");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    (header.typ, header.kid) = (original.typ, original.kid);
    let key = jsonwebtoken::EncodingKey::from_secret(b"the attacker's own key");
    jsonwebtoken::encode(&header, &jwt_payload(token), &key).expect("an HS256 token")
}

/// The token endpoint: every grant type with missing, repeated, oversized, undecodable and
/// injected parameters; truncated and oversized bodies; malformed client authentication.
fn token_endpoint(fixtures: &Fixtures) -> Vec<Probe> {
    let (long, long_secret) = (long(), long_secret());
    let spa = format!("{CLIENT_BASE}/spa");
    let (invalid_request, invalid_grant) = (Expect::OAuth(400, "invalid_request"), Expect::OAuth(400, "invalid_grant"));
    let (invalid_client, invalid_scope) = (Expect::OAuth(401, "invalid_client"), Expect::OAuth(400, "invalid_scope"));
    let raw = |name: &str, body: &[u8], expect: Expect| {
        Probe::post(name, TOKEN, body.to_vec(), expect).basic(PASSWORD_CLIENT)
    };
    let by = |client: (&'static str, &'static str), name: &str, pairs: &[(&str, &str)], expect: Expect| {
        Probe::post(name, TOKEN, form(pairs), expect).basic(client)
    };
    let no_auth = |name: &str, pairs: &[(&str, &str)], expect: Expect| Probe::post(name, TOKEN, form(pairs), expect);
    let password = |name: &str, user: &str, password: &str, expect: Expect| {
        let grant = [("grant_type", "password"), ("username", user), ("password", password), ("scope", "openid")];
        by(PASSWORD_CLIENT, name, &grant, expect)
    };
    let refresh = |name: &str, handle: &str| {
        by(PASSWORD_CLIENT, name, &[("grant_type", "refresh_token"), ("refresh_token", handle)], invalid_grant)
    };
    let redirect_uri = format!("{CLIENT_BASE}/callback");
    let code = |name: &str, client: (&'static str, &'static str), code: &str, expect: Expect| {
        let grant = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", VERIFIER),
        ];
        by(client, name, &grant, expect)
    };
    let machine = |name: &str, scope: &str| {
        by(M2M_CLIENT, name, &[("grant_type", "client_credentials"), ("scope", scope)], invalid_scope)
    };
    let anonymous = |name: &str, expect: Expect| Probe::post(name, TOKEN, "grant_type=client_credentials", expect);
    let public_code = [
        ("grant_type", "authorization_code"),
        ("client_id", PUBLIC_CLIENT),
        ("code", "forged"),
        ("redirect_uri", spa.as_str()),
        ("code_verifier", VERIFIER),
    ];
    let foreign_refresh = [("grant_type", "refresh_token"), ("refresh_token", fixtures.refresh_token.as_str())];
    let unauthorized_client = Expect::OAuth(400, "unauthorized_client");
    let no_colon = format!("Basic {}", STANDARD.encode(M2M_CLIENT.0));
    let padding = format!("grant_type=password&padding={}", "x".repeat(40 * 1024));
    vec![
        raw("token: no grant_type", b"username=nobody&password=x", invalid_request),
        raw("token: empty grant_type", b"grant_type=&username=nobody&password=x", invalid_request),
        raw("token: unknown grant_type", b"grant_type=urn%3Aevil", Expect::OAuth(400, "unsupported_grant_type")),
        raw("token: grant_type repeated", b"grant_type=password&grant_type=client_credentials", invalid_request),
        Probe::post("token: code repeated", TOKEN, "grant_type=authorization_code&code=a&code=b", invalid_request)
            .basic(WEB),
        code("token: a grant the client may not use", PASSWORD_CLIENT, "forged", unauthorized_client),
        raw("token: missing password", b"grant_type=password&username=nobody", invalid_request),
        password("token: 10,000-character user name", &long, "Wrong123$", invalid_grant),
        password("token: 10,000-character password", "nobody", &long_secret, invalid_grant),
        machine("token: 10,000-character scope", &long),
        no_auth("token: 10,000-character client_id", &[("client_id", &long)], invalid_client),
        refresh("token: 10,000-character refresh token", &long_secret),
        code("token: 10,000-character code", WEB, &long_secret, invalid_grant),
        password("token: NUL in the user name", "nobody\0carol", "Wrong123$", invalid_grant),
        password("token: CR, LF and ESC in the user name", FORGED_LOG_LINE, "Wrong123$", invalid_grant),
        no_auth("token: CR, LF and ESC in client_id", &[("client_id", FORGED_LOG_LINE)], invalid_client),
        password("token: SQL in the user name", SQL_ANY, "Wrong123$", invalid_grant),
        password("token: SQL in the password", "nobody", SQL_DROP, invalid_grant),
        no_auth("token: SQL in client_id", &[("client_id", SQL_ANY), ("client_secret", SQL_DROP)], invalid_client),
        refresh("token: SQL in the refresh token", SQL_DROP),
        refresh("token: NUL in the refresh token", "\0"),
        code("token: SQL in the code", WEB, SQL_DROP, invalid_grant),
        machine("token: SQL in the scope", SQL_ANY),
        no_auth("token: a public client's forged code", &public_code, invalid_grant),
        by(M2M_CLIENT, "token: another client's refresh token", &foreign_refresh, unauthorized_client),
        raw("token: invalid UTF-8 bytes", b"grant_type=password&username=\xff\xfe&password=x", invalid_request),
        raw("token: percent-encoded invalid UTF-8", b"grant_type=password&username=%FF&password=x", invalid_request),
        raw("token: truncated percent-encoding", b"grant_type=password&username=%E2%82&password=x", invalid_request),
        raw("token: body cut inside a value", b"grant_type=passw", Expect::OAuth(400, "unsupported_grant_type")),
        raw("token: body cut after a name", b"grant_type=password&username=nobody&pass", invalid_request),
        raw("token: body shorter than its Content-Length", b"grant_type=password", Expect::Status(408))
            .header("content-length", "1000"),
        raw("token: 2 MiB body announced", b"", Expect::TooLarge).header("content-length", (2 << 20).to_string()),
        raw("token: 40 KiB chunked body", &chunked(&padding), Expect::TooLarge).header("transfer-encoding", "chunked"),
        anonymous("token: JSON body", invalid_request)
            .basic(M2M_CLIENT)
            .without("content-type")
            .header("content-type", "application/json"),
        anonymous("token: no content type", invalid_request).basic(M2M_CLIENT).without("content-type"),
        Probe::get("token: GET", "/connect/token?grant_type=client_credentials", Expect::Status(405)),
        anonymous("token: Basic credentials not base64", invalid_client).header("authorization", "Basic !!!x!!!"),
        anonymous("token: Basic credentials without a colon", invalid_client).header("authorization", no_colon),
        anonymous("token: Basic scheme alone", invalid_client).header("authorization", "Basic"),
        anonymous("token: empty Authorization", invalid_client).header("authorization", ""),
        anonymous("token: Bearer instead of Basic", invalid_client).bearer(&fixtures.access_token),
        anonymous("token: two Authorization headers", invalid_request).basic(M2M_CLIENT).basic(M2M_CLIENT),
        anonymous("token: invalid UTF-8 in Authorization", invalid_client)
            .header("authorization", b"Basic \xff\xfe".to_vec()),
        anonymous("token: wrong client secret", invalid_client).basic((M2M_CLIENT.0, "wrong")),
        anonymous("token: 10,000-character Basic credentials", invalid_client).basic((&long, &long_secret)),
        by(M2M_CLIENT, "token: Basic and another client_id", &[("client_id", PASSWORD_CLIENT.0)], invalid_request),
        by(M2M_CLIENT, "token: Basic and client_secret", &[("client_secret", M2M_CLIENT.1)], invalid_request),
        Probe::post("token: client_id repeated", TOKEN, "client_id=m2m.client&client_id=web", invalid_request),
    ]
}

/// Userinfo, introspection and revocation: missing, malformed and forged tokens, and clients
/// asking about tokens that are not theirs.
fn bearer_endpoints(fixtures: &Fixtures) -> Vec<Probe> {
    let long = long_secret();
    let access = fixtures.access_token.as_str();
    let foreign_refresh = form(&[("token", &fixtures.refresh_token)]);
    let invalid_request = Expect::OAuth(400, "invalid_request");
    let invalid_client = Expect::OAuth(401, "invalid_client");
    let malformed = Expect::Bearer(400, Some("invalid_request"));
    let userinfo = |name: &str, authorization: &[u8], expect: Expect| {
        Probe::get(name, USERINFO, expect).header("authorization", authorization.to_vec())
    };
    let introspect = |name: &str, body: &str, expect: Expect| {
        Probe::post(name, INTROSPECT, body.to_owned(), expect).basic(M2M_CLIENT)
    };
    let revoke = |name: &str, token: &str, expect: Expect| {
        Probe::post(name, REVOKE, form(&[("token", token)]), expect).basic(PASSWORD_CLIENT)
    };
    let basic = format!("Basic {}", STANDARD.encode("a:b"));
    let public_caller = format!("client_id={PUBLIC_CLIENT}&token=x");
    let forged = [
        ("alg none", unsigned(access)),
        ("HS256 with the attacker's key", foreign_signed(access)),
        ("expired", tampered(access, |claims| claims["exp"] = 1_000_000_000_i64.into())),
        ("not yet valid", tampered(access, |claims| claims["nbf"] = 4_000_000_000_i64.into())),
        ("wrong audience", tampered(access, |claims| claims["aud"] = "https://evil.example/api".into())),
        ("wrong issuer", tampered(access, |claims| claims["iss"] = EVIL.into())),
        ("another subject", tampered(access, |claims| claims["sub"] = "admin".into())),
        ("signature stripped", format!("{}.", access.rsplit_once('.').expect("a JWT").0)),
        ("an id token", fixtures.id_token.clone()),
        ("JWT-shaped garbage", "a.b.c".to_owned()),
        ("garbage", "garbage".to_owned()),
        ("10,000 characters", long.clone()),
        ("SQL", "'||'1'='1".to_owned()),
    ];
    let mut probes = vec![
        Probe::get("userinfo: no token", USERINFO, Expect::Bearer(401, None)),
        userinfo("userinfo: Bearer without a token", b"Bearer", malformed),
        userinfo("userinfo: a token with a space", b"Bearer a b", malformed),
        userinfo("userinfo: invalid UTF-8 in Authorization", b"Bearer \xff", malformed),
        userinfo("userinfo: Basic credentials", basic.as_bytes(), Expect::Bearer(401, None)),
        Probe::get("userinfo: two Authorization headers", USERINFO, malformed).bearer(access).bearer(access),
        Probe::get("userinfo: a token without openid", USERINFO, Expect::Bearer(403, Some("insufficient_scope")))
            .bearer(&fixtures.client_token),
        Probe::post("introspect: no client authentication", INTROSPECT, "token=x", invalid_client),
        Probe::post("introspect: a public client", INTROSPECT, public_caller, invalid_client),
        introspect("introspect: another client's refresh token", &foreign_refresh, Expect::Inactive),
        introspect("introspect: no token", "token_type_hint=access_token", invalid_request),
        introspect("introspect: token repeated", "token=a&token=b", invalid_request),
        introspect("introspect: invalid UTF-8", "token=%FF%00", invalid_request),
        Probe::post("revoke: no client authentication", REVOKE, "token=x", invalid_client),
        revoke("revoke: garbage", "garbage", Expect::Status(200)),
        revoke("revoke: SQL", SQL_DROP, Expect::Status(200)),
        revoke("revoke: NUL", "\0", Expect::Status(200)),
        revoke("revoke: 10,000 characters", &long, Expect::Status(200)),
        revoke("revoke: an access token", access, Expect::OAuth(400, "unsupported_token_type")),
        // RFC 7009 §2.2: 200 for another client's token too, which stays valid (no row changes).
        Probe::post("revoke: another client's refresh token", REVOKE, foreign_refresh.clone(), Expect::Status(200))
            .basic(M2M_CLIENT),
        revoke("revoke: no token", "", invalid_request),
    ];
    for (what, token) in &forged {
        let invalid_token = Expect::Bearer(401, Some("invalid_token"));
        probes.push(Probe::get(format!("userinfo: {what}"), USERINFO, invalid_token).bearer(token));
        probes.push(introspect(&format!("introspect: {what}"), &form(&[("token", token)]), Expect::Inactive));
    }
    probes
}

/// An authorization request of [`QUICK`] (valid, with PKCE), with `changes` made (`None` removes
/// the parameter) and `tail` appended as it is.
fn authorize_url(changes: &[(&str, Option<&str>)], tail: &str) -> String {
    let callback = format!("{CLIENT_BASE}/callback");
    let base = [
        ("client_id", QUICK.0),
        ("redirect_uri", callback.as_str()),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "hostile"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let kept = base.into_iter().filter(|(name, _)| !changes.iter().any(|(changed, _)| changed == name));
    let mut pairs: Vec<(&str, &str)> = kept.collect();
    pairs.extend(changes.iter().filter_map(|&(name, value)| value.map(|value| (name, value))));
    format!("/connect/authorize?{}{tail}", form(&pairs))
}

/// The authorize and end-session endpoints (redirect-URI variants, PKCE downgrades, repeated and
/// undecodable parameters, forged hints), discovery, JWKS, health, metrics and CORS.
fn browser_endpoints(fixtures: &Fixtures) -> Vec<Probe> {
    let long = long();
    let spa = format!("{CLIENT_BASE}/spa");
    let id_token = fixtures.id_token.as_str();
    let get = |name: &str, changes: &[(&str, Option<&str>)], expect: Expect| {
        Probe::get(name, authorize_url(changes, ""), expect)
    };
    let tail = |name: &str, changes: &[(&str, Option<&str>)], tail: &str| {
        Probe::get(name, authorize_url(changes, tail), Expect::ErrorPage("invalid_request"))
    };
    let json = |name: &str, path: &str| {
        Probe::post(name, path, "{}", Expect::ErrorPage("invalid_request"))
            .without("content-type")
            .header("content-type", "application/json")
    };
    let error = Expect::ErrorRedirect;
    let (page, unknown) = (Expect::ErrorPage("invalid_request"), Expect::ErrorPage("invalid_client"));
    let end_session = |name: &str, pairs: &[(&str, &str)], expect: Expect| {
        Probe::get(name, format!("/connect/endsession?{}", form(pairs)), expect)
    };
    let logout = Expect::Redirect("/account/logout?logoutId=");
    let logged_out = Expect::Redirect("/account/logout/loggedout?logoutId=");
    let no_pkce = [("code_challenge", None), ("code_challenge_method", None)];
    let public = [("client_id", Some(PUBLIC_CLIENT)), ("redirect_uri", Some(spa.as_str())), no_pkce[0], no_pkce[1]];
    let repeated_post = format!("{}&scope=openid", authorize_url(&[], "").split_once('?').expect("a query").1);
    let re_audienced = tampered(id_token, |claims| claims["aud"] = "web".into());
    let dot_segments = format!("{CLIENT_BASE}/signed-out/../evil");
    let request_object = [("request", Some("eyJhbGciOiJub25lIn0.e30."))];
    let crlf = [("state", Some("a\0b\r\nLocation: https://evil.example/"))];
    let foreign_logout = [("client_id", QUICK.0), ("post_logout_redirect_uri", EVIL)];
    let dotted_logout = [("client_id", QUICK.0), ("post_logout_redirect_uri", dot_segments.as_str())];
    let hinted_logout = [("id_token_hint", id_token), ("post_logout_redirect_uri", EVIL)];
    let discovery = "/.well-known/openid-configuration?x=%FF&x=%00&%27%20OR%201=1";
    let no_client = Expect::OAuth(401, "invalid_client");
    let from_evil = Probe::post("token: POST from a foreign origin", TOKEN, "grant_type=client_credentials", no_client);
    let mut probes = vec![
        get("authorize: unknown client", &[("client_id", Some("evil-client"))], unknown),
        get("authorize: no client_id", &[("client_id", None)], page),
        get("authorize: SQL in client_id", &[("client_id", Some(SQL_ANY))], unknown),
        get("authorize: CR, LF and ESC in client_id", &[("client_id", Some(FORGED_LOG_LINE))], unknown),
        get("authorize: 10,000-character client_id", &[("client_id", Some(long.as_str()))], unknown),
        get("authorize: no redirect_uri", &[("redirect_uri", None)], page),
        tail("authorize: client_id repeated", &[], "&client_id=web"),
        tail("authorize: redirect_uri repeated", &[], "&redirect_uri=https%3A%2F%2Fevil.example%2F"),
        tail("authorize: invalid UTF-8", &[("state", None)], "&state=%FF"),
        tail("authorize: truncated percent-encoding", &[("state", None)], "&state=%E2%82"),
        get("authorize: response_type token", &[("response_type", Some("token"))], error("unsupported_response_type")),
        get("authorize: no response_type", &[("response_type", None)], error("invalid_request")),
        get("authorize: PKCE plain", &[("code_challenge_method", Some("plain"))], error("invalid_request")),
        get("authorize: no PKCE", &no_pkce, error("invalid_request")),
        get("authorize: challenge without a method", &[("code_challenge_method", None)], error("invalid_request")),
        get("authorize: malformed challenge", &[("code_challenge", Some("abc"))], error("invalid_request")),
        get("authorize: public client without PKCE", &public, error("invalid_request")),
        get("authorize: SQL in scope", &[("scope", Some(SQL_ANY))], error("invalid_scope")),
        get("authorize: identity scope without openid", &[("scope", Some("profile"))], error("invalid_scope")),
        get("authorize: request object", &request_object, error("request_not_supported")),
        get("authorize: fragment response mode", &[("response_mode", Some("fragment"))], error("invalid_request")),
        get("authorize: prompt=none without a session", &[("prompt", Some("none"))], error("login_required")),
        get("authorize: unknown prompt", &[("prompt", Some("select_account"))], error("invalid_request")),
        get("authorize: negative max_age", &[("max_age", Some("-1"))], error("invalid_request")),
        get("authorize: 10,000-character nonce", &[("nonce", Some(long.as_str()))], error("invalid_request")),
        get("authorize: 10,000-character login_hint", &[("login_hint", Some(long.as_str()))], error("invalid_request")),
        get("authorize: forged login prompt marker", &[("login_prompted", Some("forged"))], error("invalid_request")),
        get("authorize: NUL and CRLF in state", &crlf, TO_LOGIN),
        get("authorize: 10,000-character state", &[("state", Some(long.as_str()))], TO_LOGIN),
        json("authorize: POST with a JSON body", "/connect/authorize"),
        Probe::post("authorize: POST with a repeated parameter", "/connect/authorize", repeated_post, page),
        end_session("end session: garbage id_token_hint", &[("id_token_hint", "garbage")], page),
        end_session("end session: alg none id_token_hint", &[("id_token_hint", &unsigned(id_token))], page),
        end_session("end session: re-audienced id_token_hint", &[("id_token_hint", &re_audienced)], page),
        end_session("end session: an access token as hint", &[("id_token_hint", &fixtures.access_token)], page),
        end_session("end session: hint of another client", &[("id_token_hint", id_token), ("client_id", WEB.0)], page),
        end_session("end session: foreign post-logout URI", &foreign_logout, logout),
        end_session("end session: dot segments in the post-logout URI", &dotted_logout, logout),
        end_session("end session: hint, foreign post-logout URI", &hinted_logout, logged_out),
        Probe::get("end session: state repeated", "/connect/endsession?state=a&state=b", page),
        Probe::get("end session: invalid UTF-8", "/connect/endsession?client_id=%FF", page),
        json("end session: POST with a JSON body", "/connect/endsession"),
        Probe::get("discovery: odd query", discovery, Expect::Status(200)),
        Probe::get("jwks: odd query", "/.well-known/jwks?kid=%FF%FE&kid=..%2F..", Expect::Status(200)),
        Probe::post("discovery: POST", "/.well-known/openid-configuration", "x=1", Expect::Status(405)),
        Probe::get("health: odd query", "/health/live?%FF=%00", Expect::Status(200)),
        Probe::get("metrics: off", "/metrics", Expect::Status(404)),
        // A foreign origin gets no CORS grant (checked for every probe), on a preflight or a POST.
        Probe::get("token: CORS preflight from a foreign origin", TOKEN, Expect::Status(204))
            .method("OPTIONS")
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST"),
        from_evil.header("origin", "https://evil.example"),
    ];
    let redirect_uris = [
        "https://evil.example/callback".to_owned(),
        format!("{CLIENT_BASE}/callback/extra"),
        "http://127.0.0.1:10/callback".to_owned(),
        "http://evil@127.0.0.1:9/callback".to_owned(),
        "http://127.0.0.1:9@evil.example/callback".to_owned(),
        format!("{CLIENT_BASE}/callback#fragment"),
        "HTTP://127.0.0.1:9/CALLBACK".to_owned(),
        format!("{CLIENT_BASE}/callback/"),
        format!("{CLIENT_BASE}/callback?next={EVIL}"),
        format!("{CLIENT_BASE}/x/../callback"),
        format!("{CLIENT_BASE}/callback\0"),
        format!("{CLIENT_BASE}/callback%2F..%2Fevil"),
        spa.clone(),
        "//evil.example/callback".to_owned(),
        "javascript:alert(1)".to_owned(),
        long.clone(),
    ];
    for uri in &redirect_uris {
        let name = format!("authorize: redirect_uri {:?}", shorten(uri, 60));
        probes.push(get(&name, &[("redirect_uri", Some(uri.as_str()))], page));
    }
    probes
}

/// The pages: open redirects, forged and undecodable forms, hostile fields, oversized and
/// truncated bodies, forged links, and malformed session cookies.
fn pages(fixtures: &Fixtures) -> Vec<Probe> {
    let long = long();
    let cookie = fixtures.csrf_cookie.as_str();
    let token = fixtures.csrf_token.as_str();
    // A form with a valid CSRF token and cookie: refused, if at all, for what it carries.
    let post = |name: &str, path: &str, pairs: &[(&str, &str)], expect: Expect| {
        Probe::post(name, path, format!("__csrf={token}&{}", form(pairs)), expect).header("cookie", cookie)
    };
    let raw = |name: &str, path: &str, body: String, expect: Expect| {
        Probe::post(name, path, body, expect).header("cookie", cookie)
    };
    let login = |name: &str, user: &str, return_url: &str| {
        let fields = [("returnUrl", return_url), ("username", user), ("password", "Wrong123$"), ("button", "login")];
        post(name, "/account/login", &fields, Expect::Page(200, INVALID_CREDENTIALS))
    };
    let refused = Expect::Page(400, FORM_REFUSED);
    let unprotected = |name: &str, path: &str, body: &str| raw(name, path, body.to_owned(), refused);
    let query = |path: &str, pairs: &[(&str, &str)]| format!("{path}?{}", form(pairs));
    let register = |name: &str, user: &str, email: &str, expect: Expect| {
        // The confirmation differs too, so that nothing could create an account.
        let fields = [("username", user), ("email", email), ("password", "Secret123$"), ("confirmPassword", "Other1$")];
        post(name, "/account/register", &fields, expect)
    };
    let reset = |name: &str, code: &str, email: &str| {
        let fields = [("code", code), ("email", email), ("password", "Secret123$"), ("confirmPassword", "Secret123$")];
        post(name, "/account/reset-password", &fields, Expect::Page(200, "The link is invalid or has expired"))
    };
    let not_utf8 = Expect::Page(400, NOT_UTF8);
    let (unconfirmed, unchanged) =
        (Expect::Page(400, "Error confirming your email"), Expect::Page(400, "Error changing email"));
    let carol = fixtures.carol.as_str();
    let confirm_email = query("/account/confirm-email", &[("userId", carol), ("code", "forged")]);
    let confirm_sql = query("/account/confirm-email", &[("userId", SQL_ANY), ("code", SQL_DROP)]);
    let change = [("userId", carol), ("email", "mallory@example.com"), ("code", "forged")];
    let change_email = query("/account/confirm-email-change", &change);
    let other_site = Expect::Page(400, OTHER_SITE);
    let check_email = Expect::Page(200, CHECK_EMAIL);
    let cancel = [("returnUrl", EVIL), ("button", "cancel")];
    let long_code = query("/account/reset-password", &[("code", &long_secret())]);
    let logged_out = "/account/logout/loggedout?logoutId=forged";
    let two_factor = query("/account/login/two-factor", &[("returnUrl", EVIL)]);
    let delete = [("button", "delete"), ("password", "Secret123$")];
    let bad_email = format!("__csrf={token}&email=%C3(");
    let markup = "/error?errorId=%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let mut probes = vec![
        Probe::get("login page: returnUrl not UTF-8", "/account/login?returnUrl=%FF", not_utf8),
        unprotected("login: no CSRF token", "/account/login", "username=nobody&password=x&button=login"),
        Probe::post("login: CSRF token without its cookie", "/account/login", format!("__csrf={token}"), refused),
        post("login: from another origin", "/account/login", &[], other_site).header("origin", "https://evil.example"),
        post("login: cross-site fetch", "/account/login", &[], other_site).header("sec-fetch-site", "cross-site"),
        login("login: SQL in the user name", SQL_ANY, ""),
        login("login: markup, NUL and BEL in the user name", "<script>alert(1)</script>\0\u{7}", ""),
        login("login: 10,000-character user name", &long, ""),
        login("login: CR, LF and ESC in the user name", FORGED_LOG_LINE, ""),
        login("login: a foreign returnUrl", "nobody", EVIL),
        post("login: cancel to a foreign returnUrl", "/account/login", &cancel, Expect::RedirectTo("/")),
        raw("login: invalid UTF-8", "/account/login", format!("__csrf={token}&username=%FF"), not_utf8),
        post("login: 20 KiB form", "/account/login", &[("username", &"x".repeat(20 * 1024))], Expect::TooLarge),
        Probe::post("login: body shorter than its Content-Length", "/account/login", "__csrf=x", Expect::Status(408))
            .header("content-length", "1000"),
        Probe::get("register page: returnUrl not UTF-8", "/account/register?returnUrl=%FF", not_utf8),
        unprotected("register: no CSRF token", "/account/register", "username=mallory&email=m%40example.com"),
        register("register: SQL in the user name", SQL_ANY, "mallory@example.com", Expect::Page(200, CORRECT_ERRORS)),
        register("register: markup, NUL, 10,000 characters", "<script>\0", &long, Expect::Page(200, CORRECT_ERRORS)),
        unprotected("forgot password: no CSRF token", "/account/forgot-password", "email=carol%40example.com"),
        post("forgot password: SQL in the address", "/account/forgot-password", &[("email", SQL_ANY)], check_email),
        post("forgot password: 10,000 characters", "/account/forgot-password", &[("email", &long)], check_email),
        raw("forgot password: invalid UTF-8", "/account/forgot-password", bad_email, not_utf8),
        Probe::get("reset page: no code", "/account/reset-password", Expect::Page(400, "A code must be supplied")),
        Probe::get("reset page: code not UTF-8", "/account/reset-password?code=%FF", not_utf8),
        Probe::get("reset page: 10,000-character code", long_code, Expect::Page(200, CSRF_FIELD)),
        unprotected("reset: no CSRF token", "/account/reset-password", "code=x&email=carol%40example.com"),
        reset("reset: forged code, unknown address", "forged", "nobody@example.com"),
        reset("reset: forged code for carol", SQL_DROP, "carol@example.com"),
        Probe::get("confirm email: carol's id, forged code", confirm_email, unconfirmed),
        Probe::get("confirm email: SQL in userId", confirm_sql, unconfirmed),
        Probe::get("confirm email change: carol's id, forged code", change_email, unchanged),
        unprotected("resend confirmation: no CSRF token", "/account/resend-confirmation", "email=carol%40example.com"),
        Probe::get("consent: foreign returnUrl, no session", query("/consent", &[("returnUrl", EVIL)]), TO_LOGIN),
        unprotected("consent: no CSRF token", "/consent", "button=yes&scope=openid"),
        post("consent: forged session", "/consent", &[("returnUrl", EVIL), ("button", "yes")], TO_LOGIN)
            .header("cookie", "idsrv.session=forged"),
        Probe::get("logout: forged logoutId", "/account/logout?logoutId=x", Expect::RedirectTo(LOGGED_OUT)),
        Probe::get("logout: logoutId not UTF-8", "/account/logout?logoutId=%FF", not_utf8),
        Probe::get("logged out: forged logoutId", logged_out, Expect::Page(200, "You are now logged out.")),
        unprotected("logout: no CSRF token", "/account/logout", "logoutId=x"),
        Probe::get("two-factor: no pending sign-in", two_factor, TO_LOGIN),
        Probe::get("two-factor: forged pending cookie", "/account/login/two-factor", TO_LOGIN)
            .header("cookie", "idsrv.2fa=forged"),
        unprotected("two-factor: no CSRF token", "/account/login/two-factor", "code=123456"),
        post("recovery code: no pending sign-in", "/account/login/recovery-code", &[("code", SQL_DROP)], TO_LOGIN),
        post("personal data: delete with a forged session", "/account/manage/personal-data", &delete, TO_LOGIN)
            .header("cookie", "idsrv.session=forged"),
        Probe::get("manage: two Cookie headers", "/account/manage", TO_LOGIN)
            .header("cookie", "idsrv.session=a")
            .header("cookie", "idsrv.session=b"),
        Probe::get("error page: markup in the query", markup, Expect::Status(200)),
        Probe::get("css: encoded traversal", "/css/..%2F..%2Fidentity.db", Expect::Status(404)),
        Probe::get("css: encoded dot segments", "/css/%2e%2e/%2e%2e/etc/passwd.css", Expect::Status(404)),
        Probe::get("img: encoded backslashes", "/img/..%5C..%5Cidentity.db.png", Expect::Status(404)),
        Probe::get("css: invalid UTF-8", "/css/%FF.css", Expect::ClientError),
    ];
    let foreign = [EVIL, "//evil.example", "/\\evil.example", "javascript:alert(1)", "/connect/authorize?client_id=x"];
    for return_url in foreign.into_iter().chain([long.as_str()]) {
        let name = format!("login page: returnUrl {:?}", shorten(return_url, 60));
        let page = query("/account/login", &[("returnUrl", return_url)]);
        probes.push(Probe::get(name, page, Expect::Page(200, CSRF_FIELD)));
    }
    let manage = ["", "/sessions", "/grants", "/email", "/personal-data", "/change-password", "/set-password"];
    let manage = manage.into_iter().chain(["/two-factor", "/authenticator"]);
    for path in manage.map(|page| format!("/account/manage{page}")) {
        probes.push(Probe::get(format!("{path}: no session"), path.as_str(), TO_LOGIN));
        probes.push(unprotected(&format!("{path}: no CSRF token"), &path, "button=delete"));
    }
    let csrf_value = cookie.split_once('=').map_or(cookie, |(_, value)| value);
    let session_cookies: [(&str, Vec<u8>); 8] = [
        ("garbage", b"idsrv.session=garbage".to_vec()),
        ("10,000 characters", format!("idsrv.session={long}").into_bytes()),
        ("invalid UTF-8", b"idsrv.session=\xff\xfe\x80".to_vec()),
        ("a tab", b"idsrv.session=a\tb".to_vec()),
        ("two session cookies", b"idsrv.session=a; idsrv.session=b".to_vec()),
        ("no value", b"idsrv.session".to_vec()),
        ("a quoted value", b"idsrv.session=\"garbage\"".to_vec()),
        ("the CSRF cookie's value", format!("idsrv.session={csrf_value}").into_bytes()),
    ];
    for (what, value) in session_cookies {
        let manage = format!("manage: session cookie with {what}");
        let home = format!("home: session cookie with {what}");
        probes.push(Probe::get(manage, "/account/manage", TO_LOGIN).header("cookie", value.clone()));
        probes.push(Probe::get(home, "/", Expect::Status(200)).header("cookie", value.clone()));
        let authorize = format!("authorize: session cookie with {what}");
        probes.push(Probe::get(authorize, authorize_url(&[], ""), TO_LOGIN).header("cookie", value));
    }
    probes
}

/// Requests malformed below the application: paths with dot segments and bad escapes, a broken
/// request line, NUL in a header value, a space in a header name, a long request id.
fn wire() -> Vec<Probe> {
    vec![
        Probe::get("path: dot segments", "/account/../connect/token", Expect::Status(404)),
        Probe::get("path: encoded dot segments", "/connect/%2e%2e/connect/token", Expect::Status(404)),
        Probe::get("path: invalid percent-encoding", "/connect/authorize%zz?client_id=quick", Expect::ClientError),
        Probe::get("path: encoded NUL", "/connect/token%00", Expect::Status(404)),
        Probe::get("path: encoded invalid UTF-8", "/%FF%FE", Expect::Status(404)),
        Probe::get("request line: junk after the version", "/ HTTP/1.1 junk", Expect::ClientError),
        Probe::get("header: NUL in a value", "/", Expect::ClientError).header("cookie", b"a=\0b".to_vec()),
        Probe::get("header: a space in a name", "/", Expect::ClientError).header("x bad", "1"),
        Probe::get("header: 10,000-character request id", "/health/live", Expect::Status(200))
            .header("x-request-id", long()),
    ]
}
