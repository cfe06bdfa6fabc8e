//! The profile service: Duende's `ProfileService<TUser>`. It loads the user by `sub` on every
//! call, so tokens and userinfo always reflect the database, builds the principal through the
//! (decorated) claims factory, and issues only the requested claim types.
//!
//! Access tokens of a user who signed in with a security stamp also carry
//! [`SECURITY_STAMP_HASH_CLAIM_TYPE`]: a hash of the stamp at sign-in (never the stamp itself).
//! `is_active` compares it with the user's current stamp, so once a password change, an
//! administrative lock or any other credential change rotated the stamp, userinfo and
//! introspection treat the user's earlier access tokens as those of an inactive user. (Resource
//! servers that validate the JWT themselves accept it until it expires.) The subjects of
//! authorization codes and refresh tokens carry the stamp itself, so those die with it too.

use crate::Result;
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use identity_claims::SECURITY_STAMP_CLAIM_TYPE;
use identity_claims::UserClaimsPrincipalFactory;
use identity_core::store::UserClaimsData;
use identity_core::{IdentityUser, UserExtension, UserManager};
use oidc_server::{IsActiveContext, ProfileCaller, ProfileDataRequestContext, ProfileService, Subject, TokenClaim};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq as _;

/// The access-token claim that binds a token to the security stamp its user had at sign-in: the
/// first 16 bytes of SHA-256 over the stamp, base64url-encoded.
pub const SECURITY_STAMP_HASH_CLAIM_TYPE: &str = "security_stamp_hash";

/// The value of [`SECURITY_STAMP_HASH_CLAIM_TYPE`] for `stamp`.
fn stamp_hash(stamp: &str) -> String {
    let digest = Sha256::new().chain_update(b"identity-oidc security stamp\0").chain_update(stamp).finalize();
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The string value of the subject's claim of type `claim_type`, if any.
fn claim_value<'a>(subject: &'a Subject, claim_type: &str) -> Option<&'a str> {
    subject.claims.iter().find(|claim| claim.claim_type == claim_type).and_then(|claim| claim.value.as_str())
}

/// Whether a subject must carry the security stamp to be current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StampBinding {
    /// Sign-in sessions: a session without the stamp is not one this adapter started.
    Required,
    /// Grants: those issued without a stamp (before stamps were bound) are checked without it.
    IfPresent,
}

/// Whether `subject` still stands for a current user: the user exists, still has the security
/// stamp the subject was bound to (the stamp itself for sessions, codes and refresh tokens, its
/// hash for access tokens; compared in constant time), and is active by `activity`. One user read.
pub(crate) async fn subject_is_current<X: UserExtension>(
    users: &UserManager<X>,
    activity: &dyn UserActivity<X>,
    subject: &Subject,
    binding: StampBinding,
) -> Result<bool> {
    let user = users.find_by_id(&subject.subject_id).await?;
    user_is_current(users, activity, subject, binding, user.as_ref()).await
}

