//! Conversions between the generated bindings and the host's plain types.

use super::bindings::regent::adapter::types as wit;
use super::error::RegistryFailure;
use super::types::*;

impl From<wit::RepoMode> for RepoMode {
    fn from(m: wit::RepoMode) -> Self {
        match m {
            wit::RepoMode::Auto => RepoMode::Auto,
            wit::RepoMode::Monorepo => RepoMode::Monorepo,
            wit::RepoMode::Multirepo => RepoMode::Multirepo,
        }
    }
}

impl From<RepoMode> for wit::RepoMode {
    fn from(m: RepoMode) -> Self {
        match m {
            RepoMode::Auto => wit::RepoMode::Auto,
            RepoMode::Monorepo => wit::RepoMode::Monorepo,
            RepoMode::Multirepo => wit::RepoMode::Multirepo,
        }
    }
}

impl From<wit::AdapterInfo> for AdapterInfo {
    fn from(i: wit::AdapterInfo) -> Self {
        AdapterInfo {
            name: i.name,
            version: i.version,
            display_name: i.display_name,
            detection: Detection {
                patterns: i
                    .detection
                    .patterns
                    .into_iter()
                    .map(|p| match p {
                        wit::HostPattern::Exact(s) => HostPattern::Exact(s),
                        wit::HostPattern::Suffix(s) => HostPattern::Suffix(s),
                        wit::HostPattern::Prefix(s) => HostPattern::Prefix(s),
                        wit::HostPattern::Regex(s) => HostPattern::Regex(s),
                    })
                    .collect(),
                fallback: i.detection.fallback,
            },
            allowed_hosts: i.allowed_hosts,
            settings: i
                .settings
                .into_iter()
                .map(|s| SettingSpec {
                    name: s.name,
                    env: s.env,
                    secret: s.secret,
                    api_endpoint: s.api_endpoint,
                    help: s.help,
                })
                .collect(),
            capabilities: Capabilities {
                resolve_mode: i.capabilities.contains(wit::Capabilities::RESOLVE_MODE),
                list_tags: i.capabilities.contains(wit::Capabilities::LIST_TAGS),
                delete_tags: i.capabilities.contains(wit::Capabilities::DELETE_TAGS),
                create_repository: i
                    .capabilities
                    .contains(wit::Capabilities::CREATE_REPOSITORY),
                delete_repository: i
                    .capabilities
                    .contains(wit::Capabilities::DELETE_REPOSITORY),
                registry_login: i.capabilities.contains(wit::Capabilities::REGISTRY_LOGIN),
            },
            metadata: TagMetadata {
                digest: i.metadata.contains(wit::TagMetadata::DIGEST),
                pushed_at: i.metadata.contains(wit::TagMetadata::PUSHED_AT),
                last_pulled_at: i.metadata.contains(wit::TagMetadata::LAST_PULLED_AT),
                size: i.metadata.contains(wit::TagMetadata::SIZE),
            },
            quirks: NamingQuirks {
                nested_repositories: i.quirks.nested_repositories,
                create_repository_before_push: i.quirks.create_repository_before_push,
                oci_artifacts: match i.quirks.oci_artifacts {
                    wit::OciArtifactSupport::Supported => OciArtifactSupport::Supported,
                    wit::OciArtifactSupport::NotTested => OciArtifactSupport::NotTested,
                    wit::OciArtifactSupport::NotSupported => OciArtifactSupport::NotSupported,
                },
            },
        }
    }
}

impl From<wit::AdapterError> for RegistryFailure {
    fn from(e: wit::AdapterError) -> Self {
        use super::validate::truncate_long as t;
        match e {
            wit::AdapterError::Unauthorized(u) => RegistryFailure::Unauthorized {
                message: t(&u.message),
                hint: t(&u.hint),
            },
            wit::AdapterError::Forbidden(m) => RegistryFailure::Forbidden { message: t(&m) },
            wit::AdapterError::NotFound(m) => RegistryFailure::NotFound { message: t(&m) },
            wit::AdapterError::Unsupported(m) => RegistryFailure::Unsupported { message: t(&m) },
            wit::AdapterError::RateLimited(r) => RegistryFailure::RateLimited {
                message: t(&r.message),
                retry_after_seconds: r.retry_after_seconds,
            },
            wit::AdapterError::InvalidSettings(m) => {
                RegistryFailure::InvalidSettings { message: t(&m) }
            }
            wit::AdapterError::Transient(m) => RegistryFailure::Transient { message: t(&m) },
            wit::AdapterError::Other(m) => RegistryFailure::Other { message: t(&m) },
        }
    }
}

impl From<wit::TagInfo> for TagInfo {
    fn from(t: wit::TagInfo) -> Self {
        TagInfo {
            name: t.name,
            digest: t.digest,
            pushed_at: t.pushed_at,
            last_pulled_at: t.last_pulled_at,
            size: t.size,
        }
    }
}

impl From<wit::TagPage> for TagPage {
    fn from(p: wit::TagPage) -> Self {
        TagPage {
            tags: p.tags.into_iter().map(Into::into).collect(),
            next: p.next,
        }
    }
}

impl From<&TagRef> for wit::TagRef {
    fn from(t: &TagRef) -> Self {
        wit::TagRef {
            tag: t.tag.clone(),
            digest: t.digest.clone(),
        }
    }
}

impl From<wit::LoginCredentials> for LoginCredentials {
    fn from(c: wit::LoginCredentials) -> Self {
        LoginCredentials {
            username: c.username,
            password: c.password,
            expires_at: c.expires_at,
        }
    }
}
