//! Stamping test cases per backend: [`backend_cases!`](crate::backend_cases) and what it needs.

use std::fmt;

/// A store backend a case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An in-memory store.
    Memory,
    /// SQLite, on a file in a temporary directory.
    Sqlite,
    /// PostgreSQL, on a throwaway database (the calling crate's `postgres-tests` feature).
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Memory => "memory",
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// What a case returns: nothing (assertions panic) or a `Result` whose error fails the test.
pub trait CaseOutcome {
    /// Panics when the outcome is a failure.
    fn check(self);
}

impl CaseOutcome for () {
    fn check(self) {}
}

impl<E: fmt::Debug> CaseOutcome for Result<(), E> {
    fn check(self) {
        if let Err(error) = self {
            panic!("the case failed: {error:?}");
        }
    }
}

/// Stamps one `#[tokio::test]` per case and backend: a module per backend (`memory`, `sqlite`,
/// `postgres`), holding one test per case, named after the case.
///
/// ```ignore
/// test_support::backend_cases! {
///     setup: crate::support::env,          // async fn(Backend) -> Fixture
///     backends: [sqlite, postgres],
///     module: crate::scenarios,
///     cases: [discovery_works, refresh_rotates],
/// }
/// ```
///
/// Each test calls `module::case(setup(backend).await).await`; a case returns `()` or a
/// `Result` (see [`CaseOutcome`](crate::CaseOutcome)). Paths must be absolute (`crate::…`),
/// since they are used inside the generated modules. The `postgres` module exists only with the
/// calling crate's `postgres-tests` feature; the calling crate needs `tokio` with `macros` and
/// `rt-multi-thread`.
#[macro_export]
macro_rules! backend_cases {
    (setup: $setup:path, backends: [$($backend:ident),+ $(,)?], module: $($cases:ident)::+, cases: $list:tt $(,)?) => {
        $crate::backend_cases!(@each [$($backend)+] $setup, [$($cases)::+], $list);
    };
    (@each [] $($rest:tt)*) => {};
    (@each [$first:ident $($more:ident)*] $setup:path, $cases:tt, $list:tt) => {
        $crate::backend_cases!(@backend $first, $setup, $cases, $list);
        $crate::backend_cases!(@each [$($more)*] $setup, $cases, $list);
    };
    (@backend memory, $setup:path, $cases:tt, $list:tt) => {
        $crate::backend_cases!(@module memory, Memory, [], $setup, $cases, $list);
    };
    (@backend sqlite, $setup:path, $cases:tt, $list:tt) => {
        $crate::backend_cases!(@module sqlite, Sqlite, [], $setup, $cases, $list);
    };
    (@backend postgres, $setup:path, $cases:tt, $list:tt) => {
        $crate::backend_cases!(@module postgres, Postgres, [feature = "postgres-tests"], $setup, $cases, $list);
    };
    (@module $module:ident, $variant:ident, [$($gate:meta)?], $setup:path, [$($cases:ident)::+], [$($case:ident),+ $(,)?]) => {
        $(#[cfg($gate)])?
        mod $module {
            use $($cases)::+ as cases;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::CaseOutcome::check(cases::$case($setup($crate::Backend::$variant).await).await);
                }
            )+
        }
    };
}
