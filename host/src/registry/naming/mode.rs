//! The host's naming rule for adapters without a native `resolve-mode`:
//! what `auto` means, and which explicit modes cannot work, decided from
//! the images repo's shape and whether the registry nests repositories.

use super::error::NamingError;
use crate::registry::reference::ImagesRepo;
use crate::runtime::{NamingQuirks, RepoMode};

/// Resolve `requested` for `repo` (never answers `auto`).
///
/// Registries with nested repositories take any path, so `auto` is
/// multirepo. Registries without them (Docker Hub, Quay, ...) have exactly
/// `ACCOUNT/REPOSITORY`: an account can only hold one repository per image
/// (multirepo) and a repository can only hold tags (monorepo), so the
/// shape of the repo decides, and the other mode is refused with the fix.
pub fn default_mode(
    repo: &ImagesRepo,
    quirks: &NamingQuirks,
    requested: RepoMode,
) -> Result<RepoMode, NamingError> {
    let depth = repo.depth();
    if quirks.nested_repositories {
        return match requested {
            RepoMode::Monorepo if depth == 0 => Err(NamingError::MonorepoNeedsRepository {
                repo: repo.to_string(),
            }),
            RepoMode::Auto => Ok(RepoMode::Multirepo),
            explicit => Ok(explicit),
        };
    }
    match (depth, requested) {
        (0, _) => Err(NamingError::RegistryNeedsAccount {
            repo: repo.to_string(),
        }),
        (1, RepoMode::Monorepo) => Err(NamingError::AccountIsNotRepository {
            repo: repo.to_string(),
        }),
        (1, _) => Ok(RepoMode::Multirepo),
        (_, RepoMode::Multirepo) => Err(NamingError::RepositoriesDoNotNest {
            repo: repo.to_string(),
            registry: repo.registry().to_owned(),
            account: account_of(repo),
        }),
        (_, _) => Ok(RepoMode::Monorepo),
    }
}

/// `registry/first-segment`: the account a repository belongs to.
fn account_of(repo: &ImagesRepo) -> String {
    let first = repo
        .path()
        .and_then(|p| p.split('/').next())
        .unwrap_or_default();
    format!("{}/{first}", repo.registry())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::OciArtifactSupport;

    fn quirks(nested_repositories: bool) -> NamingQuirks {
        NamingQuirks {
            nested_repositories,
            create_repository_before_push: false,
            oci_artifacts: OciArtifactSupport::Supported,
        }
    }

    fn mode(repo: &str, nested: bool, requested: RepoMode) -> Result<RepoMode, NamingError> {
        let repo = ImagesRepo::parse(repo).unwrap_or_else(|e| panic!("{repo}: {e}"));
        default_mode(&repo, &quirks(nested), requested)
    }

    #[test]
    fn nested_registries_default_to_multirepo_and_honour_explicit_modes() {
        for repo in [
            "localhost:5000",
            "localhost:5000/project",
            "ghcr.io/acme/team/app",
        ] {
            assert_eq!(
                mode(repo, true, RepoMode::Auto),
                Ok(RepoMode::Multirepo),
                "{repo}"
            );
            assert_eq!(
                mode(repo, true, RepoMode::Multirepo),
                Ok(RepoMode::Multirepo),
                "{repo}"
            );
        }
        assert_eq!(
            mode("localhost:5000/project", true, RepoMode::Monorepo),
            Ok(RepoMode::Monorepo)
        );
        assert_eq!(
            mode("ghcr.io/acme", true, RepoMode::Monorepo),
            Ok(RepoMode::Monorepo)
        );
    }

    #[test]
    fn nested_registries_refuse_monorepo_on_a_bare_address() {
        let error = mode("localhost:5000", true, RepoMode::Monorepo).expect_err("refused");
        assert_eq!(
            error,
            NamingError::MonorepoNeedsRepository {
                repo: "localhost:5000".into()
            }
        );
        let message = error.to_string();
        assert!(
            message.contains("`localhost:5000` is a registry address, not a repository"),
            "{message}"
        );
        assert!(
            message.contains("--repo localhost:5000/project"),
            "{message}"
        );
    }

    #[test]
    fn flat_registries_decide_by_account_or_repository() {
        assert_eq!(mode("acme", false, RepoMode::Auto), Ok(RepoMode::Multirepo));
        assert_eq!(
            mode("docker.io/acme", false, RepoMode::Multirepo),
            Ok(RepoMode::Multirepo)
        );
        assert_eq!(
            mode("quay.io/acme", false, RepoMode::Auto),
            Ok(RepoMode::Multirepo)
        );
        assert_eq!(
            mode("acme/app", false, RepoMode::Auto),
            Ok(RepoMode::Monorepo)
        );
        assert_eq!(
            mode("docker.io/acme/app", false, RepoMode::Monorepo),
            Ok(RepoMode::Monorepo)
        );
        assert_eq!(
            mode("quay.io/acme/app", false, RepoMode::Auto),
            Ok(RepoMode::Monorepo)
        );
    }

    #[test]
    fn flat_registries_refuse_multirepo_in_a_repository() {
        let error = mode("docker.io/acme/app", false, RepoMode::Multirepo).expect_err("refused");
        assert_eq!(
            error,
            NamingError::RepositoriesDoNotNest {
                repo: "docker.io/acme/app".into(),
                registry: "docker.io".into(),
                account: "docker.io/acme".into()
            }
        );
        let message = error.to_string();
        assert!(
            message.contains("docker.io does not nest repositories"),
            "{message}"
        );
        assert!(
            message.contains("use `--repo docker.io/acme` for multirepo"),
            "{message}"
        );
        assert!(message.contains("--repo-mode monorepo"), "{message}");
    }

    #[test]
    fn flat_registries_refuse_monorepo_in_an_account() {
        let error = mode("docker.io/acme", false, RepoMode::Monorepo).expect_err("refused");
        assert_eq!(
            error,
            NamingError::AccountIsNotRepository {
                repo: "docker.io/acme".into()
            }
        );
        let message = error.to_string();
        assert!(
            message.contains("`docker.io/acme` is an account, not a repository"),
            "{message}"
        );
        assert!(
            message.contains("--repo docker.io/acme/images")
                && message.contains("--repo-mode multirepo"),
            "{message}"
        );
    }

    #[test]
    fn flat_registries_refuse_a_bare_address_in_every_mode() {
        for requested in [RepoMode::Auto, RepoMode::Monorepo, RepoMode::Multirepo] {
            for repo in ["docker.io", "index.docker.io", "quay.io"] {
                assert!(
                    matches!(
                        mode(repo, false, requested),
                        Err(NamingError::RegistryNeedsAccount { .. })
                    ),
                    "{repo} {requested}"
                );
            }
        }
        let message = mode("docker.io", false, RepoMode::Auto)
            .expect_err("refused")
            .to_string();
        assert!(
            message.contains("does not nest repositories, so regent needs an account"),
            "{message}"
        );
        assert!(message.contains("--repo docker.io/ACCOUNT"), "{message}");
    }
}
