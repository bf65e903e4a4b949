//! Typed errors for everything that can go wrong with an adapter.

use std::time::Duration;

use serde::Serialize;

/// A failure the registry (through the adapter) reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RegistryFailure {
    #[error("unauthorized: {message}\nhint: {hint}")]
    Unauthorized { message: String, hint: String },
    #[error("forbidden: {message}")]
    Forbidden { message: String },
    #[error("not found: {message}")]
    NotFound { message: String },
    #[error("unsupported: {message}")]
    Unsupported { message: String },
    #[error("rate limited: {message}{}", retry_after_seconds.map(|s| format!(" (retry after {s} s)")).unwrap_or_default())]
    RateLimited {
        message: String,
        retry_after_seconds: Option<u64>,
    },
    #[error("invalid settings: {message}")]
    InvalidSettings { message: String },
    #[error("temporary failure: {message}")]
    Transient { message: String },
    #[error("{message}")]
    Other { message: String },
}

/// Something the adapter did that the sandbox does not allow. Raised from
/// host imports and the limiter as a trap, so the adapter cannot swallow it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxViolation {
    #[error(
        "it tried to reach {url}, but may only reach {allowed}; to allow another API host, set the adapter's API endpoint setting"
    )]
    HostDenied { url: String, allowed: String },
    #[error("it read the setting `{name}`, which it did not declare in info()")]
    UndeclaredSetting { name: String },
    #[error(
        "it read the setting `{name}`, which it declares but was not granted; grant it with `regent adapter grant {adapter} --setting {name}`"
    )]
    SettingNotGranted { adapter: String, name: String },
    #[error(
        "it tried to reach {url}, which it declares (`{rule}`) but was not granted; grant it with `regent adapter grant {adapter} --host {rule}`"
    )]
    HostNotGranted {
        adapter: String,
        url: String,
        rule: String,
    },
    #[error("it tried to grow its memory to {} MiB, over the limit of {} MiB", requested_bytes >> 20, limit_bytes >> 20)]
    MemoryLimit {
        limit_bytes: usize,
        requested_bytes: usize,
    },
    #[error("it sent a request body of {size} bytes, over the limit of {limit} bytes")]
    RequestTooLarge { size: usize, limit: usize },
}

/// Why a call failed, beyond the adapter's own name and the call.
#[derive(Debug, thiserror::Error)]
pub enum CallFailure {
    /// The registry said no; the adapter reported it properly.
    #[error("{0}")]
    Registry(RegistryFailure),
    #[error("sandbox violation: {0}")]
    Violation(SandboxViolation),
    #[error("it ran past its deadline of {} ms and was stopped", .0.as_millis())]
    Deadline(Duration),
    #[error("it crashed: {0}")]
    Trap(String),
    #[error("it returned a malformed answer: {0}")]
    Malformed(String),
    #[error("it could not be instantiated: {0}")]
    Instantiate(String),
}

/// An adapter call failed. Always names the adapter and the call.
#[derive(Debug, thiserror::Error)]
#[error("adapter `{adapter}` ({call}): {failure}")]
pub struct AdapterCallError {
    pub adapter: String,
    pub call: &'static str,
    pub failure: CallFailure,
}

impl AdapterCallError {
    /// Whether the adapter answered `unsupported`: the host should do the
    /// work through the Registry API instead.
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self.failure,
            CallFailure::Registry(RegistryFailure::Unsupported { .. })
        )
    }

    /// The registry failure behind this error, if it is one.
    pub fn registry_failure(&self) -> Option<&RegistryFailure> {
        match &self.failure {
            CallFailure::Registry(f) => Some(f),
            _ => None,
        }
    }
}

/// Loading a component failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("adapter {origin}: not a valid WebAssembly component: {message}")]
    Compile { origin: String, message: String },
    #[error(
        "adapter {origin} was built against {found}, but this regent supports {supported}; rebuild it with a supported regent-adapter-sdk"
    )]
    UnsupportedWitVersion {
        origin: String,
        found: String,
        supported: String,
    },
    #[error(
        "adapter {origin} does not export the regent:adapter/registry interface; is it a regent adapter?"
    )]
    NotAnAdapter { origin: String },
    #[error("adapter {origin} needs imports this host does not provide: {message}")]
    Link { origin: String, message: String },
    #[error("adapter {origin}: info() failed: {source}")]
    Info {
        origin: String,
        #[source]
        source: Box<AdapterCallError>,
    },
    #[error("adapter {origin}: invalid info(): {message}")]
    InvalidInfo { origin: String, message: String },
    #[error("component cache at {path}: {message}")]
    Cache { path: String, message: String },
}
