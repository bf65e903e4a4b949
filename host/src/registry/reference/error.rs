//! Why a text is not an image reference or an images repo. Every variant
//! quotes what the user wrote and the part that broke a rule.

use super::grammar::{NAME_MAX_LEN, PathProblem, TagProblem};
use crate::registry::digest::DigestError;

/// A reference or images repo that does not follow the distribution grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error(
        "an image reference cannot be empty (expected e.g. `ubuntu:24.04` or `ghcr.io/acme/app:v1`)"
    )]
    Empty,
    #[error(
        "an images repo cannot be empty (expected a registry, account or repository, \
         e.g. `localhost:5000/project`, `ghcr.io/acme` or `acme` for Docker Hub)"
    )]
    EmptyImagesRepo,
    #[error(
        "`{given}` starts with a URL scheme: give the registry as host[:port], e.g. `{without}`"
    )]
    Scheme { given: String, without: String },
    #[error(
        "registry `{registry}` in `{given}` is not a valid host[:port]: a host is dot-separated letters, \
         digits and `-` (each part starting and ending with a letter or digit), or an IPv6 address in brackets"
    )]
    Registry { given: String, registry: String },
    #[error("port `{port}` of registry `{registry}` in `{given}` is not a port number (1-65535)")]
    Port {
        given: String,
        registry: String,
        port: String,
    },
    #[error("`{given}` names no repository (expected e.g. `{registry}/app`)")]
    NoRepository { given: String, registry: String },
    #[error("repository `{repository}` in `{given}` is not valid: {problem}")]
    Repository {
        given: String,
        repository: String,
        problem: PathProblem,
    },
    #[error(
        "the name `{name}` in `{given}` is {len} characters long; registry and repository together \
         have at most {NAME_MAX_LEN}"
    )]
    NameTooLong {
        given: String,
        name: String,
        len: usize,
    },
    #[error("tag `{tag}`{} is not valid: {problem}", within(.given, .tag))]
    Tag {
        given: String,
        tag: String,
        problem: TagProblem,
    },
    #[error("digest `{digest}` in `{given}` is not valid")]
    Digest {
        given: String,
        digest: String,
        #[source]
        source: DigestError,
    },
    #[error(
        "`{given}` has a tag (`:{tag}`), but an images repo is a registry, account or repository \
         without one: regent adds image names and tags itself (give the tag with --tag)"
    )]
    TagInImagesRepo { given: String, tag: String },
    #[error(
        "`{given}` has a digest (`@{digest}`), but an images repo is a registry, account or repository \
         without one: give e.g. `{without}`"
    )]
    DigestInImagesRepo {
        given: String,
        digest: String,
        without: String,
    },
}

/// ` in `given`` unless the part is the whole text (then saying it twice adds nothing).
fn within(given: &str, part: &str) -> String {
    if given == part {
        String::new()
    } else {
        format!(" in `{given}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_error_mentions_the_whole_text_only_when_it_differs() {
        let alone = ReferenceError::Tag {
            given: "a+b".into(),
            tag: "a+b".into(),
            problem: TagProblem::BadChar { bad: '+' },
        };
        assert!(
            alone
                .to_string()
                .starts_with("tag `a+b` is not valid: it contains '+'"),
            "{alone}"
        );
        let inside = ReferenceError::Tag {
            given: "app:a+b".into(),
            tag: "a+b".into(),
            problem: TagProblem::BadChar { bad: '+' },
        };
        assert!(
            inside
                .to_string()
                .starts_with("tag `a+b` in `app:a+b` is not valid"),
            "{inside}"
        );
    }
}
