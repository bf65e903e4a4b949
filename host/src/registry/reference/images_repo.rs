//! The images repo (`--repo`): where a run's images go. It is a registry
//! address, an account or a repository, never a full image reference,
//! because regent composes image names and tags itself.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::error::ReferenceError;
use super::grammar::{NAME_MAX_LEN, PathProblem, check_path};
use super::registry::{
    DOCKER_HUB, api_host, looks_like_registry, normalise_registry, refuse_scheme,
};

/// A registry (`localhost:5000`, `ghcr.io`) with an optional path below it:
/// an account (`ghcr.io/acme`) or a repository (`localhost:5000/team/app`).
/// Docker Hub short forms (`acme`, `acme/app`) are on `docker.io` and, unlike
/// image references, get no `library/`: an images repo names an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImagesRepo {
    registry: String,
    path: Option<String>,
}

impl ImagesRepo {
    /// Parse and normalise an images repo as a user writes it. A trailing
    /// `/` is ignored; a tag or digest is refused.
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::EmptyImagesRepo);
        }
        refuse_scheme(text)?;
        if let Some((before, digest)) = text.split_once('@') {
            return Err(ReferenceError::DigestInImagesRepo {
                given: text.to_owned(),
                digest: digest.to_owned(),
                without: before.to_owned(),
            });
        }
        let trimmed = text
            .strip_suffix('/')
            .filter(|t| !t.is_empty())
            .unwrap_or(text);
        refuse_tag(text, trimmed)?;
        let (registry, path) = match trimmed.split_once('/') {
            None if looks_like_registry(trimmed) => (normalise_registry(text, trimmed)?, None),
            None => (DOCKER_HUB.to_owned(), Some(trimmed)),
            Some((first, rest)) if looks_like_registry(first) => {
                (normalise_registry(text, first)?, Some(rest))
            }
            Some(_) => (DOCKER_HUB.to_owned(), Some(trimmed)),
        };
        if let Some(path) = path {
            check_path(path).map_err(|problem| ReferenceError::Repository {
                given: text.to_owned(),
                repository: path.to_owned(),
                problem: match problem {
                    PathProblem::Empty => PathProblem::EmptyComponent,
                    other => other,
                },
            })?;
        }
        let repo = Self {
            registry,
            path: path.map(str::to_owned),
        };
        let name = repo.to_string();
        if name.len() > NAME_MAX_LEN {
            return Err(ReferenceError::NameTooLong {
                given: text.to_owned(),
                len: name.len(),
                name,
            });
        }
        Ok(repo)
    }

    /// The registry, `host[:port]`; Docker Hub is `docker.io`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The account or repository below the registry, if any.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// How many path segments follow the registry (0 for a bare registry
    /// address): naming rules of registries without nested repositories
    /// tell an account (1) from a repository (2) by this.
    pub fn depth(&self) -> usize {
        self.path.as_deref().map_or(0, |p| p.split('/').count())
    }

    /// The host the Registry API of this repo's registry is served on.
    pub fn api_host(&self) -> &str {
        api_host(&self.registry)
    }
}

/// Refuse `name:tag`: in the last segment a `:` is a tag, and with no `/` at
/// all it is a port only if what precedes it looks like a registry.
fn refuse_tag(given: &str, trimmed: &str) -> Result<(), ReferenceError> {
    let tail_start = trimmed.rfind('/').map_or(0, |i| i + 1);
    let tail = &trimmed[tail_start..];
    let Some((before, tag)) = tail.split_once(':') else {
        return Ok(());
    };
    let is_registry_port =
        tail_start == 0 && (before.starts_with('[') || looks_like_registry(before));
    if is_registry_port {
        return Ok(());
    }
    Err(ReferenceError::TagInImagesRepo {
        given: given.to_owned(),
        tag: tag.to_owned(),
    })
}

impl FromStr for ImagesRepo {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ImagesRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.registry)?;
        if let Some(path) = &self.path {
            write!(f, "/{path}")?;
        }
        Ok(())
    }
}

impl Serialize for ImagesRepo {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(text: &str) -> (String, Option<String>) {
        let r = ImagesRepo::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (r.registry().to_owned(), r.path().map(str::to_owned))
    }

    fn pair(registry: &str, path: Option<&str>) -> (String, Option<String>) {
        (registry.to_owned(), path.map(str::to_owned))
    }

