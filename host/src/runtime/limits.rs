//! The sandbox's limits as one plain value, so tests can shrink them.

use std::time::Duration;

/// Limits applied to every adapter instance and call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Linear memory one instance may grow to.
    pub memory_bytes: usize,
    /// Wall-clock time one exported call may take, host calls included.
    pub call_deadline: Duration,
    /// Time one `http-send` may take, including reading the body.
    pub http_timeout: Duration,
    /// Largest response body handed to an adapter.
    pub max_response_bytes: u64,
    /// Largest request body an adapter may send.
    pub max_request_bytes: usize,
    /// Log lines one call may write before further lines are dropped.
    pub max_log_lines_per_call: u32,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            call_deadline: Duration::from_secs(30),
            http_timeout: Duration::from_secs(20),
            max_response_bytes: 16 << 20,
            max_request_bytes: 4 << 20,
            max_log_lines_per_call: 200,
        }
    }
}
