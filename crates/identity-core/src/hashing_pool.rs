//! [`HashingPool`]: runs a [`PasswordHasher`] on a fixed set of dedicated threads behind a
//! bounded queue, so password work neither stalls the async runtime nor grows memory, and a
//! flood of password requests is refused at once instead of queueing without end.
//!
//! Why dedicated threads: an Argon2id hash allocates its whole memory cost (19 MiB by default)
//! and frees it at the end. On tokio's elastic blocking pool each hash may run on a new thread,
//! and glibc keeps freed memory in per-thread arenas, so a password flood grew resident memory by
//! gigabytes. A fixed set of threads bounds that to the set's size times one hash's memory.
//!
//! Why a bounded queue: beyond `threads × (1 + queue_per_thread)` waiting or running requests, a
//! new one would only wait longer than any client does. [`HashingPool::try_reserve`] refuses it
//! with [`Error::Overloaded`] in microseconds, before the caller has done anything else (a
//! sign-in reserves its slot before it reserves a lockout attempt), and the host answers 503.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::available_parallelism;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::error::{Error, Result};
use crate::password_hasher::{PasswordHasher, PasswordVerificationResult};

/// Requests each hashing thread may have waiting by default, besides the one it runs.
pub const DEFAULT_QUEUE_PER_THREAD: usize = 16;
/// The most hashing threads a pool starts.
pub const MAX_THREADS: usize = 1024;
/// The most waiting requests per hashing thread.
pub const MAX_QUEUE_PER_THREAD: usize = 65_536;

/// One hashing thread per core the process may use.
pub fn default_threads() -> usize {
    available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// A unit of work for a hashing thread.
type Job = Box<dyn FnOnce(&dyn PasswordHasher) + Send>;

/// Runs a [`PasswordHasher`] on `threads` dedicated threads, with room for `queue_per_thread`
/// more waiting requests per thread; beyond that, requests are refused with
/// [`Error::Overloaded`]. Clones share the threads, which end when the last clone is dropped.
#[derive(Clone)]
pub struct HashingPool {
    inner: Arc<Inner>,
}

struct Inner {
    hasher: Arc<dyn PasswordHasher>,
    /// One permit per request that may be running or waiting.
    slots: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    threads: usize,
    queue_per_thread: usize,
}

impl std::fmt::Debug for HashingPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingPool")
            .field("threads", &self.inner.threads)
            .field("queue_per_thread", &self.inner.queue_per_thread)
            .field("free_slots", &self.inner.slots.available_permits())
            .finish_non_exhaustive()
    }
}

/// A place in the pool, taken by [`HashingPool::try_reserve`]: the one hash or verification it
/// runs cannot be refused any more. Dropping it unused gives the place back.
#[derive(Debug)]
#[must_use = "a reserved slot does nothing until it hashes or verifies"]
pub struct HashingSlot {
    pool: HashingPool,
    permit: OwnedSemaphorePermit,
}

impl HashingPool {
    /// A pool of `threads` hashing threads (at least one), each with
    /// [`DEFAULT_QUEUE_PER_THREAD`] waiting requests.
    pub fn new(hasher: Arc<dyn PasswordHasher>, threads: usize) -> Self {
        Self::with_queue(hasher, threads, DEFAULT_QUEUE_PER_THREAD)
    }

