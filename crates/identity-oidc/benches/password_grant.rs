//! The password grant's validator, side by side in one run: an unknown user name, a known user
//! with a wrong password, and a correct password. The unknown user goes through one dummy
//! verification at the default cost, so its time should match the wrong-password case and not
//! reveal whether the name exists.
//!
//! ```text
//! cargo bench -p identity-oidc --bench password_grant -- --warm-up-time 1 --measurement-time 5
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use identity_core::memory::MemoryStore;
use identity_core::{IdentityOptions, IdentityUser, UserManager};
use identity_oidc::AspNetIdentity;
use oidc_server::{
    Client, Clock as _, RequestedResources, ResourceOwnerPasswordValidationContext, ResourceOwnerPasswordValidator,
    Resources, SystemClock,
};
use std::sync::Arc;

const PASSWORD: &str = "Pass123$";

async fn validate(validator: &dyn ResourceOwnerPasswordValidator, user_name: &str, password: &str) {
    let client = Client::new("bench");
    let resources = RequestedResources::new(Vec::new(), Resources::default());
    let mut context = ResourceOwnerPasswordValidationContext::new(
        user_name.into(),
        password.into(),
        &client,
        &resources,
        SystemClock.now(),
    );
    validator.validate(&mut context).await.expect("validation runs");
}

fn password_grant(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut options = IdentityOptions::default();
    // Wrong passwords must not lock the benchmark user out part-way through the run.
    options.lockout.max_failed_access_attempts = i32::MAX;
    let users = Arc::new(UserManager::builder(Arc::new(MemoryStore::<()>::new())).options(options).build());
    runtime.block_on(async {
        let mut alice = IdentityUser::new("alice");
        assert!(users.create_with_password(&mut alice, PASSWORD).await.expect("create").succeeded());
    });
    let validator = AspNetIdentity::without_roles(users).password_validator();

    let mut group = c.benchmark_group("password_grant");
    group.sample_size(20);
    for (name, user_name, password) in [
        ("unknown_user", "nobody", PASSWORD),
        ("wrong_password", "alice", "wrong"),
        ("correct_password", "alice", PASSWORD),
    ] {
        group.bench_function(name, |b| b.iter(|| runtime.block_on(validate(&validator, user_name, password))));
    }
    group.finish();
}

criterion_group!(benches, password_grant);
criterion_main!(benches);
