//! [`ClaimsIdentityOptions`]: which claim types the factory writes the user id, name, email,
//! roles and security stamp under.

use crate::claim_types::{dotnet, jwt};

/// The claim type of the security stamp, ASP.NET Core Identity's default, which an OpenID
/// Connect server keeps.
pub const SECURITY_STAMP_CLAIM_TYPE: &str = "AspNet.Identity.SecurityStamp";

/// Claim types used by the claims principal factory (.NET's `ClaimsIdentityOptions`).
///
/// [`Default`] gives ASP.NET Core Identity's .NET claim type URIs; [`Self::oidc`] gives what
/// Duende's `AddAspNetIdentity` configures for an OpenID Connect server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsIdentityOptions {
    /// The role claim type; the identity's role claim type too.
    pub role_claim_type: String,
    /// The user name claim type; the identity's name claim type too.
    pub user_name_claim_type: String,
    /// The user id claim type.
    pub user_id_claim_type: String,
    /// The email claim type.
    pub email_claim_type: String,
    /// The security stamp claim type.
    pub security_stamp_claim_type: String,
}

impl Default for ClaimsIdentityOptions {
    /// ASP.NET Core Identity's defaults: [`dotnet::ROLE`], [`dotnet::NAME`],
    /// [`dotnet::NAME_IDENTIFIER`], [`dotnet::EMAIL`] and [`SECURITY_STAMP_CLAIM_TYPE`].
    fn default() -> Self {
        Self {
            role_claim_type: dotnet::ROLE.to_owned(),
            user_name_claim_type: dotnet::NAME.to_owned(),
            user_id_claim_type: dotnet::NAME_IDENTIFIER.to_owned(),
            email_claim_type: dotnet::EMAIL.to_owned(),
            security_stamp_claim_type: SECURITY_STAMP_CLAIM_TYPE.to_owned(),
        }
    }
}

impl ClaimsIdentityOptions {
    /// The claim types an OpenID Connect server uses, as Duende's `AddAspNetIdentity` sets them:
    /// `role`, `name`, `sub` and `email`; the security stamp type stays
    /// [`SECURITY_STAMP_CLAIM_TYPE`].
    pub fn oidc() -> Self {
        Self {
            role_claim_type: jwt::ROLE.to_owned(),
            user_name_claim_type: jwt::NAME.to_owned(),
            user_id_claim_type: jwt::SUBJECT.to_owned(),
            email_claim_type: jwt::EMAIL.to_owned(),
            security_stamp_claim_type: SECURITY_STAMP_CLAIM_TYPE.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_dotnet_uris_and_oidc_the_short_names() {
        let dotnet = ClaimsIdentityOptions::default();
        assert_eq!(dotnet.user_id_claim_type, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier");
        assert_eq!(dotnet.user_name_claim_type, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name");
        assert_eq!(dotnet.email_claim_type, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress");
        assert_eq!(dotnet.role_claim_type, "http://schemas.microsoft.com/ws/2008/06/identity/claims/role");
        assert_eq!(dotnet.security_stamp_claim_type, "AspNet.Identity.SecurityStamp");
        let oidc = ClaimsIdentityOptions::oidc();
        assert_eq!(
            [oidc.user_id_claim_type, oidc.user_name_claim_type, oidc.role_claim_type, oidc.email_claim_type],
            ["sub", "name", "role", "email"]
        );
        assert_eq!(oidc.security_stamp_claim_type, "AspNet.Identity.SecurityStamp");
    }
}
