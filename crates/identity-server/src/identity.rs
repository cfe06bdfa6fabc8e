//! The identity layer of the host: the migrated database, and the user and role managers over
//! `IdentityUser<()>` configured from the settings.
//!
//! Token providers: "Email", "Phone" and "Authenticator" need no secret and are always
//! registered; "Default" (signed link tokens: email confirmation, password reset) only when a
//! token secret is configured, because its tokens must verify on every instance and across
//! restarts. No command or endpoint of this host issues "Default" tokens yet.

use crate::database;
use crate::error::{Failure, Result};
use crate::settings::Settings;
use identity_core::hashing_pool::{DEFAULT_QUEUE_PER_THREAD, default_threads};
use identity_core::options::{AUTHENTICATOR_PROVIDER, EMAIL_PROVIDER, PHONE_PROVIDER};
use identity_core::tokens::{AuthenticatorTokenProvider, EmailTokenProvider, PhoneNumberTokenProvider};
use identity_core::{
    Clock, HashingPool, IdentityPasswordHasher, IdentityResult, IdentityUser, RoleManager, SystemClock, UserManager,
};
use identity_diesel::Database;
use std::sync::Arc;

/// The opened database and the managers over it.
#[derive(Debug)]
pub(crate) struct Identity {
    /// The database, for the token server's stores.
    pub(crate) db: Database,
    /// Users.
    pub(crate) users: Arc<UserManager<()>>,
    /// Roles.
    pub(crate) roles: Arc<RoleManager>,
    /// The one clock of the host: the user manager's, the token server's and the cleanup's.
    pub(crate) clock: Arc<dyn Clock>,
}

impl Identity {
    /// Opens and migrates the database and builds the managers.
    pub(crate) async fn open(settings: &Settings) -> Result<Self> {
        let db = database::open_migrated(&settings.database_url, settings.database_timeout()).await?;
        let store = database::identity_store(&db).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let hashing = settings.config.file.hashing;
        let threads = hashing.threads.unwrap_or_else(default_threads);
        let queue_per_thread = hashing.queue_per_thread.unwrap_or(DEFAULT_QUEUE_PER_THREAD);
        let pool = HashingPool::with_queue(Arc::new(IdentityPasswordHasher::default()), threads, queue_per_thread);
        let mut builder = UserManager::builder(store.clone())
            .options(settings.config.file.identity_options()?)
            .clock(clock.clone())
            .hashing_pool(pool);
        builder = match &settings.token_secret {
            Some(secret) => builder.default_token_providers(secret.as_bytes()),
            None => builder
                .token_provider(EMAIL_PROVIDER, Arc::new(EmailTokenProvider))
                .token_provider(PHONE_PROVIDER, Arc::new(PhoneNumberTokenProvider))
                .token_provider(AUTHENTICATOR_PROVIDER, Arc::new(AuthenticatorTokenProvider)),
        };
        Ok(Self { db, users: Arc::new(builder.build()), roles: Arc::new(RoleManager::new(store)), clock })
    }

    /// The user named `user_name`, or an error saying there is none.
    pub(crate) async fn user(&self, user_name: &str) -> Result<IdentityUser<()>> {
        self.users.find_by_name(user_name).await?.ok_or_else(|| Failure::new(format!("no user named `{user_name}`")))
    }
}

/// Turns a failed validation into an error naming what was being done.
pub(crate) fn check(result: IdentityResult, doing: impl std::fmt::Display) -> Result<()> {
    match result {
        IdentityResult::Success => Ok(()),
        IdentityResult::Failed(errors) if errors.is_empty() => Err(Failure::new(format!("{doing}: failed"))),
        IdentityResult::Failed(errors) => {
            let reasons: Vec<String> = errors.iter().map(|error| error.description.clone()).collect();
            Err(Failure::new(format!("{doing}: {}", reasons.join(" "))))
        }
    }
}
