//! `[limits]`: what one connection and one request may take, and [`ConfigDuration`], how durations are
//! written there and in the environment variables that override them.

use serde::{Deserialize, Serialize};

/// `[limits]`: what one connection and one request may take.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LimitsConfig {
    pub(crate) header_read_timeout: ConfigDuration,
    pub(crate) request_timeout: ConfigDuration,
    pub(crate) max_connections: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: ConfigDuration(std::time::Duration::from_secs(10)),
            request_timeout: ConfigDuration(std::time::Duration::from_secs(30)),
            max_connections: 1024,
        }
    }
}

/// The longest duration a setting takes: ten years (longer ones would overflow deadlines).
const MAX_DURATION_SECONDS: u64 = 3650 * 86_400;

/// A duration as written in the file or an environment variable: whole seconds (`90`) or a
/// whole number with a unit (`"90s"`, `"15m"`, `"2h"`, `"14d"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConfigDuration(pub(crate) std::time::Duration);

impl std::str::FromStr for ConfigDuration {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let text = text.trim();
        let split = text.find(|character: char| !character.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let seconds_per_unit = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => 0,
        };
        number
            .parse::<u64>()
            .ok()
            .and_then(|number| number.checked_mul(seconds_per_unit))
            .filter(|seconds| (1..=MAX_DURATION_SECONDS).contains(seconds))
            .map(|seconds| Self(std::time::Duration::from_secs(seconds)))
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a duration from 1 second to 3650 days (write seconds, or e.g. \"90s\", \"15m\", \"2h\", \"14d\")"
                )
            })
    }
}

impl std::fmt::Display for ConfigDuration {
    /// The largest unit that writes the duration exactly: `14d`, `2h`, `15m`, `90s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.0.as_secs();
        match [(86_400, "d"), (3600, "h"), (60, "m")].into_iter().find(|(unit, _)| seconds.is_multiple_of(*unit)) {
            Some((unit, suffix)) if seconds > 0 => write!(f, "{}{suffix}", seconds / unit),
            _ => write!(f, "{seconds}s"),
        }
    }
}

impl Serialize for ConfigDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize, Serialize)]
        #[serde(untagged)]
        enum Written {
            Seconds(u64),
            Text(String),
        }
        let text = match Written::deserialize(deserializer)? {
            Written::Seconds(seconds) => seconds.to_string(),
            Written::Text(text) => text,
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigFile;

    #[test]
    fn durations_are_seconds_or_a_number_with_a_unit() {
        let parse = |text: &str| text.parse::<ConfigDuration>().map(|duration| duration.0.as_secs());
        assert_eq!(parse("90"), Ok(90));
        assert_eq!(parse("90s"), Ok(90));
        assert_eq!(parse("15m"), Ok(900));
        assert_eq!(parse("2h"), Ok(7200));
        assert_eq!(parse("14d"), Ok(1_209_600));
        for bad in ["", "0", "-1", "1.5s", "2 weeks", "s", "99999999999999999999d", "213503982334d", "3651d"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let file = parse_file("[limits]\nheader_read_timeout = 5\nrequest_timeout = \"1m\"\nmax_connections = 7");
        assert_eq!(file.limits.header_read_timeout.0.as_secs(), 5);
        assert_eq!(file.limits.request_timeout.0.as_secs(), 60);
        assert_eq!(file.limits.max_connections, 7);
        assert!(crate::config::parse("[limits]\nrequest_timeout = \"soon\"", "t").is_err());
        for (seconds, written) in [(90, "90s"), (900, "15m"), (7200, "2h"), (1_209_600, "14d"), (86_460, "1441m")] {
            let duration = ConfigDuration(std::time::Duration::from_secs(seconds));
            assert_eq!(duration.to_string(), written);
            assert_eq!(written.parse::<ConfigDuration>(), Ok(duration), "reads back");
        }
    }

    fn parse_file(text: &str) -> ConfigFile {
        crate::config::parse(text, "t").expect("parses")
    }
}
