//! A string that must never be shown.

use std::fmt;

/// A password, token or other secret. Its `Debug` prints `<redacted>` and it
/// has no `Display` or `Serialize`, so it cannot leak into logs, errors or
/// `--output json` by accident; [`Secret::expose`] marks the few places that
/// really send it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the request or file that needs it. Never format it into a message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for an empty secret, which Docker treats as no secret at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Lets clap parse a secret flag (`-p`) straight into a `Secret`, so the
/// parsed command line's `Debug` never shows it.
impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(<redacted>)");
        assert_eq!(s.expose(), "hunter2");
    }
}
