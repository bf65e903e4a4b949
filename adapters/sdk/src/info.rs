//! A builder so an adapter's `info()` reads as a short declaration.

use crate::{
    AdapterInfo, Capabilities, Detection, HostPattern, NamingQuirks, OciArtifactSupport,
    SettingSpec, TagMetadata,
};

/// Builds an [`AdapterInfo`]; defaults: nested repositories, no create
/// before push, OCI artifacts not tested, no capabilities.
#[derive(Debug, Clone)]
pub struct InfoBuilder {
    info: AdapterInfo,
}

impl InfoBuilder {
    /// Start with the adapter's id, human name and version.
    pub fn new(name: &str, display_name: &str, version: &str) -> Self {
        Self {
            info: AdapterInfo {
                name: name.to_owned(),
                version: version.to_owned(),
                display_name: display_name.to_owned(),
                detection: Detection {
                    patterns: Vec::new(),
                    fallback: false,
                },
                allowed_hosts: Vec::new(),
                settings: Vec::new(),
                capabilities: Capabilities::empty(),
                metadata: TagMetadata::empty(),
                quirks: NamingQuirks {
                    nested_repositories: true,
                    create_repository_before_push: false,
                    oci_artifacts: OciArtifactSupport::NotTested,
                },
            },
        }
    }

    /// Claim an exact address.
    pub fn exact(mut self, address: &str) -> Self {
        self.info
            .detection
            .patterns
            .push(HostPattern::Exact(address.to_owned()));
        self
    }

    /// Claim addresses ending with `suffix`.
    pub fn suffix(mut self, suffix: &str) -> Self {
        self.info
            .detection
            .patterns
            .push(HostPattern::Suffix(suffix.to_owned()));
        self
    }

    /// Claim addresses starting with `prefix`.
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.info
            .detection
            .patterns
            .push(HostPattern::Prefix(prefix.to_owned()));
        self
    }

    /// Claim addresses matching a regular expression.
    pub fn regex(mut self, pattern: &str) -> Self {
        self.info
            .detection
            .patterns
            .push(HostPattern::Regex(pattern.to_owned()));
        self
    }

    /// Serve every address nobody else claims.
    pub fn fallback(mut self) -> Self {
        self.info.detection.fallback = true;
        self
    }

    /// Allow calls to a host besides the registry in use.
    pub fn allow_host(mut self, host: &str) -> Self {
        self.info.allowed_hosts.push(host.to_owned());
        self
    }

    /// Declare a setting; `secret` ones are never shown.
    pub fn setting(mut self, name: &str, env: &str, secret: bool, help: &str) -> Self {
        self.info.settings.push(SettingSpec {
            name: name.to_owned(),
            env: env.to_owned(),
            secret,
            api_endpoint: false,
            help: help.to_owned(),
        });
        self
    }

    /// Declare an API base URL setting; the host of its value joins the allow-list.
    pub fn api_endpoint_setting(mut self, name: &str, env: &str, help: &str) -> Self {
        self.info.settings.push(SettingSpec {
            name: name.to_owned(),
            env: env.to_owned(),
            secret: false,
            api_endpoint: true,
            help: help.to_owned(),
        });
        self
    }

    /// Declare native capabilities.
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.info.capabilities = capabilities;
        self
    }

    /// Declare which metadata native `list-tags` fills in.
    pub fn metadata(mut self, metadata: TagMetadata) -> Self {
        self.info.metadata = metadata;
        self
    }

    /// Declare that repositories cannot nest below the account.
    pub fn flat_repositories(mut self) -> Self {
        self.info.quirks.nested_repositories = false;
        self
    }

    /// Declare that repositories must be created before a push.
    pub fn create_repository_before_push(mut self) -> Self {
        self.info.quirks.create_repository_before_push = true;
        self
    }

    /// Declare OCI artifact support.
    pub fn oci_artifacts(mut self, support: OciArtifactSupport) -> Self {
        self.info.quirks.oci_artifacts = support;
        self
    }

    /// The finished description.
    pub fn build(self) -> AdapterInfo {
        self.info
    }
}
