//! Other registries' retention rules turned into a regent policy.
//!
//! Teams moving to regent keep the rules they already have: an AWS ECR
//! lifecycle policy ([`ecr`]), a GitLab container registry cleanup policy
//! ([`gitlab`]) or a Harbor tag retention policy ([`harbor`]) becomes a
//! [`Policy`]. Where the source registry decides differently from regent
//! (rule priorities, images vs tags, retain-only rules) the import either
//! writes rules that decide the same, or says in a warning what differs, or
//! refuses with an error naming the rule and the field. It never writes a
//! rule that deletes more than the source would without a warning saying so.

mod common;
pub mod ecr;
pub mod gitlab;
pub mod glob;
pub mod harbor;

use serde::Serialize;

use super::model::Policy;

/// The rule formats regent imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    /// AWS ECR lifecycle policy JSON (`aws ecr get-lifecycle-policy` output works too).
    Ecr,
    /// GitLab `container_expiration_policy` (project API) JSON.
    Gitlab,
    /// Harbor tag retention policy JSON (`GET /api/v2.0/retentions/{id}`).
    Harbor,
}

impl std::fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ecr => "ECR",
            Self::Gitlab => "GitLab",
            Self::Harbor => "Harbor",
        })
    }
}

/// Choices the user makes about an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Follow the source registry exactly where regent's defaults are safer:
    /// no protected tags beyond what the source protects, no freshness
    /// window, and refuse rules regent can only approximate.
    pub exact: bool,
}

/// An imported policy and what the user must know about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Imported {
    /// Valid under [`Policy::validate`].
    pub policy: Policy,
    /// Where regent decides differently from the source, one sentence each.
    pub warnings: Vec<String>,
}

impl Imported {
    /// The `(policy, warnings)` pair.
    pub fn into_parts(self) -> (Policy, Vec<String>) {
        (self.policy, self.warnings)
    }
}

/// Why an import failed: the format, and where in the source.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not JSON, or not shaped like the format.
    #[error("not a valid {format} policy: {message}")]
    Malformed {
        /// The format the text was read as.
        format: ImportFormat,
        /// What is wrong (serde's message carries the line and column).
        message: String,
    },
    /// One field of one rule cannot be imported (or only approximated under `--exact`).
    #[error("{format} {rule}, field `{field}`: {message}")]
    Field {
        /// The format the text was read as.
        format: ImportFormat,
        /// The rule as the source names it (`rule with rulePriority 2`, `rules[0] (always)`).
        rule: String,
        /// The field's path inside the rule (`selection.tagPrefixList`).
        field: String,
        /// Why, and what to do instead.
        message: String,
    },
    /// The result is not a valid regent policy (a regex regent rejects, say).
    #[error("the policy imported from {format} is not valid: {message}")]
    Invalid {
        /// The format the text was read as.
        format: ImportFormat,
        /// The validation error.
        message: String,
    },
}

/// Import `text` in `from`'s format with regent's default (safer) choices.
pub fn import(from: ImportFormat, text: &str) -> Result<Imported, ImportError> {
    import_with(from, text, ImportOptions::default())
}

/// Import `text` in `from`'s format.
pub fn import_with(
    from: ImportFormat,
    text: &str,
    options: ImportOptions,
) -> Result<Imported, ImportError> {
    let imported = match from {
        ImportFormat::Ecr => ecr::import(text, options)?,
        ImportFormat::Gitlab => gitlab::import(text, options)?,
        ImportFormat::Harbor => harbor::import(text, options)?,
    };
    common::check(from, &imported.policy)?;
    Ok(imported)
}
