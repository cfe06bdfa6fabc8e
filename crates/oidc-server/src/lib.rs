//! An OAuth 2.0 / OpenID Connect token server for [axum] applications.
//!
//! The server knows nothing about how users are stored. The host plugs its user store in through
//! two extension points with IdentityServer's semantics:
//!
//! * [`ProfileService`] supplies user claims for access tokens and the userinfo endpoint, and
//!   says whether a user is still active (checked at the authorize endpoint, at code redemption,
//!   at the password grant, at refresh, at userinfo and at introspection);
//! * [`ResourceOwnerPasswordValidator`] checks user names and passwords. There is no default:
//!   the password grant is off unless a validator is registered *and* the client allows it.
//!
//! Clients, resources, grants (refresh tokens, authorization codes, consents) and signing keys
//! come from stores
//! ([`ClientStore`], [`ResourceStore`], [`PersistedGrantStore`], [`SigningKeyStore`]) with
//! in-memory implementations; database-backed ones can live in other crates.
//!
//! # Endpoints
//!
//! | path | what |
//! | --- | --- |
//! | `/.well-known/openid-configuration` | discovery |
//! | `/.well-known/jwks` | published signing keys |
//! | `/connect/authorize` | authorization-code flow with PKCE (GET or POST) |
//! | `/connect/token` | `authorization_code`, `client_credentials`, `password`, `refresh_token` (rotating) |
//! | `/connect/userinfo` | user claims for an access token with `openid` |
//! | `/connect/introspect` | RFC 7662 |
//! | `/connect/revocation` | RFC 7009, refresh tokens |
//! | `/connect/endsession` | RP-initiated logout (GET or POST) |
//!
//! Access tokens are RFC 9068 JWTs (`typ: at+jwt`); refresh tokens are opaque handles stored
//! only as hashes. Signing keys (RS256 by default, ES256 and EdDSA available) are created on the
//! first start, encrypted at rest when a key-encryption secret is set, and rotated on a schedule
//! ([`KeyManagementOptions`]). Each key is parsed once, when it is loaded, into a [`JwsSigner`];
//! issuing a token does not parse key material again.
//!
//! # Interactive sign-in
//!
//! The server owns the sign-in session; the host owns the pages (login, consent, logout), as
//! with IdentityServer's UI. The pieces:
//!
//! * **Session.** A server-side session in a [`ServerSideSessionStore`] (set with
//!   [`ServerBuilder::session_store`]; every instance must share it) and a cookie that only
//!   refers to it ([`SessionOptions`]: default name `idsrv.session`, `HttpOnly`, `SameSite=Lax`,
//!   `Path=/`, `Secure` when the issuer is https; a 2-hour idle timeout without "remember me",
//!   14 days from the sign-in at most), sealed with AES-256-GCM under
//!   [`ServerBuilder::session_secret`] (every instance needs the same secret). The host's login
//!   page checks the password itself, then calls [`OidcServer::sign_in`] and adds
//!   [`SessionCookie::set_cookie`] to its response; its logout page adds
//!   [`OidcServer::sign_out`], which ends the stored session, so copies of the cookie die with
//!   it. [`OidcServer::current_session`] reads the session of any request, and
//!   [`OidcServer::end_sessions`] ends a user's sessions everywhere. A [`SessionValidator`] registered with [`ServerBuilder::session_validator`]
//!   re-checks sessions on every request that reads them, for security-stamp validation;
//!   `false` signs the user out.
//! * **Authorize.** `response_type=code` only, exact `redirect_uri` match, PKCE `S256` only
//!   (required unless [`Client::require_pkce`] is off), `prompt` `none`/`login`/`consent`,
//!   `max_age`, `login_hint`. Errors about the client or redirect URI are a plain 400 page, never
//!   a redirect; later errors go to the redirect URI with `error`, `error_description`, `state`
//!   and `iss`. A user who must sign in goes to [`ServerOptions::login_url`] (default
//!   `/account/login`), one who must consent to [`ServerOptions::consent_url`] (default
//!   `/consent`), each with a `returnUrl` query parameter: the relative URL of the authorize
//!   request to send the browser back to. `prompt=none` answers `login_required` or
//!   `consent_required` instead.
//! * **Login and consent pages.** [`OidcServer::authorization_context`] reads the request behind a
//!   `returnUrl` (client, scopes with display names, `login_hint`);
//!   [`OidcServer::is_valid_return_url`] guards against open redirects;
//!   [`OidcServer::grant_consent`] records the consent page's answer (remembered or for the
//!   next request only); [`OidcServer::deny_authorization`] gives the URL that tells the client
//!   `access_denied`.
//! * **Code redemption.** The one-time code (stored hashed, five minutes) is bound to the client,
//!   the redirect URI and the PKCE challenge; a replayed code fails and revokes the refresh
//!   tokens issued for it. The id token carries `nonce`, `at_hash`, `auth_time`, `amr`, `idp` and
//!   `sid`, and user claims only with [`Client::always_include_user_claims_in_id_token`].
//! * **End session.** With a valid `id_token_hint` for the signed-in user the session ends at
//!   once and the browser goes to the registered `post_logout_redirect_uri` (with `state`) or to
//!   [`ServerOptions::logged_out_url`]; otherwise to [`ServerOptions::logout_url`] (default
//!   `/account/logout`) with a sealed `logoutId` that [`OidcServer::logout_context`] reads.
//!   Unregistered post-logout URIs are ignored.
//!
//! The end of a host's login and consent pages, in outline (checking the password, rendering
//! the pages and CSRF protection are the host's own):
//!
//! ```no_run
//! use axum::http::{HeaderMap, header};
//! use axum::response::{IntoResponse, Redirect, Response};
//! use oidc_server::{OidcServer, Subject};
//!
//! /// The login form was posted and the password checked.
//! async fn signed_in(server: &OidcServer, user_id: &str, return_url: &str, remember: bool) -> Response {
//!     if !server.is_valid_return_url(return_url).await {
//!         return Redirect::to("/").into_response();
//!     }
//!     let subject = Subject::new(user_id, "pwd", server.now());
//!     match server.sign_in(subject, remember).await {
//!         Ok(cookie) => {
//!             let mut headers = HeaderMap::new();
//!             headers.insert(header::SET_COOKIE, cookie.set_cookie);
//!             (headers, Redirect::to(return_url)).into_response()
//!         }
//!         Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
//!     }
//! }
//!
//! /// The consent form was posted with the scopes the user kept.
//! async fn consented(
//!     server: &OidcServer,
//!     user_id: &str,
//!     return_url: &str,
//!     scopes: Vec<String>,
//!     remember: bool,
//! ) -> oidc_server::Result<Redirect> {
//!     let Some(request) = server.authorization_context(return_url).await? else {
//!         return Ok(Redirect::to("/"));
//!     };
//!     server.grant_consent(user_id, &request.client_id, scopes, remember).await?;
//!     Ok(Redirect::to(return_url))
//! }
//! ```
//!
//! # Example
//!
//! A complete server with one password-grant client and users in memory:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use oidc_server::{
//!     ApiScope, TokenClaim, Client, GrantType, IdentityResource, OidcServer,
//!     ProfileDataRequestContext, ProfileService, ResourceOwnerPasswordValidationContext,
//!     ResourceOwnerPasswordValidator, async_trait,
//! };
//!
//! /// The host's users; a real host would query its database.
//! struct Users;
//!
//! #[async_trait]
//! impl ProfileService for Users {
//!     async fn get_profile_data(
//!         &self,
//!         context: &mut ProfileDataRequestContext<'_>,
//!     ) -> oidc_server::Result<()> {
//!         if context.subject.subject_id == "1" {
//!             context.add_requested_claims([
//!                 TokenClaim::new("name", "Alice Smith"),
//!                 TokenClaim::new("email", "alice@example.com"),
//!             ]);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! #[async_trait]
//! impl ResourceOwnerPasswordValidator for Users {
//!     async fn validate(
//!         &self,
//!         context: &mut ResourceOwnerPasswordValidationContext<'_>,
//!     ) -> oidc_server::Result<()> {
//!         // A real host verifies a password hash; leaving the result untouched rejects.
//!         if context.user_name == "alice" && context.password == "correct horse" {
//!             context.succeed("1", "pwd");
//!         }
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let users = Arc::new(Users);
//!     let server = OidcServer::builder("http://localhost:8080")
//!         .identity_resources(IdentityResource::standard())
//!         .api_scopes([ApiScope::new("api")])
//!         .clients([Client::new("cli")
//!             .with_secret("cli-secret")
//!             .with_grant_types([GrantType::Password])
//!             .with_scopes(["openid", "profile", "email", "api"])
//!             .with_offline_access()])
//!         .profile_service(users.clone())
//!         .password_validator(users)
//!         .key_encryption_secret(std::env::var("KEY_ENCRYPTION_SECRET")?)
//!         .build()
//!         .await?;
//!
//!     let app = axum::Router::new().merge(server.router());
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```

mod claims;
#[cfg(feature = "conformance")]
pub mod conformance;
mod crypto;
mod endpoints;
mod error;
mod events;
mod interaction;
mod keys;
mod model;
mod protocol;
mod server;
mod services;
mod session;
mod state;
mod stores;
mod tokens;

pub use async_trait::async_trait;

pub use crate::claims::{LOCAL_IDENTITY_PROVIDER, Subject, TokenClaim, authentication_methods, claim_types};
pub use crate::error::{BoxError, Error, Result};
pub use crate::events::{EventSink, ServerEvent};
pub use crate::interaction::{AuthorizationContext, LogoutContext, RequestedScope, ScopeKind};
pub use crate::keys::administration::{SigningKeyAdministration, SigningKeyStage, SigningKeyStatus};
pub use crate::keys::signer::JwsSigner;
pub use crate::keys::{KeyManagementOptions, SigningAlgorithm};
pub use crate::model::client::{Client, ClientSecret, GrantType, OFFLINE_ACCESS_SCOPE, RefreshTokenUsage};
pub use crate::model::resources::{
    ApiResource, ApiScope, IdentityResource, RequestedResources, Resources, ScopeDisplay,
};
pub use crate::protocol::error::ErrorCode;
pub use crate::protocol::form::decode_form;
pub use crate::server::{OidcServer, ServerBuilder, SignedOut};
pub use crate::services::password::{
    GrantValidationResult, INVALID_CREDENTIALS, ResourceOwnerPasswordValidationContext, ResourceOwnerPasswordValidator,
};
pub use crate::services::profile::{
    DefaultProfileService, IsActiveCaller, IsActiveContext, ProfileCaller, ProfileDataRequestContext, ProfileService,
};
pub use crate::services::user_grants::{GrantedScope, UserGrant};
pub use crate::session::{CurrentSession, SessionCookie, SessionOptions, SessionValidator, UserSession};
pub use crate::state::ServerOptions;
pub use crate::stores::clients::{ClientStore, InMemoryClientStore};
pub use crate::stores::grants::{
    ConsumeOutcome, GrantFilter, InMemoryPersistedGrantStore, PersistedGrant, PersistedGrantStore, PersistedGrantType,
};
pub use crate::stores::keys::{InMemorySigningKeyStore, SigningKeyStore, StoredSigningKey};
pub use crate::stores::resources::{InMemoryResourceStore, ResourceStore};
pub use crate::stores::sessions::{
    EndedSession, InMemorySessionStore, ServerSideSessionStore, SessionFilter, StoredSession,
};
pub use crate::tokens::id_token::{IdTokenRequest, token_hash};
pub use time_source::{Clock, ManualClock, SystemClock};
