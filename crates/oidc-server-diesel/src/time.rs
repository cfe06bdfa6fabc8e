//! UTC instants in the database: `timestamp with time zone` on PostgreSQL, fixed-width text on
//! SQLite, both at microsecond precision (PostgreSQL's), so that both backends store and compare
//! exactly the same values.
//!
//! SQLite's text is `YYYY-MM-DD HH:MM:SS.ffffff` without an offset (SQLite's own date functions
//! read it as UTC). Its width never varies, so comparing the text compares the instants, which
//! is what the expiry and key-age filters rely on; years outside 0000 to 9999 would break that
//! and are refused.

use chrono::{DateTime, SubsecRound, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::SqlType;

/// A UTC instant column.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
#[allow(unreachable_pub, reason = "`diesel::table!` names it in impls of its public column types")]
pub struct UtcTimestamp;

/// An instant as stored: truncated to the microsecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = UtcTimestamp)]
pub(crate) struct StoredTime(DateTime<Utc>);

impl From<DateTime<Utc>> for StoredTime {
    fn from(instant: DateTime<Utc>) -> Self {
        Self(instant.trunc_subsecs(6))
    }
}

impl From<StoredTime> for DateTime<Utc> {
    fn from(stored: StoredTime) -> Self {
        stored.0
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    //! PostgreSQL: Diesel's own `timestamptz` codec (microseconds since 2000, always UTC).
    use diesel::pg::{Pg, PgValue};
    use diesel::sql_types::Timestamptz;

    use super::*;

    impl FromSql<UtcTimestamp, Pg> for StoredTime {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            <DateTime<Utc> as FromSql<Timestamptz, Pg>>::from_sql(value).map(Self::from)
        }
    }

    impl ToSql<UtcTimestamp, Pg> for StoredTime {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            <DateTime<Utc> as ToSql<Timestamptz, Pg>>::to_sql(&self.0, out)
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    //! SQLite: the fixed-width text of the module documentation.
    use chrono::Datelike;
    use diesel::serialize::IsNull;
    use diesel::sql_types::Text;
    use diesel::sqlite::{Sqlite, SqliteValue};

    use super::*;

    /// The strftime format of the text: always six fraction digits.
    const TEXT_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

    /// `instant` as text; an error for years without four digits, whose text would sort wrong.
    fn format_text(instant: DateTime<Utc>) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        if !(0..=9999).contains(&instant.year()) {
            return Err(format!("{instant} is outside the storable years 0000 to 9999").into());
        }
        Ok(instant.format(TEXT_FORMAT).to_string())
    }

    /// Reads the text back (any number of fraction digits is accepted).
    fn parse_text(text: &str) -> Result<StoredTime, Box<dyn std::error::Error + Send + Sync>> {
        let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .map_err(|error| format!("`{text}` is not a stored time: {error}"))?;
        Ok(StoredTime::from(naive.and_utc()))
    }

    impl FromSql<UtcTimestamp, Sqlite> for StoredTime {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
            parse_text(&text)
        }
    }

    impl ToSql<UtcTimestamp, Sqlite> for StoredTime {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(format_text(self.0)?);
            Ok(IsNull::No)
        }
    }

    #[cfg(test)]
    mod tests {
        use chrono::TimeDelta;

        use super::*;
        use crate::time::tests::instant;

        #[test]
        fn text_is_fixed_width_and_round_trips() {
            let formatted = format_text(instant(120_000_000)).expect("formats");
            assert_eq!(formatted, "2026-11-27 09:05:03.120000");
            assert_eq!(format_text(instant(0)).expect("formats"), "2026-11-27 09:05:03.000000");
            assert_eq!(parse_text(&formatted).expect("parses"), StoredTime::from(instant(120_000_000)));
            assert_eq!(parse_text("2026-11-27 09:05:03").expect("parses"), StoredTime::from(instant(0)));
            assert!(parse_text("27/11/2026").is_err());
        }

        #[test]
        fn text_order_is_time_order() {
            let times = [instant(0), instant(1_000), instant(500_000_000), instant(0) + TimeDelta::days(400)];
            for pair in times.windows(2) {
                let earlier = format_text(pair[0]).expect("formats");
                let later = format_text(pair[1]).expect("formats");
                assert!(earlier < later, "{earlier} < {later}");
            }
        }

        #[test]
        fn years_outside_four_digits_are_refused() {
            assert!(format_text(DateTime::<Utc>::MIN_UTC).is_err());
            assert!(format_text(DateTime::<Utc>::MAX_UTC).is_err());
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;

    /// 2026-11-27 09:05:03 UTC plus `nanos`.
    pub(super) fn instant(nanos: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 5, 3).single().expect("valid") + TimeDelta::nanoseconds(nanos.into())
    }

    #[test]
    fn stored_times_are_truncated_to_microseconds() {
        assert_eq!(DateTime::from(StoredTime::from(instant(123_456_789))), instant(123_456_000));
        assert_eq!(DateTime::from(StoredTime::from(instant(999))), instant(0));
    }
}
