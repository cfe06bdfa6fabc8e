//! What the atomic lockout costs a password sign-in on SQLite, side by side in one run:
//! - `verification_only`: one Argon2id verification through the hashing pool, the floor of any
//!   password sign-in;
//! - `lookup_and_verification`: the user's lookup by name and that verification, which is all the
//!   unlocked check did for a correct password of a user without failures (it wrote nothing);
//! - `correct_password` and `wrong_password`: `SignInManager::password_sign_in`, with its attempt
//!   reserved before hashing and settled after (two short write transactions).
//!
//! ```text
//! cargo bench -p identity-diesel --bench sign_in -- --warm-up-time 1 --measurement-time 5
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use identity_core::{IdentityOptions, IdentityUser, SignInManager, SignInResult, UserManager};
use identity_diesel::{Database, DieselStore, IdentityMigrations as _};
use std::sync::Arc;

const PASSWORD: &str = "Pass123$";

fn sign_in(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let mut options = IdentityOptions::default();
    // Wrong passwords must not lock the benchmark user out part-way through the run.
    options.lockout.max_failed_access_attempts = i32::MAX;
    let (sign_in, hash) = runtime.block_on(async {
        let db = Database::connect(&url).await.expect("connects");
        db.run_migrations().await.expect("migrates");
        let store = Arc::new(DieselStore::<()>::new(db).await.expect("store"));
        let users = Arc::new(UserManager::builder(store).options(options).build());
        let mut alice = IdentityUser::new("alice");
        assert!(users.create_with_password(&mut alice, PASSWORD).await.expect("create").succeeded());
        (SignInManager::new(users), alice.password_hash.expect("hashed"))
    });

    let mut group = c.benchmark_group("sign_in_sqlite");
    group.sample_size(20);
    let users = sign_in.user_manager();
    group.bench_function("verification_only", |b| {
        b.iter(|| runtime.block_on(users.hashing_pool().verify(&hash, PASSWORD)).expect("verifies"))
    });
    group.bench_function("lookup_and_verification", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let user = users.find_by_name("alice").await.expect("finds").expect("alice exists");
                users.hashing_pool().verify(user.password_hash.as_deref().expect("hashed"), PASSWORD).await
            })
        })
    });
    for (name, password, expected) in
        [("correct_password", PASSWORD, SignInResult::Success), ("wrong_password", "wrong", SignInResult::Failed)]
    {
        group.bench_function(name, |b| {
            b.iter(|| {
                let (result, _) =
                    runtime.block_on(sign_in.password_sign_in("alice", password, true, false)).expect("signs in");
                assert_eq!(result, expected);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sign_in);
criterion_main!(benches);
