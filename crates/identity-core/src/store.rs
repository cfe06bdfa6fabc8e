//! Store traits: a small core [`UserStore`] plus optional capability traits, and the role store.
//!
//! A store advertises a capability by returning `Some(self)` from the matching accessor
//! (`UserStore::password_store` and friends); the managers ask and return
//! [`Error::NotSupported`](crate::Error::NotSupported) when the answer is `None`.
//!
//! Persistence model: the scalar fields of a user (password hash, email, phone, stamps, lockout,
//! two-factor) live on [`IdentityUser`] and are written by [`UserStore::update`]. The capability
//! traits for them carry no methods: implementing one says "my schema has these columns".
//! Rows in child tables (claims, roles, logins, tokens, passkeys) are written by the capability
//! methods themselves, each change in one transaction.

use crate::error::Result;
use crate::model::{IdentityRole, IdentityUser, StoredClaim, UserExtension, UserLoginInfo, UserPasskeyInfo};
use crate::result::IdentityResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Token login provider under which authenticator keys and recovery codes are kept, as .NET does.
pub const INTERNAL_LOGIN_PROVIDER: &str = "[AspNetUserStore]";
/// Token name of the authenticator key.
pub const AUTHENTICATOR_KEY_TOKEN: &str = "AuthenticatorKey";
/// How often [`UserTwoFactorRecoveryCodeStore::redeem_code`] re-reads codes that changed under
/// it before giving up.
const MAX_REDEMPTION_ROUNDS: usize = 8;
/// Token name of the recovery codes (joined with `;`).
pub const RECOVERY_CODES_TOKEN: &str = "RecoveryCodes";

