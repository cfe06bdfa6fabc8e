//! Id tokens built by the id-token module (for the authorize flow to come), verified by the
//! `openidconnect` client: signature, issuer, audience, nonce and `at_hash` per algorithm.

use oidc_server::{Client, IdTokenRequest, KeyManagementOptions, ServerOptions, SigningAlgorithm, Subject};
use openidconnect::core::{CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{AccessToken, AccessTokenHash, ClientId, ClientSecret, IssuerUrl, Nonce};

use crate::support::{APP, TestServer};

async fn id_token_round_trip(server: &TestServer) {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).expect("issuer"), &server.http)
            .await
            .expect("discovered");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(APP.0.into()),
        Some(ClientSecret::new(APP.1.into())),
    );

    let app = Client::new(APP.0);
    let mut subject = Subject::new("1", "pwd", test_support::clock::start());
    subject.session_id = Some("session-1".into());
    let access_token = "an access token issued alongside";
    let mut request = IdTokenRequest::new(&app, &subject);
    request.nonce = Some("nonce-1");
    request.access_token = Some(access_token);
    let id_token: CoreIdToken =
        server.server.issue_id_token(&request).await.expect("signed").parse().expect("an id token");

    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, |nonce: Option<&Nonce>| match nonce.map(Nonce::secret) {
            Some(nonce) if nonce == "nonce-1" => Ok(()),
            other => Err(format!("unexpected nonce {other:?}")),
        })
        .expect("signature, issuer, audience, expiry and nonce verify");
    assert_eq!(claims.subject().as_str(), "1");
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        &AccessToken::new(access_token.into()),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
}

#[tokio::test]
async fn rs256_id_tokens_verify_with_openidconnect() {
    id_token_round_trip(&TestServer::start().await).await;
}

#[tokio::test]
async fn eddsa_id_tokens_verify_with_openidconnect() {
    let mut key_management = KeyManagementOptions::default();
    key_management.signing_algorithms = vec![SigningAlgorithm::EdDsa];
    let mut options = ServerOptions::default();
    options.key_management = key_management;
    id_token_round_trip(&TestServer::start_with(|builder, _| builder.options(options)).await).await;
}
