//! Short constructors for [`AdapterError`] so adapters report failures in one line.

use crate::{AdapterError, RateLimit, UnauthorizedError};

/// The function is not implemented natively by this adapter.
pub fn unsupported(what: &str) -> AdapterError {
    AdapterError::Unsupported(format!(
        "{what} is not implemented natively by this adapter"
    ))
}

/// Credentials are missing or wrong; `hint` tells the user what to do.
pub fn unauthorized(message: impl Into<String>, hint: impl Into<String>) -> AdapterError {
    AdapterError::Unauthorized(UnauthorizedError {
        message: message.into(),
        hint: hint.into(),
    })
}

/// A setting is missing or malformed.
pub fn invalid_settings(message: impl Into<String>) -> AdapterError {
    AdapterError::InvalidSettings(message.into())
}

/// Anything the adapter cannot classify further.
pub fn other(message: impl Into<String>) -> AdapterError {
    AdapterError::Other(message.into())
}

/// A failure worth retrying later.
pub fn transient(message: impl Into<String>) -> AdapterError {
    AdapterError::Transient(message.into())
}

/// The registry asked to slow down.
pub fn rate_limited(message: impl Into<String>, retry_after_seconds: Option<u64>) -> AdapterError {
    AdapterError::RateLimited(RateLimit {
        message: message.into(),
        retry_after_seconds,
    })
}
