//! The conformance suite of the token server's store traits (feature `conformance`), in the
//! style of `identity-conformance`: one `pub async fn` per behaviour that every
//! [`PersistedGrantStore`], [`SigningKeyStore`] and [`ServerSideSessionStore`] must have, run by the in-memory stores here
//! and by every database store (`oidc-server-diesel` on SQLite and PostgreSQL).
//!
//! A store crate stamps every case with [`operational_store_conformance!`](crate::operational_store_conformance)
//! and a fixture that returns fresh, empty [`OperationalStores`]; the crate's
//! `every_case_is_listed` test keeps the macro's list and the functions in step. The stores' traits have no optional capability yet, so
//! every case applies to every store; a trait added later gets its cases here, and a store that
//! cannot support one fails them rather than skipping them.
//!
//! Times come from [`start`], a fixed instant, never from the wall clock: the store methods
//! take "now" as an argument.

use std::any::Any;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, TimeDelta, Timelike, Utc};

use crate::{
    ConsumeOutcome, GrantFilter, PersistedGrant, PersistedGrantStore, PersistedGrantType, ServerSideSessionStore,
    SessionFilter, SigningAlgorithm, SigningKeyStore, StoredSession, StoredSigningKey, Subject, TokenClaim,
};

/// The stores under test, fresh and empty, on one backing store.
pub struct OperationalStores {
    /// The persisted-grant store.
    pub grants: Arc<dyn PersistedGrantStore>,
    /// The signing-key store.
    pub keys: Arc<dyn SigningKeyStore>,
    /// The session store.
    pub sessions: Arc<dyn ServerSideSessionStore>,
    /// What must live as long as the stores, such as a test database.
    pub guard: Box<dyn Any + Send>,
}

impl std::fmt::Debug for OperationalStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperationalStores").finish_non_exhaustive()
    }
}

/// Stamps every case of this module for a store, through `test_support::backend_cases!` (the
/// calling crate needs `test-support` and `tokio` as dev-dependencies): `setup` is an
/// `async fn(test_support::Backend) -> OperationalStores` returning fresh, empty stores.
///
/// ```ignore
/// oidc_server::operational_store_conformance!(setup: crate::stores, backends: [sqlite, postgres]);
/// ```
#[macro_export]
macro_rules! operational_store_conformance {
    (setup: $setup:path, backends: [$($backend:ident),+ $(,)?] $(,)?) => {
        ::test_support::backend_cases! {
            setup: $setup,
            backends: [$($backend),+],
            module: oidc_server::conformance,
            cases: [
                grants_round_trip_and_replace,
                consume_succeeds_exactly_once,
                consume_and_store_rotates_whole_or_not_at_all,
                concurrent_consumers_exactly_one_wins,
                remove_all_by_family_and_by_subject_and_client,
                signing_keys_round_trip_and_newer_keys_block_adding,
                racing_key_adders_agree_on_one_key,
                sessions_round_trip_and_renew,
                clients_are_recorded_once_in_order_even_concurrently,
                sessions_end_one_by_one_by_filter_and_when_expired,
                ended_sessions_wait_for_one_claimer_until_delivered,
            ],
        }
    };
}

/// The instant the cases start from (2025-01-15 12:00:00 UTC), at the microsecond precision
/// every store must keep.
pub fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_736_942_400, 0).unwrap_or_default()
}

/// A refresh-token grant of `subject` at `client` in `family`, created at [`start`].
pub fn grant(key: &str, subject: &str, client: &str, family: &str) -> PersistedGrant {
    PersistedGrant {
        key: key.into(),
        grant_type: PersistedGrantType::RefreshToken,
        subject_id: Some(subject.into()),
        session_id: None,
        client_id: client.into(),
        family_id: family.into(),
        creation_time: start(),
        expiration: None,
        consumed_time: None,
        data: r#"{"scopes":["api"]}"#.into(),
    }
}

/// A protected signing key record (its data is opaque to the store).
pub fn signing_key(key_id: &str, algorithm: SigningAlgorithm, created: DateTime<Utc>) -> StoredSigningKey {
    StoredSigningKey {
        key_id: key_id.into(),
        algorithm,
        created,
        data_protected: true,
        data: format!("base64 of the encrypted key {key_id}"),
    }
}

