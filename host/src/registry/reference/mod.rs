//! Image references by the distribution grammar
//! (github.com/distribution/reference), normalised the way Docker does:
//! `ubuntu` is `docker.io/library/ubuntu:latest`.
//!
//! Every reference regent prints, pushes to or deletes from goes through
//! [`Reference`], so two spellings of one image compare equal and a bad
//! name is refused before any request, with the part that is wrong quoted.

mod error;
mod grammar;
mod images_repo;
mod registry;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::registry::digest::Digest;

pub use error::ReferenceError;
pub use grammar::{NAME_MAX_LEN, PathProblem, TAG_MAX_LEN, TagProblem, check_path, check_tag};
pub use images_repo::ImagesRepo;
pub use registry::{DOCKER_HUB, DOCKER_HUB_API, api_host, looks_like_registry};

use registry::{normalise_registry, refuse_scheme};

/// The tag a reference gets when it names neither a tag nor a digest.
pub const DEFAULT_TAG: &str = "latest";

/// Docker Hub's namespace for official images, implied by one-component names.
const OFFICIAL_PREFIX: &str = "library/";

/// A normalised image reference: `registry/repository[:tag][@digest]`.
///
/// Invariants: the registry is lowercase `host[:port]` with Docker Hub
/// spelled `docker.io`; the repository follows the grammar (with `library/`
/// on one-component Docker Hub names); the tag and digest are valid. So
/// `Display` and `parse` round-trip.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parse and normalise a reference as a user writes it: `ubuntu`,
    /// `acme/app:v1`, `localhost:5000/team/app@sha256:...`,
    /// `ghcr.io/acme/app:v1@sha256:...`. The tag defaults to `latest` only
    /// when neither a tag nor a digest is given.
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        refuse_scheme(text)?;
        let (name_and_tag, digest_text) = match text.split_once('@') {
            Some((before, digest)) => (before, Some(digest)),
            None => (text, None),
        };
        let tail_start = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_and_tag[tail_start..].split_once(':') {
            Some((last, tag)) => (&name_and_tag[..tail_start + last.len()], Some(tag)),
            None => (name_and_tag, None),
        };
        let (registry, remainder) = split_name(text, name)?;
        let mut reference = Self::from_parts(text, &registry, remainder)?;
        if let Some(tag) = tag {
            reference.tag = Some(checked_tag(text, tag)?);
        }
        if let Some(digest) = digest_text {
            reference.digest = Some(digest.parse().map_err(|source| ReferenceError::Digest {
                given: text.to_owned(),
                digest: digest.to_owned(),
                source,
            })?);
        }
        if reference.tag.is_none() && reference.digest.is_none() {
            reference.tag = Some(DEFAULT_TAG.to_owned());
        }
        Ok(reference)
    }

    /// A reference to `repository` on `registry` with neither tag nor
    /// digest, checked and normalised like a parsed one (for names composed
    /// by regent rather than typed by a user).
    pub fn new(registry: &str, repository: &str) -> Result<Self, ReferenceError> {
        let given = format!("{registry}/{repository}");
        refuse_scheme(&given)?;
        let registry = normalise_registry(&given, registry)?;
        Self::from_parts(&given, &registry, repository)
    }

    /// Check the repository, add Docker Hub's `library/`, check the length.
    fn from_parts(given: &str, registry: &str, repository: &str) -> Result<Self, ReferenceError> {
        if repository.is_empty() {
            return Err(ReferenceError::NoRepository {
                given: given.to_owned(),
                registry: registry.to_owned(),
            });
        }
        check_path(repository).map_err(|problem| ReferenceError::Repository {
            given: given.to_owned(),
            repository: repository.to_owned(),
            problem,
        })?;
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("{OFFICIAL_PREFIX}{repository}")
        } else {
            repository.to_owned()
        };
        let name = format!("{registry}/{repository}");
        if name.len() > NAME_MAX_LEN {
            return Err(ReferenceError::NameTooLong {
                given: given.to_owned(),
                len: name.len(),
                name,
            });
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository,
            tag: None,
            digest: None,
        })
    }

    /// The registry, `host[:port]`; Docker Hub is `docker.io`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry, e.g. `library/ubuntu`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if any (`latest` when the text named neither tag nor digest).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference is pinned.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The host the Registry API for this reference is served on.
    pub fn api_host(&self) -> &str {
        api_host(&self.registry)
    }

    /// The same repository at `tag`, without a digest (a digest belongs to
    /// what a tag pointed at, so it cannot carry over to another tag).
    pub fn with_tag(&self, tag: &str) -> Result<Self, ReferenceError> {
        Ok(Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(checked_tag(tag, tag)?),
            digest: None,
        })
    }

    /// This reference pinned to `digest`, keeping the tag so that
    /// `name:tag@digest` still says which tag was resolved.
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }
}

/// Split `name` into the normalised registry and the repository remainder.
fn split_name<'a>(given: &str, name: &'a str) -> Result<(String, &'a str), ReferenceError> {
    match name.split_once('/') {
        Some((first, rest)) if looks_like_registry(first) => {
            Ok((normalise_registry(given, first)?, rest))
        }
        _ => Ok((DOCKER_HUB.to_owned(), name)),
    }
}

fn checked_tag(given: &str, tag: &str) -> Result<String, ReferenceError> {
    check_tag(tag).map_err(|problem| ReferenceError::Tag {
        given: given.to_owned(),
        tag: tag.to_owned(),
        problem,
    })?;
    Ok(tag.to_owned())
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
