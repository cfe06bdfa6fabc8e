//! Exact error responses of the token endpoint (RFC 6749 §5.2), checked on the wire.

use crate::support::{ALICE_PASSWORD, APP, MACHINE, NO_PASSWORD_APP, TestServer};

const TOKEN: &str = "/connect/token";

#[tokio::test]
async fn failed_basic_authentication_is_401_with_a_basic_challenge() {
    let server = TestServer::start().await;
    for credentials in [("m2m", "wrong"), ("unknown", "m2m secret"), ("m2m", "")] {
        let response = server.post_form(TOKEN, Some(credentials), "grant_type=client_credentials").await;
        response.assert_oauth_error(401, "invalid_client");
        let challenge = response.header("www-authenticate").expect("a challenge");
        assert!(challenge.starts_with("Basic "), "{challenge}");
    }
    let malformed = server
        .http
        .post(server.url(TOKEN))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", "Basic not-base64!")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("sent");
    let malformed = crate::support::RawResponse::read(malformed).await;
    malformed.assert_oauth_error(401, "invalid_client");
}

#[tokio::test]
async fn failed_post_authentication_is_invalid_client() {
    let server = TestServer::start().await;
    for body in [
        "grant_type=client_credentials&client_id=m2m&client_secret=wrong",
        "grant_type=client_credentials&client_id=m2m",
        "grant_type=client_credentials",
    ] {
        server.post_form(TOKEN, None, body).await.assert_oauth_error(401, "invalid_client");
    }
}

#[tokio::test]
async fn using_two_authentication_methods_is_invalid_request() {
    let server = TestServer::start().await;
    let response =
        server.post_form(TOKEN, Some(MACHINE), "grant_type=client_credentials&client_secret=m2m%20secret").await;
    response.assert_oauth_error(400, "invalid_request");
}

#[tokio::test]
async fn repeated_parameters_are_invalid_request() {
    let server = TestServer::start().await;
    let response =
        server.post_form(TOKEN, Some(MACHINE), "grant_type=client_credentials&scope=orders.read&scope=reports").await;
    response.assert_oauth_error(400, "invalid_request");
    assert!(response.json()["error_description"].is_string());
}

#[tokio::test]
async fn a_missing_grant_type_is_invalid_request() {
    let server = TestServer::start().await;
    let response = server.post_form(TOKEN, Some(MACHINE), "scope=orders.read").await;
    response.assert_oauth_error(400, "invalid_request");
    assert_eq!(response.json()["error_description"], "the `grant_type` parameter is required");
}

#[tokio::test]
async fn unknown_and_unimplemented_grant_types_are_unsupported() {
    let server = TestServer::start().await;
    for grant_type in ["urn:example:custom", "implicit"] {
        let response = server.post_form(TOKEN, Some(MACHINE), &format!("grant_type={grant_type}")).await;
        response.assert_oauth_error(400, "unsupported_grant_type");
    }
}

#[tokio::test]
async fn the_code_grant_needs_the_client_to_allow_it() {
    let server = TestServer::start().await;
    let response = server.post_form(TOKEN, Some(MACHINE), "grant_type=authorization_code&code=x&redirect_uri=y").await;
    response.assert_oauth_error(400, "unauthorized_client");
}

#[tokio::test]
async fn unknown_or_disallowed_scopes_are_invalid_scope() {
    let server = TestServer::start().await;
    for scope in ["unknown", "openid", "profile", "orders.read%20offline_access"] {
        let response =
            server.post_form(TOKEN, Some(MACHINE), &format!("grant_type=client_credentials&scope={scope}")).await;
        response.assert_oauth_error(400, "invalid_scope");
    }
}

#[tokio::test]
async fn the_password_grant_needs_the_client_to_allow_it() {
    let server = TestServer::start().await;
    let response = server
        .post_form(TOKEN, Some(NO_PASSWORD_APP), "grant_type=password&username=alice&password=alice%27s%20password")
        .await;
    response.assert_oauth_error(400, "unauthorized_client");
}

#[tokio::test]
async fn the_password_grant_needs_a_validator() {
    let server = TestServer::start_with(|builder, _| builder).await;
    let response =
        server.post_form(TOKEN, Some(APP), "grant_type=password&username=alice&password=alice%27s%20password").await;
    response.assert_oauth_error(400, "unsupported_grant_type");
}

#[tokio::test]
async fn password_failures_look_alike() {
    let server = TestServer::start().await;
    let long_name = "a".repeat(101);
    for body in [
        "grant_type=password&username=alice&password=wrong".to_owned(),
        "grant_type=password&username=nobody&password=wrong".to_owned(),
        format!("grant_type=password&username={long_name}&password=x"),
    ] {
        let response = server.post_form(TOKEN, Some(APP), &body).await;
        response.assert_oauth_error(400, "invalid_grant");
        assert_eq!(response.json()["error_description"], "invalid_username_or_password");
    }
    server
        .post_form(TOKEN, Some(APP), "grant_type=password&password=x")
        .await
        .assert_oauth_error(400, "invalid_request");
}

#[tokio::test]
async fn inactive_users_get_invalid_grant_without_details() {
    let server = TestServer::start().await;
    server.users.deactivate("1");
    let body = format!(
        "grant_type=password&username=alice&password={}",
        ALICE_PASSWORD.replace('\'', "%27").replace(' ', "+")
    );
    let response = server.post_form(TOKEN, Some(APP), &body).await;
    response.assert_oauth_error(400, "invalid_grant");
    assert!(response.json().get("error_description").is_none());
}

#[tokio::test]
async fn unknown_refresh_tokens_are_invalid_grant() {
    let server = TestServer::start().await;
    server
        .post_form(TOKEN, Some(APP), "grant_type=refresh_token&refresh_token=nope")
        .await
        .assert_oauth_error(400, "invalid_grant");
    server.post_form(TOKEN, Some(APP), "grant_type=refresh_token").await.assert_oauth_error(400, "invalid_request");
}

#[tokio::test]
async fn non_form_bodies_are_invalid_request() {
    let server = TestServer::start().await;
    let response = server
        .http
        .post(server.url(TOKEN))
        .basic_auth(MACHINE.0, Some(MACHINE.1))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .expect("sent");
    crate::support::RawResponse::read(response).await.assert_oauth_error(400, "invalid_request");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let server = TestServer::start().await;
    let body = format!("grant_type=client_credentials&padding={}", "x".repeat(64 * 1024));
    let response = server.post_form(TOKEN, Some(MACHINE), &body).await;
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["error"], "invalid_request");
}

#[tokio::test]
async fn success_responses_are_not_cacheable() {
    let server = TestServer::start().await;
    let response = server.post_form(TOKEN, Some(MACHINE), "grant_type=client_credentials").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("pragma"), Some("no-cache"));
    assert_eq!(response.json()["token_type"], "Bearer");
}

#[tokio::test]
async fn the_token_endpoint_only_accepts_post() {
    let server = TestServer::start().await;
    let response = server.http.get(server.url(TOKEN)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 405);
}
