//! Running the `regent` binary as a CI script would: one process per job,
//! Basic credentials in a private Docker config, plain HTTP to the bench's
//! registry, and a compile cache private to this run (warmed before any
//! timing, so every timed run loads its adapter from the cache).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;

use crate::util::{Context, Res, clip, describe};

/// The regent binary under test and its environment.
pub struct RegentCli {
    bin: PathBuf,
    original: PathBuf,
    dir: PathBuf,
}

/// `regent` pointed at one registry.
pub struct Regent<'a> {
    cli: &'a RegentCli,
    authority: String,
    docker_config: PathBuf,
}

impl RegentCli {
    /// Run `bin` (a copy of `original`); caches, Docker configs and audit
    /// logs go under `dir`.
    pub fn new(bin: PathBuf, original: PathBuf, dir: &Path) -> Res<Self> {
        std::fs::create_dir_all(dir.join("cache")).ctx("create the regent cache dir")?;
        Ok(Self {
            bin,
            original,
            dir: dir.to_owned(),
        })
    }

    /// The binary measured (where it was copied from).
    pub fn original(&self) -> &Path {
        &self.original
    }

    /// `regent ARGS` with no registry flags (e.g. `--version`).
    pub fn bare(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command.args(args);
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text.starts_with("REGENT_") || name_text == "DOCKER_CONFIG" {
                command.env_remove(&name);
            }
        }
        command
            .env("REGENT_CACHE_DIR", self.dir.join("cache"))
            .env("REGENT_AUDIT_LOG", self.dir.join("audit-default.jsonl"))
            .stdin(Stdio::null());
        command
    }

    /// regent for the registry at `authority` (`127.0.0.1:PORT`), with
    /// `credentials` written to a Docker config as `docker login` would.
    pub fn at(&self, authority: &str, credentials: Option<(&str, &str)>) -> Res<Regent<'_>> {
        let docker_config = self
            .dir
            .join(format!("docker-{}", authority.replace(':', "_")));
        std::fs::create_dir_all(&docker_config).ctx("create a Docker config dir")?;
        let auths = match credentials {
            Some((user, password)) => {
                let auth =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                serde_json::json!({ authority: { "auth": auth } })
            }
            None => serde_json::json!({}),
        };
        std::fs::write(
            docker_config.join("config.json"),
            serde_json::to_vec(&serde_json::json!({ "auths": auths })).ctx("config JSON")?,
        )
        .ctx("write config.json")?;
        Ok(Regent {
            cli: self,
            authority: authority.to_owned(),
            docker_config,
        })
    }
}

impl Regent<'_> {
    /// `regent ARGS --docker-config DIR --insecure-registry HOST:PORT`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = self.cli.bare(args);
        command
            .arg("--docker-config")
            .arg(&self.docker_config)
            .arg("--insecure-registry")
            .arg(&self.authority);
        command
    }

    /// `HOST:PORT/REPO`.
    pub fn repo(&self, repo: &str) -> String {
        format!("{}/{repo}", self.authority)
    }

    /// Run `regent ARGS`, capturing its output; an error carries the
    /// exact command line, the exit status and what regent said.
    pub fn run(&self, args: &[&str]) -> Res<Output> {
        run(self.command(args))
    }
}

/// Run `command`; success or an error naming the command and its output.
pub fn run(mut command: Command) -> Res<Output> {
    let output = command
        .output()
        .ctx(format!("cannot run {}", describe(&command)))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "`{}` failed ({}): {}{}",
            describe(&command),
            output.status,
            clip(&String::from_utf8_lossy(&output.stderr), 1500),
            clip(&String::from_utf8_lossy(&output.stdout), 500)
        ))
    }
}

/// `regent cleanup` policy deleting every tag that matches `pattern`, with
/// nothing protected and no freshness window.
pub fn delete_policy(pattern: &str) -> String {
    format!(
        "version: 1\nfreshness: 0s\nprotected-tags: []\nrules:\n  - name: bench\n    action: delete\n    tags: {{ match: '{pattern}' }}\n"
    )
}
