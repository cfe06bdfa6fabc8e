//! `[proxy] trusted` through the real binary: behind a trusted proxy each forwarded client has
//! its own sign-in budget, and a client cannot pick its address by writing the header itself;
//! without trusted proxies the headers are ignored and every request counts for its peer.

use test_support::Backend;

use crate::interactive::Browser;
use crate::support::{Server, env};

/// A wrong password for alice on the login page, sent as the proxy would with `forwarded` as
/// the header `name`: the status of the answer.
async fn guess(server: &Server, name: &str, forwarded: &str) -> u16 {
    let browser = Browser::new(server);
    let page = browser.get("/account/login").await;
    let form = [
        ("__csrf", page.csrf_token()),
        ("returnUrl", String::new()),
        ("username", "alice".to_owned()),
        ("password", "Wrong-guess-1".to_owned()),
        ("button", "login".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let headers = [("origin", server.address.as_str()), (name, forwarded)];
    browser.post_from("/account/login", &form, &headers).await.status
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_an_untrusted_one_does_not() {
    let env = env(Backend::Sqlite).await;
    env.create_user("alice", &[]);
    let budget = ("IDENTITY_THROTTLING__SIGN_IN_PER_ADDRESS", "2");

    let server = env.serve_with_env(&[], &[budget]);
    assert_eq!(guess(&server, "x-forwarded-for", "203.0.113.1").await, 200);
    assert_eq!(guess(&server, "x-forwarded-for", "203.0.113.2").await, 200);
    assert_eq!(guess(&server, "x-forwarded-for", "203.0.113.3").await, 429, "untrusted: one budget for the peer");
    drop(server);

    let server = env.serve_with_env(&[], &[budget, ("IDENTITY_PROXY__TRUSTED", "127.0.0.0/8, ::1")]);
    assert_eq!(guess(&server, "x-forwarded-for", "203.0.113.1").await, 200);
    assert_eq!(guess(&server, "x-forwarded-for", "203.0.113.1").await, 200);
    assert_eq!(guess(&server, "x-forwarded-for", "203.0.113.1").await, 429, "this client's budget is spent");
    assert_eq!(guess(&server, "x-forwarded-for", "203.0.113.2").await, 200, "another client has its own");
    assert_eq!(
        guess(&server, "x-forwarded-for", "198.51.100.7, 203.0.113.1").await,
        429,
        "an address the client wrote in front of its own is not believed"
    );
    // A Forwarded header, which this proxy does not write, is the client's own: not believed,
    // so these count for the proxy's address, whose budget runs out.
    assert_eq!(guess(&server, "forwarded", "for=198.51.100.9").await, 200);
    assert_eq!(guess(&server, "forwarded", "for=198.51.100.10").await, 200);
    assert_eq!(guess(&server, "forwarded", "for=198.51.100.11").await, 429);
    drop(server);

    let forwarded = [budget, ("IDENTITY_PROXY__TRUSTED", "127.0.0.1"), ("IDENTITY_PROXY__HEADER", "forwarded")];
    let server = env.serve_with_env(&[], &forwarded);
    assert_eq!(guess(&server, "forwarded", "for=\"[2001:db8::1]:4711\";proto=https").await, 200, "RFC 7239");
    drop(server);

    env.serve_refused("127.0.0.1:0", &[], &[("IDENTITY_PROXY__TRUSTED", "10.0.0.0/40")])
        .fails_with("`10.0.0.0/40` is not an address or a network");
}
