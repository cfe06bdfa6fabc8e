//! Extension points the host implements: user profiles and password validation.

pub mod password;
pub mod profile;
