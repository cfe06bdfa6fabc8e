//! Claims for `identity-core` users: what a signed-in user *is*, as a list of typed claims.
//!
//! This crate sits between `identity-core` (users, roles, stores) and whatever issues the claims
//! (a session cookie, an OpenID Connect token server). It owns:
//! - the claims model: [`Claim`] with its [`ClaimValueType`] and issuer, [`ClaimsIdentity`],
//!   [`ClaimsPrincipal`], and the well-known [`claim_types`];
//! - [`claims_to_json`], the pure mapping of claims to a token or userinfo JSON object
//!   (repeated types become arrays, `amr` is always an array, booleans and numbers keep their
//!   JSON type);
//! - [`UserClaimsPrincipalFactory`], the one place a user becomes claims, and ASP.NET Core
//!   Identity's [`DefaultUserClaimsPrincipalFactory`] configured by [`ClaimsIdentityOptions`];
//! - [`OidcClaimsFactory`], Duende IdentityServer's decorator that adds `sub`,
//!   `preferred_username`, `name`, `email_verified` and the phone claims to **any** factory.
//!
//! It must never know about storage technology or protocols: it reads users only through
//! `identity-core`'s managers and store traits (never `identity-diesel`), and it knows no HTTP,
//! token format or OAuth error code. Scope filtering, token issuance and the wiring into a token
//! server belong to the adapter crate (`identity-oidc`).
//!
//! # Plugging in your own factory
//!
//! A custom factory usually wraps the default one and adds claims from the user's extension
//! type. Wrapping it in [`OidcClaimsFactory`] decorates it rather than replacing it, so it
//! still gets `sub`, `preferred_username`, `email_verified` and the rest:
//!
//! ```
//! use async_trait::async_trait;
//! use identity_claims::{
//!     Claim, ClaimsIdentityOptions, ClaimsPrincipal, DefaultUserClaimsPrincipalFactory, OidcClaimsFactory,
//!     UserClaimsPrincipalFactory,
//! };
//! use identity_core::{IdentityUser, UserManager, memory::MemoryStore};
//! use std::sync::Arc;
//!
//! /// The application's extra user fields.
//! #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
//! struct Staff {
//!     department: String,
//! }
//!
//! /// The default claims plus the user's department.
//! struct DepartmentFactory {
//!     inner: DefaultUserClaimsPrincipalFactory<Staff>,
//! }
//!
//! #[async_trait]
//! impl UserClaimsPrincipalFactory<Staff> for DepartmentFactory {
//!     async fn create(&self, user: &IdentityUser<Staff>) -> identity_claims::Result<ClaimsPrincipal> {
//!         let mut principal = self.inner.create(user).await?;
//!         if let Some(identity) = principal.identity_mut() {
//!             identity.add(Claim::new("department", &user.extra.department));
//!         }
//!         Ok(principal)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let users = Arc::new(UserManager::builder(Arc::new(MemoryStore::<Staff>::new())).build());
//! let options = ClaimsIdentityOptions::oidc();
//! let custom = DepartmentFactory { inner: DefaultUserClaimsPrincipalFactory::new(users.clone(), options.clone()) };
//! let factory = OidcClaimsFactory::new(custom, users.clone(), options);
//!
//! let mut alice = IdentityUser::<Staff>::new("alice");
//! alice.email = Some("alice@example.com".into());
//! alice.email_confirmed = true;
//! alice.extra.department = "Research".into();
//! assert!(users.create(&mut alice).await?.succeeded());
//!
//! let principal = factory.create(&alice).await?;
//! assert!(principal.has_claim("sub", &alice.id));
//! assert!(principal.has_claim("department", "Research"));
//! assert!(principal.has_claim("preferred_username", "alice"));
//! assert!(principal.has_claim("name", "alice"));
//! assert!(principal.has_claim("email_verified", "true"));
//!
//! let json = identity_claims::claims_to_json(principal.claims());
//! assert_eq!(json["email_verified"], serde_json::json!(true));
//! # Ok(())
//! # }
//! ```

pub mod claim_types;

mod claim;
mod error;
mod factory;
mod identity;
mod json;
mod oidc;
mod options;

pub use claim::{Claim, ClaimValueType, DEFAULT_ISSUER};
pub use error::{Error, Result};
pub use factory::{APPLICATION_AUTHENTICATION_TYPE, DefaultUserClaimsPrincipalFactory, UserClaimsPrincipalFactory};
pub use identity::{ClaimsIdentity, ClaimsPrincipal};
pub use json::claims_to_json;
pub use oidc::OidcClaimsFactory;
pub use options::{ClaimsIdentityOptions, SECURITY_STAMP_CLAIM_TYPE};
