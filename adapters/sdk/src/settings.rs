//! Reading settings the adapter declared in its info.

use crate::Result;
use crate::bindings::regent::adapter::host;
use crate::errors::invalid_settings;

/// The setting's value, if the user gave one. Reading a setting that is not
/// declared in `info()` ends the call: declare everything you read.
pub fn get(name: &str) -> Option<String> {
    host::setting(name).filter(|value| !value.is_empty())
}

/// The setting's value, or an `invalid-settings` error naming it and its
/// environment variable so the user knows what to set.
pub fn require(name: &str, env: &str) -> Result<String> {
    get(name).ok_or_else(|| {
        invalid_settings(format!(
            "the setting `{name}` is required: pass --repo-{name} or set {env}"
        ))
    })
}
