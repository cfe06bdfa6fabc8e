//! The server-integration adapter: what `Duende.IdentityServer.AspNetIdentity` gives .NET.
//!
//! It plugs `identity-core` users into the `oidc-server` token server:
//! - [`IdentityProfileService`] loads the user by `sub` and issues the requested claims from the
//!   (decorated) claims factory; `is_active` asks an overridable [`UserActivity`] hook;
//! - [`IdentityPasswordValidator`] serves the password grant through `SignInManager`, with
//!   lockout, one answer for every failure, and equal work for unknown user names;
//! - [`SecurityStampSessionValidator`] re-checks the token server's sign-in sessions against the
//!   security stamp captured by [`password_session_subject`] at sign-in, as ASP.NET Core Identity's
//!   security-stamp validation does;
//! - [`ServerBuilderExt::add_asp_net_identity`] wires all three in with one call.
//!
//! It never knows which store holds the users (no `identity-diesel` here): the host picks it.
//!
//! ```no_run
//! use identity_core::{RoleManager, UserManager, memory::MemoryStore};
//! use identity_oidc::{AspNetIdentity, ServerBuilderExt};
//! use oidc_server::{Client, OidcServer};
//! use std::sync::Arc;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(MemoryStore::<()>::new());
//! let users = Arc::new(UserManager::builder(store.clone()).build());
//! let roles = Arc::new(RoleManager::new(store));
//! let server = OidcServer::builder("https://id.example.com")
//!     .clients([Client::new("app")])
//!     .add_asp_net_identity(AspNetIdentity::new(users, roles))
//!     .build()
//!     .await?;
//! let router = server.router();
//! # let _ = router; Ok(()) }
//! ```

/// The adapter guide (`docs/adapter.md`), included so that its Rust snippets compile as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/adapter.md")]
pub struct AdapterGuide;

mod claims;
mod error;
mod password;
mod profile;
mod session;
mod wiring;

pub use error::{Error, Result};
/// The description of every failed password grant (defined by the token server).
pub use oidc_server::INVALID_CREDENTIALS;
pub use password::{ALLOW_PASSWORD_GRANT_WITH_TWO_FACTOR, IdentityPasswordValidator};
pub use profile::{AlwaysActive, IdentityProfileService, SECURITY_STAMP_HASH_CLAIM_TYPE, UserActivity};
pub use session::{
    SECURITY_STAMP_CLAIM_TYPE, SecurityStampSessionValidator, local_session_subject, password_session_subject,
};
pub use wiring::{AspNetIdentity, ServerBuilderExt};
