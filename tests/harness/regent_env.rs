//! A private cache, Docker config and audit log for one test, and the
//! regent flags that point at one test registry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::cli::regent;
use crate::registry::TestRegistry;

/// One test's regent environment.
pub struct RegentEnv {
    dir: tempfile::TempDir,
    flags: Vec<String>,
}

impl RegentEnv {
    /// Flags for `registry` (plain HTTP or its CA), a fresh Docker config,
    /// and `REGENT_AUDIT_LOG` inside the test's directory.
    pub fn new(registry: &TestRegistry) -> Self {
        let mut env = Self::new_for(&registry.authority());
        if let Some(ca) = registry.ca_cert_path() {
            env.flags.truncate(2);
            env.flags
                .extend(["--ca-file".to_owned(), ca.display().to_string()]);
        }
        env
    }

    /// Flags for a plain-HTTP registry (or fake) at `authority`.
    pub fn new_for(authority: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let flags = vec![
            "--docker-config".to_owned(),
            dir.path().join("docker").display().to_string(),
            "--insecure-registry".to_owned(),
            authority.to_owned(),
        ];
        Self { dir, flags }
    }

    /// A path inside the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The audit log every command of this environment writes.
    pub fn audit_log(&self) -> PathBuf {
        self.path("audit.jsonl")
    }

    /// Write `text` to a file in the test's directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    /// `regent ARGS` with this environment's flags.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = regent(&self.dir.path().join("cache"));
        command
            .args(args)
            .args(&self.flags)
            .env_remove("DOCKER_CONFIG")
            .env("REGENT_AUDIT_LOG", self.audit_log());
        command
    }

    /// Run it.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run regent")
    }

    /// Run it and insist on success.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "regent {args:?} failed:\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Run it with `--output json` and parse stdout (success required).
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        serde_json::from_slice(&self.ok(&all).stdout).expect("JSON on stdout")
    }

    /// The test directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
