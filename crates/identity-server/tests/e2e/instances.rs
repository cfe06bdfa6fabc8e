//! Two instances on one database, as behind a load balancer, with signing keys rotating every
//! few seconds while both issue and check tokens: each instance verifies every token the other
//! issues at once (the new key is published a propagation time before it signs, and each
//! instance re-reads the keys within the key cache duration, which is shorter), both publish the
//! same keys, a refresh token rotated at one is refused as a replay at the other, a revocation
//! at one holds at the other, and failed sign-ins at either count toward one lockout.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::{ALL_SCOPES, M2M_CLIENT, PASSWORD_CLIENT, Server, TestEnv};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::instances,
    cases: [two_instances_rotating_keys_under_load_accept_each_others_tokens_and_share_their_state],
}

/// The issuer of both instances, as behind one name.
const ISSUER: &str = "http://identity.test";
/// Keys rotate every 6 s, are announced 3 s before they sign, stay published 6 s after they
/// retire, and each instance re-reads the keys at least every second.
const FAST_ROTATION: [(&str, &str); 4] = [
    ("IDENTITY_KEYS__ROTATION_INTERVAL", "6s"),
    ("IDENTITY_KEYS__PROPAGATION_TIME", "3s"),
    ("IDENTITY_KEYS__RETENTION_DURATION", "6s"),
    ("IDENTITY_KEYS__KEY_CACHE_DURATION", "1s"),
];
/// How long both instances issue and cross-check tokens: enough for two rotations at least.
const LOAD: Duration = Duration::from_secs(15);

pub(crate) async fn two_instances_rotating_keys_under_load_accept_each_others_tokens_and_share_their_state(
    env: TestEnv,
) {
    env.create_user("carol", &[]);
    let arguments = ["--issuer", ISSUER];
    let first = env.serve_with_env(&arguments, &FAST_ROTATION);
    let second = env.serve_with_env(&arguments, &FAST_ROTATION);
    wait_for_same_keys(&first, &second).await;

    // Each instance issues tokens that the other checks at once, both ways at the same time.
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (forward, backward, ()) =
        tokio::join!(cross_check_until(&first, &second, &stop), cross_check_until(&second, &first, &stop), async {
            tokio::time::sleep(LOAD).await;
            stop.store(true, Ordering::Relaxed);
        });
    let signing_keys: BTreeSet<String> = forward.union(&backward).cloned().collect();
    assert!(
        signing_keys.len() >= 3,
        "two rotations at least in {:?}: tokens were signed by {signing_keys:?}",
        started.elapsed()
    );
    wait_for_same_keys(&first, &second).await;

    // A refresh token rotated at one instance is a replay at the other: the family is revoked.
    let (_, refresh_token) = first.password_grant("carol", ALL_SCOPES).await;
    let refresh_token = refresh_token.expect("offline_access gives a refresh token");
    let rotated = first.refresh(&refresh_token).await.ok_json();
    second.refresh(&refresh_token).await.assert_error("invalid_grant");
    let successor = oauth2::RefreshToken::new(rotated["refresh_token"].as_str().expect("rotated").to_owned());
    first.refresh(&successor).await.assert_error("invalid_grant");

    // A revocation at one instance holds at the other.
    let (_, refresh_token) = second.password_grant("carol", ALL_SCOPES).await;
    let refresh_token = refresh_token.expect("offline_access gives a refresh token");
    let revoked = second.post_form("/connect/revocation", PASSWORD_CLIENT, &[("token", refresh_token.secret())]).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    first.refresh(&refresh_token).await.assert_error("invalid_grant");

    // Failed sign-ins at either instance count toward one lockout (five, .NET's default).
    for attempt in 0..5 {
        let server = if attempt % 2 == 0 { &first } else { &second };
        server.raw_password_grant("carol", "Wrong123$").await.assert_invalid_credentials();
    }
    for server in [&first, &second] {
        let refused = server.raw_password_grant("carol", crate::support::PASSWORD).await;
        refused.assert_invalid_credentials();
    }
}

/// Until `stop`: a client-credentials token and a user's token from `issuer`, each checked at
/// `checker` at once (introspection active, userinfo answered). Returns the signing keys seen.
async fn cross_check_until(issuer: &Server, checker: &Server, stop: &AtomicBool) -> BTreeSet<String> {
    let mut key_ids = BTreeSet::new();
    while !stop.load(Ordering::Relaxed) {
        let machine = issuer.post_form("/connect/token", M2M_CLIENT, &[("grant_type", "client_credentials")]).await;
        let machine_token = machine.ok_json()["access_token"].as_str().expect("an access token").to_owned();
        let (user_token, _) = issuer.password_grant("carol", &["openid", "profile"]).await;
        for token in [&machine_token, &user_token] {
            let key_id = jsonwebtoken::decode_header(token).expect("a JWS header").kid.expect("a kid");
            let introspection = checker.post_form("/connect/introspect", M2M_CLIENT, &[("token", token)]).await;
            assert_eq!(
                introspection.ok_json()["active"],
                true,
                "a token signed by {key_id} at {} is active at {}",
                issuer.address,
                checker.address
            );
            key_ids.insert(key_id);
        }
        let userinfo = checker.get("/connect/userinfo", Some(&user_token)).await;
        assert_eq!(userinfo.status, 200, "userinfo at the other instance: {}", userinfo.body);
    }
    key_ids
}

/// The key ids an instance publishes.
async fn published_keys(server: &Server) -> BTreeSet<String> {
    let jwks = server.get("/.well-known/jwks", None).await.ok_json();
    jwks["keys"].as_array().expect("keys").iter().map(|key| key["kid"].as_str().expect("a kid").to_owned()).collect()
}

/// Both instances publish the same keys within a key cache duration (with 10x slack).
async fn wait_for_same_keys(first: &Server, second: &Server) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (at_first, at_second) = (published_keys(first).await, published_keys(second).await);
        if at_first == at_second {
            return;
        }
        assert!(Instant::now() < deadline, "the instances publish different keys: {at_first:?} and {at_second:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
