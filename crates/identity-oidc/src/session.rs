//! The sign-in session of the host's login page: the session subject it starts with, and the
//! validator that re-checks it, as ASP.NET Core Identity's `SecurityStampValidator` does.
//!
//! At sign-in, [`password_session_subject`] captures the user's security stamp as a claim of type
//! [`SECURITY_STAMP_CLAIM_TYPE`] on the session's [`Subject`]. On every request that reads the
//! session the token server asks [`SecurityStampSessionValidator`] (.NET does every 30 minutes,
//! which leaves a locked-out user signed in that long), which loads the user by `sub` again and
//! compares the stamp
//! (in constant time) with the current one: a changed password, a reset authenticator or any
//! other credential change rotates the stamp and so ends every session of that user. A deleted
//! user or one the [`UserActivity`] hook calls inactive is signed out too.

use crate::Result;
use crate::profile::{StampBinding, UserActivity, subject_is_current};
use async_trait::async_trait;
pub use identity_claims::SECURITY_STAMP_CLAIM_TYPE;
use identity_core::{IdentityUser, UserExtension, UserManager};
use oidc_server::{SessionValidator, Subject, TokenClaim, UserSession, authentication_methods};
use std::sync::Arc;

/// The session subject of a user who just signed in with a password on the host's login page:
/// `sub` (the user id), `amr` `pwd`, `idp` `local`, `auth_time` `authentication_time`, and the
/// user's current security stamp as a [`SECURITY_STAMP_CLAIM_TYPE`] claim when the store keeps
/// stamps. Pass it to `OidcServer::sign_in`.
pub async fn password_session_subject<X: UserExtension>(
    users: &UserManager<X>,
    user: &IdentityUser<X>,
    authentication_time: chrono::DateTime<chrono::Utc>,
) -> Result<Subject> {
    local_session_subject(users, user, &[authentication_methods::PASSWORD], authentication_time).await
}

/// [`password_session_subject`] for a sign-in that took more than a password: `amr` holds
/// `authentication_methods` (RFC 8176 values, e.g. `pwd`, `otp`, `mfa` after an authenticator
/// code; `pwd`, `mfa` after a recovery code), given as `methods`.
pub async fn local_session_subject<X: UserExtension>(
    users: &UserManager<X>,
    user: &IdentityUser<X>,
    methods: &[&str],
    authentication_time: chrono::DateTime<chrono::Utc>,
) -> Result<Subject> {
    let mut subject = Subject::new(user.id.clone(), authentication_methods::PASSWORD, authentication_time);
    subject.authentication_methods = methods.iter().map(|method| (*method).to_owned()).collect();
    if !users.supports_user_security_stamp() {
        return Ok(subject);
    }
    let stamp = users.get_security_stamp(user).await?;
    Ok(subject.with_claims([TokenClaim::new(SECURITY_STAMP_CLAIM_TYPE, stamp)]))
}

/// Re-validates sign-in sessions against the identity store: the session's user must still
/// exist, still have the security stamp captured at sign-in, and be active by the
/// [`UserActivity`] hook. Registered by
/// [`ServerBuilderExt::add_asp_net_identity`](crate::ServerBuilderExt::add_asp_net_identity).
pub struct SecurityStampSessionValidator<X: UserExtension> {
    users: Arc<UserManager<X>>,
    activity: Arc<dyn UserActivity<X>>,
}

impl<X: UserExtension> std::fmt::Debug for SecurityStampSessionValidator<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityStampSessionValidator").field("activity", &self.activity).finish_non_exhaustive()
    }
}

impl<X: UserExtension> SecurityStampSessionValidator<X> {
    /// A validator reading users from `users` and asking `activity` whether they are active.
    pub fn new(users: Arc<UserManager<X>>, activity: Arc<dyn UserActivity<X>>) -> Self {
        Self { users, activity }
    }
}

#[async_trait]
impl<X: UserExtension> SessionValidator for SecurityStampSessionValidator<X> {
    async fn validate_session(&self, session: &UserSession) -> oidc_server::Result<bool> {
        let subject = &session.subject;
        Ok(subject_is_current(&self.users, self.activity.as_ref(), subject, StampBinding::Required).await?)
    }
}
