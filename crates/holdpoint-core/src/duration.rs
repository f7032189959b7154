//! Durations as people write them in config, annotations and the CLI: `90s`, `15m`, `30d`.

use std::time::Duration;

/// Parses `15m`, `1h 30m`, `30d`. The error names the input and says what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty duration: expected something like `30s`, `15m` or `2h`".into());
    }
    humantime::parse_duration(trimmed).map_err(|e| {
        format!("bad duration `{trimmed}`: {e} (expected something like `30s`, `15m` or `2h`)")
    })
}

/// The short form used in messages and API output: `15m`, `1h 30m`.
pub fn format_duration(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

/// Serde adapter for `Duration` as seconds.
pub mod as_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}

/// Serde adapter for `Option<Duration>` as seconds.
pub mod opt_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn refuses_nonsense_with_the_input_named() {
        let err = parse_duration("soon").unwrap_err();
        assert!(err.contains("`soon`"), "{err}");
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5m").is_err());
    }
}
