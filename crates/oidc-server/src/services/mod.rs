//! Extension points the host implements: user profiles and password validation.

pub(crate) mod password;
pub(crate) mod profile;
