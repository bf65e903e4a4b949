//! Registry addresses and the keys Docker files credentials under.
//!
//! Docker keys `auths` and `credHelpers` by host (`ghcr.io`,
//! `localhost:5000`), sometimes with a scheme or path, and keys Docker Hub
//! as `https://index.docker.io/v1/`. Hub itself goes by several names. These
//! functions make all of those compare equal, so regent finds what
//! `docker login` stored and stores what `docker` will find.

/// The key Docker Hub's credentials are stored under.
pub const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

/// The name regent uses for Docker Hub.
pub const DOCKER_HUB: &str = "docker.io";

/// Every host name that means Docker Hub.
const DOCKER_HUB_HOSTS: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// The `host[:port]` of an address or config key: scheme, path and trailing
/// slashes dropped, lower-cased (like Docker's `ConvertToHostname`).
pub fn hostname(address: &str) -> String {
    let trimmed = address.trim();
    let without_scheme = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed);
    let host = without_scheme.split('/').next().unwrap_or_default();
    host.to_ascii_lowercase()
}

/// True when the address means Docker Hub.
pub fn is_docker_hub(address: &str) -> bool {
    DOCKER_HUB_HOSTS.contains(&hostname(address).as_str())
}

/// The one name regent uses for a registry in caches and messages:
/// `docker.io` for Docker Hub, else the `host[:port]`.
pub fn canonical_registry(address: &str) -> String {
    if is_docker_hub(address) {
        DOCKER_HUB.to_owned()
    } else {
        hostname(address)
    }
}

/// The key `docker login` writes for this registry (and the server URL it
/// hands credential helpers).
pub fn config_key(address: &str) -> String {
    if is_docker_hub(address) {
        DOCKER_HUB_CONFIG_KEY.to_owned()
    } else {
        hostname(address)
    }
}

/// The keys tried first, best first: the canonical key, then the host with
/// `https://` and `http://`, then Hub's other names.
pub fn preferred_keys(address: &str) -> Vec<String> {
    let host = hostname(address);
    let mut keys = vec![
        config_key(address),
        host.clone(),
        format!("https://{host}"),
        format!("http://{host}"),
    ];
    if is_docker_hub(address) {
        for h in DOCKER_HUB_HOSTS {
            keys.push(h.to_owned());
            keys.push(format!("https://{h}"));
        }
    }
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    keys
}

/// True when a config key (any form: host, URL, URL with path) names this registry.
pub fn key_matches(key: &str, address: &str) -> bool {
    let key_host = hostname(key);
    !key_host.is_empty() && canonical_registry(&key_host) == canonical_registry(address)
}

/// Check that an address is a plain registry host (optionally with port, scheme or path).
pub fn validate(address: &str) -> Result<String, super::AuthError> {
    let host = hostname(address);
    let bad = |reason: &str| super::AuthError::BadAddress {
        address: address.to_owned(),
        reason: reason.to_owned(),
    };
    if host.is_empty() {
        return Err(bad("it is empty"));
    }
    if host
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_')))
    {
        return Err(bad(
            "a registry is a host name with an optional port, like ghcr.io or localhost:5000",
        ));
    }
    Ok(canonical_registry(&host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_drops_scheme_path_and_case() {
        assert_eq!(hostname("https://Index.Docker.io/v1/"), "index.docker.io");
        assert_eq!(hostname("http://localhost:5000"), "localhost:5000");
        assert_eq!(hostname("ghcr.io/acme/app"), "ghcr.io");
        assert_eq!(hostname("registry.example.com"), "registry.example.com");
    }

    #[test]
    fn every_docker_hub_name_is_docker_io() {
        for name in [
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "https://index.docker.io/v1/",
            "https://registry-1.docker.io/v2/",
        ] {
            assert!(is_docker_hub(name), "{name}");
            assert_eq!(canonical_registry(name), "docker.io");
            assert_eq!(config_key(name), DOCKER_HUB_CONFIG_KEY);
        }
        assert!(!is_docker_hub("ghcr.io"));
        assert!(!is_docker_hub("docker.io.evil.example"));
    }

    #[test]
    fn keys_match_in_any_form() {
        assert!(key_matches("https://index.docker.io/v1/", "docker.io"));
        assert!(key_matches("registry-1.docker.io", "index.docker.io"));
        assert!(key_matches("https://ghcr.io", "ghcr.io"));
        assert!(key_matches("http://localhost:5000/v2/", "localhost:5000"));
        assert!(!key_matches("localhost:5001", "localhost:5000"));
        assert!(!key_matches("https://ghcr.io", "gcr.io"));
        assert!(!key_matches("", "gcr.io"));
    }

    #[test]
    fn validate_accepts_hosts_and_rejects_nonsense() {
        assert_eq!(
            validate("LOCALHOST:5000").ok().as_deref(),
            Some("localhost:5000")
        );
        assert_eq!(
            validate("index.docker.io").ok().as_deref(),
            Some("docker.io")
        );
        assert!(validate("").is_err());
        assert!(validate("a b").is_err());
    }
}
