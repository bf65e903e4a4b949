//! Parsing and normalising references: every grammar rule and refusal.

use super::*;

const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn parse(text: &str) -> Reference {
    Reference::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn full(text: &str) -> String {
    parse(text).to_string()
}

fn error(text: &str) -> ReferenceError {
    Reference::parse(text).expect_err(text)
}

#[test]
fn docker_hub_short_names_are_normalised() {
    assert_eq!(full("ubuntu"), "docker.io/library/ubuntu:latest");
    assert_eq!(full("ubuntu:24.04"), "docker.io/library/ubuntu:24.04");
    assert_eq!(full("acme/app"), "docker.io/acme/app:latest");
    assert_eq!(full("docker.io/ubuntu"), "docker.io/library/ubuntu:latest");
    assert_eq!(
        full("index.docker.io/ubuntu"),
        "docker.io/library/ubuntu:latest"
    );
    assert_eq!(
        full("registry-1.docker.io/acme/app:v1"),
        "docker.io/acme/app:v1"
    );
    assert_eq!(
        full("docker.io/library/ubuntu"),
        "docker.io/library/ubuntu:latest"
    );
    let r = parse("ubuntu");
    assert_eq!(r.registry(), "docker.io");
    assert_eq!(r.repository(), "library/ubuntu");
    assert_eq!(r.tag(), Some("latest"));
    assert_eq!(r.digest(), None);
    assert_eq!(r.name(), "docker.io/library/ubuntu");
    assert_eq!(r.api_host(), "registry-1.docker.io");
}

#[test]
fn first_component_is_a_registry_only_with_dot_colon_or_localhost() {
    let r = parse("localhost/app");
    assert_eq!((r.registry(), r.repository()), ("localhost", "app"));
    let r = parse("localhost:5000/team/app:v1");
    assert_eq!(
        (r.registry(), r.repository(), r.tag()),
        ("localhost:5000", "team/app", Some("v1"))
    );
    assert_eq!(r.api_host(), "localhost:5000");
    let r = parse("ghcr.io/acme/app");
    assert_eq!((r.registry(), r.repository()), ("ghcr.io", "acme/app"));
    let r = parse("local-host/app");
    assert_eq!(
        (r.registry(), r.repository()),
        ("docker.io", "local-host/app")
    );
    let r = parse("[::1]:5000/app:v1");
    assert_eq!((r.registry(), r.repository()), ("[::1]:5000", "app"));
    // With no `/`, a colon separates a tag, as in distribution.
    assert_eq!(full("localhost:5000"), "docker.io/library/localhost:5000");
    // Host names are case-insensitive and normalised to lowercase.
    assert_eq!(full("GHCR.io/acme/app"), "ghcr.io/acme/app:latest");
}

#[test]
fn tags_and_digests() {
    let digest = format!("sha256:{HEX}");
    let r = parse(&format!("localhost:5000/app@{digest}"));
    assert_eq!(r.tag(), None, "no default tag when a digest is given");
    assert_eq!(r.digest().map(Digest::as_str), Some(digest.as_str()));
    assert_eq!(r.to_string(), format!("localhost:5000/app@{digest}"));
    let r = parse(&format!("host.example:5000/a/b:tag@{digest}"));
    assert_eq!(
        (r.registry(), r.repository(), r.tag()),
        ("host.example:5000", "a/b", Some("tag"))
    );
    assert_eq!(r.to_string(), format!("host.example:5000/a/b:tag@{digest}"));
    assert_eq!(
        full(&format!("ubuntu@{digest}")),
        format!("docker.io/library/ubuntu@{digest}")
    );
    assert_eq!(
        parse(&format!("app:{}", "t".repeat(128)))
            .tag()
            .map(str::len),
        Some(128)
    );
    assert_eq!(parse("app:_x.Y-1").tag(), Some("_x.Y-1"));
}

#[test]
fn display_and_parse_round_trip() {
    let digest = format!("sha512:{HEX}{HEX}");
    for text in [
        "ubuntu",
        "acme/app:v1",
        "localhost:5000/a/b/c:x",
        "[::1]:5000/app",
        &format!("ghcr.io/a/b:t@{digest}"),
    ] {
        let once = parse(text);
        assert_eq!(parse(&once.to_string()), once, "{text}");
        assert_eq!(once.to_string().parse::<Reference>().as_ref(), Ok(&once));
    }
}

#[test]
fn with_tag_drops_the_digest_and_with_digest_keeps_the_tag() {
    let digest: Digest = format!("sha256:{HEX}").parse().expect("digest");
    let pinned = parse("ghcr.io/acme/app:v1").with_digest(digest.clone());
    assert_eq!(pinned.to_string(), format!("ghcr.io/acme/app:v1@{digest}"));
    let retagged = pinned.with_tag("v2").expect("valid tag");
    assert_eq!(retagged.to_string(), "ghcr.io/acme/app:v2");
    let message = pinned.with_tag("v/2").expect_err("bad tag").to_string();
    assert_eq!(
        message,
        "tag `v/2` is not valid: it contains '/'; a tag has only letters, digits, `_`, `.` and `-`"
    );
}

#[test]
fn new_builds_normalised_references_from_parts() {
    let r = Reference::new("localhost:5000", "project/frontend").expect("valid");
    assert_eq!(r.to_string(), "localhost:5000/project/frontend");
    assert_eq!(r.tag(), None);
    assert_eq!(
        Reference::new("index.docker.io", "ubuntu").map(|r| r.name()),
        Ok("docker.io/library/ubuntu".into())
    );
    assert!(matches!(
        Reference::new("localhost:5000", "Project"),
        Err(ReferenceError::Repository { .. })
    ));
    assert!(matches!(
        Reference::new("bad_host", "x"),
        Err(ReferenceError::Registry { .. })
    ));
}

#[test]
fn uppercase_repository_says_names_must_be_lowercase() {
    let e = error("ghcr.io/Acme/App:v1");
    assert_eq!(
        e,
        ReferenceError::Repository {
            given: "ghcr.io/Acme/App:v1".into(),
            repository: "Acme/App".into(),
            problem: PathProblem::Uppercase {
                lowercase: "acme/app".into()
            },
        }
    );
    assert_eq!(
        e.to_string(),
        "repository `Acme/App` in `ghcr.io/Acme/App:v1` is not valid: names must be lowercase (did you mean `acme/app`?)"
    );
    // An uppercase first component is not a registry, so it is a Docker Hub name.
    assert!(error("Acme/app").to_string().contains("must be lowercase"));
    // Uppercase tags are fine.
    assert_eq!(parse("app:V1").tag(), Some("V1"));
}

#[test]
fn bad_repository_components_are_quoted() {
    let e = error("localhost:5000/team/-app:v1");
    assert!(e.to_string().starts_with("repository `team/-app` in `localhost:5000/team/-app:v1` is not valid: the component `-app` is not valid"), "{e}");
    for text in ["a..b", "a/b/", "a//b", "app name", "ghcr.io/a___b"] {
        assert!(
            matches!(error(text), ReferenceError::Repository { .. }),
            "{text}"
        );
    }
    assert_eq!(
        error("localhost:5000/"),
        ReferenceError::NoRepository {
            given: "localhost:5000/".into(),
            registry: "localhost:5000".into()
        }
    );
    assert_eq!(
        error("localhost:5000/").to_string(),
        "`localhost:5000/` names no repository (expected e.g. `localhost:5000/app`)"
    );
}

#[test]
fn bad_registries_and_ports_are_quoted() {
    let e = error("my_host.io/app");
    assert_eq!(
        e,
        ReferenceError::Registry {
            given: "my_host.io/app".into(),
            registry: "my_host.io".into()
        }
    );
    assert!(
        e.to_string()
            .starts_with("registry `my_host.io` in `my_host.io/app` is not a valid host[:port]"),
        "{e}"
    );
    let e = error("localhost:99999/app:v1");
    assert_eq!(
        e.to_string(),
        "port `99999` of registry `localhost:99999` in `localhost:99999/app:v1` is not a port number (1-65535)"
    );
    assert!(matches!(error("host.io:/app"), ReferenceError::Port { .. }));
}

#[test]
fn bad_tags_are_quoted() {
    let e = error("ghcr.io/acme/app:.v1");
    assert_eq!(
        e.to_string(),
        "tag `.v1` in `ghcr.io/acme/app:.v1` is not valid: it starts with '.'; a tag starts with a letter, a digit or `_`"
    );
    assert!(matches!(
        error("app:"),
        ReferenceError::Tag {
            problem: TagProblem::Empty,
            ..
        }
    ));
    assert!(matches!(
        error("app:a:b"),
        ReferenceError::Tag {
            problem: TagProblem::BadChar { bad: ':' },
            ..
        }
    ));
    let long = format!("app:{}", "t".repeat(129));
    assert!(matches!(
        error(&long),
        ReferenceError::Tag {
            problem: TagProblem::TooLong { len: 129 },
            ..
        }
    ));
}

#[test]
fn bad_digests_are_quoted_with_the_cause() {
    let e = error("app:v1@sha256:abc");
    match &e {
        ReferenceError::Digest { digest, source, .. } => {
            assert_eq!(digest, "sha256:abc");
            assert!(matches!(
                source,
                crate::registry::digest::DigestError::BadEncoding { .. }
            ));
        }
        other => panic!("expected a digest error, got {other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "digest `sha256:abc` in `app:v1@sha256:abc` is not valid"
    );
    let chained = crate::errors::chain(&e);
    assert!(chained.contains("64 lowercase hex digits"), "{chained}");
    assert!(matches!(error("app@latest"), ReferenceError::Digest { .. }));
    assert!(matches!(
        error(&format!("app@md5:{HEX}")),
        ReferenceError::Digest { .. }
    ));
}

#[test]
fn names_longer_than_255_are_refused() {
    let ok = format!(
        "localhost:5000/{}",
        "a".repeat(255 - "localhost:5000/".len())
    );
    assert_eq!(parse(&ok).name().len(), 255);
    let long = format!(
        "localhost:5000/{}",
        "a".repeat(256 - "localhost:5000/".len())
    );
    let e = error(&long);
    assert!(
        matches!(e, ReferenceError::NameTooLong { len: 256, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("is 256 characters long") && e.to_string().contains("at most 255"),
        "{e}"
    );
}

#[test]
fn empty_and_schemes_are_refused() {
    assert_eq!(error(""), ReferenceError::Empty);
    assert_eq!(
        error("https://ghcr.io/acme/app").to_string(),
        "`https://ghcr.io/acme/app` starts with a URL scheme: give the registry as host[:port], e.g. `ghcr.io/acme/app`"
    );
}

#[test]
fn serde_uses_the_full_text() {
    let r = parse("acme/app:v1");
    let json = serde_json::to_value(&r).expect("serialize");
    assert_eq!(json, serde_json::json!("docker.io/acme/app:v1"));
    assert_eq!(serde_json::from_value::<Reference>(json).ok(), Some(r));
    assert!(serde_json::from_value::<Reference>(serde_json::json!("Bad/Name")).is_err());
}