/// A grant reads back as stored, optional fields included; storing a key again replaces the
/// grant; times keep at least microsecond precision.
pub async fn grants_round_trip_and_replace(stores: OperationalStores) {
    let store = stores.grants;
    assert_eq!(store.get("k").await.expect("ok"), None);

    let mut stored = grant("k", "alice", "app", "f");
    stored.session_id = Some("session".into());
    stored.expiration = Some(stored.creation_time + TimeDelta::days(30));
    store.store(stored.clone()).await.expect("stored");
    assert_eq!(store.get("k").await.expect("ok"), Some(stored.clone()));

    let mut replacement = grant("k", "bob", "other", "f2");
    replacement.consumed_time = Some(start() + TimeDelta::seconds(1));
    replacement.data = "{}".into();
    store.store(replacement.clone()).await.expect("replaced");
    assert_eq!(store.get("k").await.expect("ok"), Some(replacement));

    let precise = start().with_nanosecond(123_456_789).expect("a valid instant");
    let mut fine = grant("fine", "alice", "app", "f");
    fine.creation_time = precise;
    store.store(fine).await.expect("stored");
    let read = store.get("fine").await.expect("ok").expect("found");
    assert_eq!(read.creation_time.trunc_subsecs(6), precise.trunc_subsecs(6));
}

/// The first consumption returns the grant as it was; later ones see it consumed.
pub async fn consume_succeeds_exactly_once(stores: OperationalStores) {
    let store = stores.grants;
    let stored = grant("k", "u", "c", "f");
    store.store(stored.clone()).await.expect("stored");
    let at = start() + TimeDelta::minutes(1);
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

/// A rotation stores the successor only when it consumed the grant: never for a replay or an
/// unknown key; and of concurrent rotations of one grant, exactly one successor is stored.
pub async fn consume_and_store_rotates_whole_or_not_at_all(stores: OperationalStores) {
    const ROTATORS: usize = 8;
    let store = stores.grants;
    let parent = grant("k", "u", "c", "f");
    store.store(parent.clone()).await.expect("stored");
    let at = start() + TimeDelta::minutes(1);
    match store.consume_and_store("k", at, grant("next", "u", "c", "f")).await {
        Ok(ConsumeOutcome::Consumed(before)) => assert_eq!(before, parent),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(store.get("next").await.expect("ok"), Some(grant("next", "u", "c", "f")));
    let replay = store.consume_and_store("k", at, grant("replayed", "u", "c", "f")).await;
    assert!(matches!(replay, Ok(ConsumeOutcome::AlreadyConsumed(_))), "{replay:?}");
    let unknown = store.consume_and_store("x", at, grant("orphan", "u", "c", "f")).await;
    assert!(matches!(unknown, Ok(ConsumeOutcome::NotFound)), "{unknown:?}");
    for never_stored in ["replayed", "orphan"] {
        assert_eq!(store.get(never_stored).await.expect("ok"), None, "{never_stored}");
    }

    store.store(grant("racy", "u", "c", "g")).await.expect("stored");
    let rotators: Vec<_> = (0..ROTATORS)
        .map(|rotator| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store.consume_and_store("racy", at, grant(&format!("s{rotator}"), "u", "c", "g")).await
            })
        })
        .collect();
    for rotator in rotators {
        assert!(rotator.await.expect("joined").is_ok());
    }
    let family = store.get_all(&GrantFilter::family("g")).await.expect("the family");
    let live: Vec<_> = family.iter().filter(|grant| grant.consumed_time.is_none()).collect();
    assert_eq!((family.len(), live.len()), (2, 1), "the parent and one successor: {family:?}");
}

