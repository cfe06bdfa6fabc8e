//! The scenarios: what one operation of each sends, what answer counts as a success, and what a
//! connection prepares before the clock starts (a token, a refresh token, a signed-in browser).

use crate::bench::http::{Connection, Request, Response, query_parameter};
use crate::bench::server::{CLIENT_SECRET, PASSWORD, REDIRECT_URI, user_name};

/// The PKCE verifier of every code-flow request, and its S256 challenge (RFC 7636 §4.2).
/// A fixed pair is enough: each code is still single-use and bound to it.
const CODE_VERIFIER: &str = "bench-pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz";
const CODE_CHALLENGE: &str = "nNXSXIAPh_gvnj1fakhR9r29EIkizMk0nlEpUHWvF7c";
/// The status of an answer with content.
const OK: &[u16] = &[200];
const TOKEN_PATH: &str = "/connect/token";

/// One kind of load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// `client_credentials`: one access token signed per request, no user.
    ClientCredentials,
    /// The same against an instance whose `[keys] algorithms` start with ES256.
    ClientCredentialsEs256,
    /// The password grant: one Argon2id verification, a profile load and two signatures.
    Password,
    /// A `reuse` refresh token on a grant without `openid`: one signature per request.
    RefreshToken,
    /// A `one_time` refresh token with `openid`: rotation (one write) and an id token as well.
    RefreshTokenRotating,
    /// A signed-in browser's authorization request and the client's code exchange, as one
    /// operation of two requests (the code of each exchange comes from the redirect before it).
    AuthorizationCode,
    /// `GET /connect/userinfo` with a user's access token.
    Userinfo,
    /// `POST /connect/introspect` of a user's access token by a confidential client.
    Introspection,
    /// The peer's userinfo (node `oidc-provider`): the same request with one of its own tokens.
    PeerUserinfo,
    /// Floor: an axum handler that answers a constant.
    FloorPlain,
    /// Floor: an axum handler that only signs a token with the server's RS256 signer.
    FloorSignRs256,
    /// Floor: the same with ES256.
    FloorSignEs256,
}

/// What a connection carries between operations.
#[derive(Debug, Default)]
pub(crate) struct ConnectionState {
    token: String,
    cookies: Vec<(String, String)>,
}

impl Scenario {
    /// The server's scenarios, in the order they run.
    pub(crate) const SERVER: [Self; 8] = [
        Self::ClientCredentials,
        Self::ClientCredentialsEs256,
        Self::Password,
        Self::RefreshToken,
        Self::RefreshTokenRotating,
        Self::AuthorizationCode,
        Self::Userinfo,
        Self::Introspection,
    ];
    /// The floors, measured against the floor binary.
    pub(crate) const FLOORS: [Self; 3] = [Self::FloorPlain, Self::FloorSignRs256, Self::FloorSignEs256];