    /// A pool of `threads` hashing threads (at least one, at most [`MAX_THREADS`]), each with
    /// `queue_per_thread` waiting requests (at most [`MAX_QUEUE_PER_THREAD`]).
    ///
    /// # Panics
    ///
    /// When the operating system cannot start a thread.
    pub fn with_queue(hasher: Arc<dyn PasswordHasher>, threads: usize, queue_per_thread: usize) -> Self {
        let threads = threads.clamp(1, MAX_THREADS);
        let queue_per_thread = queue_per_thread.min(MAX_QUEUE_PER_THREAD);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let (receiver, hasher) = (Arc::clone(&receiver), Arc::clone(&hasher));
            std::thread::Builder::new()
                .name(format!("password-hashing-{index}"))
                .spawn(move || run_jobs(&receiver, hasher.as_ref()))
                .expect("the operating system starts a password-hashing thread");
        }
        let slots = Arc::new(Semaphore::new(threads.saturating_mul(queue_per_thread.saturating_add(1))));
        Self { inner: Arc::new(Inner { hasher, slots, jobs: sender, threads, queue_per_thread }) }
    }

    /// A pool with [`default_threads`] threads, each with [`DEFAULT_QUEUE_PER_THREAD`] waiting
    /// requests.
    pub fn with_available_parallelism(hasher: Arc<dyn PasswordHasher>) -> Self {
        Self::new(hasher, default_threads())
    }

    /// How many more hashes could start or wait now (for metrics).
    pub fn free_places(&self) -> usize {
        self.inner.slots.available_permits()
    }

    /// How many hashes may run or wait at most: `threads × (1 + queue_per_thread)`.
    pub fn capacity(&self) -> usize {
        self.inner.threads.saturating_mul(self.inner.queue_per_thread.saturating_add(1))
    }

    /// The hasher this pool runs.
    pub fn hasher(&self) -> &dyn PasswordHasher {
        self.inner.hasher.as_ref()
    }

    /// Takes a place for one hash or verification, or refuses at once with
    /// [`Error::Overloaded`] when every thread is busy and every queue full.
    pub fn try_reserve(&self) -> Result<HashingSlot> {
        match Arc::clone(&self.inner.slots).try_acquire_owned() {
            Ok(permit) => Ok(HashingSlot { pool: self.clone(), permit }),
            Err(_) => {
                // Debug only: the caller's answer is logged once, and a flood must not flood the log.
                tracing::debug!(threads = self.inner.threads, "password hashing refused: the queue is full");
                Err(Error::Overloaded)
            }
        }
    }

    /// Hashes a password on a hashing thread ([`Error::Overloaded`] when the pool is full).
    pub async fn hash(&self, password: &str) -> Result<String> {
        self.try_reserve()?.hash(password).await
    }

    /// Verifies a password on a hashing thread ([`Error::Overloaded`] when the pool is full).
    pub async fn verify(&self, hashed_password: &str, provided_password: &str) -> Result<PasswordVerificationResult> {
        self.try_reserve()?.verify(hashed_password, provided_password).await
    }
}

impl HashingSlot {
    /// Runs `work` on a hashing thread. The slot goes with the job and is given back when the
    /// job ends, before its answer is sent (so that the caller's next step finds it free): a
    /// caller that stops waiting (a dropped request) does not stop a hash that has started, so
    /// its place stays taken until then; a job whose caller left while it waited is skipped.
    pub(crate) async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&dyn PasswordHasher) -> T + Send + 'static,
    ) -> Result<T> {
        let (sender, receiver) = oneshot::channel();
        let permit = self.permit;
        let job: Job = Box::new(move |hasher| {
            if sender.is_closed() {
                return;
            }
            let answer = work(hasher);
            drop(permit);
            // The caller may be gone; its answer is then dropped.
            let _ = sender.send(answer);
        });
        self.pool.inner.jobs.send(job).map_err(|_| closed())?;
        receiver.await.map_err(|_| Error::Background("a password hash panicked".to_owned()))
    }

    /// Hashes a password.
    pub async fn hash(self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.run(move |hasher| hasher.hash_password(&password)).await?
    }

    /// Verifies a password against a stored hash.
    pub async fn verify(self, hashed_password: &str, provided_password: &str) -> Result<PasswordVerificationResult> {
        let (hashed, provided) = (hashed_password.to_owned(), provided_password.to_owned());
        self.run(move |hasher| hasher.verify_hashed_password(&hashed, &provided)).await
    }
}