/// Of concurrent consumers of one grant, exactly one consumes it.
pub async fn concurrent_consumers_exactly_one_wins(stores: OperationalStores) {
    const CONSUMERS: usize = 16;
    let store = stores.grants;
    store.store(grant("k", "u", "c", "f")).await.expect("stored");
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|consumer| {
            let store = Arc::clone(&store);
            let at = start() + TimeDelta::milliseconds(i64::try_from(consumer).unwrap_or_default());
            tokio::spawn(async move { store.consume("k", at).await })
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

/// `get_all` and `remove_all` apply every criterion of the filter and refuse an empty filter,
/// and `remove` of a missing grant is fine.
pub async fn remove_all_by_family_and_by_subject_and_client(stores: OperationalStores) {
    let store = stores.grants;
    for stored in [
        grant("1", "alice", "app", "f1"),
        grant("2", "alice", "app", "f1"),
        grant("3", "alice", "app", "f2"),
        grant("4", "alice", "other", "f3"),
        grant("5", "bob", "app", "f4"),
    ] {
        store.store(stored).await.expect("stored");
    }
    let keys = |grants: Vec<PersistedGrant>| {
        let mut keys: Vec<String> = grants.into_iter().map(|grant| grant.key).collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(store.get_all(&GrantFilter::subject("alice")).await.expect("ok")), ["1", "2", "3", "4"]);
    assert_eq!(
        keys(store.get_all(&GrantFilter::subject_and_client("alice", "app")).await.expect("ok")),
        ["1", "2", "3"]
    );
    let one_family = GrantFilter { client_id: Some("app".into()), ..GrantFilter::family("f2") };
    assert_eq!(keys(store.get_all(&one_family).await.expect("ok")), ["3"]);
    assert_eq!(
        store.get_all(&GrantFilter::subject("alice")).await.expect("ok").iter().find(|grant| grant.key == "4"),
        Some(&grant("4", "alice", "other", "f3"))
    );
    assert!(store.get_all(&GrantFilter::default()).await.is_err());
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

    let mut in_session = grant("6", "carol", "app", "f5");
    in_session.session_id = Some("s1".into());
    store.store(in_session).await.expect("stored");
    let filter = GrantFilter {
        session_id: Some("s1".into()),
        grant_type: Some(PersistedGrantType::RefreshToken),
        ..GrantFilter::default()
    };
    assert_eq!(store.remove_all(&filter).await.expect("ok"), 1);
    assert!(store.get("4").await.expect("ok").is_some());
}

/// Keys read back as stored; a key of the same algorithm newer than the bound blocks adding,
/// an older one or another algorithm's does not; deleting a missing key is fine.
pub async fn signing_keys_round_trip_and_newer_keys_block_adding(stores: OperationalStores) {
    let store = stores.keys;
    assert!(store.load_keys().await.expect("ok").is_empty());
    let now = start();
    let first = signing_key("first", SigningAlgorithm::Rs256, now - TimeDelta::days(80));
    assert!(store.add_key_if_none_newer(first.clone(), now - TimeDelta::days(365)).await.expect("ok"));
    let mut unprotected = signing_key("eddsa", SigningAlgorithm::EdDsa, now);
    unprotected.data_protected = false;
    assert!(store.add_key_if_none_newer(unprotected.clone(), now - TimeDelta::days(1)).await.expect("ok"));

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

/// Of instances racing to add a key when none is current, exactly one adds it.
pub async fn racing_key_adders_agree_on_one_key(stores: OperationalStores) {
    const ADDERS: usize = 8;
    let store = stores.keys;
    let now = start();
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

/// A browser session of `subject_id`, signed in `minutes_ago` minutes before [`start`] and
/// ending an hour after it.
pub fn session(session_id: &str, subject_id: &str, minutes_ago: i64) -> StoredSession {
    let created = start() - TimeDelta::minutes(minutes_ago);
    let mut subject = Subject::new(subject_id, "pwd", created).with_claims([TokenClaim::new("stamp", "s-1")]);
    subject.session_id = Some(session_id.into());
    StoredSession {
        session_id: session_id.into(),
        subject,
        created,
        renewed: created,
        expires: start() + TimeDelta::hours(1),
        persistent: false,
        client_ids: Vec::new(),
    }
}

/// A session reads back as stored (its subject's claims included); renewing moves its renewal
/// and end; neither applies to a missing session.
pub async fn sessions_round_trip_and_renew(stores: OperationalStores) {
    let store = stores.sessions;
    assert_eq!(store.get("s1").await.expect("ok"), None);
    let mut stored = session("s1", "alice", 5);
    stored.persistent = true;
    store.create(stored.clone()).await.expect("created");
    assert_eq!(store.get("s1").await.expect("ok"), Some(stored.clone()));

    let (renewed, expires) = (start() + TimeDelta::minutes(1), start() + TimeDelta::hours(2));
    assert!(store.renew("s1", renewed, expires).await.expect("ok"));
    let read = store.get("s1").await.expect("ok").expect("found");
    assert_eq!((read.renewed, read.expires, read.created), (renewed, expires, stored.created));
    assert!(!store.renew("missing", renewed, expires).await.expect("ok"));
    assert!(!store.add_client("missing", "app").await.expect("ok"));
}

/// The clients a session issued tokens to are recorded once each, in the order they first
/// did, also when many are added at once.
pub async fn clients_are_recorded_once_in_order_even_concurrently(stores: OperationalStores) {
    let store = stores.sessions;
    store.create(session("s1", "alice", 0)).await.expect("created");
    for client in ["web", "api", "web"] {
        assert!(store.add_client("s1", client).await.expect("ok"));
    }
    assert_eq!(store.get("s1").await.expect("ok").expect("found").client_ids, ["web", "api"]);

    const CLIENTS: usize = 12;
    let adders: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.add_client("s1", &format!("client-{}", client % 6)).await })
        })
        .collect();
    for adder in adders {
        assert!(adder.await.expect("joined").expect("ok"));
    }
    let clients = store.get("s1").await.expect("ok").expect("found").client_ids;
    assert_eq!(clients.len(), 2 + 6, "{clients:?}");
    assert_eq!(&clients[..2], ["web", "api"]);
}

