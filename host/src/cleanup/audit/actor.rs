//! Who is deleting: the CI user and job when run in CI, else the local user.
//! Recorded in every audit record so a deletion can be traced to a person
//! or a pipeline run.

use super::record::{Actor, CiJob};

impl Actor {
    /// The actor of this process, from its environment and host name.
    pub fn detect() -> Actor {
        Actor::from_env(
            |name| {
                std::env::var(name)
                    .ok()
                    .or_else(|| if name == "USER" { passwd_user() } else { None })
            },
            local_host_name(),
        )
    }

    /// The actor described by these environment variables (`env` returns a
    /// variable's value) and host name; separate from [`Actor::detect`] so
    /// every CI system can be tested without touching the real environment.
    ///
    /// GitLab (`GITLAB_CI`), GitHub Actions (`GITHUB_ACTIONS`) and Jenkins
    /// (`JENKINS_URL`) are recognised by name; any other CI with `CI=true`
    /// is recorded as system `ci` under the local user.
    pub fn from_env(env: impl Fn(&str) -> Option<String>, host: Option<String>) -> Actor {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let is_true = |name: &str| {
            var(name).is_some_and(|v| matches!(v.trim(), "true" | "TRUE" | "True" | "1"))
        };
        let local_user = var("USER")
            .or_else(|| var("LOGNAME"))
            .or_else(|| var("USERNAME"));
        let host = host.filter(|h| !h.trim().is_empty());

        if is_true("GITLAB_CI") {
            return Actor {
                user: var("GITLAB_USER_LOGIN").unwrap_or_else(|| "gitlab".to_owned()),
                host,
                ci: Some(CiJob {
                    system: "gitlab".to_owned(),
                    job_id: var("CI_JOB_ID"),
                    job_url: var("CI_JOB_URL"),
                    pipeline: var("CI_PIPELINE_ID"),
                }),
            };
        }
        if is_true("GITHUB_ACTIONS") {
            let run_id = var("GITHUB_RUN_ID");
            let job_url = match (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY"), &run_id) {
                (Some(server), Some(repo), Some(run)) => Some(format!(
                    "{}/{repo}/actions/runs/{run}",
                    server.trim_end_matches('/')
                )),
                _ => None,
            };
            return Actor {
                user: var("GITHUB_ACTOR").unwrap_or_else(|| "github".to_owned()),
                host,
                ci: Some(CiJob {
                    system: "github".to_owned(),
                    job_id: run_id,
                    job_url,
                    pipeline: var("GITHUB_WORKFLOW"),
                }),
            };
        }
        if var("JENKINS_URL").is_some() {
            return Actor {
                user: var("BUILD_USER_ID").unwrap_or_else(|| "jenkins".to_owned()),
                host,
                ci: Some(CiJob {
                    system: "jenkins".to_owned(),
                    job_id: var("BUILD_ID"),
                    job_url: var("BUILD_URL"),
                    pipeline: var("JOB_NAME"),
                }),
            };
        }
        let ci = is_true("CI").then(|| CiJob {
            system: "ci".to_owned(),
            job_id: None,
            job_url: None,
            pipeline: None,
        });
        Actor {
            user: local_user.unwrap_or_else(|| "unknown".to_owned()),
            host,
            ci,
        }
    }

    /// A short label for tables: `user@host`, or `user (gitlab job 42)` in CI.
    pub fn label(&self) -> String {
        match (&self.ci, &self.host) {
            (Some(ci), _) => match &ci.job_id {
                Some(job) => format!("{} ({} job {job})", self.user, ci.system),
                None => format!("{} ({})", self.user, ci.system),
            },
            (None, Some(host)) => format!("{}@{host}", self.user),
            (None, None) => self.user.clone(),
        }
    }
}

/// The name of this process's user from `/etc/passwd`, for environments
/// (containers, cron, some CI runners) that set no `$USER`.
fn passwd_user() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_owned())
    })
}

