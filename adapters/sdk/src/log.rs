//! Logging through the host, which tags every line with the adapter's name.

use crate::LogLevel;
use crate::bindings::regent::adapter::host;

/// Debug detail, shown with `--verbose`.
pub fn debug(message: &str) {
    host::log(LogLevel::Debug, message);
}

/// Progress a user may want to see.
pub fn info(message: &str) {
    host::log(LogLevel::Info, message);
}

/// Something odd that did not stop the operation.
pub fn warn(message: &str) {
    host::log(LogLevel::Warn, message);
}
