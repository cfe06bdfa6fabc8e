//! An OAuth 2.0 / OpenID Connect token server for [axum] applications.
//!
//! The server knows nothing about how users are stored. The host plugs its user store in through
//! two extension points with IdentityServer's semantics:
//!
//! * [`ProfileService`] supplies user claims for access tokens and the userinfo endpoint, and
//!   says whether a user is still active (checked at the password grant, at refresh, at
//!   userinfo and at introspection);
//! * [`ResourceOwnerPasswordValidator`] checks user names and passwords. There is no default:
//!   the password grant is off unless a validator is registered *and* the client allows it.
//!
//! Clients, resources, grants (refresh tokens) and signing keys come from stores
//! ([`ClientStore`], [`ResourceStore`], [`PersistedGrantStore`], [`SigningKeyStore`]) with
//! in-memory implementations; database-backed ones can live in other crates.
//!
//! # Endpoints
//!
//! | path | what |
//! | --- | --- |
//! | `/.well-known/openid-configuration` | discovery |
//! | `/.well-known/jwks` | published signing keys |
//! | `/connect/token` | `client_credentials`, `password`, `refresh_token` (rotating) |
//! | `/connect/userinfo` | user claims for an access token with `openid` |
//! | `/connect/introspect` | RFC 7662 |
//! | `/connect/revocation` | RFC 7009, refresh tokens |
//!
//! Access tokens are RFC 9068 JWTs (`typ: at+jwt`); refresh tokens are opaque handles stored
//! only as hashes. Signing keys (RS256 by default, ES256 and EdDSA available) are created on the
//! first start, encrypted at rest when a key-encryption secret is set, and rotated on a schedule
//! ([`KeyManagementOptions`]). Each key is parsed once, when it is loaded, into a [`JwsSigner`];
//! issuing a token does not parse key material again.
//!
//! # Example
//!
//! A complete server with one password-grant client and users in memory:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use oidc_server::{
//!     ApiScope, Claim, Client, GrantType, IdentityResource, OidcServer,
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
//!                 Claim::new("name", "Alice Smith"),
//!                 Claim::new("email", "alice@example.com"),
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
mod clock;
mod endpoints;
mod error;
mod keys;
mod model;
mod protocol;
mod server;
mod services;
mod stores;
mod tokens;

pub use async_trait::async_trait;

pub use crate::claims::{Claim, LOCAL_IDENTITY_PROVIDER, Subject, claim_types};
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::error::{BoxError, Error, Result};
pub use crate::keys::signer::JwsSigner;
pub use crate::keys::{KeyManagementOptions, SigningAlgorithm};
pub use crate::model::client::{Client, ClientSecret, GrantType, OFFLINE_ACCESS_SCOPE, RefreshTokenUsage};
pub use crate::model::resources::{ApiResource, ApiScope, IdentityResource, RequestedResources, Resources};
pub use crate::protocol::error::ErrorCode;
pub use crate::server::{OidcServer, ServerBuilder, ServerOptions};
pub use crate::services::password::{
    GrantValidationResult, ResourceOwnerPasswordValidationContext, ResourceOwnerPasswordValidator,
};
pub use crate::services::profile::{
    DefaultProfileService, IsActiveCaller, IsActiveContext, ProfileCaller, ProfileDataRequestContext, ProfileService,
};
pub use crate::stores::clients::{ClientStore, InMemoryClientStore};
pub use crate::stores::grants::{
    ConsumeOutcome, GrantFilter, InMemoryPersistedGrantStore, PersistedGrant, PersistedGrantStore, PersistedGrantType,
};
pub use crate::stores::keys::{InMemorySigningKeyStore, SigningKeyStore, StoredSigningKey};
pub use crate::stores::resources::{InMemoryResourceStore, ResourceStore};
pub use crate::tokens::id_token::{IdTokenRequest, token_hash};