/// An optional store capability, named in [`Error::NotSupported`](crate::Error::NotSupported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// [`UserPasswordStore`].
    Password,
    /// [`UserEmailStore`].
    Email,
    /// [`UserPhoneNumberStore`].
    PhoneNumber,
    /// [`UserClaimStore`].
    Claims,
    /// [`UserRoleStore`].
    Roles,
    /// [`UserLoginStore`].
    Logins,
    /// [`UserLockoutStore`].
    Lockout,
    /// [`UserSecurityStampStore`].
    SecurityStamp,
    /// [`UserTwoFactorStore`].
    TwoFactor,
    /// [`UserAuthenticationTokenStore`].
    AuthenticationTokens,
    /// [`UserAuthenticatorKeyStore`].
    AuthenticatorKey,
    /// [`UserTwoFactorRecoveryCodeStore`].
    RecoveryCodes,
    /// [`QueryableUserStore`].
    QueryableUsers,
    /// [`UserPasskeyStore`].
    Passkeys,
    /// [`UserClaimsDataStore`].
    ClaimsData,
    /// [`RoleClaimStore`].
    RoleClaims,
    /// [`QueryableRoleStore`].
    QueryableRoles,
    /// [`UserTransferStore`](crate::transfer::UserTransferStore).
    Transfer,
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// The core user store: create, update, delete and find users.
#[async_trait]
pub trait UserStore<X: UserExtension>: Send + Sync + std::fmt::Debug {
    /// Inserts a user. A taken normalized user name gives a `DuplicateUserName` failure.
    async fn create(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult>;

    /// Writes every field of `user` if its concurrency stamp still matches the stored one, and
    /// gives the user a fresh concurrency stamp. A stale stamp gives `ConcurrencyFailure`.
    async fn update(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult>;

    /// Deletes a user and every row that belongs to it, if the concurrency stamp matches.
    async fn delete(&self, user: &IdentityUser<X>) -> Result<IdentityResult>;

    /// Finds a user by id.
    async fn find_by_id(&self, user_id: &str) -> Result<Option<IdentityUser<X>>>;

    /// Finds a user by normalized user name.
    async fn find_by_name(&self, normalized_user_name: &str) -> Result<Option<IdentityUser<X>>>;

    /// The password capability, if the store has it.
    fn password_store(&self) -> Option<&dyn UserPasswordStore<X>> {
        None
    }
    /// The email capability.
    fn email_store(&self) -> Option<&dyn UserEmailStore<X>> {
        None
    }
    /// The phone number capability.
    fn phone_number_store(&self) -> Option<&dyn UserPhoneNumberStore<X>> {
        None
    }
    /// The claims capability.
    fn claim_store(&self) -> Option<&dyn UserClaimStore<X>> {
        None
    }
    /// The roles capability.
    fn role_store(&self) -> Option<&dyn UserRoleStore<X>> {
        None
    }
    /// The external logins capability.
    fn login_store(&self) -> Option<&dyn UserLoginStore<X>> {
        None
    }
    /// The lockout capability.
    fn lockout_store(&self) -> Option<&dyn UserLockoutStore<X>> {
        None
    }
    /// The security stamp capability.
    fn security_stamp_store(&self) -> Option<&dyn UserSecurityStampStore<X>> {
        None
    }
    /// The two-factor capability.
    fn two_factor_store(&self) -> Option<&dyn UserTwoFactorStore<X>> {
        None
    }
    /// The authentication tokens capability.
    fn authentication_token_store(&self) -> Option<&dyn UserAuthenticationTokenStore<X>> {
        None
    }
    /// The authenticator key capability.
    fn authenticator_key_store(&self) -> Option<&dyn UserAuthenticatorKeyStore<X>> {
        None
    }
    /// The recovery codes capability.
    fn recovery_code_store(&self) -> Option<&dyn UserTwoFactorRecoveryCodeStore<X>> {
        None
    }
    /// The user query capability.
    fn queryable_store(&self) -> Option<&dyn QueryableUserStore<X>> {
        None
    }
    /// The passkeys capability.
    fn passkey_store(&self) -> Option<&dyn UserPasskeyStore<X>> {
        None
    }
    /// The bulk "everything the claims factory needs" capability.
    fn claims_data_store(&self) -> Option<&dyn UserClaimsDataStore<X>> {
        None
    }
    /// The bulk export and import capability.
    fn transfer_store(&self) -> Option<&dyn crate::transfer::UserTransferStore<X>> {
        None
    }
}

/// Writes [`UserStore`]'s capability accessors that answer `Some(self)`, inside an
/// `impl UserStore<X> for MyStore` block of a store that implements those capability traits:
/// `advertise_capabilities!(X; all);` for every capability, or a list of accessor names
/// (`advertise_capabilities!(X; password_store email_store);`) for some.
#[macro_export]
macro_rules! advertise_capabilities {
    ($x:ty; all) => {
        $crate::advertise_capabilities!($x; password_store email_store phone_number_store claim_store role_store login_store lockout_store security_stamp_store two_factor_store authentication_token_store authenticator_key_store recovery_code_store queryable_store passkey_store claims_data_store transfer_store);
    };
    ($x:ty; $($accessor:ident)+) => {
        $( $crate::advertise_capabilities!(@one $x; $accessor); )+
    };
    (@one $x:ty; password_store) => {
        fn password_store(&self) -> Option<&dyn $crate::store::UserPasswordStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; email_store) => {
        fn email_store(&self) -> Option<&dyn $crate::store::UserEmailStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; phone_number_store) => {
        fn phone_number_store(&self) -> Option<&dyn $crate::store::UserPhoneNumberStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; claim_store) => {
        fn claim_store(&self) -> Option<&dyn $crate::store::UserClaimStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; role_store) => {
        fn role_store(&self) -> Option<&dyn $crate::store::UserRoleStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; login_store) => {
        fn login_store(&self) -> Option<&dyn $crate::store::UserLoginStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; lockout_store) => {
        fn lockout_store(&self) -> Option<&dyn $crate::store::UserLockoutStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; security_stamp_store) => {
        fn security_stamp_store(&self) -> Option<&dyn $crate::store::UserSecurityStampStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; two_factor_store) => {
        fn two_factor_store(&self) -> Option<&dyn $crate::store::UserTwoFactorStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; authentication_token_store) => {
        fn authentication_token_store(&self) -> Option<&dyn $crate::store::UserAuthenticationTokenStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; authenticator_key_store) => {
        fn authenticator_key_store(&self) -> Option<&dyn $crate::store::UserAuthenticatorKeyStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; recovery_code_store) => {
        fn recovery_code_store(&self) -> Option<&dyn $crate::store::UserTwoFactorRecoveryCodeStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; queryable_store) => {
        fn queryable_store(&self) -> Option<&dyn $crate::store::QueryableUserStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; passkey_store) => {
        fn passkey_store(&self) -> Option<&dyn $crate::store::UserPasskeyStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; claims_data_store) => {
        fn claims_data_store(&self) -> Option<&dyn $crate::store::UserClaimsDataStore<$x>> {
            Some(self)
        }
    };
    (@one $x:ty; transfer_store) => {
        fn transfer_store(&self) -> Option<&dyn $crate::transfer::UserTransferStore<$x>> {
            Some(self)
        }
    };
}

/// The schema has `PasswordHash`.
pub trait UserPasswordStore<X: UserExtension>: Send + Sync {}

/// The schema has `PhoneNumber` and `PhoneNumberConfirmed`.
pub trait UserPhoneNumberStore<X: UserExtension>: Send + Sync {}

/// The schema has `SecurityStamp`.
pub trait UserSecurityStampStore<X: UserExtension>: Send + Sync {}

/// The schema has `TwoFactorEnabled`.
pub trait UserTwoFactorStore<X: UserExtension>: Send + Sync {}

/// The schema has `Email`, `NormalizedEmail` and `EmailConfirmed`, and can look users up by email.
#[async_trait]
pub trait UserEmailStore<X: UserExtension>: Send + Sync {
    /// Finds the user with this normalized email. Two users sharing it is
    /// [`Error::InconsistentData`](crate::Error::InconsistentData), as .NET's `SingleOrDefault`.
    async fn find_by_email(&self, normalized_email: &str) -> Result<Option<IdentityUser<X>>>;
}

/// User claims (`AspNetUserClaims`).
#[async_trait]
pub trait UserClaimStore<X: UserExtension>: Send + Sync {
    /// The user's claims, in insertion order.
    async fn get_claims(&self, user: &IdentityUser<X>) -> Result<Vec<StoredClaim>>;
    /// Adds claims.
    async fn add_claims(&self, user: &IdentityUser<X>, claims: &[StoredClaim]) -> Result<()>;
    /// Replaces every claim equal to `claim` (type and value) by `new_claim`.
    async fn replace_claim(&self, user: &IdentityUser<X>, claim: &StoredClaim, new_claim: &StoredClaim) -> Result<()>;
    /// Removes every claim of the user equal to one of `claims`.
    async fn remove_claims(&self, user: &IdentityUser<X>, claims: &[StoredClaim]) -> Result<()>;
    /// Users holding a claim with this type and value.
    async fn get_users_for_claim(&self, claim: &StoredClaim) -> Result<Vec<IdentityUser<X>>>;
}

/// Role membership (`AspNetUserRoles`). Role names passed in are normalized.
#[async_trait]
pub trait UserRoleStore<X: UserExtension>: Send + Sync {
    /// Adds the user to a role; [`Error::RoleNotFound`](crate::Error::RoleNotFound) when the role
    /// does not exist.
    async fn add_to_role(&self, user: &IdentityUser<X>, normalized_role_name: &str) -> Result<()>;
    /// Removes the user from a role; a missing role or membership is not an error.
    async fn remove_from_role(&self, user: &IdentityUser<X>, normalized_role_name: &str) -> Result<()>;
    /// Display names of the user's roles.
    async fn get_roles(&self, user: &IdentityUser<X>) -> Result<Vec<String>>;
    /// Whether the user is in the role (false when the role does not exist).
    async fn is_in_role(&self, user: &IdentityUser<X>, normalized_role_name: &str) -> Result<bool>;
    /// Members of a role (empty when the role does not exist).
    async fn get_users_in_role(&self, normalized_role_name: &str) -> Result<Vec<IdentityUser<X>>>;
}

/// External logins (`AspNetUserLogins`).
#[async_trait]
pub trait UserLoginStore<X: UserExtension>: Send + Sync {
    /// Adds a login.
    async fn add_login(&self, user: &IdentityUser<X>, login: &UserLoginInfo) -> Result<()>;
    /// Removes a login; a missing one is not an error.
    async fn remove_login(&self, user: &IdentityUser<X>, login_provider: &str, provider_key: &str) -> Result<()>;
    /// The user's logins.
    async fn get_logins(&self, user: &IdentityUser<X>) -> Result<Vec<UserLoginInfo>>;
    /// The user owning a login.
    async fn find_by_login(&self, login_provider: &str, provider_key: &str) -> Result<Option<IdentityUser<X>>>;
}

/// A user's lockout columns (`AccessFailedCount`, `LockoutEnd`, `LockoutEnabled`), as
/// [`UserLockoutStore::update_lockout`] reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutState {
    /// The failed-access count.
    pub access_failed_count: i32,
    /// When the lockout ends.
    pub lockout_end: Option<DateTime<Utc>>,
    /// Whether lockout applies to the user. Read only: a transition's value for it is ignored.
    pub lockout_enabled: bool,
}

impl LockoutState {
    /// The lockout columns of a loaded user.
    pub fn of<X: UserExtension>(user: &IdentityUser<X>) -> Self {
        Self {
            access_failed_count: user.access_failed_count,
            lockout_end: user.lockout_end,
            lockout_enabled: user.lockout_enabled,
        }
    }
}

/// What a [`LockoutTransition`] decided: the new state, and whether the change is one that
/// stale copies of the user must not overwrite (a counted failure, a lockout, a reset), so that
/// the concurrency stamp rotates (even when the columns stay as they are: a failure counted
/// earlier by a reservation). A password attempt reserved and given back again is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutChange {
    /// The state to store.
    pub state: LockoutState,
    /// Whether the concurrency stamp rotates (when the state changed).
    pub rotate_concurrency_stamp: bool,
}

