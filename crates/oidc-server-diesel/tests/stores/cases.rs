//! What only a database store has, each case on an empty test database: expired-grant
//! cleanup, writers on other connections, unreadable rows, migrations, restarts and several
//! server instances. The behaviour every store shares is `oidc_server::conformance`.

use std::time::Duration;

use chrono::TimeDelta;
use diesel::{Connection, RunQueryDsl};
use diesel_any::{AnyConnection, Database, DatabaseError};
use identity_diesel::IdentityMigrations as _;
use oidc_server::conformance::{grant, signing_key, start};
use oidc_server::{ConsumeOutcome, PersistedGrantStore, SigningAlgorithm, SigningKeyStore};
use oidc_server_diesel::{
    DieselClientDocuments, DieselPersistedGrantStore, DieselSigningKeyStore, StoredClientDocument,
};
use test_support::TestDatabase;

use crate::open;
use crate::server::TestServer;

/// Runs one statement without parameters (the same SQL on both backends).
async fn execute(db: &Database, sql: &'static str) {
    db.run(move |connection: &mut AnyConnection| -> Result<_, DatabaseError> {
        Ok(diesel::sql_query(sql).execute(connection)?)
    })
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
        let held = db.run(move |connection: &mut AnyConnection| -> Result<_, DatabaseError> {
            connection.transaction(|connection| {
                diesel::sql_query(sql).execute(connection)?;
                executed.send(()).map_err(|()| DatabaseError::Config("the test stopped waiting".into()))?;
                std::thread::sleep(HOLD);
                Ok(())
            })
        });
        held.await.unwrap_or_else(|error| panic!("{sql}: {error}"));
    });
    has_executed.await.expect("the statement ran");
    commit
}

pub(crate) async fn consume_waits_for_a_concurrent_consumer(database: TestDatabase) {
    let db = open(&database).await;
    let store = DieselPersistedGrantStore::new(db.clone());
    store.store(grant("k", "u", "c", "f")).await.expect("stored");
    let commit = hold_in_transaction(&db, "UPDATE oidc_persisted_grants SET consumed_time = creation_time").await;
    let outcome = store.consume("k", start()).await;
    commit.await.expect("joined");
    match outcome {
        Ok(ConsumeOutcome::AlreadyConsumed(grant)) => assert_eq!(grant.consumed_time, Some(grant.creation_time)),
        other => panic!("the uncommitted consumption must win: {other:?}"),
    }
}

