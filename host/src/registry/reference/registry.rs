//! The registry part of a reference: recognising it, checking `host[:port]`,
//! and the Docker Hub spellings that all mean `docker.io`.

use super::error::ReferenceError;
use super::grammar::is_domain_name;

/// Docker Hub's canonical name in references.
pub const DOCKER_HUB: &str = "docker.io";

/// The host Docker Hub serves the Registry API on.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// Other spellings of Docker Hub that users and old tools write.
const DOCKER_HUB_ALIASES: [&str; 2] = ["index.docker.io", DOCKER_HUB_API];

/// The host the Registry API of `registry` is served on: Docker Hub's
/// references say `docker.io`, but its API lives on `registry-1.docker.io`;
/// every other registry serves the API on its own address.
pub fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        registry
    }
}

/// The distribution rule for the first component of a name: it is a
/// registry if it contains `.` or `:` or is `localhost`; otherwise the name
/// is on Docker Hub.
pub fn looks_like_registry(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost"
}

/// Check `registry` (`host[:port]`, host possibly `[ipv6]`) and normalise it:
/// lowercase (host names are case-insensitive, and credentials and adapter
/// detection compare them as text) and Docker Hub aliases to `docker.io`.
pub fn normalise_registry(given: &str, registry: &str) -> Result<String, ReferenceError> {
    let bad = || ReferenceError::Registry {
        given: given.to_owned(),
        registry: registry.to_owned(),
    };
    let (host_ok, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(bad)?),
        };
        (inside.parse::<std::net::Ipv6Addr>().is_ok(), port)
    } else {
        let (host, port) = match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        };
        (is_domain_name(host), port)
    };
    if !host_ok {
        return Err(bad());
    }
    if let Some(port) = port {
        let number_ok = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !number_ok {
            return Err(ReferenceError::Port {
                given: given.to_owned(),
                registry: registry.to_owned(),
                port: port.to_owned(),
            });
        }
    }
    let lower = registry.to_ascii_lowercase();
    if DOCKER_HUB_ALIASES.contains(&lower.as_str()) {
        return Ok(DOCKER_HUB.to_owned());
    }
    Ok(lower)
}

/// Refuse `https://...`: a common paste from a browser, never a reference.
pub fn refuse_scheme(given: &str) -> Result<(), ReferenceError> {
    match given.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            Err(ReferenceError::Scheme {
                given: given.to_owned(),
                without: rest.trim_end_matches('/').to_owned(),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(registry: &str) -> Result<String, ReferenceError> {
        normalise_registry(registry, registry)
    }

    #[test]
    fn registries_are_checked_and_normalised() {
        assert_eq!(norm("localhost:5000").as_deref(), Ok("localhost:5000"));
        assert_eq!(norm("GHCR.io").as_deref(), Ok("ghcr.io"));
        assert_eq!(norm("index.docker.io").as_deref(), Ok("docker.io"));
        assert_eq!(norm("registry-1.docker.io").as_deref(), Ok("docker.io"));
        assert_eq!(norm("127.0.0.1:5000").as_deref(), Ok("127.0.0.1:5000"));
        assert_eq!(norm("[::1]:5000").as_deref(), Ok("[::1]:5000"));
        assert_eq!(norm("[fe80::1]").as_deref(), Ok("[fe80::1]"));
        for bad in [
            "a_b.com", "-x.io", "x..io", "[::1", "[zz]:1", "[::1]x", ":5000",
        ] {
            assert!(
                matches!(norm(bad), Err(ReferenceError::Registry { .. })),
                "{bad}"
            );
        }
        for bad in [
            "localhost:",
            "localhost:http",
            "localhost:70000",
            "localhost:0",
            "localhost:1:2",
            "[::1]:x",
        ] {
            assert!(
                matches!(norm(bad), Err(ReferenceError::Port { .. })),
                "{bad}"
            );
        }
        let message = norm("localhost:http").expect_err("bad port").to_string();
        assert_eq!(
            message,
            "port `http` of registry `localhost:http` in `localhost:http` is not a port number (1-65535)"
        );
    }

    #[test]
    fn docker_hub_api_is_on_registry_1() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("ghcr.io"), "ghcr.io");
        assert_eq!(api_host("localhost:5000"), "localhost:5000");
    }

    #[test]
    fn first_component_rule() {
        assert!(looks_like_registry("localhost"));
        assert!(looks_like_registry("localhost:5000"));
        assert!(looks_like_registry("ghcr.io"));
        assert!(looks_like_registry("[::1]:5000"));
        assert!(!looks_like_registry("acme"));
        assert!(!looks_like_registry("local-host"));
    }

    #[test]
    fn schemes_are_refused_with_the_address_to_use() {
        assert_eq!(
            refuse_scheme("https://ghcr.io/acme/"),
            Err(ReferenceError::Scheme {
                given: "https://ghcr.io/acme/".into(),
                without: "ghcr.io/acme".into()
            })
        );
        assert_eq!(refuse_scheme("ghcr.io/acme"), Ok(()));
    }
}
