//! How a Docker address maps to an Artifactory repository key and image
//! path. Pure functions, so the three addressing methods are unit-tested
//! natively.
//!
//! Facts (jfrog.endpoints.md, from JFrog's "Docker repository URL formats"
//! and "dockerReverseProxyMethod" pages):
//! - repository path: `<host>/<repo-key>/<image>` (SaaS `<instance>.jfrog.io/<repo-key>/<image>`);
//! - subdomain: `<repo-key>.<host>/<image>` (SaaS `<instance>-<repo-key>.jfrog.io/<image>`);
//! - port: `<host>:<port>/<image>`, one port per repository (the key is not
//!   in the address, so it comes from the `jfrog-repo-key` setting).

/// The Docker access method of the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    RepositoryPath,
    Subdomain,
    Port,
}

impl Method {
    /// Parse the `jfrog-addressing` setting.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "path" | "repository-path" | "repopathprefix" => Ok(Self::RepositoryPath),
            "subdomain" => Ok(Self::Subdomain),
            "port" | "portperrepo" => Ok(Self::Port),
            other => Err(format!(
                "the setting `jfrog-addressing` is `{other}`; use `path`, `subdomain` or `port`"
            )),
        }
    }

    /// Name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::RepositoryPath => "repository path",
            Self::Subdomain => "subdomain",
            Self::Port => "port",
        }
    }
}

/// Where a repository of the address lives in Artifactory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub method: Method,
    /// The Artifactory repository key, e.g. `docker-local`.
    pub repo_key: String,
    /// The image path inside that repository, e.g. `team/app` (may be empty
    /// only for naming checks, never for API calls).
    pub image: String,
}

/// The host of `registry` (`host[:port]`), lowercased, without the port.
pub fn host_of(registry: &str) -> String {
    let host = match registry.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => registry,
    };
    host.to_ascii_lowercase()
}

fn has_port(registry: &str) -> bool {
    host_of(registry).len() != registry.len()
}

/// Whether the registry host names `key` as a subdomain: `<key>.<host>`
/// (self-managed) or `<instance>-<key>.jfrog.io` (SaaS).
fn host_names_key(registry: &str, key: &str) -> bool {
    let host = host_of(registry);
    let key = key.to_ascii_lowercase();
    let Some((first, rest)) = host.split_once('.') else {
        return false;
    };
    if rest.is_empty() {
        return false;
    }
    first == key || (host.ends_with(".jfrog.io") && first.ends_with(&format!("-{key}")))
}

/// The repository key a subdomain address names, without a setting:
/// only for self-managed `<key>.<host>` (a SaaS `<instance>-<key>` label is
/// ambiguous because instance names may contain `-`).
fn key_from_subdomain(registry: &str) -> Option<String> {
    let host = host_of(registry);
    if host.ends_with(".jfrog.io") {
        return None;
    }
    let (first, rest) = host.split_once('.')?;
    (!first.is_empty() && (rest.contains('.') || rest == "localhost")).then(|| first.to_owned())
}

/// Which method applies when the user did not say (`jfrog-addressing` unset).
pub fn infer_method(registry: &str, repository: &str, repo_key: Option<&str>) -> Method {
    let Some(key) = repo_key else {
        return Method::RepositoryPath;
    };
    let mut segments = repository.split('/');
    let first = segments.next().unwrap_or_default();
    if first == key && segments.next().is_some_and(|s| !s.is_empty()) {
        return Method::RepositoryPath;
    }
    if host_names_key(registry, key) {
        return Method::Subdomain;
    }
    if has_port(registry) {
        return Method::Port;
    }
    // A key that is neither the first path segment nor in the host, on a
    // registry without a port: most likely a repository-path address whose
    // key the user spelled in the setting; `target` reports the mismatch.
    Method::RepositoryPath
}

/// Map `registry` + `repository` (as the host passes them) to the
/// Artifactory repository key and image path.
pub fn target(
    registry: &str,
    repository: &str,
    method: Option<Method>,
    repo_key: Option<&str>,
) -> Result<Target, String> {
    let repository = repository.trim_matches('/');
    let method = method.unwrap_or_else(|| infer_method(registry, repository, repo_key));
    match method {
        Method::RepositoryPath => {
            let (key, image) = repository.split_once('/').unwrap_or((repository, ""));
            if key.is_empty() {
                return Err(format!(
                    "{registry} uses repository-path addressing, so the first path segment is the \
                     Artifactory repository key: name it, e.g. {registry}/docker-local/IMAGE"
                ));
            }
            if let Some(expected) = repo_key
                && expected != key
            {
                return Err(format!(
                    "`{registry}/{repository}` names the repository key `{key}` but the setting \
                     `jfrog-repo-key` is `{expected}`; fix one of them, or set `jfrog-addressing` \
                     to `port` or `subdomain` if the key is not part of the path"
                ));
            }
            Ok(Target {
                method,
                repo_key: key.to_owned(),
                image: image.to_owned(),
            })
        }
        Method::Subdomain => {
            let key = match repo_key {
                Some(k) => k.to_owned(),
                None => key_from_subdomain(registry).ok_or_else(|| {
                    format!(
                        "cannot tell the Artifactory repository key from the subdomain of {registry}: \
                         set `jfrog-repo-key` (REGENT_REPO_JFROG_REPO_KEY)"
                    )
                })?,
            };
            Ok(Target {
                method,
                repo_key: key,
                image: repository.to_owned(),
            })
        }
        Method::Port => {
            let key = repo_key.ok_or_else(|| {
                format!(
                    "{registry} uses port addressing (one port per repository), so the address does \
                     not name the Artifactory repository: set `jfrog-repo-key` (REGENT_REPO_JFROG_REPO_KEY)"
                )
            })?;
            Ok(Target {
                method,
                repo_key: key.to_owned(),
                image: repository.to_owned(),
            })
        }
    }
}

