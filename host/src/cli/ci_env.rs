//! `regent ci-env gitlab|github`: a private Docker config for one CI job.
//!
//! Parallel jobs on one runner that all `docker login` into a shared
//! `~/.docker/config.json` race on that file. This command logs in from the
//! CI's own variables into a new directory of the job's own and prints the
//! `export` lines pointing regent (and docker, skopeo) at it:
//! `eval "$(regent ci-env gitlab)"`. `--docker-config` does not apply here:
//! the point is a directory no other job shares.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, print_json};
use crate::registry::auth::{Credentials, DockerConfig, DockerConfigDir, Secret, Verified, keys};

/// Arguments of `regent ci-env`.
#[derive(Debug, clap::Args)]
pub struct CiEnvArgs {
    /// The CI system whose job variables hold the registry login.
    #[arg(value_enum)]
    pub ci: CiSystem,
    /// Store the credentials without checking them against the registry.
    #[arg(long)]
    pub no_verify: bool,
}

/// The CI systems whose variables regent knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CiSystem {
    /// GitLab CI: CI_REGISTRY, CI_REGISTRY_USER / CI_REGISTRY_PASSWORD or CI_JOB_TOKEN, CI_REGISTRY_IMAGE.
    Gitlab,
    /// GitHub Actions: GITHUB_ACTOR, GITHUB_TOKEN and GITHUB_REPOSITORY, for ghcr.io.
    Github,
}

impl CiSystem {
    /// The adapter kind serving this CI's registry.
    fn kind(self) -> &'static str {
        match self {
            Self::Gitlab => "gitlab",
            Self::Github => "github",
        }
    }
}

/// The login a CI job's variables describe.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CiLogin {
    registry: String,
    username: String,
    password: Secret,
    repo: String,
}

/// Read the login from the CI's variables (`var` looks one up; empty counts
/// as unset). On failure, the names of the missing variables.
fn login_from(
    ci: CiSystem,
    var: impl Fn(&str) -> Option<String>,
) -> Result<CiLogin, Vec<&'static str>> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty());
    let mut missing = Vec::new();
    let mut need = |name: &'static str| {
        let value = var(name);
        if value.is_none() {
            missing.push(name);
        }
        value.unwrap_or_default()
    };
    let login = match ci {
        CiSystem::Gitlab => {
            let registry = need("CI_REGISTRY");
            let repo = need("CI_REGISTRY_IMAGE");
            let (username, password) = match (
                var("CI_REGISTRY_USER"),
                var("CI_REGISTRY_PASSWORD"),
                var("CI_JOB_TOKEN"),
            ) {
                (Some(user), Some(password), _) => (user, password),
                (_, _, Some(token)) => ("gitlab-ci-token".to_owned(), token),
                _ => {
                    missing.push("CI_REGISTRY_USER and CI_REGISTRY_PASSWORD, or CI_JOB_TOKEN");
                    (String::new(), String::new())
                }
            };
            CiLogin {
                registry,
                username,
                password: Secret::new(password),
                repo,
            }
        }
        CiSystem::Github => {
            let username = need("GITHUB_ACTOR");
            let password = need("GITHUB_TOKEN");
            let repository = need("GITHUB_REPOSITORY");
            CiLogin {
                registry: "ghcr.io".to_owned(),
                username,
                password: Secret::new(password),
                // ghcr.io wants lower-case names; GitHub owners and repositories may not be.
                repo: format!("ghcr.io/{}", repository.to_ascii_lowercase()),
            }
        }
    };
    if missing.is_empty() {
        Ok(login)
    } else {
        Err(missing)
    }
}

/// What `--output json` prints. Holds no secret.
#[derive(Debug, Serialize)]
struct CiEnvReport<'a> {
    docker_config: &'a std::path::Path,
    registry: &'a str,
    username: &'a str,
    repo: &'a str,
    container_registry: &'a str,
    verified: Option<Verified>,
}

