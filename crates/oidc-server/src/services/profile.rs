//! The profile service: which claims a user gets, and whether the user is still active.

use async_trait::async_trait;

use crate::claims::{Subject, TokenClaim};
use crate::error::Result;
use crate::model::client::Client;
use crate::model::resources::RequestedResources;

/// Who asks the profile service for claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileCaller {
    /// Building an access token; requested claims come from API resources and API scopes.
    AccessToken,
    /// Building an id token; requested claims come from identity resources.
    IdentityToken,
    /// The userinfo endpoint; requested claims come from the identity resources of the token's
    /// scopes.
    UserInfo,
}

/// Why the server asks whether a user is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IsActiveCaller {
    /// After a successful password grant validation.
    ResourceOwnerValidation,
    /// Before redeeming a refresh token.
    RefreshTokenValidation,
    /// Before answering a userinfo request.
    UserInfoRequestValidation,
    /// Before reporting an access token active at introspection.
    AccessTokenValidation,
    /// At the authorize endpoint, for the signed-in user; an inactive user is treated as signed
    /// out.
    AuthorizeEndpoint,
    /// Before redeeming an authorization code.
    AuthorizationCodeValidation,
}

/// The input and output of [`ProfileService::get_profile_data`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ProfileDataRequestContext<'a> {
    /// The user, with the facts of their authentication.
    pub subject: &'a Subject,
    /// The client the claims are for.
    pub client: &'a Client,
    /// Who asks.
    pub caller: ProfileCaller,
    /// The claim types the granted scopes allow for this caller.
    pub requested_claim_types: Vec<String>,
    /// The granted resources.
    pub requested_resources: &'a RequestedResources,
    /// Output: the claims to issue.
    pub issued_claims: Vec<TokenClaim>,
}

impl<'a> ProfileDataRequestContext<'a> {
    /// A context whose requested claim types are derived from `requested_resources` as
    /// IdentityServer does: identity resources' claims for id tokens and userinfo, API
    /// resources' and API scopes' claims for access tokens.
    pub fn new(
        subject: &'a Subject,
        client: &'a Client,
        caller: ProfileCaller,
        requested_resources: &'a RequestedResources,
    ) -> Self {
        let requested_claim_types = match caller {
            ProfileCaller::AccessToken => requested_resources.api_claim_types(),
            ProfileCaller::IdentityToken | ProfileCaller::UserInfo => requested_resources.identity_claim_types(),
        };
        Self { subject, client, caller, requested_claim_types, requested_resources, issued_claims: Vec::new() }
    }

    /// Issues those of `claims` whose type was requested (exact, case-sensitive match). Does
    /// nothing when no claim types were requested.
    pub fn add_requested_claims(&mut self, claims: impl IntoIterator<Item = TokenClaim>) {
        if self.requested_claim_types.is_empty() {
            return;
        }
        let requested = &self.requested_claim_types;
        self.issued_claims.extend(claims.into_iter().filter(|claim| requested.contains(&claim.claim_type)));
    }
}

/// The input and output of [`ProfileService::is_active`].
#[derive(Debug)]
#[non_exhaustive]
pub struct IsActiveContext<'a> {
    /// The user.
    pub subject: &'a Subject,
    /// The client acting for the user.
    pub client: &'a Client,
    /// Why the server asks.
    pub caller: IsActiveCaller,
    /// Output: whether the user may still get tokens. Starts `true`.
    pub is_active: bool,
}

impl<'a> IsActiveContext<'a> {
    /// A context that starts out active.
    pub fn new(subject: &'a Subject, client: &'a Client, caller: IsActiveCaller) -> Self {
        Self { subject, client, caller, is_active: true }
    }
}

