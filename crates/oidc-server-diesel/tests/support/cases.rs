//! The behavioural test cases, each on an empty database at `url`. They mirror the tests of
//! oidc-server's in-memory stores, and add what only a database has: concurrent writers,
//! restarts, several server instances and migrations.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Timelike, Utc};
use diesel::{Connection, RunQueryDsl};
use identity_diesel::{AnyConnection, Database, DatabaseUrl, DieselStoreError};
use oidc_server::{
    ConsumeOutcome, GrantFilter, PersistedGrant, PersistedGrantStore, PersistedGrantType, SigningAlgorithm,
    SigningKeyStore, StoredSigningKey,
};
use oidc_server_diesel::{DieselPersistedGrantStore, DieselSigningKeyStore};

use super::open;
use super::server::TestServer;

/// Now, at the precision the store keeps.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn grant(key: &str, subject: &str, client: &str, family: &str) -> PersistedGrant {
    PersistedGrant {
        key: key.into(),
        grant_type: PersistedGrantType::RefreshToken,
        subject_id: Some(subject.into()),
        session_id: None,
        client_id: client.into(),
        family_id: family.into(),
        creation_time: now(),
        expiration: None,
        consumed_time: None,
        data: r#"{"scopes":["api"]}"#.into(),
    }
}

fn signing_key(key_id: &str, algorithm: SigningAlgorithm, created: DateTime<Utc>) -> StoredSigningKey {
    StoredSigningKey {
        key_id: key_id.into(),
        algorithm,
        created,
        data_protected: true,
        data: format!("base64 of the encrypted key {key_id}"),
    }
}