pub(crate) async fn remove_expired_deletes_only_expired_grants(database: TestDatabase) {
    let store = DieselPersistedGrantStore::new(open(&database).await);
    let now = start();
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

pub(crate) async fn unreadable_rows_are_store_errors(database: TestDatabase) {
    let db = open(&database).await;
    let grants = DieselPersistedGrantStore::new(db.clone());
    let keys = DieselSigningKeyStore::new(db.clone());
    grants.store(grant("k", "u", "c", "f")).await.expect("stored");
    assert!(
        keys.add_key_if_none_newer(signing_key("kid", SigningAlgorithm::Rs256, start()), start()).await.expect("ok")
    );
    execute(&db, "UPDATE oidc_persisted_grants SET grant_type = 'device_code'").await;
    execute(&db, "UPDATE oidc_signing_keys SET algorithm = 'HS256'").await;
    for result in [grants.get("k").await.map(drop), grants.consume("k", start()).await.map(drop)] {
        let error = result.expect_err("an unknown grant type cannot be read");
        assert!(matches!(error, oidc_server::Error::Store(_)), "{error:?}");
        let source = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        assert!(source.contains("device_code"), "{source}");
    }
    assert!(matches!(keys.load_keys().await, Err(oidc_server::Error::Store(_))));
}

pub(crate) async fn adding_a_key_waits_for_a_concurrent_key_writer(database: TestDatabase) {
    let db = open(&database).await;
    let store = DieselSigningKeyStore::new(db.clone());
    let commit = hold_in_transaction(
        &db,
        "INSERT INTO oidc_signing_keys (key_id, algorithm, created, data_protected, data) \
         VALUES ('other-instance', 'RS256', '2999-01-01 00:00:00', '1', 'key data')",
    )
    .await;
    let now = start();
    let added =
        store.add_key_if_none_newer(signing_key("mine", SigningAlgorithm::Rs256, now), now - TimeDelta::days(76));
    let added = added.await.expect("ok");
    commit.await.expect("joined");
    assert!(!added, "the check must wait for the other instance's uncommitted key");
    let stored: Vec<_> = store.load_keys().await.expect("ok").into_iter().map(|key| key.key_id).collect();
    assert_eq!(stored, ["other-instance"]);
}

pub(crate) async fn migrations_are_idempotent_reversible_and_apart_from_identity(database: TestDatabase) {
    let db = open(&database).await;
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
    assert_eq!(versions.len(), 3, "{versions:?}");
    assert!(store.get("k").await.is_err(), "the table is gone");
    assert_eq!(oidc_server_diesel::revert_all_migrations(&db).await.expect("ok"), Vec::<String>::new());
    assert_eq!(db.migration_status().await.expect("status"), identity, "the Identity schema is untouched");

    let reapplied = oidc_server_diesel::run_migrations(&db).await.expect("reapplied");
    assert_eq!(
        reapplied,
        versions.into_iter().rev().collect::<Vec<_>>(),
        "reverted newest first, applied oldest first"
    );
    assert_eq!(store.get("k").await.expect("ok"), None);
}

pub(crate) async fn refresh_tokens_and_keys_survive_a_restart(database: TestDatabase) {
    let http = reqwest::Client::new();
    let (refresh_token, kids) = {
        let server = TestServer::start(open(&database).await).await;
        let tokens = server.password_grant(&http).await;
        let kids = server.jwks_kids(&http).await;
        assert_eq!(kids.len(), 1);
        (tokens.refresh_token, kids)
        // The server and its pool are dropped here.
    };

    let server = TestServer::start(open(&database).await).await;
    assert_eq!(server.jwks_kids(&http).await, kids, "the signing key survived");
    let refreshed = server.refresh(&http, &refresh_token).await.expect("the refresh token survived");
    assert_ne!(refreshed.refresh_token, refresh_token, "one-time refresh tokens rotate");
    // The consumption is persisted too: a replay revokes the whole grant.
    assert_eq!(server.refresh(&http, &refresh_token).await.expect_err("a replay"), "invalid_grant");
    assert_eq!(server.refresh(&http, &refreshed.refresh_token).await.expect_err("revoked"), "invalid_grant");
}

pub(crate) async fn two_servers_share_refresh_tokens_and_keys(database: TestDatabase) {
    let http = reqwest::Client::new();
    // Two instances with pools of their own start together: both find no key and race to add one.
    let (a, b) = tokio::join!(async { TestServer::start(open(&database).await).await }, async {
        TestServer::start(open(&database).await).await
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

pub(crate) async fn client_documents_are_inserted_once_and_replaced_only_as_read(database: TestDatabase) {
    let db = open(&database).await;
    let documents = DieselClientDocuments::new(db.clone());
    let stored = |client_id: &str, document: &str, seconds: i64| StoredClientDocument {
        client_id: client_id.to_owned(),
        document: document.to_owned(),
        updated: start() + TimeDelta::seconds(seconds),
    };
    assert!(documents.insert(stored("b", "{\"b\":1}", 0)).await.expect("insert"));
    assert!(documents.insert(stored("a", "{\"a\":1}", 1)).await.expect("insert"));
    assert!(!documents.insert(stored("a", "{\"other\":1}", 2)).await.expect("insert"), "an id is taken once");
    assert_eq!(documents.list().await.expect("list"), [stored("a", "{\"a\":1}", 1), stored("b", "{\"b\":1}", 0)]);

    let later = start() + TimeDelta::seconds(5);
    assert!(!documents.replace("a", "{\"stale\":1}", "{\"a\":2}".into(), later).await.expect("replace"));
    assert!(documents.replace("a", "{\"a\":1}", "{\"a\":2}".into(), later).await.expect("replace"));
    assert!(!documents.replace("a", "{\"a\":1}", "{\"a\":3}".into(), later).await.expect("replace"), "lost update");
    assert_eq!(documents.get("a").await.expect("get"), Some(stored("a", "{\"a\":2}", 5)));
    assert!(!documents.replace("missing", "", "{}".into(), later).await.expect("replace"));

    assert!(documents.delete("a").await.expect("delete"));
    assert!(!documents.delete("a").await.expect("delete"));
    assert_eq!(documents.get("a").await.expect("get"), None);
    assert_eq!(documents.list().await.expect("list").len(), 1);
}
