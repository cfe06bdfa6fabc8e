//! The two SQL types whose storage differs between EF Core's providers, each with a serializer per
//! backend and the glue that makes them usable through [`AnyConnection`](crate::AnyConnection):
//!
//! | SQL type | PostgreSQL (Npgsql) | SQLite (EF Core) | Rust value |
//! |---|---|---|---|
//! | [`DateTimeOffset`] | `timestamp with time zone` | `TEXT` `yyyy-MM-dd HH:mm:ss.FFFFFFFzzz` | `DateTime<Utc>` |
//! | [`JsonDocument`] | `jsonb` | `TEXT` | JSON text |
//!
//! EF Core's SQLite text form has 100 ns precision, no fraction when it is zero, trailing zeros
//! trimmed, and an offset; any offset is read, `+00:00` is written.
//!
//! The SQL types are public so that an application can declare these columns in its own
//! `diesel::table!` when it queries the Identity tables itself.

use chrono::{DateTime, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, SqlType};
use diesel_any::MultiBackend;

/// .NET's `DateTimeOffset` column (`LockoutEnd`): `timestamp with time zone` on PostgreSQL, EF
/// Core's text form on SQLite.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DateTimeOffset;

/// A JSON column: `jsonb` on PostgreSQL, `TEXT` on SQLite (the passkey `Data`).
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 3802, array_oid = 3807))]
#[diesel(sqlite_type(name = "Text"))]
pub struct JsonDocument;

/// A UTC instant stored as a [`DateTimeOffset`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = DateTimeOffset)]
pub(crate) struct EfDateTime(pub(crate) DateTime<Utc>);

/// A JSON document stored as a [`JsonDocument`].
#[derive(Debug, Clone, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = JsonDocument)]
pub(crate) struct JsonText(pub(crate) String);

impl HasSqlType<DateTimeOffset> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<DateTimeOffset>(lookup)
    }
}

impl HasSqlType<JsonDocument> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<JsonDocument>(lookup)
    }
}

impl FromSql<DateTimeOffset, MultiBackend> for EfDateTime {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<EfDateTime, DateTimeOffset>()
    }
}

impl ToSql<DateTimeOffset, MultiBackend> for EfDateTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((DateTimeOffset, self));
        Ok(IsNull::No)
    }
}

impl FromSql<JsonDocument, MultiBackend> for JsonText {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<JsonText, JsonDocument>()
    }
}

impl ToSql<JsonDocument, MultiBackend> for JsonText {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((JsonDocument, self));
        Ok(IsNull::No)
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    //! PostgreSQL: `timestamp with time zone` through Diesel's own codec, `jsonb` in its binary
    //! form (a version byte, then the text).
    use super::*;
    use diesel::pg::{Pg, PgValue};
    use diesel::sql_types::Timestamptz;
    use std::io::Write as _;

    const JSONB_VERSION: u8 = 1;

    impl FromSql<DateTimeOffset, Pg> for EfDateTime {
        fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
            <DateTime<Utc> as FromSql<Timestamptz, Pg>>::from_sql(bytes).map(EfDateTime)
        }
    }

    impl ToSql<DateTimeOffset, Pg> for EfDateTime {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            <DateTime<Utc> as ToSql<Timestamptz, Pg>>::to_sql(&self.0, out)
        }
    }

    impl FromSql<JsonDocument, Pg> for JsonText {
        fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
            match bytes.as_bytes().split_first() {
                Some((&JSONB_VERSION, text)) => Ok(JsonText(String::from_utf8(text.to_vec())?)),
                _ => Err("unsupported jsonb encoding version".into()),
            }
        }
    }

    impl ToSql<JsonDocument, Pg> for JsonText {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            out.write_all(&[JSONB_VERSION])?;
            out.write_all(self.0.as_bytes())?;
            Ok(IsNull::No)
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    //! SQLite: both types are text; `DateTimeOffset` in EF Core's format.
    use super::ef_text::{format_ef_text, parse_ef_text};
    use super::*;
    use diesel::sql_types::Text;
    use diesel::sqlite::{Sqlite, SqliteValue};

    impl FromSql<DateTimeOffset, Sqlite> for EfDateTime {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
            parse_ef_text(&text).map(EfDateTime)
        }
    }

    impl ToSql<DateTimeOffset, Sqlite> for EfDateTime {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(format_ef_text(self.0)?);
            Ok(IsNull::No)
        }
    }

    impl FromSql<JsonDocument, Sqlite> for JsonText {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            <String as FromSql<Text, Sqlite>>::from_sql(value).map(JsonText)
        }
    }

    impl ToSql<JsonDocument, Sqlite> for JsonText {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.0.as_str());
            Ok(IsNull::No)
        }
    }
}

