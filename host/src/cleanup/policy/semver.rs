//! Which tags are semantic versions, for a rule's `semver` condition.
//!
//! A tag is a semantic version when it parses as SemVer 2.0.0 after an
//! optional leading lowercase `v`: `1.2.3`, `v1.2.3`, `1.2.3-rc.1`. Tags
//! cannot contain `+`, so build metadata never appears. `1.2`, `latest`,
//! `01.2.3` (leading zero) and `V1.2.3` are not semantic versions.

/// Whether `tag` is a semantic version (with or without a leading `v`), so
/// `semver: true` rules can keep releases and `semver: false` rules can
/// target everything else.
pub fn is_semver_tag(tag: &str) -> bool {
    let bare = tag.strip_prefix('v').unwrap_or(tag);
    ::semver::Version::parse(bare).is_ok()
}

#[cfg(test)]
mod tests {
    use super::is_semver_tag;

    #[test]
    fn semantic_versions_with_and_without_v() {
        for tag in ["1.2.3", "v1.2.3", "0.0.0", "1.2.3-rc.1", "v10.20.30-alpha"] {
            assert!(is_semver_tag(tag), "{tag} should be a semantic version");
        }
    }

    #[test]
    fn everything_else_is_not() {
        for tag in [
            "1.2",
            "v1.2",
            "latest",
            "1",
            "01.2.3",
            "V1.2.3",
            "vv1.2.3",
            "1.2.3.4",
            "main-1.2.3",
            "",
            "v",
        ] {
            assert!(
                !is_semver_tag(tag),
                "{tag} should not be a semantic version"
            );
        }
    }
}
