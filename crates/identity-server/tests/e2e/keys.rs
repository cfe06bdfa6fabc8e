//! `identity-server keys …` against a running server (key cache duration 1 s here, waited for
//! with 10x slack): a rotated key is announced in the key set while the old one signs, and a
//! retired key stops signing and verifying, its successor taking over.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::support::{Server, TestEnv};

test_support::backend_cases! {
    setup: crate::support::env,
    backends: [sqlite, postgres],
    module: crate::keys,
    cases: [rotated_and_retired_keys_reach_a_running_server],
}

const PROPAGATION_LIMIT: Duration = Duration::from_secs(10);

/// The key ids the server publishes.
async fn published(server: &Server) -> BTreeSet<String> {
    let jwks = server.get("/.well-known/jwks", None).await.ok_json();
    jwks["keys"].as_array().expect("keys").iter().map(|key| key["kid"].as_str().expect("a kid").to_owned()).collect()
}

/// A new access token of alice's and the key that signed it.
async fn token_and_signer(server: &Server) -> (String, String) {
    let (token, _) = server.password_grant("alice", &["openid"]).await;
    let key_id = jsonwebtoken::decode_header(&token).expect("a JWS header").kid.expect("a kid");
    (token, key_id)
}

/// Waits until `condition` holds of what `probe` finds; fails after the propagation limit.
async fn eventually<T: std::fmt::Debug>(
    mut probe: impl AsyncFnMut() -> T,
    condition: impl Fn(&T) -> bool,
    what: &str,
) -> T {
    let deadline = Instant::now() + PROPAGATION_LIMIT;
    loop {
        let found = probe().await;
        if condition(&found) {
            return found;
        }
        assert!(Instant::now() < deadline, "{what}: still {found:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn rotated_and_retired_keys_reach_a_running_server(env: TestEnv) {
    env.create_user("alice", &[]);
    let server = env.serve_with_env(&[], &[("IDENTITY_KEYS__KEY_CACHE_DURATION", "1")]);
    let (old_token, first) = token_and_signer(&server).await;
    let listed = env.cli(&["keys", "list"]).ok();
    assert!(listed.starts_with(&format!("{first}  RS256  signing  created ")), "{listed}");
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(!listed.contains("UNENCRYPTED"), "{listed}");

    let rotated = env.cli(&["keys", "rotate"]).ok();
    let second = rotated
        .lines()
        .find_map(|line| line.strip_prefix("added key "))
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("no key added: {rotated}"))
        .to_owned();
    let listed = env.cli(&["keys", "list"]).ok();
    assert!(listed.contains(&format!("{second}  RS256  announced")), "{listed}");
    eventually(|| published(&server), |keys| keys.contains(&second), "the new key is published").await;
    assert_eq!(token_and_signer(&server).await.1, first, "the announced key does not sign yet");

    env.cli(&["keys", "retire", &first]).ok();
    eventually(|| published(&server), |keys| !keys.contains(&first), "the retired key is withdrawn").await;
    eventually(|| token_and_signer(&server), |(_, signer)| *signer == second, "the successor signs").await;
    let refused = server.get("/connect/userinfo", Some(&old_token)).await;
    assert_eq!(refused.status, 401, "a token of the retired key no longer verifies");
    assert!(refused.header("www-authenticate").is_some_and(|value| value.contains("invalid_token")), "{refused:?}");
    env.cli(&["keys", "retire", &first]).fails_with("no signing key");
}
