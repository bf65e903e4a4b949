//! skopeo, the reference client, pointed at a [`TestRegistry`] with the
//! flags its set-up needs: tests use it to put images in place before regent
//! runs and to check what regent left behind, independently of regent.
//!
//! ```no_run
//! use regent_tests::images::{OciLayout, TestImage};
//! use regent_tests::registry::{RegistrySetup, TestRegistry};
//! use regent_tests::skopeo::Skopeo;
//! let registry = TestRegistry::start(RegistrySetup::htpasswd("alice", "pw"));
//! let dir = tempfile::tempdir().unwrap();
//! let mut layout = OciLayout::create(dir.path().join("oci"));
//! let image = TestImage::new("app").build();
//! layout.add_image("1", &image);
//! let skopeo = Skopeo::new(&registry);
//! skopeo.copy(&layout.reference("1"), &registry.docker_ref("app:1"));
//! assert_eq!(skopeo.inspect("app:1")["Digest"], image.manifest.digest);
//! ```

use std::fmt;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

use crate::registry::{RegistrySetup, TestRegistry};

/// The skopeo binary; `REGENT_TEST_SKOPEO_BIN` overrides it.
const DEFAULT_BIN: &str = "skopeo";

/// A failed skopeo run, for tests that expect failure.
#[derive(Debug, Clone)]
pub struct SkopeoError {
    /// The arguments it ran with (credentials included: these are test secrets).
    pub args: Vec<String>,
    /// The exit code, if it exited.
    pub code: Option<i32>,
    /// What skopeo said: tests match the reason (`unauthorized`, `x509`) here.
    pub stderr: String,
}

impl fmt::Display for SkopeoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "skopeo {} failed ({:?}):\n{}",
            self.args.join(" "),
            self.code,
            self.stderr
        )
    }
}

impl std::error::Error for SkopeoError {}

/// skopeo bound to one registry. References to that registry in copies are
/// recognised by their `docker://127.0.0.1:PORT/` prefix and get its TLS and
/// credential flags; `inspect`, `delete` and `list_tags` take names relative
/// to it (`repo:tag`, `repo@sha256:...`, `repo`).
#[derive(Clone)]
pub struct Skopeo<'r> {
    registry: &'r TestRegistry,
    credentials: Option<(String, String)>,
}

impl<'r> Skopeo<'r> {
    /// Use the registry's own credentials (if it has any).
    pub fn new(registry: &'r TestRegistry) -> Self {
        let credentials = registry
            .credentials()
            .map(|(u, p)| (u.to_owned(), p.to_owned()));
        Self {
            registry,
            credentials,
        }
    }

