//! Password hashing under load, measured side by side in one run:
//!
//! - `verify/*`: one verification per hash format, to compare Argon2id at the default cost with
//!   the imported ASP.NET Identity formats it replaces on sign-in;
//! - `runtime_latency_under_flood/*`: how long a trivial task waits for an async worker while
//!   eight password verifications are in flight, when they run through [`HashingPool`] (on
//!   tokio's blocking threads) versus directly on the async workers (what the pool prevents).
//!
//! ```text
//! cargo bench -p identity-core --bench hashing -- --warm-up-time 1 --measurement-time 5
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use identity_core::{HashingPool, IdentityPasswordHasher, PasswordHasher};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "my password";
/// ASP.NET Identity's current default output (V3, HMAC-SHA512, 100,000 iterations).
const V3_SHA512_100K: &str = "AQAAAAIAAYagAAAAEAABAgMEBQYHCAkKCwwNDg/Q8A0WMKbtHQJQ2DHCdoEeeFBrgNlldq6vH4qX/CGqGQ==";
/// The default before .NET 7 (V3, HMAC-SHA256, 10,000 iterations).
const V3_SHA256_10K: &str = "AQAAAAEAACcQAAAAEAABAgMEBQYHCAkKCwwNDg+yWU7rLgUwPZb1Itsmra7cbxw2EFpwpVFIEtP+JIuUEw==";
/// How many verifications flood the runtime at once.
const FLOOD: usize = 8;

fn verify_formats(c: &mut Criterion) {
    let hasher = IdentityPasswordHasher::default();
    let argon2id = hasher.hash_password(PASSWORD).expect("hashing works");
    let mut group = c.benchmark_group("verify");
    group.sample_size(20);
    for (name, hash) in [
        ("argon2id_19456_2_1", argon2id.as_str()),
        ("v3_sha512_100k", V3_SHA512_100K),
        ("v3_sha256_10k", V3_SHA256_10K),
    ] {
        group.bench_function(name, |b| b.iter(|| hasher.verify_hashed_password(black_box(hash), black_box(PASSWORD))));
    }
    group.finish();
}

/// Time for one trivial task to be scheduled and finish while `FLOOD` verifications run.
async fn ping_latency_during_flood(
    pool: Option<&HashingPool>,
    hasher: &Arc<IdentityPasswordHasher>,
    hash: &str,
) -> Duration {
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        let hash = hash.to_owned();
        flood.push(match pool {
            Some(pool) => {
                let pool = pool.clone();
                tokio::spawn(async move {
                    pool.verify(&hash, PASSWORD).await.expect("verification runs");
                })
            }
            None => {
                let hasher = Arc::clone(hasher);
                tokio::spawn(async move {
                    hasher.verify_hashed_password(&hash, PASSWORD);
                })
            }
        });
    }
    // Let the flood reach the workers before measuring.
    tokio::task::yield_now().await;
    let start = Instant::now();
    tokio::spawn(async {}).await.expect("ping task runs");
    let latency = start.elapsed();
    for task in flood {
        task.await.expect("flood task runs");
    }
    latency
}

fn runtime_latency_under_flood(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let hasher = Arc::new(IdentityPasswordHasher::default());
    let hash = hasher.hash_password(PASSWORD).expect("hashing works");
    let pool = HashingPool::new(hasher.clone(), 2);
    let mut group = c.benchmark_group("runtime_latency_under_flood");
    group.sample_size(10);
    for (name, pool) in [("hashing_pool", Some(&pool)), ("inline_on_async_workers", None)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                (0..iterations).map(|_| runtime.block_on(ping_latency_during_flood(pool, &hasher, &hash))).sum()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verify_formats, runtime_latency_under_flood);
criterion_main!(benches);