/// The error when the hashing threads are gone (they only end with the pool).
fn closed() -> Error {
    Error::Background("the password-hashing threads have stopped".to_owned())
}

/// A hashing thread: runs jobs until the pool is dropped. A job that panics is dropped with its
/// answer (its caller gets an error) and the thread goes on.
fn run_jobs(jobs: &Mutex<mpsc::Receiver<Job>>, hasher: &dyn PasswordHasher) {
    loop {
        let next = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else {
            return;
        };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(hasher))).is_err() {
            tracing::error!("a password hash panicked");
        }
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
        /// The names of the threads that ran hashes.
        threads: Mutex<std::collections::BTreeSet<String>>,
        /// How many hashes ran.
        hashed: std::sync::atomic::AtomicUsize,
    }

    impl PasswordHasher for Gauge {
        fn hash_password(&self, password: &str) -> crate::Result<String> {
            use std::sync::atomic::Ordering::SeqCst;
            let thread = std::thread::current().name().unwrap_or_default().to_owned();
            self.threads.lock().expect("not poisoned").insert(thread);
            let now = self.running.fetch_add(1, SeqCst) + 1;
            self.peak.fetch_max(now, SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(30));
            self.hashed.fetch_add(1, SeqCst);
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
        let threads = gauge.threads.lock().expect("not poisoned").clone();
        let expected: std::collections::BTreeSet<String> =
            ["password-hashing-0", "password-hashing-1"].map(str::to_owned).into();
        assert!(threads.is_subset(&expected), "hashes ran only on the pool's own threads: {threads:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_frees_as_hashes_end() {
        let gauge = std::sync::Arc::new(Gauge::default());
        // One thread with one waiting place: two requests fit, the third is refused.
        let pool = HashingPool::with_queue(gauge.clone(), 1, 1);
        let (first, second) = (pool.try_reserve().expect("room"), pool.try_reserve().expect("room"));
        assert!(matches!(pool.try_reserve(), Err(Error::Overloaded)));
        assert!(matches!(pool.hash("x").await, Err(Error::Overloaded)), "refused without waiting");
        drop(second);
        let running = tokio::spawn(first.hash("a"));
        let waiting = pool.try_reserve().expect("a place given back unused");
        assert_eq!(running.await.expect("completes").expect("hashes"), "a");
        assert_eq!(waiting.hash("b").await.expect("hashes"), "b");
        for round in 0..3 {
            pool.hash(&round.to_string()).await.expect("room again once the hashes ended");
        }
    }

    /// Polls `done` every millisecond for up to three seconds (a hash here takes 30 ms).
    async fn eventually(what: &str, done: impl Fn() -> bool) {
        for _ in 0..3000 {
            if done() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        panic!("never: {what}");
    }

    /// A caller that stops waiting (a dropped request) keeps its place while its hash runs, so
    /// the bound holds; a job whose caller left while it waited is skipped, giving its place back
    /// without hashing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_hashes_keep_their_place_while_they_run_and_are_skipped_while_they_wait() {
        use std::sync::atomic::Ordering::SeqCst;
        let gauge = std::sync::Arc::new(Gauge::default());
        let pool = HashingPool::with_queue(gauge.clone(), 1, 1);
        let spawn_hash = |password: &'static str| {
            let pool = pool.clone();
            tokio::spawn(async move { pool.hash(password).await })
        };
        let running = spawn_hash("running");
        eventually("the first hash runs", || gauge.running.load(SeqCst) == 1).await;
        let waiting = spawn_hash("waiting");
        eventually("the second waits", || pool.inner.slots.available_permits() == 0).await;
        running.abort();
        waiting.abort();
        assert!(matches!(pool.try_reserve(), Err(Error::Overloaded)), "the running hash keeps its place");
        eventually("both places free", || pool.inner.slots.available_permits() == 2).await;
        assert_eq!(gauge.hashed.load(SeqCst), 1, "the abandoned waiting job was skipped");
    }
}