    #[test]
    fn registry_addresses() {
        assert_eq!(repo("localhost:5000"), pair("localhost:5000", None));
        assert_eq!(repo("localhost:5000/"), pair("localhost:5000", None));
        assert_eq!(repo("localhost"), pair("localhost", None));
        assert_eq!(repo("ghcr.io"), pair("ghcr.io", None));
        assert_eq!(repo("GHCR.IO"), pair("ghcr.io", None));
        assert_eq!(repo("docker.io"), pair("docker.io", None));
        assert_eq!(repo("index.docker.io"), pair("docker.io", None));
        assert_eq!(repo("[::1]:5000"), pair("[::1]:5000", None));
        assert_eq!(
            ImagesRepo::parse("localhost:5000").map(|r| r.depth()),
            Ok(0)
        );
    }

    #[test]
    fn accounts_and_repositories() {
        assert_eq!(repo("ghcr.io/acme"), pair("ghcr.io", Some("acme")));
        assert_eq!(
            repo("localhost:5000/team/app"),
            pair("localhost:5000", Some("team/app"))
        );
        assert_eq!(
            repo("localhost:5000/team/app/"),
            pair("localhost:5000", Some("team/app"))
        );
        assert_eq!(
            repo("registry-1.docker.io/acme"),
            pair("docker.io", Some("acme"))
        );
        let nested = ImagesRepo::parse("localhost:5000/team/app").expect("parses");
        assert_eq!(nested.depth(), 2);
        assert_eq!(nested.to_string(), "localhost:5000/team/app");
    }

    #[test]
    fn docker_hub_short_forms_get_no_library_prefix() {
        assert_eq!(repo("acme"), pair("docker.io", Some("acme")));
        assert_eq!(repo("acme/app"), pair("docker.io", Some("acme/app")));
        let account = ImagesRepo::parse("acme").expect("parses");
        assert_eq!(account.to_string(), "docker.io/acme");
        assert_eq!(account.depth(), 1);
        assert_eq!(account.api_host(), "registry-1.docker.io");
        assert_eq!(
            serde_json::to_value(&account).ok(),
            Some(serde_json::json!("docker.io/acme"))
        );
    }

    #[test]
    fn tags_and_digests_are_refused() {
        for (text, tag) in [
            ("acme:v1", "v1"),
            ("ghcr.io/acme/app:v1", "v1"),
            ("localhost:5000/app:latest", "latest"),
        ] {
            let error = ImagesRepo::parse(text).expect_err(text);
            assert_eq!(
                error,
                ReferenceError::TagInImagesRepo {
                    given: text.into(),
                    tag: tag.into()
                }
            );
            let message = error.to_string();
            assert!(
                message.contains(&format!("`{text}` has a tag (`:{tag}`)")),
                "{message}"
            );
            assert!(message.contains("--tag"), "{message}");
        }
        let digest = format!("sha256:{}", "a".repeat(64));
        let text = format!("ghcr.io/acme/app@{digest}");
        let message = ImagesRepo::parse(&text).expect_err("digest").to_string();
        assert!(
            message.contains("has a digest") && message.contains("e.g. `ghcr.io/acme/app`"),
            "{message}"
        );
    }

    #[test]
    fn bad_parts_are_named() {
        assert_eq!(ImagesRepo::parse(""), Err(ReferenceError::EmptyImagesRepo));
        assert!(matches!(
            ImagesRepo::parse("https://ghcr.io/acme"),
            Err(ReferenceError::Scheme { .. })
        ));
        assert!(matches!(
            ImagesRepo::parse("localhost:http"),
            Err(ReferenceError::Port { .. })
        ));
        assert!(matches!(
            ImagesRepo::parse("bad_host.io/x"),
            Err(ReferenceError::Registry { .. })
        ));
        let message = ImagesRepo::parse("ghcr.io/Acme")
            .expect_err("uppercase")
            .to_string();
        assert!(
            message.contains("repository `Acme` in `ghcr.io/Acme`")
                && message.contains("must be lowercase"),
            "{message}"
        );
        let message = ImagesRepo::parse("localhost:5000//x")
            .expect_err("empty")
            .to_string();
        assert!(message.contains("empty component"), "{message}");
        let message = ImagesRepo::parse("localhost:5000/-x")
            .expect_err("component")
            .to_string();
        assert!(message.contains("the component `-x`"), "{message}");
        let long = format!("localhost:5000/{}", "a".repeat(250));
        assert!(matches!(
            ImagesRepo::parse(&long),
            Err(ReferenceError::NameTooLong { len: 265, .. })
        ));
    }
}