/// Runs one statement without parameters (the same SQL on both backends).
async fn execute(db: &Database, sql: &'static str) {
    db.run(move |connection: &mut AnyConnection| Ok(diesel::sql_query(sql).execute(connection)?))
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// Runs `sql` (without parameters) in a transaction of another connection, as another server
/// instance would, and returns once it has run: the transaction then holds its locks for
/// `HOLD` before it commits, which the returned task reports.
async fn hold_in_transaction(db: &Database, sql: &'static str) -> tokio::task::JoinHandle<()> {
    const HOLD: Duration = Duration::from_millis(400);
    let (executed, has_executed) = tokio::sync::oneshot::channel();
    let db = db.clone();
    let commit = tokio::spawn(async move {
        let held = db.run(move |connection: &mut AnyConnection| {
            connection.transaction(|connection| {
                diesel::sql_query(sql).execute(connection)?;
                executed.send(()).map_err(|()| DieselStoreError::Config("the test stopped waiting".into()))?;
                std::thread::sleep(HOLD);
                Ok(())
            })
        });
        held.await.unwrap_or_else(|error| panic!("{sql}: {error}"));
    });
    has_executed.await.expect("the statement ran");
    commit
}

pub(crate) async fn grants_round_trip_and_replace(url: &DatabaseUrl) {
    let store = DieselPersistedGrantStore::new(open(url).await);
    assert_eq!(store.get("k").await.expect("ok"), None);

    let mut stored = grant("k", "alice", "app", "f");
    stored.session_id = Some("session".into());
    stored.expiration = Some(stored.creation_time + TimeDelta::days(30));
    store.store(stored.clone()).await.expect("stored");
    assert_eq!(store.get("k").await.expect("ok"), Some(stored.clone()));

    // Storing the same key replaces the grant, optional fields included.
    let mut replacement = grant("k", "bob", "other", "f2");
    replacement.consumed_time = Some(now());
    replacement.data = "{}".into();
    store.store(replacement.clone()).await.expect("replaced");
    assert_eq!(store.get("k").await.expect("ok"), Some(replacement));

    // Times are kept to the microsecond.
    let precise = Utc::now().with_nanosecond(123_456_789).expect("a valid instant");
    let mut fine = grant("fine", "alice", "app", "f");
    fine.creation_time = precise;
    store.store(fine).await.expect("stored");
    let read = store.get("fine").await.expect("ok").expect("found");
    assert_eq!(read.creation_time, precise.trunc_subsecs(6));
}

pub(crate) async fn consume_succeeds_exactly_once(url: &DatabaseUrl) {
    let store = DieselPersistedGrantStore::new(open(url).await);
    let stored = grant("k", "u", "c", "f");
    store.store(stored.clone()).await.expect("stored");
    let at = now();
    match store.consume("k", at).await {
        Ok(ConsumeOutcome::Consumed(before)) => assert_eq!(before, stored),
        other => panic!("unexpected {other:?}"),
    }
    match store.consume("k", at + TimeDelta::seconds(1)).await {
        Ok(ConsumeOutcome::AlreadyConsumed(grant)) => assert_eq!(grant.consumed_time, Some(at)),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(store.get("k").await.expect("ok").and_then(|grant| grant.consumed_time), Some(at));
    assert!(matches!(store.consume("x", at).await, Ok(ConsumeOutcome::NotFound)));
}

pub(crate) async fn concurrent_consumers_exactly_one_wins(url: &DatabaseUrl) {
    const CONSUMERS: usize = 16;
    let store = Arc::new(DieselPersistedGrantStore::new(open(url).await));
    store.store(grant("k", "u", "c", "f")).await.expect("stored");
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.consume("k", now()).await })
        })
        .collect();
    let (mut consumed, mut already_consumed) = (0, 0);
    for consumer in consumers {
        match consumer.await.expect("joined") {
            Ok(ConsumeOutcome::Consumed(before)) => {
                assert_eq!(before.consumed_time, None);
                consumed += 1;
            }
            Ok(ConsumeOutcome::AlreadyConsumed(_)) => already_consumed += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((consumed, already_consumed), (1, CONSUMERS - 1));
}

pub(crate) async fn consume_waits_for_a_concurrent_consumer(url: &DatabaseUrl) {
    let db = open(url).await;
    let store = DieselPersistedGrantStore::new(db.clone());
    store.store(grant("k", "u", "c", "f")).await.expect("stored");
    let commit = hold_in_transaction(&db, "UPDATE oidc_persisted_grants SET consumed_time = creation_time").await;
    let outcome = store.consume("k", now()).await;
    commit.await.expect("joined");
    match outcome {
        Ok(ConsumeOutcome::AlreadyConsumed(grant)) => assert_eq!(grant.consumed_time, Some(grant.creation_time)),
        other => panic!("the uncommitted consumption must win: {other:?}"),
    }
}

pub(crate) async fn remove_all_by_family_and_by_subject_and_client(url: &DatabaseUrl) {
    let store = DieselPersistedGrantStore::new(open(url).await);
    for stored in [
        grant("1", "alice", "app", "f1"),
        grant("2", "alice", "app", "f1"),
        grant("3", "alice", "app", "f2"),
        grant("4", "alice", "other", "f3"),
        grant("5", "bob", "app", "f4"),
    ] {
        store.store(stored).await.expect("stored");
    }
    assert_eq!(store.remove_all(&GrantFilter::family("f1")).await.expect("ok"), 2);
    let removed = store.remove_all(&GrantFilter::subject_and_client("alice", "app")).await.expect("ok");
    assert_eq!(removed, 1);
    assert!(store.get("4").await.expect("ok").is_some());
    assert!(store.get("5").await.expect("ok").is_some());
    assert!(store.remove_all(&GrantFilter::default()).await.is_err());
    assert_eq!(store.remove_all(&GrantFilter::family("nothing")).await.expect("ok"), 0);
    store.remove("5").await.expect("ok");
    assert!(store.get("5").await.expect("ok").is_none());
    store.remove("5").await.expect("removing a missing grant is fine");

    // The remaining criteria: session and grant type.
    let mut in_session = grant("6", "carol", "app", "f5");
    in_session.session_id = Some("s1".into());
    store.store(in_session).await.expect("stored");
    let mut filter = GrantFilter::default();
    filter.session_id = Some("s1".into());
    filter.grant_type = Some(PersistedGrantType::RefreshToken);
    assert_eq!(store.remove_all(&filter).await.expect("ok"), 1);
    assert!(store.get("4").await.expect("ok").is_some());
}

pub(crate) async fn remove_expired_deletes_only_expired_grants(url: &DatabaseUrl) {
    let store = DieselPersistedGrantStore::new(open(url).await);
    let now = now();
    let mut expired = grant("expired", "u", "c", "f1");
    expired.expiration = Some(now - TimeDelta::seconds(1));
    let mut expiring_now = grant("expiring-now", "u", "c", "f2");
    expiring_now.expiration = Some(now);
    let mut valid = grant("valid", "u", "c", "f3");
    valid.expiration = Some(now + TimeDelta::microseconds(1));
    let unlimited = grant("unlimited", "u", "c", "f4");
    for stored in [expired, expiring_now, valid, unlimited] {
        store.store(stored).await.expect("stored");
    }
    assert_eq!(store.remove_expired(now).await.expect("ok"), 2);
    for (key, kept) in [("expired", false), ("expiring-now", false), ("valid", true), ("unlimited", true)] {
        assert_eq!(store.get(key).await.expect("ok").is_some(), kept, "{key}");
    }
}

pub(crate) async fn unreadable_rows_are_store_errors(url: &DatabaseUrl) {
    let db = open(url).await;
    let grants = DieselPersistedGrantStore::new(db.clone());
    let keys = DieselSigningKeyStore::new(db.clone());
    grants.store(grant("k", "u", "c", "f")).await.expect("stored");
    assert!(keys.add_key_if_none_newer(signing_key("kid", SigningAlgorithm::Rs256, now()), now()).await.expect("ok"));
    execute(&db, "UPDATE oidc_persisted_grants SET grant_type = 'device_code'").await;
    execute(&db, "UPDATE oidc_signing_keys SET algorithm = 'HS256'").await;
    for result in [grants.get("k").await.map(drop), grants.consume("k", now()).await.map(drop)] {
        let error = result.expect_err("an unknown grant type cannot be read");
        assert!(matches!(error, oidc_server::Error::Store(_)), "{error:?}");
        let source = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        assert!(source.contains("device_code"), "{source}");
    }
    assert!(matches!(keys.load_keys().await, Err(oidc_server::Error::Store(_))));
}

pub(crate) async fn signing_keys_round_trip_and_newer_keys_block_adding(url: &DatabaseUrl) {
    let store = DieselSigningKeyStore::new(open(url).await);
    assert!(store.load_keys().await.expect("ok").is_empty());
    let now = now();
    let first = signing_key("first", SigningAlgorithm::Rs256, now - TimeDelta::days(80));
    assert!(store.add_key_if_none_newer(first.clone(), now - TimeDelta::days(365)).await.expect("ok"));
    let mut unprotected = signing_key("eddsa", SigningAlgorithm::EdDsa, now);
    unprotected.data_protected = false;
    assert!(store.add_key_if_none_newer(unprotected.clone(), now - TimeDelta::days(1)).await.expect("ok"));

    // A key of the same algorithm newer than the bound blocks; an older one or another
    // algorithm's does not.
    let successor = signing_key("successor", SigningAlgorithm::Rs256, now);
    assert!(!store.add_key_if_none_newer(successor.clone(), now - TimeDelta::days(81)).await.expect("ok"));
    assert!(
        !store
            .add_key_if_none_newer(successor.clone(), now - TimeDelta::days(80) - TimeDelta::microseconds(1))
            .await
            .expect("ok")
    );
    assert!(store.add_key_if_none_newer(successor.clone(), now - TimeDelta::days(80)).await.expect("ok"));
    let es256 = signing_key("es256", SigningAlgorithm::Es256, now);
    assert!(store.add_key_if_none_newer(es256.clone(), now - TimeDelta::days(1)).await.expect("ok"));

    let mut loaded = store.load_keys().await.expect("ok");
    loaded.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    assert_eq!(loaded, vec![unprotected, es256, first, successor.clone()]);

    store.delete_key("first").await.expect("deleted");
    store.delete_key("missing").await.expect("deleting a missing key is fine");
    let ids: Vec<_> = store.load_keys().await.expect("ok").into_iter().map(|key| key.key_id).collect();
    assert_eq!(ids.len(), 3);
    assert!(!ids.contains(&"first".to_owned()));
    assert!(ids.contains(&successor.key_id));
}

pub(crate) async fn racing_key_adders_agree_on_one_key(url: &DatabaseUrl) {
    const ADDERS: usize = 8;
    let store = Arc::new(DieselSigningKeyStore::new(open(url).await));
    let now = now();
    let adders: Vec<_> = (0..ADDERS)
        .map(|adder| {
            let store = Arc::clone(&store);
            let key = signing_key(&format!("key-{adder}"), SigningAlgorithm::Rs256, now);
            tokio::spawn(async move { store.add_key_if_none_newer(key, now - TimeDelta::days(76)).await })
        })
        .collect();
    let mut added = Vec::new();
    for (adder, task) in adders.into_iter().enumerate() {
        if task.await.expect("joined").expect("ok") {
            added.push(format!("key-{adder}"));
        }
    }
    assert_eq!(added.len(), 1, "{added:?}");
    let stored: Vec<_> = store.load_keys().await.expect("ok").into_iter().map(|key| key.key_id).collect();
    assert_eq!(stored, added);
}

pub(crate) async fn adding_a_key_waits_for_a_concurrent_key_writer(url: &DatabaseUrl) {
    let db = open(url).await;
    let store = DieselSigningKeyStore::new(db.clone());
    let commit = hold_in_transaction(
        &db,
        "INSERT INTO oidc_signing_keys (key_id, algorithm, created, data_protected, data) \
         VALUES ('other-instance', 'RS256', '2999-01-01 00:00:00', '1', 'key data')",
    )
    .await;
    let now = now();
    let added =
        store.add_key_if_none_newer(signing_key("mine", SigningAlgorithm::Rs256, now), now - TimeDelta::days(76));
    let added = added.await.expect("ok");
    commit.await.expect("joined");
    assert!(!added, "the check must wait for the other instance's uncommitted key");
    let stored: Vec<_> = store.load_keys().await.expect("ok").into_iter().map(|key| key.key_id).collect();
    assert_eq!(stored, ["other-instance"]);
}

pub(crate) async fn migrations_are_idempotent_reversible_and_apart_from_identity(url: &DatabaseUrl) {
    let db = open(url).await;
    assert_eq!(oidc_server_diesel::run_migrations(&db).await.expect("ok"), Vec::<String>::new());

    // identity-diesel neither lists nor trips over this crate's migrations.
    let identity = db.migration_status().await.expect("status");
    assert!(identity.pending.is_empty());
    let reverted = db.revert_last_migration().await.expect("identity-diesel reverts its own migration");
    assert_eq!(reverted.as_ref(), identity.applied.last());
    assert_eq!(db.run_migrations().await.expect("reapplied"), Vec::from_iter(reverted));

    let store = DieselPersistedGrantStore::new(db.clone());
    store.store(grant("k", "u", "c", "f")).await.expect("stored");
    let versions = oidc_server_diesel::revert_all_migrations(&db).await.expect("reverted");
    assert_eq!(versions.len(), 1);
    assert!(store.get("k").await.is_err(), "the table is gone");
    assert_eq!(oidc_server_diesel::revert_all_migrations(&db).await.expect("ok"), Vec::<String>::new());
    assert_eq!(db.migration_status().await.expect("status"), identity, "the Identity schema is untouched");

    assert_eq!(oidc_server_diesel::run_migrations(&db).await.expect("reapplied"), versions);
    assert_eq!(store.get("k").await.expect("ok"), None);
}

pub(crate) async fn refresh_tokens_and_keys_survive_a_restart(url: &DatabaseUrl) {
    let http = reqwest::Client::new();
    let (refresh_token, kids) = {
        let server = TestServer::start(open(url).await).await;
        let tokens = server.password_grant(&http).await;
        let kids = server.jwks_kids(&http).await;
        assert_eq!(kids.len(), 1);
        (tokens.refresh_token, kids)
        // The server and its pool are dropped here.
    };

    let server = TestServer::start(open(url).await).await;
    assert_eq!(server.jwks_kids(&http).await, kids, "the signing key survived");
    let refreshed = server.refresh(&http, &refresh_token).await.expect("the refresh token survived");
    assert_ne!(refreshed.refresh_token, refresh_token, "one-time refresh tokens rotate");
    // The consumption is persisted too: a replay revokes the whole grant.
    assert_eq!(server.refresh(&http, &refresh_token).await.expect_err("a replay"), "invalid_grant");
    assert_eq!(server.refresh(&http, &refreshed.refresh_token).await.expect_err("revoked"), "invalid_grant");
}

pub(crate) async fn two_servers_share_refresh_tokens_and_keys(url: &DatabaseUrl) {
    let http = reqwest::Client::new();
    // Two instances with pools of their own start together: both find no key and race to add one.
    let (a, b) = tokio::join!(async { TestServer::start(open(url).await).await }, async {
        TestServer::start(open(url).await).await
    });
    let kids = a.jwks_kids(&http).await;
    assert_eq!(kids.len(), 1, "the instances agreed on one key");
    assert_eq!(b.jwks_kids(&http).await, kids);

    let first = a.password_grant(&http).await;
    let second = b.refresh(&http, &first.refresh_token).await.expect("b accepts a's refresh token");
    assert_eq!(a.refresh(&http, &first.refresh_token).await.expect_err("a replay at a"), "invalid_grant");
    assert_eq!(b.refresh(&http, &second.refresh_token).await.expect_err("revoked"), "invalid_grant");

    // The same refresh token presented to both at once: at most one wins, the other is a replay
    // and revokes the grant; when the revocation overtakes the winner's rotation, the winner
    // fails too, since no token of a replayed family may live.
    let tokens = a.password_grant(&http).await;
    let (at_a, at_b) = tokio::join!(a.refresh(&http, &tokens.refresh_token), b.refresh(&http, &tokens.refresh_token));
    assert!(usize::from(at_a.is_ok()) + usize::from(at_b.is_ok()) <= 1, "{at_a:?} {at_b:?}");
    for rotated in [at_a, at_b].into_iter().flatten() {
        assert_eq!(a.refresh(&http, &rotated.refresh_token).await.expect_err("revoked"), "invalid_grant");
    }
}
