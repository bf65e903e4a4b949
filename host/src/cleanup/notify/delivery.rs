//! Delivering one event: POST with a timeout, retried on server errors and
//! broken connections, never on a refusal the receiver meant (4xx).

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use reqwest::{Client, StatusCode, Url};

use super::event::{EVENTS_MEDIA_TYPE, USER_AGENT as REGENT_AGENT};

/// How hard to try each event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Limit on each POST, connection to last byte.
    pub timeout: Duration,
    /// Further attempts after the first fails transiently.
    pub retries: u32,
    /// Wait before the first retry; doubled before each next one.
    pub backoff: Duration,
}

/// POST `body` to `url` until it is accepted (2xx), a non-transient answer
/// comes back, or the retries run out. `Err` says why, naming the endpoint
/// (without credentials) and the last status or transport error;
/// `failed_attempt` hears of each failed attempt as it happens, so a caller
/// that stops waiting can still say why.
pub async fn deliver(
    client: &Client,
    url: &Url,
    body: &[u8],
    attempts: Attempts,
    failed_attempt: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), String> {
    let endpoint = redacted(url);
    let mut last = String::new();
    for attempt in 0..=attempts.retries {
        if attempt > 0 {
            let factor = 1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX);
            tokio::time::sleep(attempts.backoff.saturating_mul(factor)).await;
        }
        let sent = client
            .post(url.clone())
            .header(CONTENT_TYPE, EVENTS_MEDIA_TYPE)
            .header(USER_AGENT, REGENT_AGENT)
            .timeout(attempts.timeout)
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => return Ok(()),
            Ok(answer) => {
                let status = answer.status();
                let said = answer_text(answer).await;
                last = format!("{endpoint} answered {status}{said}");
                if !is_transient(status) {
                    return Err(last);
                }
            }
            // Without the URL: it may carry credentials or a secret query.
            Err(e) if e.is_builder() => {
                return Err(format!(
                    "cannot send to {endpoint}: {}",
                    crate::errors::chain(&e.without_url())
                ));
            }
            Err(e) => {
                let what = if e.is_timeout() {
                    format!("no answer within {} s", attempts.timeout.as_secs_f32())
                } else {
                    crate::errors::chain(&e.without_url())
                };
                last = format!("cannot reach {endpoint}: {what}");
            }
        }
        failed_attempt(&last);
    }
    Err(format!(
        "{last} (gave up after {} attempts)",
        attempts.retries + 1
    ))
}

/// Server errors, rate limiting and request timeouts may pass; anything
/// else not 2xx (including a redirect the client did not follow) is the
/// receiver's considered answer.
fn is_transient(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

/// The start of the receiver's answer, for the failure reason.
async fn answer_text(answer: reqwest::Response) -> String {
    const SHOWN: usize = 200;
    let Ok(bytes) = answer.bytes().await else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN)]);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// The endpoint as it may appear in reports and CI logs: no user, password
/// or query (where webhook secrets tend to live).
pub fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_shown_without_secrets() {
        let url: Url = "https://bot:s3cret@hooks.example.com/regent?token=abc"
            .parse()
            .expect("url");
        assert_eq!(redacted(&url), "https://hooks.example.com/regent");
    }

    #[test]
    fn only_server_trouble_is_retried() {
        assert!(is_transient(StatusCode::BAD_GATEWAY));
        assert!(is_transient(StatusCode::TOO_MANY_REQUESTS));
        assert!(!is_transient(StatusCode::UNAUTHORIZED));
        assert!(!is_transient(StatusCode::MOVED_PERMANENTLY));
    }
}
