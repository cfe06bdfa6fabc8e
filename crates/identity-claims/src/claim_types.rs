//! Well-known claim type names: the short JWT / OpenID Connect names ([`jwt`]) and the URIs of
//! .NET's `System.Security.Claims.ClaimTypes` ([`dotnet`]).
//!
//! ASP.NET Core Identity uses the .NET URIs by default; an OpenID Connect server reconfigures
//! it to the short names (see [`ClaimsIdentityOptions::oidc`](crate::ClaimsIdentityOptions::oidc)).

/// Short claim type names of JWT (RFC 7519), OpenID Connect Core 1.0 (standard claims,
/// section 5.1) and the session claims IdentityServer adds (`idp`, `amr`, `auth_time`, `sid`).
pub mod jwt {
    /// Subject identifier: the user's stable id.
    pub const SUBJECT: &str = "sub";
    /// Full display name, e.g. "Alice Smith".
    pub const NAME: &str = "name";
    /// Given (first) name.
    pub const GIVEN_NAME: &str = "given_name";
    /// Family (last) name.
    pub const FAMILY_NAME: &str = "family_name";
    /// Middle name.
    pub const MIDDLE_NAME: &str = "middle_name";
    /// Casual name.
    pub const NICKNAME: &str = "nickname";
    /// The name the user chose to be known by at the provider: the user name.
    pub const PREFERRED_USERNAME: &str = "preferred_username";
    /// URL of the user's profile page.
    pub const PROFILE: &str = "profile";
    /// URL of the user's picture.
    pub const PICTURE: &str = "picture";
    /// URL of the user's web site.
    pub const WEBSITE: &str = "website";
    /// Email address.
    pub const EMAIL: &str = "email";
    /// Whether the email address is verified (a JSON boolean).
    pub const EMAIL_VERIFIED: &str = "email_verified";
    /// Gender.
    pub const GENDER: &str = "gender";
    /// Birthday, `YYYY-MM-DD` or `YYYY`.
    pub const BIRTHDATE: &str = "birthdate";
    /// Time zone, e.g. `Europe/Paris`.
    pub const ZONEINFO: &str = "zoneinfo";
    /// Locale, e.g. `fr-FR`.
    pub const LOCALE: &str = "locale";
    /// Phone number.
    pub const PHONE_NUMBER: &str = "phone_number";
    /// Whether the phone number is verified (a JSON boolean).
    pub const PHONE_NUMBER_VERIFIED: &str = "phone_number_verified";
    /// Postal address (a JSON object).
    pub const ADDRESS: &str = "address";
    /// Time the profile was last updated (seconds since the epoch).
    pub const UPDATED_AT: &str = "updated_at";
    /// Role name.
    pub const ROLE: &str = "role";
    /// Authentication methods references, e.g. `pwd` (always a JSON array).
    pub const AUTHENTICATION_METHOD: &str = "amr";
    /// Identity provider that authenticated the user, `local` for the host itself.
    pub const IDENTITY_PROVIDER: &str = "idp";
    /// Time of authentication (seconds since the epoch).
    pub const AUTHENTICATION_TIME: &str = "auth_time";
    /// Session id.
    pub const SESSION_ID: &str = "sid";
    /// Authentication context class reference.
    pub const AUTHENTICATION_CONTEXT_CLASS_REFERENCE: &str = "acr";
    /// Issuer.
    pub const ISSUER: &str = "iss";
    /// Audience.
    pub const AUDIENCE: &str = "aud";
    /// Expiry (seconds since the epoch).
    pub const EXPIRATION: &str = "exp";
    /// Not-before time (seconds since the epoch).
    pub const NOT_BEFORE: &str = "nbf";
    /// Issue time (seconds since the epoch).
    pub const ISSUED_AT: &str = "iat";
    /// Unique token id.
    pub const JWT_ID: &str = "jti";
    /// Nonce from the authentication request.
    pub const NONCE: &str = "nonce";
    /// Client the token was issued to.
    pub const CLIENT_ID: &str = "client_id";
    /// Granted scopes.
    pub const SCOPE: &str = "scope";
}

/// URIs of .NET's `System.Security.Claims.ClaimTypes`, the claim types ASP.NET Core Identity
/// uses unless reconfigured.
pub mod dotnet {
    macro_rules! ws_2005 {
        ($suffix:literal) => {
            concat!("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/", $suffix)
        };
    }
    macro_rules! ws_2008 {
        ($suffix:literal) => {
            concat!("http://schemas.microsoft.com/ws/2008/06/identity/claims/", $suffix)
        };
    }

    /// `ClaimTypes.NameIdentifier`: the user id.
    pub const NAME_IDENTIFIER: &str = ws_2005!("nameidentifier");
    /// `ClaimTypes.Name`: the user name.
    pub const NAME: &str = ws_2005!("name");
    /// `ClaimTypes.Email`.
    pub const EMAIL: &str = ws_2005!("emailaddress");
    /// `ClaimTypes.GivenName`.
    pub const GIVEN_NAME: &str = ws_2005!("givenname");
    /// `ClaimTypes.Surname`.
    pub const SURNAME: &str = ws_2005!("surname");
    /// `ClaimTypes.DateOfBirth`.
    pub const DATE_OF_BIRTH: &str = ws_2005!("dateofbirth");
    /// `ClaimTypes.Gender`.
    pub const GENDER: &str = ws_2005!("gender");
    /// `ClaimTypes.MobilePhone`.
    pub const MOBILE_PHONE: &str = ws_2005!("mobilephone");
    /// `ClaimTypes.HomePhone`.
    pub const HOME_PHONE: &str = ws_2005!("homephone");
    /// `ClaimTypes.Webpage`.
    pub const WEBPAGE: &str = ws_2005!("webpage");
    /// `ClaimTypes.StreetAddress`.
    pub const STREET_ADDRESS: &str = ws_2005!("streetaddress");
    /// `ClaimTypes.Locality`.
    pub const LOCALITY: &str = ws_2005!("locality");
    /// `ClaimTypes.StateOrProvince`.
    pub const STATE_OR_PROVINCE: &str = ws_2005!("stateorprovince");
    /// `ClaimTypes.PostalCode`.
    pub const POSTAL_CODE: &str = ws_2005!("postalcode");
    /// `ClaimTypes.Country`.
    pub const COUNTRY: &str = ws_2005!("country");
    /// `ClaimTypes.Upn`: user principal name.
    pub const UPN: &str = ws_2005!("upn");
    /// `ClaimTypes.Role`.
    pub const ROLE: &str = ws_2008!("role");
    /// `ClaimTypes.AuthenticationMethod`: how (or, after an external login, where) the user
    /// authenticated.
    pub const AUTHENTICATION_METHOD: &str = ws_2008!("authenticationmethod");
    /// `ClaimTypes.AuthenticationInstant`.
    pub const AUTHENTICATION_INSTANT: &str = ws_2008!("authenticationinstant");
    /// `ClaimTypes.Sid`: security identifier.
    pub const SID: &str = ws_2008!("sid");
}

#[cfg(test)]
mod tests {
    use super::dotnet;

    #[test]
    fn dotnet_uris_match_the_documented_values() {
        assert_eq!(dotnet::NAME_IDENTIFIER, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier");
        assert_eq!(dotnet::NAME, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name");
        assert_eq!(dotnet::EMAIL, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress");
        assert_eq!(dotnet::ROLE, "http://schemas.microsoft.com/ws/2008/06/identity/claims/role");
        assert_eq!(
            dotnet::AUTHENTICATION_METHOD,
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationmethod"
        );
    }
}
