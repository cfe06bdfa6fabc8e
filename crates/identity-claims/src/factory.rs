//! The [`UserClaimsPrincipalFactory`] trait and ASP.NET Core Identity's default implementation,
//! [`DefaultUserClaimsPrincipalFactory`].

use crate::claim::Claim;
use crate::error::{Error, Result};
use crate::identity::{ClaimsIdentity, ClaimsPrincipal};
use crate::options::ClaimsIdentityOptions;
use async_trait::async_trait;
use identity_core::store::UserClaimsData;
use identity_core::{IdentityUser, RoleManager, UserExtension, UserManager};
use std::sync::Arc;

/// The authentication type of the identity the default factory builds: the scheme name of
/// ASP.NET Core Identity's application cookie.
pub const APPLICATION_AUTHENTICATION_TYPE: &str = "Identity.Application";

/// Builds the claims principal of a user (.NET's `IUserClaimsPrincipalFactory<TUser>`).
///
/// Sign-in, the profile service of an OpenID Connect server and the security stamp refresh
/// all go through one factory, so a custom implementation changes the claims everywhere.
/// Implementations for `Arc<F>` and `Box<F>` forward to `F`, so a shared or boxed
/// (`dyn`) factory is a factory too.
#[async_trait]
pub trait UserClaimsPrincipalFactory<X: UserExtension>: Send + Sync {
    /// The principal for `user`.
    async fn create(&self, user: &IdentityUser<X>) -> Result<ClaimsPrincipal>;

    /// The principal for a user whose claims, roles and role claims the caller has already
    /// read in one call ([`UserClaimsDataStore::load_claims_data`](identity_core::store::UserClaimsDataStore)),
    /// so that a profile load reads the store once. The default ignores what was read and
    /// calls [`create`](Self::create); [`DefaultUserClaimsPrincipalFactory`] uses it instead
    /// of reading the store again.
    async fn create_from_data(&self, data: &UserClaimsData<X>) -> Result<ClaimsPrincipal> {
        self.create(&data.user).await
    }
}

#[async_trait]
impl<X: UserExtension, F: UserClaimsPrincipalFactory<X> + ?Sized> UserClaimsPrincipalFactory<X> for Arc<F> {
    async fn create(&self, user: &IdentityUser<X>) -> Result<ClaimsPrincipal> {
        (**self).create(user).await
    }

    async fn create_from_data(&self, data: &UserClaimsData<X>) -> Result<ClaimsPrincipal> {
        (**self).create_from_data(data).await
    }
}

#[async_trait]
impl<X: UserExtension, F: UserClaimsPrincipalFactory<X> + ?Sized> UserClaimsPrincipalFactory<X> for Box<F> {
    async fn create(&self, user: &IdentityUser<X>) -> Result<ClaimsPrincipal> {
        (**self).create(user).await
    }

    async fn create_from_data(&self, data: &UserClaimsData<X>) -> Result<ClaimsPrincipal> {
        (**self).create_from_data(data).await
    }
}

/// ASP.NET Core Identity's `UserClaimsPrincipalFactory<TUser>`, or with a role manager
/// ([`Self::with_roles`]) `UserClaimsPrincipalFactory<TUser, TRole>`.
///
/// It builds one [`ClaimsIdentity`] with authentication type
/// [`APPLICATION_AUTHENTICATION_TYPE`], the options' user name and role claim types as name and
/// role claim types, and these claims in this order (claim types from the options):
/// 1. the user id;
/// 2. the user name ([`Error::MissingUserName`] when the user has none);
/// 3. the email, when the store supports emails and the email is not empty;
/// 4. the security stamp, when the store supports stamps
///    ([`identity_core::Error::NullSecurityStamp`] when the user has none);
/// 5. the user's stored claims, when the store supports claims;
/// 6. with a role manager and a store that supports roles, for each of the user's roles in the
///    store's order: a role claim with the role's name, then the role's claims when the role
///    store supports role claims.
///
/// Nothing is de-duplicated. Stored claims are text claims issued by
/// [`DEFAULT_ISSUER`](crate::DEFAULT_ISSUER).
///
/// Store cost: when the user store offers
/// [`claims_data_store`](identity_core::store::UserStore::claims_data_store), stored claims,
/// roles and role claims come from one `load_claims_data` call (the role claims then come from
/// the user store, which must therefore share its data with the role manager's store, as every
/// store of this workspace does). Otherwise the factory makes one call for the claims, one for
/// the roles, and two per role (find the role, read its claims), as .NET does.
#[derive(Debug)]
pub struct DefaultUserClaimsPrincipalFactory<X: UserExtension> {
    user_manager: Arc<UserManager<X>>,
    role_manager: Option<Arc<RoleManager>>,
    options: ClaimsIdentityOptions,
}

/// A role of the user as the factory needs it: its name and the claims to add after it.
struct StoredRole {
    name: String,
    claims: Vec<identity_core::StoredClaim>,
}

/// What the factory reads from the stores, by whichever path.
#[derive(Default)]
struct StoredClaims {
    claims: Vec<identity_core::StoredClaim>,
    roles: Vec<StoredRole>,
}

