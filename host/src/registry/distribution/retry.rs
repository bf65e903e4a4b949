//! When a failed request is worth trying again, and how long to wait.
//!
//! Registries shed load with 429 and 503 and sit behind proxies that answer
//! 502/504; a cleanup of thousands of tags must ride those out without
//! hammering the registry, so waits grow exponentially, carry jitter so many
//! clients do not retry in lock-step, and obey `Retry-After` when given.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How many attempts a request gets and how long to wait between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles with every further one.
    pub initial_backoff: Duration,
    /// The longest computed wait.
    pub max_backoff: Duration,
    /// The longest `Retry-After` regent is willing to wait; a registry asking
    /// for more gets a rate-limit error instead of a silently hung command.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// One attempt only: for callers that do their own retrying.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (1 for the first retry): the
    /// exponential step with "equal jitter", i.e. somewhere in its upper half,
    /// so waits still grow but concurrent clients spread out.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(20);
        let step = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let half = step / 2;
        let jitter_range = step.saturating_sub(half).as_nanos() as u64;
        let jitter = if jitter_range == 0 {
            0
        } else {
            random_u64() % (jitter_range + 1)
        };
        half + Duration::from_nanos(jitter)
    }
}

/// Statuses that mean "not now" rather than "no": rate limiting, and a
/// gateway or the registry being briefly unavailable.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Statuses after which the registry has certainly not acted on the request
/// (it refused up front), so even a non-idempotent request may be replayed.
pub fn is_refusal_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 503)
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP date
/// (a date in the past means now). `None` if absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A random number for jitter. `RandomState` is seeded per instance from the
/// OS, which is plenty for spreading retries and needs no extra crate.
fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_grows_within_jittered_bounds_and_caps() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(5),
        };
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = policy.backoff(3);
            assert!(
                third >= Duration::from_millis(200) && third <= Duration::from_millis(400),
                "{third:?}"
            );
            let late = policy.backoff(30);
            assert!(
                late >= Duration::from_millis(500) && late <= Duration::from_secs(1),
                "{late:?}"
            );
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:50:07 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:00:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for code in [429, 502, 503, 504] {
            assert!(is_retryable_status(
                StatusCode::from_u16(code).expect("status")
            ));
        }
        for code in [400, 401, 403, 404, 500, 501] {
            assert!(!is_retryable_status(
                StatusCode::from_u16(code).expect("status")
            ));
        }
        assert!(
            is_refusal_status(StatusCode::TOO_MANY_REQUESTS)
                && !is_refusal_status(StatusCode::BAD_GATEWAY)
        );
    }
}
