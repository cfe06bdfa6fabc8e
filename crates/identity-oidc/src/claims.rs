//! Conversion from the identity claims model to the token server's claim type: the value keeps
//! its JSON type (booleans, numbers, embedded JSON), as IdentityServer carries claim value types
//! into tokens and userinfo.

/// The token server's form of an identity claim.
pub(crate) fn to_server_claim(claim: &identity_claims::Claim) -> oidc_server::TokenClaim {
    oidc_server::TokenClaim::new(claim.claim_type.clone(), claim.to_json_value())
}
