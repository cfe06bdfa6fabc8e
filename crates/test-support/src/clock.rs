//! Time in tests: every test starts from [`START`], a fixed instant, and moves a
//! [`ManualClock`] from there, so no test depends on today's date.

use chrono::{DateTime, Utc};
pub use time_source::{Clock, ManualClock};

/// The instant tests start from: 2025-01-15 12:00:00 UTC.
pub const START_SECONDS: i64 = 1_736_942_400;

/// [`START_SECONDS`] as an instant.
pub fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(START_SECONDS, 0).unwrap_or_default()
}

/// A manual clock stopped at [`start`].
pub fn manual_clock() -> ManualClock {
    ManualClock::new(start())
}