    /// The name on the command line and in the results.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::ClientCredentialsEs256 => "client_credentials_es256",
            Self::Password => "password",
            Self::RefreshToken => "refresh_token",
            Self::RefreshTokenRotating => "refresh_token_rotating",
            Self::AuthorizationCode => "authorization_code",
            Self::Userinfo => "userinfo",
            Self::Introspection => "introspection",
            Self::PeerUserinfo => "peer_userinfo",
            Self::FloorPlain => "floor_plain_handler",
            Self::FloorSignRs256 => "floor_sign_rs256",
            Self::FloorSignEs256 => "floor_sign_es256",
        }
    }

    /// The scenario called `name`.
    pub(crate) fn named(name: &str) -> Option<Self> {
        Self::SERVER.into_iter().chain(Self::FLOORS).find(|scenario| scenario.name() == name)
    }

    /// The floor this scenario is compared with, if any.
    pub(crate) fn floor(self) -> Option<Self> {
        match self {
            Self::ClientCredentials | Self::RefreshToken | Self::RefreshTokenRotating | Self::AuthorizationCode => {
                Some(Self::FloorSignRs256)
            }
            Self::ClientCredentialsEs256 => Some(Self::FloorSignEs256),
            Self::Userinfo | Self::Introspection => Some(Self::FloorPlain),
            _ => None,
        }
    }

    /// What the peer runs to compare with this scenario: the same requests, but for userinfo,
    /// whose token the peer mints (it has no password grant).
    pub(crate) fn peer(self) -> Option<Self> {
        match self {
            Self::ClientCredentials => Some(Self::ClientCredentials),
            Self::Userinfo => Some(Self::PeerUserinfo),
            _ => None,
        }
    }

    /// The environment of the server instance this scenario runs against, beyond the common one.
    pub(crate) fn server_variables(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::ClientCredentialsEs256 => &[("IDENTITY_KEYS__ALGORITHMS", "ES256,RS256")],
            _ => &[],
        }
    }

    /// Gets what the connection needs before it is timed.
    pub(crate) fn prepare(self, connection: &mut Connection, index: usize) -> Result<ConnectionState, String> {
        let user = user_name(index);
        let mut state = ConnectionState::default();
        match self {
            Self::RefreshToken => {
                let tokens = password_grant(connection, "bench.reuse", &user, "bench.api offline_access")?;
                state.token = required(&tokens, "refresh_token")?;
            }
            Self::RefreshTokenRotating => {
                let tokens =
                    password_grant(connection, "bench.password", &user, "openid profile bench.api offline_access")?;
                state.token = required(&tokens, "refresh_token")?;
            }
            Self::Userinfo | Self::Introspection => {
                let tokens = password_grant(connection, "bench.password", &user, "openid profile email bench.api")?;
                state.token = required(&tokens, "access_token")?;
            }
            Self::AuthorizationCode => sign_in(connection, &mut state, &user)?,
            Self::PeerUserinfo => {
                state.token = required(&send(connection, &Request::get("/bench/token"), OK)?, "access_token")?;
            }
            _ => {}
        }
        Ok(state)
    }

    /// One operation; after an unexpected answer the connection prepares again, since what it
    /// carried may be spent (a rotating refresh token whose answer was lost is a replay next
    /// time, which revokes its family).
    pub(crate) fn run_or_recover(
        self,
        connection: &mut Connection,
        state: &mut ConnectionState,
        index: usize,
    ) -> Result<(), String> {
        let outcome = self.run(connection, state, index);
        if outcome.is_err()
            && let Ok(fresh) = self.prepare(connection, index)
        {
            *state = fresh;
        }
        outcome
    }

    /// One operation; `Err` describes an unexpected answer.
    fn run(self, connection: &mut Connection, state: &mut ConnectionState, index: usize) -> Result<(), String> {
        let request = match self {
            Self::ClientCredentials | Self::ClientCredentialsEs256 => {
                token_request("bench.m2m", &[("grant_type", "client_credentials"), ("scope", "bench.api")])
            }
            Self::Password => token_request(
                "bench.password",
                &[
                    ("grant_type", "password"),
                    ("username", &user_name(index)),
                    ("password", PASSWORD),
                    ("scope", "openid profile bench.api"),
                ],
            ),
            Self::RefreshToken => {
                token_request("bench.reuse", &[("grant_type", "refresh_token"), ("refresh_token", &state.token)])
            }
            Self::RefreshTokenRotating => {
                let response = send(
                    connection,
                    &token_request(
                        "bench.password",
                        &[("grant_type", "refresh_token"), ("refresh_token", &state.token)],
                    ),
                    OK,
                )?;
                state.token = required(&response, "refresh_token")?;
                return Ok(());
            }
            Self::AuthorizationCode => {
                let request = authorization_request().header("cookie", state.cookie_header());
                let redirect = send(connection, &request, REDIRECT)?;
                let location = redirect.header("location").unwrap_or_default();
                let code = query_parameter(location, "code").ok_or_else(|| format!("no code in {location:?}"))?;
                token_request(
                    "bench.web",
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", REDIRECT_URI),
                        ("code_verifier", CODE_VERIFIER),
                    ],
                )
            }
            Self::Userinfo | Self::PeerUserinfo => {
                Request::get("/connect/userinfo").header("authorization", format!("Bearer {}", state.token))
            }
            Self::Introspection => {
                let response = send(
                    connection,
                    &Request::post_form("/connect/introspect", &[("token", &state.token)])
                        .basic_auth("bench.m2m", CLIENT_SECRET),
                    OK,
                )?;
                return if response.text().contains("\"active\":true") {
                    Ok(())
                } else {
                    Err(format!("the token is not active: {}", response.text()))
                };
            }
            Self::FloorPlain => Request::get("/plain"),
            Self::FloorSignRs256 => Request::post_form("/sign/RS256", &[]),
            Self::FloorSignEs256 => Request::post_form("/sign/ES256", &[]),
        };
        send(connection, &request, OK).map(drop)
    }
}

