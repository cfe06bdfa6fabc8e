//! [`OidcClaimsFactory`]: the decorator that turns any factory's principal into one an OpenID
//! Connect server can issue (Duende IdentityServer's `UserClaimsFactory<TUser>`).

use crate::claim::Claim;
use crate::claim_types::jwt;
use crate::error::{Error, Result};
use crate::factory::{DefaultUserClaimsPrincipalFactory, UserClaimsPrincipalFactory};
use crate::identity::{ClaimsIdentity, ClaimsPrincipal};
use crate::options::ClaimsIdentityOptions;
use async_trait::async_trait;
use identity_core::store::UserClaimsData;
use identity_core::{IdentityUser, RoleManager, UserExtension, UserManager};
use std::sync::Arc;

/// Decorates an inner factory (the default one or your own) with the OpenID Connect claims.
///
/// After the inner factory runs, on the principal's **first** identity
/// ([`Error::NoIdentity`] when there is none), in this order:
/// 1. adds `sub` = user id unless a `sub` claim exists (a no-op with
///    [`ClaimsIdentityOptions::oidc`], whose user id claim type is `sub`);
/// 2. removes the first claim of the options' **user name claim type** whose value equals the
///    user name, and if it found one adds `preferred_username` = user name;
/// 3. adds `name` = user name unless a `name` claim remains, so a stored `name` claim (a
///    display name such as "Alice Smith") wins ([`Error::MissingUserName`] when the user name
///    is needed here and missing);
/// 4. if the store supports emails and the email is not blank: adds `email` unless an `email`
///    claim exists (the default factory already wrote it; a custom inner factory may not
///    have), then `email_verified` as a boolean claim;
/// 5. if the store supports phone numbers and the phone number is not blank: adds
///    `phone_number` and `phone_number_verified` as a boolean claim.
///
/// Everything else stays as the inner factory made it, in particular the security stamp claim
/// (the session cookie needs it to validate the stamp; a token only carries it if a scope
/// requests that claim type), role claims and stored claims. Claims are not de-duplicated: a
/// stored `preferred_username` claim gives two values.
///
/// Like .NET, the inner factory tests the email for emptiness and this decorator for blankness:
/// a whitespace-only email yields `email` but no `email_verified`.
#[derive(Debug)]
pub struct OidcClaimsFactory<X: UserExtension, F> {
    inner: F,
    user_manager: Arc<UserManager<X>>,
    options: ClaimsIdentityOptions,
}

impl<X: UserExtension, F: UserClaimsPrincipalFactory<X>> OidcClaimsFactory<X, F> {
    /// Decorates `inner`. `options` must be the claim types `inner` writes with (normally
    /// [`ClaimsIdentityOptions::oidc`]); only the user name claim type is read here.
    pub fn new(inner: F, user_manager: Arc<UserManager<X>>, options: ClaimsIdentityOptions) -> Self {
        Self { inner, user_manager, options }
    }

    /// The decorated factory.
    pub fn inner(&self) -> &F {
        &self.inner
    }

    fn add_oidc_claims(&self, identity: &mut ClaimsIdentity, user: &IdentityUser<X>) -> Result<()> {
        if !identity.has_claim_type(jwt::SUBJECT) {
            identity.add(Claim::new(jwt::SUBJECT, &user.id));
        }

        let user_name = user.user_name.as_deref();
        if let Some(user_name) = user_name
            && identity.remove(&self.options.user_name_claim_type, user_name).is_some()
        {
            identity.add(Claim::new(jwt::PREFERRED_USERNAME, user_name));
        }
        if !identity.has_claim_type(jwt::NAME) {
            let user_name = user_name.ok_or_else(|| Error::MissingUserName { user_id: user.id.clone() })?;
            identity.add(Claim::new(jwt::NAME, user_name));
        }

        if self.user_manager.supports_user_email()
            && let Some(email) = non_blank(user.email.as_deref())
        {
            if !identity.has_claim_type(jwt::EMAIL) {
                identity.add(Claim::new(jwt::EMAIL, email));
            }
            identity.add(Claim::boolean(jwt::EMAIL_VERIFIED, user.email_confirmed));
        }

        if self.user_manager.supports_user_phone_number()
            && let Some(phone_number) = non_blank(user.phone_number.as_deref())
        {
            identity.add(Claim::new(jwt::PHONE_NUMBER, phone_number));
            identity.add(Claim::boolean(jwt::PHONE_NUMBER_VERIFIED, user.phone_number_confirmed));
        }
        Ok(())
    }
}

impl<X: UserExtension> OidcClaimsFactory<X, DefaultUserClaimsPrincipalFactory<X>> {
    /// What `AddIdentity` followed by Duende's `AddAspNetIdentity` gives: the default factory
    /// with [`ClaimsIdentityOptions::oidc`] (and roles when `role_manager` is given), decorated.
    pub fn with_default_factory(user_manager: Arc<UserManager<X>>, role_manager: Option<Arc<RoleManager>>) -> Self {
        let options = ClaimsIdentityOptions::oidc();
        let mut inner = DefaultUserClaimsPrincipalFactory::new(user_manager.clone(), options.clone());
        if let Some(role_manager) = role_manager {
            inner = inner.with_roles(role_manager);
        }
        Self::new(inner, user_manager, options)
    }
}

/// .NET's `!string.IsNullOrWhiteSpace`.
fn non_blank(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.trim().is_empty())
}

#[async_trait]
impl<X: UserExtension, F: UserClaimsPrincipalFactory<X>> UserClaimsPrincipalFactory<X> for OidcClaimsFactory<X, F> {
    async fn create(&self, user: &IdentityUser<X>) -> Result<ClaimsPrincipal> {
        let mut principal = self.inner.create(user).await?;
        let identity = principal.identity_mut().ok_or(Error::NoIdentity)?;
        self.add_oidc_claims(identity, user)?;
        Ok(principal)
    }

    async fn create_from_data(&self, data: &UserClaimsData<X>) -> Result<ClaimsPrincipal> {
        let mut principal = self.inner.create_from_data(data).await?;
        let identity = principal.identity_mut().ok_or(Error::NoIdentity)?;
        self.add_oidc_claims(identity, &data.user)?;
        Ok(principal)
    }
}
