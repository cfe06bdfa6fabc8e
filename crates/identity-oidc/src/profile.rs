//! The profile service: Duende's `ProfileService<TUser>`. It loads the user by `sub` on every
//! call, so tokens and userinfo always reflect the database, builds the principal through the
//! (decorated) claims factory, and issues only the requested claim types.

use crate::Result;
use async_trait::async_trait;
use identity_claims::UserClaimsPrincipalFactory;
use identity_core::{IdentityUser, UserExtension, UserManager};
use oidc_server::{IsActiveContext, ProfileDataRequestContext, ProfileService};
use std::sync::Arc;

/// Decides whether an existing user may still get tokens: the overridable `IsUserActiveAsync`
/// of Duende's profile service.
///
/// ASP.NET Core Identity has no notion of a disabled user, so the default ([`AlwaysActive`])
/// says yes. Lockout is deliberately not consulted: a locked-out user keeps the tokens they
/// have, or anyone could revoke a user's sessions by guessing passwords.
///
/// A custom user type with a "disabled" flag overrides it like this:
///
/// ```
/// use async_trait::async_trait;
/// use identity_core::IdentityUser;
/// use identity_oidc::UserActivity;
///
/// #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Account {
///     disabled: bool,
/// }
///
/// #[derive(Debug)]
/// struct NotDisabled;
///
/// #[async_trait]
/// impl UserActivity<Account> for NotDisabled {
///     async fn is_user_active(&self, user: &IdentityUser<Account>) -> identity_oidc::Result<bool> {
///         Ok(!user.extra.disabled)
///     }
/// }
/// ```
///
/// and registers it with [`AspNetIdentity::with_user_activity`](crate::AspNetIdentity::with_user_activity).
#[async_trait]
pub trait UserActivity<X: UserExtension>: Send + Sync + std::fmt::Debug {
    /// Whether `user` is active.
    async fn is_user_active(&self, user: &IdentityUser<X>) -> Result<bool>;
}

/// Every existing user is active (Duende's default).
#[derive(Debug, Default, Clone, Copy)]
pub struct AlwaysActive;

#[async_trait]
impl<X: UserExtension> UserActivity<X> for AlwaysActive {
    async fn is_user_active(&self, _user: &IdentityUser<X>) -> Result<bool> {
        Ok(true)
    }
}

/// The token server's profile service over an identity store.
pub struct IdentityProfileService<X: UserExtension> {
    users: Arc<UserManager<X>>,
    claims_factory: Arc<dyn UserClaimsPrincipalFactory<X>>,
    activity: Arc<dyn UserActivity<X>>,
}

impl<X: UserExtension> std::fmt::Debug for IdentityProfileService<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProfileService").field("activity", &self.activity).finish_non_exhaustive()
    }
}

impl<X: UserExtension> IdentityProfileService<X> {
    /// A profile service reading users from `users` and claims from `claims_factory`.
    pub fn new(
        users: Arc<UserManager<X>>,
        claims_factory: Arc<dyn UserClaimsPrincipalFactory<X>>,
        activity: Arc<dyn UserActivity<X>>,
    ) -> Self {
        Self { users, claims_factory, activity }
    }

    async fn find_user(&self, subject_id: &str) -> Result<Option<IdentityUser<X>>> {
        let user = self.users.find_by_id(subject_id).await?;
        if user.is_none() {
            tracing::warn!(subject_id, "no user found matching subject id");
        }
        Ok(user)
    }

    async fn profile_claims(&self, context: &mut ProfileDataRequestContext<'_>) -> Result<()> {
        // Nothing will be issued (e.g. an API that asks for no user claims): skip the user's load.
        if context.requested_claim_types.is_empty() {
            return Ok(());
        }
        let Some(user) = self.find_user(&context.subject.subject_id).await? else {
            return Ok(());
        };
        let principal = self.claims_factory.create(&user).await?;
        context.add_requested_claims(principal.claims().map(crate::claims::to_server_claim));
        Ok(())
    }

    async fn user_is_active(&self, subject_id: &str) -> Result<bool> {
        match self.find_user(subject_id).await? {
            Some(user) => self.activity.is_user_active(&user).await,
            None => Ok(false),
        }
    }
}

#[async_trait]
impl<X: UserExtension> ProfileService for IdentityProfileService<X> {
    async fn get_profile_data(&self, context: &mut ProfileDataRequestContext<'_>) -> oidc_server::Result<()> {
        Ok(self.profile_claims(context).await?)
    }

    async fn is_active(&self, context: &mut IsActiveContext<'_>) -> oidc_server::Result<()> {
        context.is_active = self.user_is_active(&context.subject.subject_id).await?;
        Ok(())
    }
}