    /// Use these credentials instead, e.g. a wrong password.
    pub fn with_credentials(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Send no credentials.
    pub fn anonymous(mut self) -> Self {
        self.credentials = None;
        self
    }

    /// `skopeo copy FROM TO`, panicking with stderr on failure. Digests
    /// survive the copy for gzip layers; skopeo compresses plain tar layers
    /// on the way to a registry unless given `--preserve-digests` (see
    /// [`Skopeo::try_copy`]).
    pub fn copy(&self, from: &str, to: &str) -> Output {
        self.try_copy(from, to, &[])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `skopeo copy --all FROM TO`: every image of an index, not just the
    /// one for this machine's platform.
    pub fn copy_all(&self, from: &str, to: &str) -> Output {
        self.try_copy(from, to, &["--all"])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `skopeo copy [extra...] FROM TO`.
    pub fn try_copy(&self, from: &str, to: &str, extra: &[&str]) -> Result<Output, SkopeoError> {
        let mut args: Vec<String> = vec!["copy".into()];
        args.extend(extra.iter().map(|s| s.to_string()));
        if self.is_ours(from) {
            args.extend(self.registry_flags("--src-"));
        }
        if self.is_ours(to) {
            args.extend(self.registry_flags("--dest-"));
        }
        args.push(from.into());
        args.push(to.into());
        self.run(&args)
    }

    /// `skopeo inspect docker://REGISTRY/NAME`, parsed (`Digest`, `RepoTags`,
    /// `Layers`, `Architecture`, ...).
    pub fn inspect(&self, name: &str) -> Value {
        let output = self
            .try_inspect(name, &[])
            .unwrap_or_else(|e| panic!("{e}"));
        serde_json::from_slice(&output.stdout).expect("skopeo inspect prints JSON")
    }

    /// `skopeo inspect --raw`: the manifest (or index) bytes exactly as the
    /// registry serves them, whose sha256 is the digest.
    pub fn inspect_raw(&self, name: &str) -> Vec<u8> {
        self.try_inspect(name, &["--raw"])
            .unwrap_or_else(|e| panic!("{e}"))
            .stdout
    }

    /// `skopeo inspect [extra...] docker://REGISTRY/NAME`, e.g. to check that
    /// a deleted tag is gone.
    pub fn try_inspect(&self, name: &str, extra: &[&str]) -> Result<Output, SkopeoError> {
        let mut args: Vec<String> = vec!["inspect".into()];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(self.registry_flags("--"));
        args.push(self.registry.docker_ref(name));
        self.run(&args)
    }

    /// `skopeo delete docker://REGISTRY/NAME` (by tag this deletes the digest,
    /// and with it every tag pointing there).
    pub fn delete(&self, name: &str) {
        self.try_delete(name).unwrap_or_else(|e| panic!("{e}"));
    }

    /// `skopeo delete`, returning failure.
    pub fn try_delete(&self, name: &str) -> Result<Output, SkopeoError> {
        let mut args: Vec<String> = vec!["delete".into()];
        args.extend(self.registry_flags("--"));
        args.push(self.registry.docker_ref(name));
        self.run(&args)
    }

    /// `skopeo list-tags docker://REGISTRY/REPO`: the tags, sorted.
    pub fn list_tags(&self, repo: &str) -> Vec<String> {
        self.try_list_tags(repo).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `skopeo list-tags`, returning failure (an unknown repository fails).
    pub fn try_list_tags(&self, repo: &str) -> Result<Vec<String>, SkopeoError> {
        let mut args: Vec<String> = vec!["list-tags".into()];
        args.extend(self.registry_flags("--"));
        args.push(self.registry.docker_ref(repo));
        let output = self.run(&args)?;
        let value: Value =
            serde_json::from_slice(&output.stdout).expect("skopeo list-tags prints JSON");
        let mut tags: Vec<String> = value["Tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        tags.sort();
        Ok(tags)
    }

    /// Run skopeo with `args` after the global `--insecure-policy` (tests
    /// copy unsigned images). Nothing is added: for commands the helpers
    /// above do not cover.
    pub fn run(&self, args: &[String]) -> Result<Output, SkopeoError> {
        let bin = std::env::var_os("REGENT_TEST_SKOPEO_BIN").unwrap_or_else(|| DEFAULT_BIN.into());
        let output = Command::new(&bin)
            .arg("--insecure-policy")
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {}: {e}; install the Debian package skopeo",
                    bin.to_string_lossy()
                )
            });
        if output.status.success() {
            Ok(output)
        } else {
            Err(SkopeoError {
                args: args.to_vec(),
                code: output.status.code(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            })
        }
    }

    fn is_ours(&self, reference: &str) -> bool {
        reference.starts_with(&format!("docker://{}/", self.registry.authority()))
    }

    /// TLS and credential flags with `prefix` (`--`, `--src-`, `--dest-`).
    fn registry_flags(&self, prefix: &str) -> Vec<String> {
        let mut flags = Vec::new();
        match self.registry.setup() {
            RegistrySetup::Tls => {
                flags.push(format!("{prefix}cert-dir"));
                flags.push(self.cert_dir().display().to_string());
            }
            RegistrySetup::Plain | RegistrySetup::Htpasswd { .. } | RegistrySetup::Token { .. } => {
                flags.push(format!("{prefix}tls-verify=false"));
            }
        }
        if let Some((user, password)) = &self.credentials {
            flags.push(format!("{prefix}creds"));
            flags.push(format!("{user}:{password}"));
        } else {
            // Anonymous on purpose: never fall back to the machine's auth files.
            flags.push(format!("{prefix}no-creds"));
        }
        flags
    }

    /// `certs.d/127.0.0.1:PORT`, holding `ca.crt`.
    fn cert_dir(&self) -> PathBuf {
        self.registry
            .certs_d_dir()
            .expect("a Tls registry has certs.d")
            .join(self.registry.authority())
    }
}