/// Supplies user claims and the user's active state; the host's bridge to its user store.
#[async_trait]
pub trait ProfileService: Send + Sync {
    /// Fills `context.issued_claims` with the user's claims, normally through
    /// [`ProfileDataRequestContext::add_requested_claims`]. A user that no longer exists should
    /// get no claims rather than an error.
    async fn get_profile_data(&self, context: &mut ProfileDataRequestContext<'_>) -> Result<()>;

    /// Sets `context.is_active` to `false` when the user may no longer get tokens. The default
    /// leaves every user active.
    async fn is_active(&self, context: &mut IsActiveContext<'_>) -> Result<()> {
        let _ = context;
        Ok(())
    }

    /// [`is_active`](Self::is_active), then, only for an active user,
    /// [`get_profile_data`](Self::get_profile_data): what the userinfo endpoint asks for one
    /// request, and the password, authorization-code and refresh grants before they issue
    /// tokens. The default makes the two calls; a service that reads the user once for both
    /// (the ASP.NET Identity adapter) overrides it, and **an override must set
    /// `active.is_active`**: it starts `true`, so one that never sets it lets every user have
    /// tokens.
    async fn get_profile_data_if_active(
        &self,
        active: &mut IsActiveContext<'_>,
        profile: &mut ProfileDataRequestContext<'_>,
    ) -> Result<()> {
        self.is_active(active).await?;
        if active.is_active {
            self.get_profile_data(profile).await?;
        }
        Ok(())
    }
}

/// Issues the requested claims found on the subject itself and treats every user as active, like
/// IdentityServer's default profile service.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultProfileService;

#[async_trait]
impl ProfileService for DefaultProfileService {
    async fn get_profile_data(&self, context: &mut ProfileDataRequestContext<'_>) -> Result<()> {
        let claims = context.subject.claims.clone();
        context.add_requested_claims(claims);
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::model::resources::{ApiScope, IdentityResource, Resources};

    fn requested() -> RequestedResources {
        RequestedResources::new(
            vec!["openid".into(), "email".into(), "api".into()],
            Resources::new(
                vec![IdentityResource::openid(), IdentityResource::email()],
                vec![ApiScope::new("api").with_user_claims(["role"])],
                Vec::new(),
            ),
        )
    }

    #[test]
    fn requested_claim_types_depend_on_the_caller() {
        let subject = Subject::new("1", "pwd", test_support::clock::start());
        let client = Client::new("c");
        let resources = requested();
        let access = ProfileDataRequestContext::new(&subject, &client, ProfileCaller::AccessToken, &resources);
        assert_eq!(access.requested_claim_types, ["role"]);
        let userinfo = ProfileDataRequestContext::new(&subject, &client, ProfileCaller::UserInfo, &resources);
        assert_eq!(userinfo.requested_claim_types, ["sub", "email", "email_verified"]);
    }

    #[test]
    fn only_requested_claims_are_added_and_none_when_nothing_was_requested() {
        let subject = Subject::new("1", "pwd", test_support::clock::start());
        let client = Client::new("c");
        let resources = requested();
        let mut context = ProfileDataRequestContext::new(&subject, &client, ProfileCaller::AccessToken, &resources);
        context.add_requested_claims([TokenClaim::new("role", "admin"), TokenClaim::new("email", "a@b")]);
        assert_eq!(context.issued_claims, [TokenClaim::new("role", "admin")]);

        context.requested_claim_types.clear();
        context.issued_claims.clear();
        context.add_requested_claims([TokenClaim::new("role", "admin")]);
        assert!(context.issued_claims.is_empty());
    }

    /// Inactive for the subject `"gone"`; counts profile loads.
    #[derive(Default)]
    struct Counting {
        profile_loads: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl ProfileService for Counting {
        async fn get_profile_data(&self, context: &mut ProfileDataRequestContext<'_>) -> Result<()> {
            self.profile_loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            context.add_requested_claims([TokenClaim::new("email", "a@example.com")]);
            Ok(())
        }

        async fn is_active(&self, context: &mut IsActiveContext<'_>) -> Result<()> {
            context.is_active = context.subject.subject_id != "gone";
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_default_combined_call_loads_the_profile_of_active_users_only() {
        let (client, resources, service) = (Client::new("c"), requested(), Counting::default());
        for (subject_id, active, loads) in [("1", true, 1), ("gone", false, 1)] {
            let subject = Subject::new(subject_id, "pwd", test_support::clock::start());
            let mut is_active = IsActiveContext::new(&subject, &client, IsActiveCaller::UserInfoRequestValidation);
            let mut profile = ProfileDataRequestContext::new(&subject, &client, ProfileCaller::UserInfo, &resources);
            service.get_profile_data_if_active(&mut is_active, &mut profile).await.expect("no error");
            assert_eq!(is_active.is_active, active);
            assert_eq!(profile.issued_claims.is_empty(), !active, "{subject_id}");
            assert_eq!(service.profile_loads.load(std::sync::atomic::Ordering::SeqCst), loads);
        }
    }
}
