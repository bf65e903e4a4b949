//! The policy file: what a platform team writes down to say what to keep.
//!
//! ```yaml
//! version: 1
//! protected-tags: ["latest"]       # regexes, whole-tag; never deleted
//! freshness: 2h                    # nothing pushed this recently is deleted
//! max-deletions: 500               # per run; the oldest go first
//! untagged: delete                 # manifests this run leaves untagged
//! referrers: with-subject          # signatures/SBOMs follow their subject
//! rules:
//!   - name: keep-releases
//!     action: keep
//!     tags: { match: '^v[0-9]+\.[0-9]+\.[0-9]+$' }
//!   - name: old-branches
//!     action: delete
//!     repositories: { include: ["team/**"], exclude: ["team/base"] }
//!     tags: { match: 'feature-.*' }   # the whole tag must match
//!     pushed-older-than: 14d
//! ```
//!
//! A rule selects tags (repository globs, tag regexes) and may add
//! conditions; all of them must hold. Keep beats delete; a tag no rule
//! decides is kept.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The only policy format version so far.
pub const POLICY_VERSION: u32 = 1;

/// A parsed, validated policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Policy {
    /// Format version; `1`.
    pub version: u32,
    /// Tags never deleted, as whole-tag regexes. Default: `latest`.
    #[serde(default = "default_protected_tags")]
    pub protected_tags: Vec<String>,
    /// Nothing pushed within this window is deleted. Default: 2 hours.
    #[serde(default = "default_freshness")]
    pub freshness: PolicyDuration,
    /// At most this many tag deletions per run (the oldest first); none: no cap.
    #[serde(default)]
    pub max_deletions: Option<usize>,
    /// What happens to manifests this run leaves without any tag (children
    /// of a deleted index that no kept index uses).
    #[serde(default)]
    pub untagged: UntaggedRule,
    /// What happens to referrers (signatures, SBOMs) of a deleted manifest.
    #[serde(default)]
    pub referrers: ReferrersRule,
    /// The rules, in any order (keep beats delete regardless of order).
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One rule: which tags it selects, under which conditions, and what it says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Rule {
    /// Shown in the plan and recorded in the audit log as the reason.
    pub name: String,
    pub action: Action,
    /// Repository paths (without the registry) the rule applies to.
    #[serde(default)]
    pub repositories: RepositorySelector,
    /// Tags the rule applies to.
    #[serde(default)]
    pub tags: TagSelector,
    /// Holds for the N most recently pushed of the tags this rule selects
    /// in a repository ("keep the 10 newest").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<usize>,
    /// Holds for every selected tag except the N most recently pushed
    /// ("delete all but the 10 newest", ECR's imageCountMoreThan, GitLab's keep_n).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beyond_newest: Option<usize>,
    /// Holds when the tag was pushed within this window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_within: Option<PolicyDuration>,
    /// Holds when the tag was pushed longer ago than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_older_than: Option<PolicyDuration>,
    /// Holds when the tag was pulled within this window (pull time known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulled_within: Option<PolicyDuration>,
    /// Holds when the tag was not pulled for this long (pull time known;
    /// never pulled counts from the push time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_pulled_for: Option<PolicyDuration>,
    /// `true`: holds only for semantic-version tags (`1.2.3`, `v1.2.3-rc.1`);
    /// `false`: only for tags that are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<bool>,
}

/// What a rule says about the tags it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Keep,
    Delete,
}

/// Repository paths by glob: `*` within one path segment, `**` across segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RepositorySelector {
    /// Default: every repository.
    #[serde(default = "match_everything")]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl Default for RepositorySelector {
    fn default() -> Self {
        Self {
            include: match_everything(),
            exclude: Vec::new(),
        }
    }
}

/// Tags by regex (matched against the whole tag).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TagSelector {
    /// Default: every tag.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<String>,
}

/// Manifests left without tags by this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UntaggedRule {
    /// Delete them (never one a kept index references).
    #[default]
    Delete,
    /// Leave them for the registry's garbage collection.
    Keep,
}

/// Referrers (signatures, SBOMs, attestations) of deleted manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferrersRule {
    /// Deleted together with their subject.
    #[default]
    WithSubject,
    /// Left in place.
    Keep,
}

/// A duration written as `90m`, `2h`, `14d`, `4w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyDuration(pub Duration);

impl PolicyDuration {
    /// Whole seconds, for comparing with Unix timestamps.
    pub fn as_secs(&self) -> i64 {
        i64::try_from(self.0.as_secs()).unwrap_or(i64::MAX)
    }
}

impl std::fmt::Display for PolicyDuration {
    /// In the largest whole unit (`90d`, `2h`, `45m`), as people write them;
    /// anything finer falls back to humantime's form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.as_secs();
        if self.0.subsec_nanos() != 0 {
            return write!(f, "{}", humantime::format_duration(self.0));
        }
        match secs {
            0 => write!(f, "0s"),
            s if s.is_multiple_of(86_400) => write!(f, "{}d", s / 86_400),
            s if s.is_multiple_of(3_600) => write!(f, "{}h", s / 3_600),
            s if s.is_multiple_of(60) => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl std::str::FromStr for PolicyDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        humantime::parse_duration(text.trim())
            .map(PolicyDuration)
            .map_err(|e| format!("`{text}` is not a duration like 2h, 14d or 4w: {e}"))
    }
}

impl Serialize for PolicyDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for PolicyDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn default_protected_tags() -> Vec<String> {
    vec!["latest".to_owned()]
}

fn default_freshness() -> PolicyDuration {
    PolicyDuration(Duration::from_secs(2 * 3600))
}

#[cfg(test)]
mod tests {
    use super::PolicyDuration;

    #[test]
    fn durations_print_in_the_largest_whole_unit_and_read_back() {
        for (text, shown) in [
            ("90d", "90d"),
            ("2h", "2h"),
            ("90m", "90m"),
            ("0s", "0s"),
            ("2w", "14d"),
            ("61s", "61s"),
        ] {
            let d: PolicyDuration = text.parse().expect("parses");
            assert_eq!(d.to_string(), shown);
            assert_eq!(shown.parse::<PolicyDuration>().expect("reads back"), d);
        }
    }
}

fn match_everything() -> Vec<String> {
    vec!["**".to_owned()]
}

/// A policy that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read the policy {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the policy {origin} is not valid: {message}")]
    Invalid { origin: String, message: String },
}

impl Policy {
    /// Read and validate a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse and validate policy YAML; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, PolicyError> {
        let policy: Policy = serde_norway::from_str(text).map_err(|e| PolicyError::Invalid {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        policy.validate().map_err(|message| PolicyError::Invalid {
            origin: origin.to_owned(),
            message,
        })?;
        Ok(policy)
    }

    /// The policy as YAML (what `regent policy import` writes).
    pub fn to_yaml(&self) -> String {
        serde_norway::to_string(self).unwrap_or_default()
    }
}
