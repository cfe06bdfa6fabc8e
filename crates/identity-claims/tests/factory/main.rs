//! Claims factory tests: the shared cases of [`cases`] run against every store (the in-memory
//! store, SQLite, and PostgreSQL with the `postgres-tests` feature), and the store-call bound is
//! checked with a counting store.

mod cases;
mod counting;

use std::sync::Arc;

use cases::Stores;
use identity_core::UserExtension;
use identity_core::memory::MemoryStore;
use identity_diesel::{Database, DieselStore, IdentityMigrations as _};
use test_support::{Backend, TestDatabase};

/// Fresh, empty stores of `backend` for users of type `IdentityUser<X>`.
async fn stores<X: UserExtension>(backend: Backend) -> Stores<X> {
    if backend == Backend::Memory {
        return Stores::shared(Arc::new(MemoryStore::<X>::new()));
    }
    let database = TestDatabase::create(backend).await;
    let db = Database::connect(database.url()).await.expect("the database opens");
    db.run_migrations().await.expect("the migrations run");
    let store = Arc::new(DieselStore::<X>::new(db).await.expect("the store opens"));
    Stores { users: store.clone(), roles: store, guard: Box::new(database) }
}

test_support::backend_cases! {
    setup: crate::stores,
    backends: [memory, sqlite, postgres],
    module: crate::cases,
    cases: [
        default_factory_writes_dotnet_claim_types_in_order,
        empty_or_missing_email_gives_no_email_claim,
        missing_user_name_is_an_error,
        missing_security_stamp_is_an_error,
        roles_add_a_role_claim_then_the_role_claims,
        without_a_role_manager_there_are_no_role_claims,
        unsaved_user_gets_only_its_own_fields,
        oidc_moves_the_user_name_to_preferred_username,
        oidc_stored_name_claim_wins,
        oidc_email_verified_and_phone_claims_follow_confirmation,
        oidc_blank_email_and_phone,
        oidc_with_dotnet_claim_types_adds_the_oidc_types,
        custom_factory_is_decorated,
        oidc_principal_as_json,
    ],
}