impl LockoutChange {
    /// A change to `state` that rotates the concurrency stamp.
    pub fn rotating(state: LockoutState) -> Self {
        Self { state, rotate_concurrency_stamp: true }
    }

    /// Whether a store must write this change over `before`: the count or the lockout end
    /// changed, or the concurrency stamp rotates.
    pub fn writes_over(&self, before: &LockoutState) -> bool {
        self.rotate_concurrency_stamp
            || (self.state.access_failed_count, self.state.lockout_end)
                != (before.access_failed_count, before.lockout_end)
    }

    /// The user's lockout state once locked out until `lock_until`: the count restarts.
    pub fn locked_until(state: LockoutState, lock_until: DateTime<Utc>) -> LockoutState {
        LockoutState { access_failed_count: 0, lockout_end: Some(lock_until), ..state }
    }
}

/// A pure change of a user's lockout state, decided on the state the store holds at that moment.
pub type LockoutTransition = Box<dyn FnOnce(LockoutState) -> LockoutChange + Send>;

/// Lockout (`AccessFailedCount`, `LockoutEnd`, `LockoutEnabled`).
#[async_trait]
pub trait UserLockoutStore<X: UserExtension>: Send + Sync {
    /// Atomically reads the stored lockout state of `user`, applies `transition` to it and, when
    /// the count or the lockout end changed or the change rotates the concurrency stamp, writes
    /// them (with a new concurrency stamp when the change asks for one). Concurrent
    /// calls for one user run one after the other, each on the state the previous one wrote, so
    /// decisions such as "count this failure" or "admit this attempt unless locked out" cannot
    /// race. `user` is refreshed with the stored count and lockout end, and with the new
    /// concurrency stamp when the change rotated it; otherwise its concurrency stamp stays as it
    /// was, so that a copy read before someone else's change still fails to overwrite it.
    /// Returns the state read before the transition; `None` when the user no longer exists.
    async fn update_lockout(
        &self,
        user: &mut IdentityUser<X>,
        transition: LockoutTransition,
    ) -> Result<Option<LockoutState>>;
}