/// Sessions end one at a time, by user or client, and when expired; lists come oldest first.
pub async fn sessions_end_one_by_one_by_filter_and_when_expired(stores: OperationalStores) {
    let store = stores.sessions;
    for stored in [session("a1", "alice", 30), session("a2", "alice", 20), session("b1", "bob", 10)] {
        store.create(stored).await.expect("created");
    }
    let mut expired = session("c1", "carol", 40);
    expired.expires = start();
    store.create(expired).await.expect("created");
    assert!(store.add_client("a2", "web").await.expect("ok"));

    let ids = |sessions: Vec<StoredSession>| sessions.into_iter().map(|s| s.session_id).collect::<Vec<_>>();
    assert_eq!(ids(store.list(&SessionFilter::all()).await.expect("ok")), ["c1", "a1", "a2", "b1"]);
    assert_eq!(ids(store.list(&SessionFilter::subject("alice")).await.expect("ok")), ["a1", "a2"]);
    let mut by_client = SessionFilter::all();
    by_client.client_id = Some("web".into());
    assert_eq!(ids(store.list(&by_client).await.expect("ok")), ["a2"]);

    assert_eq!(ids(store.delete_expired(start()).await.expect("ok")), ["c1"]);
    assert_eq!(store.delete("b1").await.expect("ok").map(|s| s.session_id), Some("b1".into()));
    assert_eq!(store.delete("b1").await.expect("ok"), None);
    assert_eq!(ids(store.delete_all(&SessionFilter::subject("alice")).await.expect("ok")), ["a1", "a2"]);
    assert!(store.list(&SessionFilter::all()).await.expect("ok").is_empty());
}

/// Ended sessions that issued tokens to clients wait, invisible otherwise, until claimed; a
/// claim holds until it lapses; of instances claiming at once one gets each session; the
/// undelivered clients are retried; a session without clients does not wait.
pub async fn ended_sessions_wait_for_one_claimer_until_delivered(stores: OperationalStores) {
    let store = stores.sessions;
    store.create(session("s1", "alice", 10)).await.expect("created");
    store.create(session("s2", "alice", 5)).await.expect("created");
    for client in ["web", "api"] {
        assert!(store.add_client("s1", client).await.expect("ok"));
    }
    assert_eq!(store.delete_all(&SessionFilter::subject("alice")).await.expect("ok").len(), 2);
    assert_eq!(store.get("s1").await.expect("ok"), None, "an ended session is gone for everything else");
    assert!(!store.renew("s1", start(), start()).await.expect("ok"));
    assert!(!store.add_client("s1", "other").await.expect("ok"));
    assert!(store.list(&SessionFilter::all()).await.expect("ok").is_empty());

    let now = start();
    let lease = TimeDelta::seconds(30);
    let claimers: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.claim_ended(now, now + lease, 10).await })
        })
        .collect();
    let mut claimed = Vec::new();
    for claimer in claimers {
        claimed.extend(claimer.await.expect("joined").expect("ok"));
    }
    assert_eq!(claimed.len(), 1, "one instance gets s1; s2 had no clients: {claimed:?}");
    assert_eq!((claimed[0].session.session_id.as_str(), claimed[0].attempts), ("s1", 1));
    assert_eq!(claimed[0].session.client_ids, ["web", "api"]);
    assert!(store.claim_ended(now + TimeDelta::seconds(29), now + lease, 10).await.expect("ok").is_empty());

    store.finish_ended("s1", &["api".to_owned()]).await.expect("ok");
    let retried = store.claim_ended(now + lease, now + lease * 2, 10).await.expect("ok");
    assert_eq!(retried.len(), 1);
    assert_eq!((retried[0].attempts, retried[0].session.client_ids.clone()), (2, vec!["api".to_owned()]));
    store.finish_ended("s1", &[]).await.expect("ok");
    assert!(store.claim_ended(now + lease * 10, now + lease * 11, 10).await.expect("ok").is_empty());
}