/// [`subject_is_current`] for a user already read (`None`: the subject's user does not exist).
async fn user_is_current<X: UserExtension>(
    users: &UserManager<X>,
    activity: &dyn UserActivity<X>,
    subject: &Subject,
    binding: StampBinding,
    user: Option<&IdentityUser<X>>,
) -> Result<bool> {
    let subject_id = &subject.subject_id;
    let Some(user) = user else {
        tracing::info!(?subject_id, "refused: the user no longer exists");
        return Ok(false);
    };
    if users.supports_user_security_stamp() {
        let current = users.get_security_stamp(user).await?;
        let matches = |bound: &str, current: &str| bool::from(bound.as_bytes().ct_eq(current.as_bytes()));
        let bound = match (
            claim_value(subject, SECURITY_STAMP_CLAIM_TYPE),
            claim_value(subject, SECURITY_STAMP_HASH_CLAIM_TYPE),
        ) {
            (Some(stamp), _) => Some(matches(stamp, &current)),
            (None, Some(hash)) => Some(matches(hash, &stamp_hash(&current))),
            (None, None) => None,
        };
        if bound == Some(false) || (bound.is_none() && binding == StampBinding::Required) {
            tracing::info!(?subject_id, "refused: the security stamp changed since sign-in");
            return Ok(false);
        }
    }
    if !activity.is_user_active(user).await? {
        tracing::info!(?subject_id, "refused: the user is not active");
        return Ok(false);
    }
    Ok(true)
}

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

    /// An access token carries the hash of the security stamp its grant was bound to, so that
    /// the token's user can be checked against the stamp without revealing it.
    fn add_stamp_hash(context: &mut ProfileDataRequestContext<'_>) {
        if context.caller == ProfileCaller::AccessToken
            && let Some(stamp) = claim_value(context.subject, SECURITY_STAMP_CLAIM_TYPE)
        {
            context.issued_claims.push(TokenClaim::new(SECURITY_STAMP_HASH_CLAIM_TYPE, stamp_hash(stamp)));
        }
    }

    async fn profile_claims(&self, context: &mut ProfileDataRequestContext<'_>) -> Result<()> {
        Self::add_stamp_hash(context);
        // Nothing will be issued (e.g. an API that asks for no user claims): skip the user's load.
        if context.requested_claim_types.is_empty() {
            return Ok(());
        }
        // With a store that reads a user with claims and roles at once, one store call: the
        // factory builds the principal from what was read.
        let subject_id = context.subject.subject_id.as_str();
        let principal = match self.users.store().claims_data_store() {
            Some(bulk) => match bulk.load_claims_data(subject_id).await? {
                Some(data) => return self.add_claims(context, &data).await,
                None => {
                    tracing::warn!(subject_id, "no user found matching subject id");
                    return Ok(());
                }
            },
            None => match self.find_user(subject_id).await? {
                Some(user) => self.claims_factory.create(&user).await?,
                None => return Ok(()),
            },
        };
        context.add_requested_claims(principal.claims().map(crate::claims::to_server_claim));
        Ok(())
    }

    /// Adds the requested claims of a user read with its claims and roles.
    async fn add_claims(&self, context: &mut ProfileDataRequestContext<'_>, data: &UserClaimsData<X>) -> Result<()> {
        let principal = self.claims_factory.create_from_data(data).await?;
        context.add_requested_claims(principal.claims().map(crate::claims::to_server_claim));
        Ok(())
    }
}

#[async_trait]
impl<X: UserExtension> ProfileService for IdentityProfileService<X> {
    async fn get_profile_data(&self, context: &mut ProfileDataRequestContext<'_>) -> oidc_server::Result<()> {
        Ok(self.profile_claims(context).await?)
    }

    async fn is_active(&self, context: &mut IsActiveContext<'_>) -> oidc_server::Result<()> {
        context.is_active =
            subject_is_current(&self.users, self.activity.as_ref(), context.subject, StampBinding::IfPresent).await?;
        Ok(())
    }

    /// One store call when the store reads a user with claims and roles at once: the same user
    /// decides whether the subject is current and supplies the claims.
    async fn get_profile_data_if_active(
        &self,
        active: &mut IsActiveContext<'_>,
        profile: &mut ProfileDataRequestContext<'_>,
    ) -> oidc_server::Result<()> {
        let bulk = self.users.store().claims_data_store();
        let (Some(bulk), false) = (bulk, profile.requested_claim_types.is_empty()) else {
            self.is_active(active).await?;
            if active.is_active {
                self.get_profile_data(profile).await?;
            }
            return Ok(());
        };
        let data = bulk.load_claims_data(&active.subject.subject_id).await.map_err(crate::Error::from)?;
        let user = data.as_ref().map(|data| &data.user);
        let activity = self.activity.as_ref();
        active.is_active =
            user_is_current(&self.users, activity, active.subject, StampBinding::IfPresent, user).await?;
        if let Some(data) = data.filter(|_| active.is_active) {
            Self::add_stamp_hash(profile);
            self.add_claims(profile, &data).await?;
        }
        Ok(())
    }
}
