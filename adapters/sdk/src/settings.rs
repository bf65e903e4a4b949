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

/// An API-endpoint setting's value, trimmed and without a trailing `/`;
/// `None` when the user gave none. Anything but an http(s) URL is an
/// `invalid-settings` error naming the setting, with `example` as a hint.
pub fn endpoint(name: &str, example: &str) -> Result<Option<String>> {
    let Some(url) = get(name) else {
        return Ok(None);
    };
    let url = url.trim().trim_end_matches('/').to_owned();
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(Some(url))
    } else {
        Err(invalid_settings(format!(
            "`{name}` must be an http(s) URL such as {example}, not `{url}`; check --repo-{name}"
        )))
    }
}
