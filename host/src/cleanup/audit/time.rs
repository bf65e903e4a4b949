//! Times in the audit log: records carry RFC 3339 UTC; `regent audit show
//! --since` takes either such a time or a duration back from now.

use std::time::{Duration, SystemTime};

/// The current time as RFC 3339 UTC with second precision, as records store it.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Parse an RFC 3339 time: `2024-05-01T12:00:00Z`, with optional fraction
/// and a `+HH:MM`/`-HH:MM` offset; a bare date `2024-05-01` means its UTC
/// midnight.
pub fn parse_time(text: &str) -> Result<SystemTime, String> {
    let text = text.trim();
    if text.len() == 10 {
        return parse_time(&format!("{text}T00:00:00Z"));
    }
    let invalid = |e: &dyn std::fmt::Display| {
        format!("`{text}` is not an RFC 3339 time like 2024-05-01T12:00:00Z ({e})")
    };
    let (base, offset_secs) = split_offset(text).ok_or_else(|| invalid(&"bad offset"))?;
    let utc = humantime::parse_rfc3339_weak(base).map_err(|e| invalid(&e))?;
    let shifted = if offset_secs >= 0 {
        utc.checked_sub(Duration::from_secs(offset_secs.unsigned_abs()))
    } else {
        utc.checked_add(Duration::from_secs(offset_secs.unsigned_abs()))
    };
    shifted.ok_or_else(|| invalid(&"out of range"))
}

/// Split a trailing `+HH:MM`/`-HH:MM` offset off (in seconds east of UTC);
/// `Z` or no offset is 0. `None` for a malformed offset.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    // Only look for an offset after the time of day (position 19 onwards).
    let tail_start = text.len().checked_sub(6)?;
    if tail_start < 19 || !text.is_char_boundary(tail_start) {
        return Some((text, 0));
    }
    let (base, tail) = text.split_at(tail_start);
    let sign = match tail.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Some((text, 0)),
    };
    let (hours, minutes) = tail[1..].split_once(':')?;
    let hours: i64 = hours.parse().ok()?;
    let minutes: i64 = minutes.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((base, sign * (hours * 3600 + minutes * 60)))
}

/// `--since`: an RFC 3339 time, or a duration back from `now` (`24h`, `7d`,
/// `1week 2days`).
pub fn parse_since(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let trimmed = text.trim();
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) && trimmed.contains('-') {
        return parse_time(trimmed);
    }
    let back = humantime::parse_duration(trimmed).map_err(|e| {
        format!(
            "`{trimmed}` is neither a duration like 24h or 7d ({e}) nor an RFC 3339 time like 2024-05-01T12:00:00Z"
        )
    })?;
    now.checked_sub(back)
        .ok_or_else(|| format!("`{trimmed}` reaches back before 1970"))
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn secs(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH).expect("after epoch").as_secs()
    }

    #[test]
    fn now_round_trips() {
        let now = now_rfc3339();
        assert!(now.ends_with('Z'), "{now}");
        assert_eq!(now.len(), 20, "{now}");
        parse_time(&now).expect("parses its own format");
    }

    #[test]
    fn parses_utc_offsets_and_dates() {
        let z = secs(parse_time("2024-05-01T12:00:00Z").expect("z"));
        assert_eq!(z, 1_714_564_800);
        assert_eq!(secs(parse_time("2024-05-01T14:00:00+02:00").expect("+")), z);
        assert_eq!(secs(parse_time("2024-05-01T10:30:00-01:30").expect("-")), z);
        assert_eq!(secs(parse_time("2024-05-01T12:00:00.5Z").expect("frac")), z);
        assert_eq!(secs(parse_time("2024-05-01").expect("date")), z - 12 * 3600);
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("2024-05-01T12:00:00+25:00").is_err());
    }

    #[test]
    fn since_takes_durations_or_times() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            secs(parse_since("24h", now).expect("24h")),
            1_000_000 - 86_400
        );
        assert_eq!(
            secs(parse_since("7d", now).expect("7d")),
            1_000_000 - 7 * 86_400
        );
        assert_eq!(
            secs(parse_since("2024-05-01T12:00:00Z", now).expect("time")),
            1_714_564_800
        );
        let err = parse_since("soon", now).expect_err("garbage");
        assert!(err.contains("soon"), "{err}");
    }
}