/// Authentication tokens (`AspNetUserTokens`).
#[async_trait]
pub trait UserAuthenticationTokenStore<X: UserExtension>: Send + Sync {
    /// Inserts or updates a token.
    async fn set_token(
        &self,
        user: &IdentityUser<X>,
        login_provider: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<()>;
    /// Removes a token; a missing one is not an error.
    async fn remove_token(&self, user: &IdentityUser<X>, login_provider: &str, name: &str) -> Result<()>;
    /// Reads a token.
    async fn get_token(&self, user: &IdentityUser<X>, login_provider: &str, name: &str) -> Result<Option<String>>;
    /// Sets a token to `replacement` only if its stored value is still `current`, in one atomic
    /// step; true when it was replaced. What makes a recovery code single-use when two requests
    /// redeem it at once.
    async fn replace_token_if(
        &self,
        user: &IdentityUser<X>,
        login_provider: &str,
        name: &str,
        current: &str,
        replacement: &str,
    ) -> Result<bool>;
}

/// The authenticator key, stored as the token `[AspNetUserStore]`/`AuthenticatorKey`.
#[async_trait]
pub trait UserAuthenticatorKeyStore<X: UserExtension>: UserAuthenticationTokenStore<X> {
    /// Sets the key.
    async fn set_authenticator_key(&self, user: &IdentityUser<X>, key: &str) -> Result<()> {
        self.set_token(user, INTERNAL_LOGIN_PROVIDER, AUTHENTICATOR_KEY_TOKEN, Some(key)).await
    }
    /// Reads the key.
    async fn get_authenticator_key(&self, user: &IdentityUser<X>) -> Result<Option<String>> {
        self.get_token(user, INTERNAL_LOGIN_PROVIDER, AUTHENTICATOR_KEY_TOKEN).await
    }
}

/// Recovery codes, stored `;`-joined as the token `[AspNetUserStore]`/`RecoveryCodes`.
#[async_trait]
pub trait UserTwoFactorRecoveryCodeStore<X: UserExtension>: UserAuthenticationTokenStore<X> {
    /// Replaces every code.
    async fn replace_codes(&self, user: &IdentityUser<X>, codes: &[String]) -> Result<()> {
        let joined = codes.join(";");
        self.set_token(user, INTERNAL_LOGIN_PROVIDER, RECOVERY_CODES_TOKEN, Some(&joined)).await
    }

