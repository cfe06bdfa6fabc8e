//! `load_claims_data` runs the same, small number of statements whatever the numbers of claims,
//! roles and role claims (no N+1). A test binary of its own, because it counts every statement
//! the process runs through Diesel's default instrumentation.

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};
use identity_core::store::UserClaimsDataStore;
use identity_core::{IdentityRole, IdentityUser, RoleManager, StoredClaim, UserManager};
use identity_diesel::{Database, DieselStore, IdentityMigrations as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use test_support::TestDatabase;

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

struct StatementCounter;

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn counter() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(StatementCounter))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_data_statements_do_not_grow_with_claims_or_roles() {
    set_default_instrumentation(counter).expect("instrumentation");
    let database = TestDatabase::sqlite();
    let db = Database::connect(database.url()).await.expect("the database opens");
    db.run_migrations().await.expect("the migrations run");
    let store = Arc::new(DieselStore::<()>::new(db).await.expect("store"));
    let users = UserManager::builder(store.clone()).build();
    let roles = RoleManager::new(store.clone());

    let mut role_names = Vec::new();
    for r in 0..10 {
        let mut role = IdentityRole::new(format!("Role{r}"));
        assert!(roles.create(&mut role).await.expect("role").succeeded());
        for c in 0..5 {
            assert!(
                roles
                    .add_claim(&mut role, &StoredClaim::new("permission", format!("{r}.{c}")))
                    .await
                    .expect("claim")
                    .succeeded()
            );
        }
        role_names.push(format!("Role{r}"));
    }
    let mut few = IdentityUser::new("few");
    assert!(users.create(&mut few).await.expect("create").succeeded());
    assert!(users.add_claim(&mut few, StoredClaim::new("name", "Few")).await.expect("claim").succeeded());
    assert!(users.add_to_role(&mut few, "Role0").await.expect("role").succeeded());
    let mut many = IdentityUser::new("many");
    assert!(users.create(&mut many).await.expect("create").succeeded());
    let claims: Vec<StoredClaim> = (0..20).map(|i| StoredClaim::new("claim", i.to_string())).collect();
    assert!(users.add_claims(&mut many, &claims).await.expect("claims").succeeded());
    let names: Vec<&str> = role_names.iter().map(String::as_str).collect();
    assert!(users.add_to_roles(&mut many, &names).await.expect("roles").succeeded());

    let mut counts = Vec::new();
    for user in [&few, &many] {
        let before = STATEMENTS.load(Ordering::SeqCst);
        let data = store.load_claims_data(&user.id).await.expect("load").expect("user exists");
        counts.push(STATEMENTS.load(Ordering::SeqCst) - before);
        assert_eq!(data.user.id, user.id);
    }
    let data = store.load_claims_data(&many.id).await.expect("load").expect("user exists");
    assert_eq!((data.claims.len(), data.roles.len()), (20, 10));
    assert!(data.roles.iter().all(|role| role.claims.len() == 5));
    assert_eq!(counts[0], counts[1], "statement counts differ with the data's size: {counts:?}");
    // Checkout ping, BEGIN, four queries, COMMIT.
    assert!(counts[0] <= 7, "{counts:?}");
}
