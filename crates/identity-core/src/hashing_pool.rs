//! [`HashingPool`]: runs a [`PasswordHasher`] on tokio's blocking threads with a bound on concurrent hashes,
//! so password work neither stalls the async runtime nor exhausts memory.

use crate::password_hasher::{PasswordHasher, PasswordVerificationResult};

/// Runs a [`PasswordHasher`] on tokio's blocking threads, at most `max_concurrent` at a time, so a
/// flood of password requests queues here instead of stalling the async runtime or exhausting
/// memory (each Argon2id hash holds its memory cost while it runs).
#[derive(Debug, Clone)]
pub struct HashingPool {
    hasher: std::sync::Arc<dyn PasswordHasher>,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl HashingPool {
    /// A pool over `hasher` running at most `max_concurrent` hashes at once (at least one).
    pub fn new(hasher: std::sync::Arc<dyn PasswordHasher>, max_concurrent: usize) -> Self {
        Self { hasher, permits: std::sync::Arc::new(tokio::sync::Semaphore::new(max_concurrent.max(1))) }
    }

    /// A pool sized to the machine's available parallelism.
    pub fn with_available_parallelism(hasher: std::sync::Arc<dyn PasswordHasher>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self::new(hasher, cores)
    }

    /// The hasher this pool runs.
    pub fn hasher(&self) -> &dyn PasswordHasher {
        self.hasher.as_ref()
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn PasswordHasher) -> T + Send + 'static,
    ) -> crate::Result<T> {
        let permit = std::sync::Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| crate::Error::Background("hashing pool closed".to_owned()))?;
        let hasher = std::sync::Arc::clone(&self.hasher);
        // The permit moves into the blocking task: a caller that stops waiting (a dropped
        // request) does not stop the hash, so the permit must stay taken until the hash ends.
        tokio::task::spawn_blocking(move || {
            let _held_until_the_hash_ends = permit;
            work(hasher.as_ref())
        })
        .await
        .map_err(|e| crate::Error::Background(e.to_string()))
    }

    /// Hashes a password off the async runtime.
    pub async fn hash(&self, password: &str) -> crate::Result<String> {
        let password = password.to_owned();
        self.run(move |hasher| hasher.hash_password(&password)).await?
    }

    /// Verifies a password off the async runtime.
    pub async fn verify(
        &self,
        hashed_password: &str,
        provided_password: &str,
    ) -> crate::Result<PasswordVerificationResult> {
        let hashed = hashed_password.to_owned();
        let provided = provided_password.to_owned();
        self.run(move |hasher| hasher.verify_hashed_password(&hashed, &provided)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PasswordVerificationResult::Failed;

    /// Records the highest number of overlapping calls.
    #[derive(Debug, Default)]
    struct Gauge {
        running: std::sync::atomic::AtomicUsize,
        peak: std::sync::atomic::AtomicUsize,
    }

    impl PasswordHasher for Gauge {
        fn hash_password(&self, password: &str) -> crate::Result<String> {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.running.fetch_add(1, SeqCst) + 1;
            self.peak.fetch_max(now, SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(30));
            self.running.fetch_sub(1, SeqCst);
            Ok(password.to_owned())
        }

        fn verify_hashed_password(&self, _: &str, _: &str) -> PasswordVerificationResult {
            Failed
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn password_hasher_pool_limits_concurrency() {
        let gauge = std::sync::Arc::new(Gauge::default());
        let pool = HashingPool::new(gauge.clone(), 2);
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.hash(&i.to_string()).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("task completes").expect("hashes");
        }
        let peak = gauge.peak.load(std::sync::atomic::Ordering::SeqCst);
        assert!((1..=2).contains(&peak), "peak concurrency {peak}");
    }

    /// Callers that stop waiting mid-hash (dropped requests) do not free their permits early:
    /// the abandoned hashes still run, so new ones must wait for them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelled_callers_keep_their_permits_until_the_hash_ends() {
        use std::sync::atomic::Ordering::SeqCst;
        let gauge = std::sync::Arc::new(Gauge::default());
        let pool = HashingPool::new(gauge.clone(), 2);
        for round in 0..3 {
            let abandoned: Vec<_> = (0..6)
                .map(|i| {
                    let pool = pool.clone();
                    tokio::spawn(async move { pool.hash(&format!("{round}-{i}")).await })
                })
                .collect();
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            for task in &abandoned {
                task.abort();
            }
        }
        let finished: Vec<_> = (0..4)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.hash(&i.to_string()).await })
            })
            .collect();
        for task in finished {
            task.await.expect("task completes").expect("hashes");
        }
        let peak = gauge.peak.load(SeqCst);
        assert!((1..=2).contains(&peak), "peak concurrency {peak} with a bound of 2");
    }
}