    /// Redeems a code once (exact, case-sensitive match); true when it was valid. The codes are
    /// rewritten only if nobody changed them since they were read, so of two concurrent
    /// redemptions of one code exactly one succeeds; a redemption that keeps losing that race
    /// to other writers fails rather than wait forever.
    async fn redeem_code(&self, user: &IdentityUser<X>, code: &str) -> Result<bool> {
        if code.is_empty() {
            return Err(crate::Error::InvalidArgument { name: "code", reason: "must not be empty" });
        }
        for _ in 0..MAX_REDEMPTION_ROUNDS {
            let Some(stored) = self.get_token(user, INTERNAL_LOGIN_PROVIDER, RECOVERY_CODES_TOKEN).await? else {
                return Ok(false);
            };
            let codes: Vec<&str> = stored.split(';').collect();
            if !codes.contains(&code) {
                return Ok(false);
            }
            let remaining: Vec<&str> = codes.into_iter().filter(|c| *c != code).collect();
            let replacement = remaining.join(";");
            if self.replace_token_if(user, INTERNAL_LOGIN_PROVIDER, RECOVERY_CODES_TOKEN, &stored, &replacement).await?
            {
                return Ok(true);
            }
        }
        tracing::warn!("a recovery code could not be redeemed: the codes kept changing while it was");
        Ok(false)
    }

    /// How many codes remain.
    async fn count_codes(&self, user: &IdentityUser<X>) -> Result<usize> {
        let stored = self.get_token(user, INTERNAL_LOGIN_PROVIDER, RECOVERY_CODES_TOKEN).await?.unwrap_or_default();
        Ok(if stored.is_empty() { 0 } else { stored.split(';').count() })
    }
}

/// A page of users, filtered by a prefix of the normalized user name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Only users whose normalized name starts with this.
    pub normalized_user_name_prefix: Option<String>,
    /// How many matching users to skip (ordered by normalized user name).
    pub offset: usize,
    /// The most users to return; `None` for all.
    pub limit: Option<usize>,
}

/// Listing users.
#[async_trait]
pub trait QueryableUserStore<X: UserExtension>: Send + Sync {
    /// Users matching the query, ordered by normalized user name.
    async fn users(&self, query: &UserQuery) -> Result<Vec<IdentityUser<X>>>;
}

