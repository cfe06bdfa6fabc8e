//! Security-stamp session validation through a real token server on a manual clock: the login
//! page's session subject carries the stamp, and a credential change, a deleted user or an
//! inactive one ends the session at the next re-validation, not before.

use async_trait::async_trait;
use axum::http::{HeaderMap, HeaderValue, header};
use identity_core::memory::MemoryStore;
use identity_core::{Argon2Params, IdentityPasswordHasher, IdentityUser, UserManager};
use identity_oidc::{
    AspNetIdentity, SECURITY_STAMP_CLAIM_TYPE, SecurityStampSessionValidator, ServerBuilderExt as _, UserActivity,
    password_session_subject,
};
use oidc_server::{ManualClock, OidcServer, SessionValidator as _, UserSession};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const PASSWORD: &str = "Pass123$";

type Users = Arc<UserManager<()>>;

fn users() -> Users {
    let hasher = IdentityPasswordHasher::argon2id(Argon2Params::INSECURE_MINIMUM).expect("valid parameters");
    Arc::new(UserManager::builder(Arc::new(MemoryStore::<()>::new())).password_hasher(Arc::new(hasher)).build())
}

async fn alice(users: &Users) -> IdentityUser<()> {
    let mut user = IdentityUser::new("alice");
    assert!(users.create_with_password(&mut user, PASSWORD).await.expect("create").succeeded());
    user
}

/// A user is active while this flag is up.
#[derive(Debug)]
struct Switch(AtomicBool);

#[async_trait]
impl UserActivity<()> for Switch {
    async fn is_user_active(&self, _user: &IdentityUser<()>) -> identity_oidc::Result<bool> {
        Ok(self.0.load(Ordering::SeqCst))
    }
}

/// A token server with the identity adapter (and so its session validator) on `clock`.
async fn server(users: &Users, clock: Arc<ManualClock>, activity: Arc<Switch>) -> OidcServer {
    OidcServer::builder("https://id.example.com")
        .session_secret([9_u8; 32])
        .clock(clock)
        .add_asp_net_identity(AspNetIdentity::without_roles(users.clone()).with_user_activity(activity))
        .build()
        .await
        .expect("the server builds")
}

/// The request headers of a browser holding the cookie of `set_cookie`.
fn cookie(set_cookie: &HeaderValue) -> HeaderMap {
    let pair = set_cookie.to_str().expect("ASCII").split(';').next().expect("name=value").to_owned();
    let mut headers = HeaderMap::new();
    headers.insert(header::COOKIE, HeaderValue::from_str(&pair).expect("valid header"));
    headers
}

/// Signs `user` in on `server` as the login page does; returns the browser's cookie header.
async fn sign_in(server: &OidcServer, users: &Users, user: &IdentityUser<()>) -> HeaderMap {
    let subject = password_session_subject(users, user, server.now()).await.expect("subject");
    cookie(&server.sign_in(subject, false).await.expect("signed in").set_cookie)
}

async fn is_signed_in(server: &OidcServer, headers: &HeaderMap) -> bool {
    server.current_session(headers).await.expect("session read").session.is_some()
}

struct Fixture {
    users: Users,
    alice: IdentityUser<()>,
    activity: Arc<Switch>,
    server: OidcServer,
}

async fn fixture() -> Fixture {
    let users = users();
    let alice = alice(&users).await;
    let clock = Arc::new(ManualClock::new(test_support::clock::start()));
    let activity = Arc::new(Switch(AtomicBool::new(true)));
    let server = server(&users, clock, activity.clone()).await;
    Fixture { users, alice, activity, server }
}

#[tokio::test]
async fn the_session_subject_carries_sub_pwd_local_and_the_stamp() {
    let Fixture { users, alice, .. } = fixture().await;
    let time = test_support::clock::start();
    let subject = password_session_subject(&users, &alice, time).await.expect("subject");
    assert_eq!(subject.subject_id, alice.id);
    assert_eq!(subject.authentication_methods, ["pwd"]);
    assert_eq!(subject.identity_provider, "local");
    assert_eq!(subject.authentication_time, time);
    let stamp = subject.claims.iter().find(|claim| claim.claim_type == SECURITY_STAMP_CLAIM_TYPE).expect("stamp");
    assert_eq!(stamp.value, users.get_security_stamp(&alice).await.expect("stamp").as_str());
    assert_eq!(SECURITY_STAMP_CLAIM_TYPE, "AspNet.Identity.SecurityStamp");
}

#[tokio::test]
async fn a_changed_password_ends_the_session_at_the_next_request() {
    let Fixture { users, mut alice, server, .. } = fixture().await;
    let browser = sign_in(&server, &users, &alice).await;
    let current = server.current_session(&browser).await.expect("read");
    assert!(current.session.is_some(), "an unchanged stamp passes");
    assert!(current.set_cookie.is_none(), "a valid session is not rewritten");

    assert!(users.change_password(&mut alice, PASSWORD, "N3w!secret").await.expect("change").succeeded());
    let current = server.current_session(&browser).await.expect("read");
    assert!(current.session.is_none(), "the stamp changed: signed out");
    let clear = current.set_cookie.expect("the cookie is deleted");
    assert!(clear.to_str().is_ok_and(|value| value.contains("Max-Age=0")), "{clear:?}");
}

#[tokio::test]
async fn deleted_and_inactive_users_are_signed_out() {
    let Fixture { users, alice, activity, server, .. } = fixture().await;
    let browser = sign_in(&server, &users, &alice).await;
    activity.0.store(false, Ordering::SeqCst);
    assert!(!is_signed_in(&server, &browser).await, "inactive");

    activity.0.store(true, Ordering::SeqCst);
    let browser = sign_in(&server, &users, &alice).await;
    assert!(users.delete(&alice).await.expect("delete").succeeded());
    assert!(!is_signed_in(&server, &browser).await, "deleted");
}

#[tokio::test]
async fn sessions_without_the_stamp_claim_or_with_a_forged_one_are_rejected() {
    let Fixture { users, alice, activity, .. } = fixture().await;
    let validator = SecurityStampSessionValidator::new(users.clone(), activity);
    let server = OidcServer::builder("https://id.example.com").build().await.expect("builds");
    let valid = password_session_subject(&users, &alice, test_support::clock::start()).await.expect("subject");
    let session = async |subject| -> UserSession { server.sign_in(subject, false).await.expect("signed in").session };
    assert!(validator.validate_session(&session(valid.clone()).await).await.expect("validated"));

    let mut stampless = valid.clone();
    stampless.claims.clear();
    assert!(!validator.validate_session(&session(stampless).await).await.expect("validated"));
    let mut forged = valid;
    forged.claims[0].value = "NOT-THE-STAMP".into();
    assert!(!validator.validate_session(&session(forged).await).await.expect("validated"));
}
