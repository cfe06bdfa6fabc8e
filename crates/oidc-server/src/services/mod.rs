//! Extension points the host implements (user profiles and password validation) and the
//! server's own consent records.

pub(crate) mod consent;
pub(crate) mod password;
pub(crate) mod profile;