impl ConnectionState {
    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&mut self, response: &Response) {
        for set_cookie in response.headers("set-cookie") {
            let pair = set_cookie.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(existing, _)| existing != name.trim());
                self.cookies.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
    }
}

fn token_request(client_id: &str, fields: &[(&str, &str)]) -> Request {
    Request::post_form(TOKEN_PATH, fields).basic_auth(client_id, CLIENT_SECRET)
}

fn authorization_request() -> Request {
    let query = [
        ("response_type", "code"),
        ("client_id", "bench.web"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile email bench.api"),
        ("state", "bench-state"),
        ("nonce", "bench-nonce"),
        ("code_challenge", CODE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(name, value)| format!("{name}={}", crate::bench::http::form_encode(value)))
    .collect::<Vec<_>>()
    .join("&");
    Request::get(format!("/connect/authorize?{query}"))
}

/// The statuses of a redirect.
const REDIRECT: &[u16] = &[302, 303];

/// Sends `request` and checks that the status is one of `expected`.
fn send(connection: &mut Connection, request: &Request, expected: &[u16]) -> Result<Response, String> {
    let response = connection.send(request).map_err(|e| format!("request failed: {e}"))?;
    if expected.contains(&response.status) {
        Ok(response)
    } else {
        let body: String = response.text().chars().take(300).collect();
        Err(format!("answered {} instead of {expected:?}: {body}", response.status))
    }
}

fn required(response: &Response, name: &str) -> Result<String, String> {
    response.json_string(name).ok_or_else(|| format!("no {name} in {}", response.text()))
}

fn password_grant(connection: &mut Connection, client_id: &str, user: &str, scope: &str) -> Result<Response, String> {
    let fields = [("grant_type", "password"), ("username", user), ("password", PASSWORD), ("scope", scope)];
    send(connection, &token_request(client_id, &fields), OK)
}

/// Signs `user` in through the login page, as a browser would, keeping the session cookie.
fn sign_in(connection: &mut Connection, state: &mut ConnectionState, user: &str) -> Result<(), String> {
    let to_login = connection.send(&authorization_request()).map_err(|e| format!("authorize failed: {e}"))?;
    let login_url = path_of(to_login.header("location").ok_or("the authorize endpoint did not redirect to a login")?);
    let return_url = query_parameter(&login_url, "returnUrl").ok_or_else(|| format!("no returnUrl in {login_url}"))?;
    let page = send(connection, &Request::get(login_url.clone()), OK)?;
    state.keep_cookies(&page);
    let html = page.text();
    let csrf = html
        .split("name=\"__csrf\"")
        .nth(1)
        .and_then(|rest| rest.split("value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .ok_or("no CSRF token on the login page")?
        .to_owned();
    let fields = [
        ("__csrf", csrf.as_str()),
        ("returnUrl", &return_url),
        ("username", user),
        ("password", PASSWORD),
        ("button", "login"),
    ];
    let signed_in = send(
        connection,
        &Request::post_form("/account/login", &fields).header("cookie", state.cookie_header()),
        REDIRECT,
    )?;
    state.keep_cookies(&signed_in);
    Ok(())
}

/// The path and query of a URL that may be absolute.
fn path_of(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or_else(|| "/".to_owned(), |slash| rest[slash..].to_owned()),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_is_found_by_its_name() {
        for scenario in Scenario::SERVER.into_iter().chain(Scenario::FLOORS) {
            assert_eq!(Scenario::named(scenario.name()), Some(scenario));
        }
        assert_eq!(Scenario::named("nothing"), None);
    }

    #[test]
    fn paths_are_taken_from_absolute_and_relative_urls() {
        assert_eq!(path_of("http://127.0.0.1:5/account/login?x=1"), "/account/login?x=1");
        assert_eq!(path_of("/account/login"), "/account/login");
        assert_eq!(path_of("http://host"), "/");
    }
}
