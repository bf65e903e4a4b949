//! How regent connects to registries: plain HTTP or TLS, which CAs to trust,
//! how many requests at once and how hard to retry.
//!
//! These come from global flags (`--insecure-registry`, `--ca-file`) and
//! Docker's conventions (`certs.d`), so one value describes a whole run.

use std::path::PathBuf;

use super::retry::RetryPolicy;

/// Connection settings shared by every registry client of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportOptions {
    /// Registries (`host` or `host:port`, as written in image references)
    /// spoken to over plain HTTP; every other registry gets HTTPS.
    pub insecure_registries: Vec<String>,
    /// Extra CA certificates (PEM, may hold several) trusted for every registry,
    /// besides the system roots.
    pub ca_files: Vec<PathBuf>,
    /// Directories following Docker's `certs.d/HOST/ca.crt` convention: every
    /// `*.crt` under `DIR/HOST` (HOST may include `:port`) is trusted for that
    /// registry, and a `*.cert` with its `*.key` is the client certificate.
    pub certs_d_dirs: Vec<PathBuf>,
    /// Requests in flight at once per registry client, so a cleanup of
    /// thousands of tags does not flood a registry (at least 1).
    pub max_concurrency: usize,
    /// When and how often transient failures are retried.
    pub retry: RetryPolicy,
    /// What the registry (and its notification listeners) see as the
    /// client: `regent/VERSION`, with the command's purpose where it
    /// matters (a cleanup's reads are not pulls of the images).
    pub user_agent: String,
}

/// The User-Agent regent sends unless a command says otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("regent/", env!("CARGO_PKG_VERSION"));

/// The User-Agent of `regent cleanup` (and what event stores recognise as
/// its reads, so they never count as pulls).
pub const CLEANUP_USER_AGENT: &str = concat!("regent/", env!("CARGO_PKG_VERSION"), " (cleanup)");

impl Default for TransportOptions {
    fn default() -> Self {
        Self {
            insecure_registries: Vec::new(),
            ca_files: Vec::new(),
            certs_d_dirs: default_certs_d_dirs(),
            max_concurrency: 8,
            retry: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
        }
    }
}

impl TransportOptions {
    /// Whether `registry` was declared plain-HTTP: an entry with a port
    /// (`localhost:5000`) matches that port only, one without (`localhost`)
    /// every port; a scheme on the entry is ignored; case never matters.
    /// The auth layer asks this same rule, so tokens and API calls agree.
    pub fn is_insecure(&self, registry: &str) -> bool {
        let registry = registry.trim().to_ascii_lowercase();
        let bare = registry
            .rsplit_once(':')
            .filter(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(registry.as_str(), |(host, _)| host);
        self.insecure_registries.iter().any(|entry| {
            let entry = entry
                .trim()
                .trim_start_matches("http://")
                .trim_start_matches("https://")
                .trim_end_matches('/')
                .to_ascii_lowercase();
            !entry.is_empty() && (entry == registry || entry == bare)
        })
    }
}

/// Where Docker looks for per-registry certificates: `/etc/docker/certs.d`
/// and `~/.docker/certs.d`, so registries already set up for Docker work as is.
pub fn default_certs_d_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/etc/docker/certs.d")];
    if let Some(home) = dirs::home_dir() {
        dirs.push(home.join(".docker").join("certs.d"));
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_docker_conventions() {
        let options = TransportOptions::default();
        assert_eq!(options.max_concurrency, 8);
        assert_eq!(
            options.certs_d_dirs[0],
            PathBuf::from("/etc/docker/certs.d")
        );
        assert!(
            options
                .certs_d_dirs
                .iter()
                .skip(1)
                .all(|d| d.ends_with(".docker/certs.d"))
        );
        let options = TransportOptions {
            insecure_registries: vec!["Localhost:5000".into()],
            ..TransportOptions::default()
        };
        assert!(options.is_insecure("localhost:5000"));
        assert!(!options.is_insecure("localhost:5001"));
    }

    #[test]
    fn an_entry_without_a_port_covers_every_port() {
        let options = TransportOptions {
            insecure_registries: vec![
                "localhost".into(),
                "http://plain.example/".into(),
                "[::1]:5000".into(),
            ],
            ..TransportOptions::default()
        };
        assert!(options.is_insecure("localhost:5000"));
        assert!(options.is_insecure("LOCALHOST"));
        assert!(options.is_insecure("plain.example:8080"));
        assert!(options.is_insecure("[::1]:5000"));
        assert!(!options.is_insecure("[::1]:5001"));
        assert!(!options.is_insecure("localhost.example"));
    }
}
