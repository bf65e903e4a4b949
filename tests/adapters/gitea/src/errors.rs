//! Errors in the user's terms: every message names what was being done to
//! which Gitea package.

use regent_adapter_sdk::{AdapterError, RateLimit, UnauthorizedError};

/// Prefix `context` (e.g. "listing tags of Gitea package `acme/app`") to
/// the error's message, keeping its kind and any hint.
pub fn in_context(context: &str, error: AdapterError) -> AdapterError {
    let with = |m: String| format!("{context}: {m}");
    match error {
        AdapterError::Unauthorized(UnauthorizedError { message, hint }) => {
            AdapterError::Unauthorized(UnauthorizedError {
                message: with(message),
                hint,
            })
        }
        AdapterError::Forbidden(m) => AdapterError::Forbidden(with(m)),
        AdapterError::NotFound(m) => AdapterError::NotFound(with(m)),
        AdapterError::Unsupported(m) => AdapterError::Unsupported(with(m)),
        AdapterError::RateLimited(RateLimit {
            message,
            retry_after_seconds,
        }) => AdapterError::RateLimited(RateLimit {
            message: with(message),
            retry_after_seconds,
        }),
        AdapterError::InvalidSettings(m) => AdapterError::InvalidSettings(with(m)),
        AdapterError::Transient(m) => AdapterError::Transient(with(m)),
        AdapterError::Other(m) => AdapterError::Other(with(m)),
    }
}
