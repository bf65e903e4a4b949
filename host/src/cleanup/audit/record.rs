//! What one audit record says.

use serde::{Deserialize, Serialize};

/// Who ran the deletion: the CI user and job where known, else the local user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// CI user (e.g. `GITLAB_USER_LOGIN`, `GITHUB_ACTOR`) or the local user name.
    pub user: String,
    /// The local machine's host name, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The CI job, when run in CI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<CiJob>,
}

/// A CI job as the CI system names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiJob {
    /// `gitlab`, `github`, `jenkins`, `ci` (unknown system with `CI=true`).
    pub system: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
}

/// Which adapter carried the deletion out (bundled or installed component).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterIdentity {
    pub name: String,
    pub version: String,
    /// `sha256:...` of the WebAssembly component.
    pub component_digest: String,
}

/// How a deletion ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum AuditOutcome {
    /// The registry deleted it.
    Deleted,
    /// The deletion was attempted and failed.
    Failed { error: String },
}

/// What the apply step hands to the log for one deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// `host[:port]`.
    pub registry: String,
    /// The adapter kind that served the registry (`default`, `ecr`, ...).
    pub implementation: String,
    pub adapter: AdapterIdentity,
    pub repository: String,
    /// The deleted tag; `None` for an untagged manifest (index child, referrer).
    #[serde(default)]
    pub tag: Option<String>,
    /// The digest the tag pointed at (or the deleted manifest's digest).
    pub digest: String,
    /// Media type of the manifest, as served.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The manifest bytes, base64 (standard alphabet), so it can be restored.
    #[serde(default)]
    pub manifest: Option<String>,
    /// The policy rule (or `manual`) that decided the deletion.
    pub rule: String,
    /// How it was deleted: `native`, `tag-delete`, `throwaway`, `digest`.
    pub method: String,
    pub outcome: AuditOutcome,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// 1-based position in the log; what `regent restore --entry` takes.
    pub seq: u64,
    /// RFC 3339 UTC time of the deletion.
    pub time: String,
    pub actor: Actor,
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// Lower-case hex SHA-256 of the previous line's exact bytes (without
    /// its newline); 64 zeros for the first record.
    pub prev: String,
}