/// WebAuthn passkeys (`AspNetUserPasskeys`, Identity schema version 3).
#[async_trait]
pub trait UserPasskeyStore<X: UserExtension>: Send + Sync {
    /// Inserts a passkey, or, when its credential id exists, updates only its mutable fields
    /// (name, sign count, backed-up and user-verified flags).
    async fn add_or_update_passkey(&self, user: &IdentityUser<X>, passkey: &UserPasskeyInfo) -> Result<()>;
    /// The user's passkeys.
    async fn get_passkeys(&self, user: &IdentityUser<X>) -> Result<Vec<UserPasskeyInfo>>;
    /// The owner of a credential id.
    async fn find_by_passkey_id(&self, credential_id: &[u8]) -> Result<Option<IdentityUser<X>>>;
    /// One of the user's passkeys.
    async fn find_passkey(&self, user: &IdentityUser<X>, credential_id: &[u8]) -> Result<Option<UserPasskeyInfo>>;
    /// Removes a passkey; a missing one is not an error.
    async fn remove_passkey(&self, user: &IdentityUser<X>, credential_id: &[u8]) -> Result<()>;
}

/// A role with its claims, as loaded for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleWithClaims {
    /// The role.
    pub role: IdentityRole,
    /// The role's claims.
    pub claims: Vec<StoredClaim>,
}

/// A user with everything the claims factory needs.
#[derive(Debug, Clone, PartialEq)]
pub struct UserClaimsData<X: UserExtension> {
    /// The user.
    pub user: IdentityUser<X>,
    /// The user's claims.
    pub claims: Vec<StoredClaim>,
    /// The user's roles, each with its claims, in the store's order.
    pub roles: Vec<RoleWithClaims>,
}

/// Loads a user with claims, roles and role claims in a bounded number of round trips,
/// independent of how many roles and claims the user has.
#[async_trait]
pub trait UserClaimsDataStore<X: UserExtension>: Send + Sync {
    /// Everything for the user with this id; `None` when the user does not exist.
    async fn load_claims_data(&self, user_id: &str) -> Result<Option<UserClaimsData<X>>>;
}

/// The role store (`AspNetRoles`).
#[async_trait]
pub trait RoleStore: Send + Sync + std::fmt::Debug {
    /// Inserts a role. A taken normalized name gives a `DuplicateRoleName` failure.
    async fn create(&self, role: &mut IdentityRole) -> Result<IdentityResult>;
    /// Writes the role if its concurrency stamp matches and gives it a fresh one.
    async fn update(&self, role: &mut IdentityRole) -> Result<IdentityResult>;
    /// Deletes the role, its claims and its memberships, if the concurrency stamp matches.
    async fn delete(&self, role: &IdentityRole) -> Result<IdentityResult>;
    /// Finds a role by id.
    async fn find_by_id(&self, role_id: &str) -> Result<Option<IdentityRole>>;
    /// Finds a role by normalized name.
    async fn find_by_name(&self, normalized_name: &str) -> Result<Option<IdentityRole>>;

    /// The role claims capability.
    fn role_claim_store(&self) -> Option<&dyn RoleClaimStore> {
        None
    }
    /// The role query capability.
    fn queryable_role_store(&self) -> Option<&dyn QueryableRoleStore> {
        None
    }
}

/// Role claims (`AspNetRoleClaims`).
#[async_trait]
pub trait RoleClaimStore: Send + Sync {
    /// The role's claims.
    async fn get_claims(&self, role: &IdentityRole) -> Result<Vec<StoredClaim>>;
    /// Adds a claim.
    async fn add_claim(&self, role: &IdentityRole, claim: &StoredClaim) -> Result<()>;
    /// Removes every claim of the role equal to `claim`.
    async fn remove_claim(&self, role: &IdentityRole, claim: &StoredClaim) -> Result<()>;
}

/// Listing roles.
#[async_trait]
pub trait QueryableRoleStore: Send + Sync {
    /// Roles whose normalized name starts with the prefix (all when `None`), ordered by name.
    async fn roles(&self, normalized_name_prefix: Option<&str>) -> Result<Vec<IdentityRole>>;
}