impl<X: UserExtension> DefaultUserClaimsPrincipalFactory<X> {
    /// A factory without roles (.NET's `UserClaimsPrincipalFactory<TUser>`).
    pub fn new(user_manager: Arc<UserManager<X>>, options: ClaimsIdentityOptions) -> Self {
        Self { user_manager, role_manager: None, options }
    }

    /// Adds role and role claims through `role_manager` (.NET's
    /// `UserClaimsPrincipalFactory<TUser, TRole>`, which `AddIdentity` registers).
    #[must_use]
    pub fn with_roles(mut self, role_manager: Arc<RoleManager>) -> Self {
        self.role_manager = Some(role_manager);
        self
    }

    /// The user manager.
    pub fn user_manager(&self) -> &Arc<UserManager<X>> {
        &self.user_manager
    }

    /// The claim types in use.
    pub fn options(&self) -> &ClaimsIdentityOptions {
        &self.options
    }

    /// The role manager when roles apply: one is configured and the user store keeps roles.
    fn roles(&self) -> Option<&RoleManager> {
        self.role_manager.as_deref().filter(|_| self.user_manager.store().role_store().is_some())
    }

    /// What of a bulk read the options and stores call for: the stored claims when the store
    /// keeps claims, the roles with a role manager, their claims when it keeps role claims.
    fn select(&self, data: &UserClaimsData<X>) -> StoredClaims {
        let role_manager = self.roles();
        let with_role_claims = role_manager.is_some_and(RoleManager::supports_role_claims);
        let roles = match role_manager {
            None => Vec::new(),
            Some(_) => data
                .roles
                .iter()
                .filter_map(|loaded| {
                    let claims = if with_role_claims { loaded.claims.clone() } else { Vec::new() };
                    loaded.role.name.clone().map(|name| StoredRole { name, claims })
                })
                .collect(),
        };
        let with_claims = self.user_manager.store().claim_store().is_some();
        StoredClaims { claims: if with_claims { data.claims.clone() } else { Vec::new() }, roles }
    }

    /// Reads stored claims, roles and role claims, in one bulk call when the store offers it.
    async fn load(&self, user: &IdentityUser<X>) -> Result<StoredClaims> {
        let store = self.user_manager.store();
        let with_claims = store.claim_store().is_some();
        let role_manager = self.roles();
        if !with_claims && role_manager.is_none() {
            return Ok(StoredClaims::default());
        }
        if let Some(bulk) = store.claims_data_store() {
            return Ok(match bulk.load_claims_data(&user.id).await? {
                Some(data) => self.select(&data),
                None => StoredClaims::default(),
            });
        }

        let with_role_claims = role_manager.is_some_and(RoleManager::supports_role_claims);
        let claims = if with_claims { self.user_manager.get_claims(user).await? } else { Vec::new() };
        let mut roles = Vec::new();
        if let Some(role_manager) = role_manager {
            for name in self.user_manager.get_roles(user).await? {
                let mut claims = Vec::new();
                if with_role_claims && let Some(role) = role_manager.find_by_name(&name).await? {
                    claims = role_manager.get_claims(&role).await?;
                }
                roles.push(StoredRole { name, claims });
            }
        }
        Ok(StoredClaims { claims, roles })
    }

    /// The principal of `user` with `stored` claims and roles, in .NET's order.
    async fn build(&self, user: &IdentityUser<X>, stored: StoredClaims) -> Result<ClaimsPrincipal> {
        let options = &self.options;
        let user_name = user.user_name.as_deref().ok_or_else(|| Error::MissingUserName { user_id: user.id.clone() })?;
        let mut identity = ClaimsIdentity::with_claim_types(
            APPLICATION_AUTHENTICATION_TYPE,
            &options.user_name_claim_type,
            &options.role_claim_type,
        );
        identity.add(Claim::new(&options.user_id_claim_type, &user.id));
        identity.add(Claim::new(&options.user_name_claim_type, user_name));
        if self.user_manager.supports_user_email()
            && let Some(email) = user.email.as_deref().filter(|email| !email.is_empty())
        {
            identity.add(Claim::new(&options.email_claim_type, email));
        }
        if self.user_manager.supports_user_security_stamp() {
            let stamp = self.user_manager.get_security_stamp(user).await?;
            identity.add(Claim::new(&options.security_stamp_claim_type, stamp));
        }
        identity.add_all(stored.claims.into_iter().map(Claim::from));
        for role in stored.roles {
            identity.add(Claim::new(&options.role_claim_type, role.name));
            identity.add_all(role.claims.into_iter().map(Claim::from));
        }
        Ok(ClaimsPrincipal::new(identity))
    }
}

#[async_trait]
impl<X: UserExtension> UserClaimsPrincipalFactory<X> for DefaultUserClaimsPrincipalFactory<X> {
    async fn create(&self, user: &IdentityUser<X>) -> Result<ClaimsPrincipal> {
        // The user name is checked before the store is read, as .NET does.
        if user.user_name.is_none() {
            return Err(Error::MissingUserName { user_id: user.id.clone() });
        }
        let stored = self.load(user).await?;
        self.build(user, stored).await
    }

    async fn create_from_data(&self, data: &UserClaimsData<X>) -> Result<ClaimsPrincipal> {
        self.build(&data.user, self.select(data)).await
    }
}