/// This machine's host name: `/etc/hostname`, else `$HOSTNAME`.
fn local_host_name() -> Option<String> {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn actor(vars: &[(&str, &str)]) -> Actor {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Actor::from_env(|name| map.get(name).cloned(), Some("box1".to_owned()))
    }

    #[test]
    fn gitlab_job() {
        let a = actor(&[
            ("USER", "root"),
            ("CI", "true"),
            ("GITLAB_CI", "true"),
            ("GITLAB_USER_LOGIN", "alice"),
            ("CI_JOB_ID", "42"),
            ("CI_JOB_URL", "https://gitlab.example.com/g/p/-/jobs/42"),
            ("CI_PIPELINE_ID", "7"),
        ]);
        assert_eq!(a.user, "alice");
        assert_eq!(a.host.as_deref(), Some("box1"));
        let ci = a.ci.clone().expect("ci job");
        assert_eq!(ci.system, "gitlab");
        assert_eq!(ci.job_id.as_deref(), Some("42"));
        assert_eq!(
            ci.job_url.as_deref(),
            Some("https://gitlab.example.com/g/p/-/jobs/42")
        );
        assert_eq!(ci.pipeline.as_deref(), Some("7"));
        assert_eq!(a.label(), "alice (gitlab job 42)");
    }

    #[test]
    fn github_actions_run_url_is_built() {
        let a = actor(&[
            ("CI", "true"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_ACTOR", "octocat"),
            ("GITHUB_RUN_ID", "123"),
            ("GITHUB_SERVER_URL", "https://github.com/"),
            ("GITHUB_REPOSITORY", "acme/app"),
            ("GITHUB_WORKFLOW", "cleanup"),
        ]);
        assert_eq!(a.user, "octocat");
        let ci = a.ci.expect("ci job");
        assert_eq!(ci.system, "github");
        assert_eq!(ci.job_id.as_deref(), Some("123"));
        assert_eq!(
            ci.job_url.as_deref(),
            Some("https://github.com/acme/app/actions/runs/123")
        );
        assert_eq!(ci.pipeline.as_deref(), Some("cleanup"));
    }

    #[test]
    fn github_without_server_has_no_url() {
        let a = actor(&[("GITHUB_ACTIONS", "true"), ("GITHUB_RUN_ID", "5")]);
        assert_eq!(a.user, "github");
        assert_eq!(a.ci.expect("ci").job_url, None);
    }

    #[test]
    fn jenkins_defaults_user_to_jenkins() {
        let a = actor(&[
            ("JENKINS_URL", "https://ci.example.com/"),
            ("BUILD_ID", "9"),
            ("BUILD_URL", "https://ci.example.com/job/x/9/"),
            ("JOB_NAME", "x"),
        ]);
        assert_eq!(a.user, "jenkins");
        let ci = a.ci.expect("ci");
        assert_eq!(ci.system, "jenkins");
        assert_eq!(ci.job_id.as_deref(), Some("9"));
        assert_eq!(ci.pipeline.as_deref(), Some("x"));
        let b = actor(&[("JENKINS_URL", "u"), ("BUILD_USER_ID", "bob")]);
        assert_eq!(b.user, "bob");
    }

    #[test]
    fn generic_ci_keeps_local_user() {
        let a = actor(&[("CI", "true"), ("USER", "runner")]);
        assert_eq!(a.user, "runner");
        assert_eq!(a.ci.expect("ci").system, "ci");
    }

    #[test]
    fn local_user_and_host() {
        let a = actor(&[("LOGNAME", "carol"), ("GITLAB_CI", "false"), ("CI", "")]);
        assert_eq!(a.user, "carol");
        assert_eq!(a.ci, None);
        assert_eq!(a.label(), "carol@box1");
        let none = Actor::from_env(|_| None, None);
        assert_eq!(none.user, "unknown");
        assert_eq!(none.host, None);
        assert_eq!(none.label(), "unknown");
    }
}
