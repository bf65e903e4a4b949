//! Repository names and manifest references as the distribution spec allows
//! them. Checked before they are put into a URL path, so a bad name is a
//! clear local error and never a request to an unintended path.

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

use super::error::RegistryError;
use crate::registry::digest::Digest;

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    Tag(String),
    Digest(Digest),
}

impl Reference {
    /// Parse a tag or a digest (anything with a `:` must be a digest, since
    /// tags cannot contain one).
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        if text.contains(':') {
            return text.parse::<Digest>().map(Self::Digest).map_err(|e| {
                RegistryError::InvalidArgument {
                    what: "digest",
                    value: text.to_owned(),
                    why: e.to_string(),
                }
            });
        }
        check_tag(text)?;
        Ok(Self::Tag(text.to_owned()))
    }

    /// The digest, when the reference is one.
    pub fn digest(&self) -> Option<&Digest> {
        match self {
            Self::Digest(d) => Some(d),
            Self::Tag(_) => None,
        }
    }

    /// The text as it goes into a URL.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Tag(t) => t,
            Self::Digest(d) => d.as_str(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Digest> for Reference {
    fn from(digest: Digest) -> Self {
        Self::Digest(digest)
    }
}

/// Check a repository name against the spec's grammar (lowercase path
/// components separated by `/`), at most 255 characters.
pub fn check_repository(name: &str) -> Result<(), RegistryError> {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        Regex::new(
            r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$",
        )
        .unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
    });
    if name.len() <= 255 && pattern.is_match(name) {
        return Ok(());
    }
    Err(RegistryError::InvalidArgument {
        what: "repository name",
        value: name.to_owned(),
        why: "must be lowercase letters, digits and separators (`.`, `_`, `__`, `-`) in `/`-separated components, at most 255 characters".into(),
    })
}

/// Check a tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn check_tag(tag: &str) -> Result<(), RegistryError> {
    let mut bytes = tag.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if first_ok && rest_ok && tag.len() <= 128 {
        return Ok(());
    }
    Err(RegistryError::InvalidArgument {
        what: "tag",
        value: tag.to_owned(),
        why: "must be 1 to 128 of letters, digits, `_`, `.`, `-`, not starting with `.` or `-`"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_grammar() {
        for ok in ["app", "acme/app", "a.b_c__d---e/f0", "library/alpine"] {
            assert!(check_repository(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "App",
            "acme//app",
            "../etc",
            "acme/app/",
            "a..b",
            "-a",
            "a b",
        ] {
            assert!(check_repository(bad).is_err(), "{bad}");
        }
        assert!(check_tag("v1.2.3-rc_1").is_ok() && check_tag("_x").is_ok());
        assert!(check_tag("").is_err() && check_tag(".x").is_err() && check_tag("a/b").is_err());
        assert!(check_tag(&"a".repeat(129)).is_err());
    }

    #[test]
    fn references_are_tags_or_digests() {
        let digest = Digest::sha256_of(b"x");
        assert_eq!(
            Reference::parse(digest.as_str()).expect("digest"),
            Reference::Digest(digest.clone())
        );
        assert_eq!(
            Reference::parse("latest").expect("tag"),
            Reference::Tag("latest".into())
        );
        assert!(Reference::parse("sha256:abc").is_err());
        assert!(Reference::parse("no/slash").is_err());
    }
}
