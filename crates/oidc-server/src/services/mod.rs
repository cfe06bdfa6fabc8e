//! Extension points the host implements (user profiles and password validation), the server's
//! own consent records, and what a user has granted clients.

pub(crate) mod consent;
pub(crate) mod password;
pub(crate) mod profile;
pub(crate) mod user_grants;