/// Log in from the CI variables into a new private Docker config directory
/// and print the environment that uses it.
pub async fn run(ctx: &CommandContext, args: CiEnvArgs) -> anyhow::Result<ExitCode> {
    let login = login_from(args.ci, |name| std::env::var(name).ok()).map_err(|missing| {
        anyhow::anyhow!(
            "regent ci-env {}: this job lacks {} (is this running in {}?)",
            args.ci.kind(),
            missing.join(", "),
            match args.ci {
                CiSystem::Gitlab => "a GitLab CI job with the container registry enabled",
                CiSystem::Github =>
                    "a GitHub Actions job with GITHUB_TOKEN passed in the step's env",
            }
        )
    })?;
    let registry = keys::validate(&login.registry)
        .with_context(|| format!("the {} registry variable", args.ci.kind()))?;
    let verified = if args.no_verify {
        None
    } else {
        let credentials = Credentials::basic(&login.username, login.password.clone());
        Some(super::login::verify(ctx, &registry, credentials).await?)
    };
    let dir = private_dir(args.ci)?;
    let config_dir = DockerConfigDir::new(&dir);
    let mut config = DockerConfig::empty(config_dir.config_file());
    config.set_auth(&registry, &login.username, &login.password);
    config_dir.save(&config)?;

    match ctx.global.output {
        OutputFormat::Json => print_json(&CiEnvReport {
            docker_config: &dir,
            registry: &registry,
            username: &login.username,
            repo: &login.repo,
            container_registry: args.ci.kind(),
            verified,
        })?,
        OutputFormat::Table => {
            let dir_text = dir.to_str().with_context(|| {
                format!("the temporary directory {} is not UTF-8", dir.display())
            })?;
            println!("export DOCKER_CONFIG={}", quote(dir_text)?);
            println!("export REGENT_REPO={}", quote(&login.repo)?);
            println!(
                "export REGENT_REPO_CONTAINER_REGISTRY={}",
                quote(args.ci.kind())?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A new directory for this job only, mode 0700, kept after regent exits.
/// On GitHub Actions it goes under `RUNNER_TEMP`, which the runner cleans.
fn private_dir(ci: CiSystem) -> anyhow::Result<PathBuf> {
    let parent = match ci {
        CiSystem::Github => std::env::var_os("RUNNER_TEMP")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        CiSystem::Gitlab => None,
    }
    .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("regent-docker-config-")
        .tempdir_in(&parent)
        .with_context(|| {
            format!(
                "cannot create a Docker config directory in {}",
                parent.display()
            )
        })?;
    make_private(dir.path())
        .with_context(|| format!("cannot make {} private", dir.path().display()))?;
    Ok(dir.keep())
}

#[cfg(unix)]
fn make_private(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn make_private(_dir: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}

/// Quote for a POSIX shell, so `eval` sees exactly the value.
fn quote(value: &str) -> anyhow::Result<String> {
    Ok(shlex::try_quote(value)
        .map_err(|e| anyhow::anyhow!("cannot quote {value:?} for the shell: {e}"))?
        .into_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn gitlab_prefers_registry_user_then_job_token() {
        let base = [
            ("CI_REGISTRY", "registry.gitlab.example"),
            ("CI_REGISTRY_IMAGE", "registry.gitlab.example/g/p"),
        ];
        let with_user = [
            &base[..],
            &[
                ("CI_REGISTRY_USER", "u"),
                ("CI_REGISTRY_PASSWORD", "pw"),
                ("CI_JOB_TOKEN", "jt"),
            ],
        ]
        .concat();
        let login = login_from(CiSystem::Gitlab, env(&with_user)).expect("login");
        assert_eq!(
            (login.username.as_str(), login.password.expose()),
            ("u", "pw")
        );
        assert_eq!(login.repo, "registry.gitlab.example/g/p");

        let job_token = [
            &base[..],
            &[("CI_REGISTRY_USER", ""), ("CI_JOB_TOKEN", "jt")],
        ]
        .concat();
        let login = login_from(CiSystem::Gitlab, env(&job_token)).expect("login");
        assert_eq!(
            (login.username.as_str(), login.password.expose()),
            ("gitlab-ci-token", "jt")
        );
    }

    #[test]
    fn missing_variables_are_all_named() {
        let missing = login_from(CiSystem::Gitlab, env(&[])).expect_err("missing");
        assert_eq!(
            missing,
            vec![
                "CI_REGISTRY",
                "CI_REGISTRY_IMAGE",
                "CI_REGISTRY_USER and CI_REGISTRY_PASSWORD, or CI_JOB_TOKEN"
            ]
        );
        let missing =
            login_from(CiSystem::Github, env(&[("GITHUB_ACTOR", "octo")])).expect_err("missing");
        assert_eq!(missing, vec!["GITHUB_TOKEN", "GITHUB_REPOSITORY"]);
    }

    #[test]
    fn github_uses_ghcr_and_a_lower_case_repo() {
        let login = login_from(
            CiSystem::Github,
            env(&[
                ("GITHUB_ACTOR", "Octo"),
                ("GITHUB_TOKEN", "ghs_x"),
                ("GITHUB_REPOSITORY", "Acme/App"),
            ]),
        )
        .expect("login");
        assert_eq!(login.registry, "ghcr.io");
        assert_eq!(login.username, "Octo");
        assert_eq!(login.repo, "ghcr.io/acme/app");
    }

    #[test]
    fn values_are_quoted_for_the_shell() {
        assert_eq!(
            quote("/tmp/regent-docker-config-x").expect("quote"),
            "/tmp/regent-docker-config-x"
        );
        for tricky in ["a b'c", "$(rm -rf /)", "x\"y`z`", ""] {
            let quoted = quote(tricky).expect("quote");
            assert_eq!(
                shlex::split(&quoted),
                Some(vec![tricky.to_owned()]),
                "{quoted}"
            );
        }
    }
}
