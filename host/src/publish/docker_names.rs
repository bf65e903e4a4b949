//! Matching image names the way `docker save` wrote them against what the
//! user typed: `app`, `app:latest` and `docker.io/library/app:latest` are
//! one image, so `docker-archive:FILE:app` finds RepoTag `app:latest`.

use crate::registry::reference::Reference;

/// Whether two image names denote the same image after Docker's
/// normalisation; names that do not parse must match exactly.
pub fn same_image(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (Reference::parse(a), Reference::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The short form Docker prints (`app:1` for `docker.io/library/app:1`),
/// the form RepoTags use and users type.
pub fn familiar(name: &str) -> String {
    let short = name.strip_prefix("docker.io/").unwrap_or(name);
    match short.strip_prefix("library/") {
        Some(official) if !official.contains('/') && short.len() != name.len() => {
            official.to_owned()
        }
        _ => short.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_docker() {
        assert!(same_image("app", "app:latest"));
        assert!(same_image("docker.io/library/app:latest", "app:latest"));
        assert!(same_image("localhost:5000/x:1", "localhost:5000/x:1"));
        assert!(!same_image("app:1", "app:2"));
        assert!(!same_image("ghcr.io/a/app:1", "app:1"));
        assert!(!same_image("@0", "app"));
        assert_eq!(
            familiar("docker.io/library/hello-world:latest"),
            "hello-world:latest"
        );
        assert_eq!(familiar("docker.io/acme/app:1"), "acme/app:1");
        assert_eq!(familiar("ghcr.io/acme/app:1"), "ghcr.io/acme/app:1");
        assert_eq!(familiar("library/x:1"), "library/x:1");
    }
}
