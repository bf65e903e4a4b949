//! Plain host-side types for what adapters say. The rest of regent uses these,
//! never the generated bindings, and every value here passed validation.

use serde::{Deserialize, Serialize};

/// How images are laid out in the images repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RepoMode {
    /// Let the registry's rules decide.
    Auto,
    /// One repository for every image: `REPO:IMAGE-TAG`.
    Monorepo,
    /// One repository per image: `REPO/IMAGE:TAG`.
    Multirepo,
}

impl std::fmt::Display for RepoMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RepoMode::Auto => "auto",
            RepoMode::Monorepo => "monorepo",
            RepoMode::Multirepo => "multirepo",
        })
    }
}

/// Whether OCI artifacts can be pushed to a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OciArtifactSupport {
    Supported,
    NotTested,
    NotSupported,
}

/// Naming quirks of a registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamingQuirks {
    pub nested_repositories: bool,
    pub create_repository_before_push: bool,
    pub oci_artifacts: OciArtifactSupport,
}

/// One rule for recognising a registry address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum HostPattern {
    Exact(String),
    Suffix(String),
    Prefix(String),
    Regex(String),
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostPattern::Exact(s) => write!(f, "{s}"),
            HostPattern::Suffix(s) => write!(f, "*{s}"),
            HostPattern::Prefix(s) => write!(f, "{s}*"),
            HostPattern::Regex(s) => write!(f, "/{s}/"),
        }
    }
}

/// How an adapter recognises its registries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    pub patterns: Vec<HostPattern>,
    pub fallback: bool,
}

/// A setting an adapter declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingSpec {
    pub name: String,
    pub env: String,
    pub secret: bool,
    pub api_endpoint: bool,
    pub help: String,
}

/// Which functions an adapter implements natively.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub resolve_mode: bool,
    pub list_tags: bool,
    pub delete_tags: bool,
    pub create_repository: bool,
    pub delete_repository: bool,
    pub registry_login: bool,
}

impl Capabilities {
    /// Names of the native capabilities, for tables.
    pub fn names(&self) -> Vec<&'static str> {
        let all = [
            (self.resolve_mode, "resolve-mode"),
            (self.list_tags, "list-tags"),
            (self.delete_tags, "delete-tags"),
            (self.create_repository, "create-repository"),
            (self.delete_repository, "delete-repository"),
            (self.registry_login, "registry-login"),
        ];
        all.into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| n)
            .collect()
    }
}

/// Which metadata native tag listing fills in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagMetadata {
    pub digest: bool,
    pub pushed_at: bool,
    pub last_pulled_at: bool,
    pub size: bool,
}

impl TagMetadata {
    /// Names of the fields reported, for tables.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.digest, "digest"),
            (self.pushed_at, "pushed-at"),
            (self.last_pulled_at, "last-pulled-at"),
            (self.size, "size"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| n)
        .collect()
    }
}

/// What an adapter says about itself, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterInfo {
    pub name: String,
    pub version: String,
    pub display_name: String,
    pub detection: Detection,
    pub allowed_hosts: Vec<String>,
    pub settings: Vec<SettingSpec>,
    pub capabilities: Capabilities,
    pub metadata: TagMetadata,
    pub quirks: NamingQuirks,
}

impl AdapterInfo {
    /// The declared setting with this name.
    pub fn setting(&self, name: &str) -> Option<&SettingSpec> {
        self.settings.iter().find(|s| s.name == name)
    }
}

/// A tag with what the native API knows of it (times in Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagInfo {
    pub name: String,
    pub digest: Option<String>,
    pub pushed_at: Option<i64>,
    pub last_pulled_at: Option<i64>,
    pub size: Option<u64>,
}

/// One page of tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagPage {
    pub tags: Vec<TagInfo>,
    pub next: Option<String>,
}

/// A tag to delete and the digest it was planned at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRef {
    pub tag: String,
    pub digest: Option<String>,
}

/// The outcome for one tag of a native delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteResult {
    pub tag: String,
    pub outcome: Result<(), super::RegistryFailure>,
}

/// Docker login credentials an adapter fetched from its registry's API.
/// `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginCredentials {
    pub username: String,
    pub password: String,
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for LoginCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}
