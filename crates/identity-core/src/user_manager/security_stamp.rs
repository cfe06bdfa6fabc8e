//! The security stamp: reading and rotating it, and the stamp-derived key of TOTP codes.

use super::UserManager;
use crate::error::{Error, Result};
use crate::model::{IdentityUser, UserExtension};
use crate::result::IdentityResult;
use crate::store::Capability;

impl<X: UserExtension> UserManager<X> {
    /// The security stamp; [`Error::NullSecurityStamp`] when it is missing.
    pub async fn get_security_stamp(&self, user: &IdentityUser<X>) -> Result<String> {
        require!(self.security_stamp_store, Capability::SecurityStamp);
        user.security_stamp.clone().ok_or(Error::NullSecurityStamp)
    }

    /// Rotates the security stamp and writes the user.
    pub async fn update_security_stamp(&self, user: &mut IdentityUser<X>) -> Result<IdentityResult> {
        require!(self.security_stamp_store, Capability::SecurityStamp);
        self.rotate_security_stamp(user);
        self.update_user(user).await
    }

    /// The UTF-16LE bytes of the security stamp: the key of stamp-based TOTP codes.
    pub async fn create_security_token(&self, user: &IdentityUser<X>) -> Result<Vec<u8>> {
        let stamp = self.get_security_stamp(user).await?;
        Ok(stamp.encode_utf16().flat_map(u16::to_le_bytes).collect())
    }
}