#[cfg(feature = "sqlite")]
mod ef_text {
    //! EF Core's SQLite text form of a `DateTimeOffset`: `yyyy-MM-dd HH:mm:ss.FFFFFFFzzz`.
    use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

    /// Nanoseconds per .NET tick.
    const NANOS_PER_TICK: u32 = 100;

    /// Writes an instant as EF Core's SQLite provider does: `2026-11-26 10:00:00.1234567+00:00`,
    /// truncated to 100 ns, without trailing zeros in the fraction and without a zero fraction.
    /// Years outside .NET's `DateTimeOffset` range (1 to 9999) are an error.
    pub(super) fn format_ef_text(instant: DateTime<Utc>) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        if !(1..=9999).contains(&instant.year()) {
            return Err(format!("{instant} is outside the range of .NET's DateTimeOffset (years 1 to 9999)").into());
        }
        let mut text = instant.format("%Y-%m-%d %H:%M:%S").to_string();
        // A leap second shows as nanoseconds above one second; .NET has none, so cap it.
        let ticks = instant.nanosecond().min(999_999_999) / NANOS_PER_TICK;
        if ticks > 0 {
            let fraction = format!("{ticks:07}");
            text.push('.');
            text.push_str(fraction.trim_end_matches('0'));
        }
        text.push_str("+00:00");
        Ok(text)
    }

    /// Reads EF Core's SQLite text form with any offset (`+01:00`, `-05:30`, `Z`), a space or `T`
    /// between date and time, and a fraction of any length (digits past the 9th are ignored).
    pub(super) fn parse_ef_text(text: &str) -> Result<DateTime<Utc>, Box<dyn std::error::Error + Send + Sync>> {
        let invalid = || format!("`{text}` is not a date and time in EF Core's DateTimeOffset format");
        let trimmed = text.trim();
        // `yyyy-MM-dd HH:mm:ss` is 19 ASCII characters; the offset follows the optional fraction.
        let (date_time, rest) = trimmed.split_at_checked(19).ok_or_else(invalid)?;
        let naive = NaiveDateTime::parse_from_str(date_time, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(date_time, "%Y-%m-%dT%H:%M:%S"))
            .map_err(|_| invalid())?;
        let (nanos, offset) = match rest.strip_prefix('.') {
            Some(fraction_and_offset) => {
                let digits =
                    fraction_and_offset.find(|c: char| !c.is_ascii_digit()).unwrap_or(fraction_and_offset.len());
                let (fraction, offset) = fraction_and_offset.split_at(digits);
                if fraction.is_empty() {
                    return Err(invalid().into());
                }
                let padded: String = fraction.chars().chain(std::iter::repeat('0')).take(9).collect();
                (padded.parse::<u32>().map_err(|_| invalid())?, offset)
            }
            None => (0, rest),
        };
        let offset_seconds = parse_offset(offset).ok_or_else(invalid)?;
        let local = naive.with_nanosecond(nanos).ok_or_else(invalid)?;
        let utc =
            local.checked_sub_signed(chrono::TimeDelta::seconds(i64::from(offset_seconds))).ok_or_else(invalid)?;
        Ok(utc.and_utc())
    }

    /// `+HH:MM`, `-HH:MM`, `Z` or nothing (UTC) to seconds east of UTC.
    fn parse_offset(offset: &str) -> Option<i32> {
        if offset.is_empty() || offset == "Z" {
            return Some(0);
        }
        let (sign, hours_minutes) = match offset.split_at_checked(1)? {
            ("+", rest) => (1, rest),
            ("-", rest) => (-1, rest),
            _ => return None,
        };
        let (hours, minutes) = hours_minutes.split_once(':')?;
        if hours.len() != 2 || minutes.len() != 2 {
            return None;
        }
        let hours: i32 = hours.parse().ok()?;
        let minutes: i32 = minutes.parse().ok()?;
        (hours <= 14 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use chrono::TimeZone;

        fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap().with_nanosecond(nanos).unwrap()
        }

        #[test]
        fn writes_ef_core_text() {
            assert_eq!(format_ef_text(utc(2026, 11, 26, 10, 0, 0, 0)).unwrap(), "2026-11-26 10:00:00+00:00");
            assert_eq!(
                format_ef_text(utc(2026, 11, 26, 9, 0, 0, 123_456_700)).unwrap(),
                "2026-11-26 09:00:00.1234567+00:00"
            );
            assert_eq!(format_ef_text(utc(2026, 1, 2, 3, 4, 5, 500_000_000)).unwrap(), "2026-01-02 03:04:05.5+00:00");
            // Sub-tick nanoseconds are truncated, as .NET cannot hold them.
            assert_eq!(format_ef_text(utc(2026, 1, 2, 3, 4, 5, 99)).unwrap(), "2026-01-02 03:04:05+00:00");
            assert_eq!(
                format_ef_text(utc(2026, 1, 2, 3, 4, 5, 123_456_789)).unwrap(),
                "2026-01-02 03:04:05.1234567+00:00"
            );
            assert!(format_ef_text(utc(10000, 1, 1, 0, 0, 0, 0)).is_err());
        }

        #[test]
        fn reads_any_offset_and_fraction() {
            assert_eq!(parse_ef_text("2026-11-26 10:00:00+00:00").unwrap(), utc(2026, 11, 26, 10, 0, 0, 0));
            assert_eq!(
                parse_ef_text("2026-11-26 10:00:00.1234567+01:00").unwrap(),
                utc(2026, 11, 26, 9, 0, 0, 123_456_700)
            );
            assert_eq!(
                parse_ef_text("2026-11-26 10:00:00.5-05:30").unwrap(),
                utc(2026, 11, 26, 15, 30, 0, 500_000_000)
            );
            assert_eq!(parse_ef_text("2026-11-26T10:00:00Z").unwrap(), utc(2026, 11, 26, 10, 0, 0, 0));
            assert_eq!(
                parse_ef_text("2026-11-26 10:00:00.123456789123+00:00").unwrap(),
                utc(2026, 11, 26, 10, 0, 0, 123_456_789)
            );
            assert_eq!(
                parse_ef_text("9999-12-31 23:59:59.9999999+00:00").unwrap(),
                utc(9999, 12, 31, 23, 59, 59, 999_999_900)
            );
        }

        #[test]
        fn rejects_malformed_text() {
            for text in [
                "",
                "2026-11-26",
                "2026-11-26 10:00:00.+00:00",
                "2026-11-26 10:00:00+0100",
                "2026-11-26 10:00:00 UTC",
                "x",
            ] {
                assert!(parse_ef_text(text).is_err(), "{text:?} should not parse");
            }
        }

        #[test]
        fn round_trips_at_tick_precision() {
            let instant = utc(2031, 7, 8, 23, 59, 58, 987_654_300);
            assert_eq!(parse_ef_text(&format_ef_text(instant).unwrap()).unwrap(), instant);
        }
    }
}