/// The REST base when `jfrog-api-url` is not set: Artifactory on the
/// registry's own host, except SaaS subdomain addresses
/// (`<instance>-<key>.jfrog.io`), whose API is on `<instance>.jfrog.io`.
pub fn default_api_url(registry: &str, target: &Target) -> String {
    let host = host_of(registry);
    if target.method == Method::Subdomain
        && let Some(first) = host.strip_suffix(".jfrog.io")
        && !first.contains('.')
        && let Some(instance) =
            first.strip_suffix(&format!("-{}", target.repo_key.to_ascii_lowercase()))
        && !instance.is_empty()
    {
        return format!("https://{instance}.jfrog.io/artifactory");
    }
    format!("https://{registry}/artifactory")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(registry: &str, repository: &str, method: Option<Method>, key: Option<&str>) -> Target {
        target(registry, repository, method, key).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn repository_path_takes_the_first_segment_as_key() {
        let got = t("acme.jfrog.io", "docker-local/team/app", None, None);
        assert_eq!(got.method, Method::RepositoryPath);
        assert_eq!(got.repo_key, "docker-local");
        assert_eq!(got.image, "team/app");
        let with_key = t(
            "art.example.com",
            "docker-local/app",
            None,
            Some("docker-local"),
        );
        assert_eq!(with_key.method, Method::RepositoryPath);
        assert_eq!(with_key.image, "app");
    }

    #[test]
    fn repository_path_needs_a_key_and_agrees_with_the_setting() {
        let e = target("acme.jfrog.io", "", None, None).unwrap_err();
        assert!(e.contains("repository key"), "{e}");
        let e = target(
            "acme.jfrog.io",
            "other/app",
            Some(Method::RepositoryPath),
            Some("docker-local"),
        )
        .unwrap_err();
        assert!(e.contains("`other`") && e.contains("docker-local"), "{e}");
    }

    #[test]
    fn subdomain_keeps_the_whole_path_as_image() {
        let got = t(
            "docker-local.art.example.com",
            "team/app",
            None,
            Some("docker-local"),
        );
        assert_eq!(got.method, Method::Subdomain);
        assert_eq!(
            (got.repo_key.as_str(), got.image.as_str()),
            ("docker-local", "team/app")
        );
        let saas = t(
            "acme-docker-local.jfrog.io",
            "app",
            None,
            Some("docker-local"),
        );
        assert_eq!(saas.method, Method::Subdomain);
        assert_eq!(saas.image, "app");
        let derived = t(
            "docker-local.art.example.com",
            "app",
            Some(Method::Subdomain),
            None,
        );
        assert_eq!(derived.repo_key, "docker-local");
        let e = target("acme-docker.jfrog.io", "app", Some(Method::Subdomain), None).unwrap_err();
        assert!(e.contains("jfrog-repo-key"), "{e}");
    }

    #[test]
    fn port_takes_the_key_from_the_setting() {
        let got = t(
            "art.example.com:5001",
            "team/app",
            None,
            Some("docker-local"),
        );
        assert_eq!(got.method, Method::Port);
        assert_eq!(
            (got.repo_key.as_str(), got.image.as_str()),
            ("docker-local", "team/app")
        );
        let e = target("art.example.com:5001", "app", Some(Method::Port), None).unwrap_err();
        assert!(e.contains("jfrog-repo-key"), "{e}");
        // An image whose first segment equals the key is still the path method
        // unless the user says otherwise.
        let explicit = t(
            "art.example.com:5001",
            "docker-local/app",
            Some(Method::Port),
            Some("docker-local"),
        );
        assert_eq!(explicit.image, "docker-local/app");
    }

    #[test]
    fn default_api_urls() {
        let path = t("acme.jfrog.io", "docker-local/app", None, None);
        assert_eq!(
            default_api_url("acme.jfrog.io", &path),
            "https://acme.jfrog.io/artifactory"
        );
        let saas = t(
            "acme-docker-local.jfrog.io",
            "app",
            None,
            Some("docker-local"),
        );
        assert_eq!(
            default_api_url("acme-docker-local.jfrog.io", &saas),
            "https://acme.jfrog.io/artifactory"
        );
        let port = t("art.example.com:5001", "app", None, Some("docker-local"));
        assert_eq!(
            default_api_url("art.example.com:5001", &port),
            "https://art.example.com:5001/artifactory"
        );
    }

    #[test]
    fn parses_method_names() {
        assert_eq!(Method::parse("PATH"), Ok(Method::RepositoryPath));
        assert_eq!(Method::parse("subdomain"), Ok(Method::Subdomain));
        assert_eq!(Method::parse("portPerRepo"), Ok(Method::Port));
        assert!(Method::parse("magic").is_err());
        assert_eq!(host_of("127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(host_of("Acme.JFrog.io"), "acme.jfrog.io");
    }
}
