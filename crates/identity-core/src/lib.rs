//! Identity abstractions for Rust services: the behaviour of ASP.NET Core Identity.
//!
//! This crate owns the user and role model, the store capability traits, the managers
//! ([`UserManager`], [`RoleManager`], [`SignInManager`]), password hashing, validators, lockout,
//! security and concurrency stamps, and token providers. It knows nothing about SQL, HTTP or
//! OAuth: storage lives behind the traits of [`store`] (see `identity-diesel` for the Diesel
//! implementation, or [`memory::MemoryStore`] for the in-memory reference), and protocol concerns
//! live in the crates above.

pub mod base32;
pub mod error;
pub mod hashing_pool;
pub mod memory;
pub mod model;
pub mod normalizer;
pub mod options;
pub mod password_hasher;
pub mod result;
pub mod role_manager;
pub mod sign_in_manager;
pub mod store;
pub mod tokens;
pub mod transfer;
pub mod user_manager;
pub mod validators;

pub use error::{Error, Result};
pub use hashing_pool::{HashingPool, HashingSlot};
pub use model::{
    IdentityRole, IdentityUser, MAX_PASSWORD_BYTES, MAX_USER_NAME_LENGTH, StoredClaim, UserExtension, UserLoginInfo,
    UserPasskeyInfo, is_storable_name,
};
pub use normalizer::{LookupNormalizer, UpperInvariantNormalizer};
pub use options::{IdentityOptions, LockoutOptions, PasswordOptions, SignInOptions, TokenOptions, UserOptions};
pub use password_hasher::{
    Argon2Params, CompatibilityMode, IdentityPasswordHasher, PasswordHasher, PasswordHasherOptions,
    PasswordVerificationResult,
};
pub use result::{ErrorDescriber, IdentityError, IdentityResult};
pub use role_manager::RoleManager;
pub use sign_in_manager::{SignInManager, SignInResult, TwoFactorClientToken};
pub use time_source::{Clock, ManualClock, SystemClock};
pub use user_manager::{UserManager, UserManagerBuilder};
