//! The one wiring call, the counterpart of `AddAspNetIdentity<TUser>()`: it registers the
//! profile service, the password validator and the security-stamp session validator on the token
//! server, with claims built by the
//! OpenID Connect decorator around the default factory or around the caller's own one.

use crate::password::IdentityPasswordValidator;
use crate::profile::{AlwaysActive, IdentityProfileService, UserActivity};
use crate::session::SecurityStampSessionValidator;
use identity_claims::{ClaimsIdentityOptions, OidcClaimsFactory, UserClaimsPrincipalFactory};
use identity_core::{RoleManager, SignInManager, UserExtension, UserManager};
use oidc_server::ServerBuilder;
use std::sync::Arc;

/// What the token server needs from the identity layer, ready to be wired in.
pub struct AspNetIdentity<X: UserExtension> {
    users: Arc<UserManager<X>>,
    roles: Option<Arc<RoleManager>>,
    claims_factory: Option<Arc<dyn UserClaimsPrincipalFactory<X>>>,
    activity: Arc<dyn UserActivity<X>>,
}

impl<X: UserExtension> std::fmt::Debug for AspNetIdentity<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AspNetIdentity")
            .field("roles", &self.roles.is_some())
            .field("custom_claims_factory", &self.claims_factory.is_some())
            .field("activity", &self.activity)
            .finish_non_exhaustive()
    }
}

impl<X: UserExtension> AspNetIdentity<X> {
    /// Users from `users` and roles from `roles` (as `AddIdentity<TUser, TRole>()` registers
    /// them), every user active, claims from the default factory: a user's role claims, and
    /// each role's claims, are issued whenever the user store supports roles.
    pub fn new(users: Arc<UserManager<X>>, roles: Arc<RoleManager>) -> Self {
        Self { users, roles: Some(roles), claims_factory: None, activity: Arc::new(AlwaysActive) }
    }

    /// Users from `users` without roles (`AddIdentityCore<TUser>()` without `AddRoles`): no
    /// role claims, for stores that keep no roles.
    pub fn without_roles(users: Arc<UserManager<X>>) -> Self {
        Self { users, roles: None, claims_factory: None, activity: Arc::new(AlwaysActive) }
    }

    /// Uses the caller's claims factory. It is decorated, not replaced: the OpenID Connect claims
    /// (`sub`, `preferred_username`, `name`, `email_verified`, phone claims) are still added.
    pub fn with_claims_factory(mut self, factory: Arc<dyn UserClaimsPrincipalFactory<X>>) -> Self {
        self.claims_factory = Some(factory);
        self
    }

    /// Overrides the "is this user still active" check (see [`UserActivity`]).
    pub fn with_user_activity(mut self, activity: Arc<dyn UserActivity<X>>) -> Self {
        self.activity = activity;
        self
    }

    /// The claims factory the server will use: the caller's or the default one (with the claim
    /// types `sub`, `name`, `role`, `email`), wrapped in the OpenID Connect decorator.
    pub fn decorated_claims_factory(&self) -> Arc<dyn UserClaimsPrincipalFactory<X>> {
        match &self.claims_factory {
            Some(custom) => Arc::new(OidcClaimsFactory::new(
                Arc::clone(custom),
                Arc::clone(&self.users),
                ClaimsIdentityOptions::oidc(),
            )),
            None => Arc::new(OidcClaimsFactory::with_default_factory(Arc::clone(&self.users), self.roles.clone())),
        }
    }

    /// The profile service that [`ServerBuilderExt::add_asp_net_identity`] registers.
    pub fn profile_service(&self) -> IdentityProfileService<X> {
        IdentityProfileService::new(
            Arc::clone(&self.users),
            self.decorated_claims_factory(),
            Arc::clone(&self.activity),
        )
    }

    /// The password validator that [`ServerBuilderExt::add_asp_net_identity`] registers.
    pub fn password_validator(&self) -> IdentityPasswordValidator<X> {
        IdentityPasswordValidator::new(Arc::new(SignInManager::new(Arc::clone(&self.users))))
    }

    /// The session validator that [`ServerBuilderExt::add_asp_net_identity`] registers: it
    /// re-checks sign-in sessions on every request that reads them.
    pub fn session_validator(&self) -> SecurityStampSessionValidator<X> {
        SecurityStampSessionValidator::new(Arc::clone(&self.users), Arc::clone(&self.activity))
    }
}

/// Adds [`add_asp_net_identity`](ServerBuilderExt::add_asp_net_identity) to the token server's builder.
pub trait ServerBuilderExt {
    /// Registers the identity profile service, password validator and security-stamp session
    /// validator, as `AddAspNetIdentity<TUser>()` does. Clients still opt in to the password
    /// grant one by one.
    #[must_use]
    fn add_asp_net_identity<X: UserExtension>(self, identity: AspNetIdentity<X>) -> Self;
}

impl ServerBuilderExt for ServerBuilder {
    fn add_asp_net_identity<X: UserExtension>(self, identity: AspNetIdentity<X>) -> Self {
        self.profile_service(Arc::new(identity.profile_service()))
            .password_validator(Arc::new(identity.password_validator()))
            .session_validator(Arc::new(identity.session_validator()))
    }
}
