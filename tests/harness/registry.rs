//! The real CNCF distribution registry (`docker-registry serve`) on a free
//! loopback port, in one of the set-ups regent meets in the wild: plain HTTP,
//! HTTPS with a private CA, Basic auth (htpasswd) and Docker token auth. End-to-end
//! tests run regent against it and check the outcome with an independent
//! client (skopeo or [`crate::http`]).
//!
//! ```no_run
//! use regent_tests::registry::{RegistrySetup, TestRegistry};
//! let registry = TestRegistry::start(RegistrySetup::token("alice", "s3cret"));
//! let image = registry.docker_ref("team/app:1"); // docker://127.0.0.1:PORT/team/app:1
//! # let _ = image;
//! ```

mod config;

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::certs::TestCa;
use crate::token_server::{self, TokenPolicy, TokenServer};
use config::{Auth, Config};

/// The registry binary; `REGENT_TEST_REGISTRY_BIN` overrides it for machines
/// where it is installed elsewhere.
const DEFAULT_BIN: &str = "docker-registry";
/// How long a registry may take to answer `/v2/` after it is spawned. Generous
/// because CI shares two cores with parallel builds; a healthy start takes
/// well under a second.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How often to retry on a port another process took between our probe and
/// the registry's bind.
const PORT_ATTEMPTS: usize = 5;

/// How clients reach and authenticate to the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrySetup {
    /// HTTP, no authentication (like `localhost:5000` registries).
    Plain,
    /// HTTPS with a certificate for `127.0.0.1` and `localhost` from a CA
    /// generated for this registry; no authentication.
    Tls,
    /// HTTP with Basic auth from an htpasswd file (bcrypt).
    Htpasswd { user: String, password: String },
    /// HTTP with Docker token auth served by the harness's token server.
    Token { user: String, password: String },
}

impl RegistrySetup {
    /// [`RegistrySetup::Htpasswd`] from string slices.
    pub fn htpasswd(user: &str, password: &str) -> Self {
        Self::Htpasswd {
            user: user.into(),
            password: password.into(),
        }
    }

    /// [`RegistrySetup::Token`] from string slices.
    pub fn token(user: &str, password: &str) -> Self {
        Self::Token {
            user: user.into(),
            password: password.into(),
        }
    }
}

/// Less common settings; `Default` is what most tests want.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// `notifications.endpoints` URL: the registry POSTs push, pull and delete
    /// events there (e.g. to a [`crate::stub_http::StubServer`]).
    pub notifications: Option<String>,
    /// More `notifications.endpoints`, each with its own headers and retry
    /// timing (e.g. a receiver that needs a token, and a recorder beside it).
    pub notify_endpoints: Vec<NotifyEndpoint>,
    /// With [`RegistrySetup::Token`], anonymous clients get `pull` (and
    /// nothing else), like public repositories on Docker Hub. Other set-ups
    /// reject it: Plain and Tls are anonymous anyway, htpasswd cannot do it.
    pub anonymous_pull: bool,
}

/// One `notifications.endpoints` entry.
#[derive(Debug, Clone)]
pub struct NotifyEndpoint {
    /// `name` (required by the registry; unique per config).
    pub name: String,
    /// Where events are POSTed.
    pub url: String,
    /// Static request headers, e.g. `Authorization: Bearer T`.
    pub headers: Vec<(String, String)>,
    /// Per-request timeout (registry duration syntax: `500ms`, `2s`).
    pub timeout: String,
    /// Consecutive failures before the registry backs off.
    pub threshold: u32,
    /// How long it backs off before retrying.
    pub backoff: String,
}

impl NotifyEndpoint {
    /// An endpoint with a 2 s timeout, threshold 5 and a 1 s backoff.
    pub fn new(name: &str, url: &str) -> Self {
        Self {
            name: name.to_owned(),
            url: url.to_owned(),
            headers: Vec::new(),
            timeout: "2s".to_owned(),
            threshold: 5,
            backoff: "1s".to_owned(),
        }
    }

    /// Add a header sent with every notification.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Set the failure threshold and the backoff after it.
    pub fn retry(mut self, threshold: u32, backoff: &str) -> Self {
        self.threshold = threshold;
        self.backoff = backoff.to_owned();
        self
    }
}

/// A running registry. Killed and waited for when dropped; its storage,
/// config, certificates and log live in a temp dir removed with it.
pub struct TestRegistry {
    setup: RegistrySetup,
    port: u16,
    child: Child,
    token_server: Option<TokenServer>,
    ca_cert: Option<PathBuf>,
    certs_d: Option<PathBuf>,
    log_path: PathBuf,
    dir: TempDir,
}

impl TestRegistry {
    /// Start a registry with default options and wait until `/v2/` answers.
    pub fn start(setup: RegistrySetup) -> Self {
        Self::start_with(setup, RegistryOptions::default())
    }

    /// Start a registry with `options` and wait until `/v2/` answers.
    pub fn start_with(setup: RegistrySetup, options: RegistryOptions) -> Self {
        if options.anonymous_pull {
            assert!(
                matches!(setup, RegistrySetup::Token { .. }),
                "anonymous_pull needs RegistrySetup::Token (got {setup:?})"
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("regent-registry-")
            .tempdir()
            .expect("registry temp dir");
        fs::create_dir(dir.path().join("storage")).expect("create storage dir");
        let prepared = Prepared::new(&setup, &options, dir.path());
        let log_path = dir.path().join("registry.log");
        let (port, child) = launch(&setup, &options, &prepared, dir.path(), &log_path);
        let certs_d = prepared.ca_cert.as_ref().map(|ca| {
            let host_dir = dir.path().join("certs.d").join(format!("127.0.0.1:{port}"));
            fs::create_dir_all(&host_dir).expect("create certs.d dir");
            fs::copy(ca, host_dir.join("ca.crt")).expect("copy CA into certs.d");
            dir.path().join("certs.d")
        });
        Self {
            setup,
            port,
            child,
            token_server: prepared.token.map(|(server, _)| server),
            ca_cert: prepared.ca_cert,
            certs_d,
            log_path,
            dir,
        }
    }

    /// Start `docker-registry serve CONFIG` with a config written elsewhere
    /// (by `regent registry-config` in the events tests) that listens on
    /// `authority` (`127.0.0.1:PORT`), and wait until `/v2/` answers (any
    /// status, so a config with auth counts as started). With `ca_cert` the
    /// registry is reached over HTTPS trusting that CA (the set-up reads as
    /// [`RegistrySetup::Tls`]), else over plain HTTP ([`RegistrySetup::Plain`]).
    /// [`TestRegistry::credentials`] is `None` even if the config requires
    /// htpasswd auth, and [`TestRegistry::storage_dir`] does not apply: the
    /// config names its own storage. Panics with the log if it does not start.
    pub fn start_from_config(config: &Path, authority: &str, ca_cert: Option<&Path>) -> Self {
        let port = authority
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .unwrap_or_else(|| panic!("{authority} is not HOST:PORT"));
        let dir = tempfile::Builder::new()
            .prefix("regent-registry-")
            .tempdir()
            .expect("registry temp dir");
        let log_path = dir.path().join("registry.log");
        let (setup, scheme) = match ca_cert {
            Some(_) => (RegistrySetup::Tls, "https"),
            None => (RegistrySetup::Plain, "http"),
        };
        let mut child = spawn(config, &log_path, dir.path());
        let probe = crate::http::agent(ca_cert);
        let url = format!("{scheme}://{authority}/v2/");
        if let Err(failure) = wait_ready(&mut child, &probe, authority, &url, &log_path) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "docker-registry serve {} did not start: {failure}\nconfig:\n{}\nlog:\n{}",
                config.display(),
                fs::read_to_string(config).unwrap_or_default(),
                fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        Self {
            setup,
            port,
            child,
            token_server: None,
            ca_cert: ca_cert.map(Path::to_path_buf),
            certs_d: None,
            log_path,
            dir,
        }
    }

    /// `127.0.0.1:PORT`, the registry part of image references.
    pub fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT` or `https://...` for Tls, without a trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = if self.setup == RegistrySetup::Tls {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.authority())
    }

    /// `docker://127.0.0.1:PORT/<name>`, a skopeo/containers-image reference
    /// to `name` (`repo:tag` or `repo@sha256:...`) in this registry.
    pub fn docker_ref(&self, name: &str) -> String {
        format!("docker://{}/{name}", self.authority())
    }

    /// The user and password of the auth set-ups; `None` when anonymous.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match &self.setup {
            RegistrySetup::Htpasswd { user, password }
            | RegistrySetup::Token { user, password } => Some((user, password)),
            RegistrySetup::Plain | RegistrySetup::Tls => None,
        }
    }

    /// The set-up this registry was started with.
    pub fn setup(&self) -> &RegistrySetup {
        &self.setup
    }

    /// With Tls: the PEM file of the CA that signed the server certificate,
    /// for clients that take a CA bundle (`SSL_CERT_FILE`, `--ca-file`).
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.ca_cert.as_deref()
    }

    /// With Tls: a `certs.d` directory laid out as Docker expects
    /// (`certs.d/127.0.0.1:PORT/ca.crt`), for clients that follow that
    /// convention; skopeo's `--cert-dir` takes `certs.d/127.0.0.1:PORT`.
    pub fn certs_d_dir(&self) -> Option<&Path> {
        self.certs_d.as_deref()
    }

    /// With Token: the token server, e.g. to inspect which scopes were asked for.
    pub fn token_server(&self) -> Option<&TokenServer> {
        self.token_server.as_ref()
    }

    /// With Token: how many token requests reached the token server (0 otherwise).
    pub fn token_requests(&self) -> usize {
        self.token_server
            .as_ref()
            .map_or(0, TokenServer::token_requests)
    }

    /// Everything the registry has logged so far (stdout and stderr,
    /// including the access log), for assertions and failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The filesystem storage root (`docker/registry/v2/...` lives below it).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// A plain HTTP client that trusts this registry's CA (with Tls); it
    /// does not authenticate by itself.
    pub fn http(&self) -> ureq::Agent {
        crate::http::agent(self.ca_cert.as_deref())
    }

    /// The registry's process id, e.g. to check it is gone after drop.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a set-up needs in place before the registry starts: certificates,
/// the htpasswd file, the token server and the CA bundle its tokens chain to.
struct Prepared {
    ca_cert: Option<PathBuf>,
    tls: Option<(PathBuf, PathBuf)>,
    htpasswd: Option<PathBuf>,
    token: Option<(TokenServer, PathBuf)>,
}

impl Prepared {
    fn new(setup: &RegistrySetup, options: &RegistryOptions, dir: &Path) -> Self {
        let mut prepared = Self {
            ca_cert: None,
            tls: None,
            htpasswd: None,
            token: None,
        };
        match setup {
            RegistrySetup::Plain => {}
            RegistrySetup::Tls => {
                let ca = TestCa::new("regent test registry CA");
                let server = ca.issue_server_cert(&["127.0.0.1", "localhost"]);
                let (ca_path, cert, key) = (
                    dir.join("ca.crt"),
                    dir.join("server.crt"),
                    dir.join("server.key"),
                );
                write(&ca_path, ca.cert_pem().as_bytes());
                write(&cert, server.cert_pem.as_bytes());
                write(&key, server.key_pem.as_bytes());
                prepared.ca_cert = Some(ca_path);
                prepared.tls = Some((cert, key));
            }
            RegistrySetup::Htpasswd { user, password } => {
                let path = dir.join("htpasswd");
                write(&path, &htpasswd_entry(user, password));
                prepared.htpasswd = Some(path);
            }
            RegistrySetup::Token { user, password } => {
                let ca = TestCa::new("regent test token CA");
                let signer = ca.issue_signing_cert("regent test token signer");
                let bundle = dir.join("token-ca.crt");
                write(&bundle, ca.cert_pem().as_bytes());
                let policy = TokenPolicy {
                    user: user.clone(),
                    password: password.clone(),
                    anonymous_pull: options.anonymous_pull,
                };
                prepared.token = Some((TokenServer::start(policy, &signer), bundle));
            }
        }
        prepared
    }

    /// The registry's config on `addr`.
    fn config<'a>(
        &'a self,
        addr: &'a str,
        realm: &'a str,
        storage: &'a Path,
        options: &'a RegistryOptions,
    ) -> Config<'a> {
        let auth = match (&self.htpasswd, &self.token) {
            (Some(path), _) => Auth::Htpasswd { path },
            (_, Some((_, rootcertbundle))) => Auth::Token {
                realm,
                service: token_server::SERVICE,
                issuer: token_server::ISSUER,
                rootcertbundle,
            },
            _ => Auth::None,
        };
        Config {
            addr,
            storage,
            tls: self.tls.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
            auth,
            notifications: options.notifications.as_deref(),
            endpoints: &options.notify_endpoints,
        }
    }
}

/// Spawn the registry on a free port and wait until it serves, retrying
/// when another process takes the port first; panics with the log otherwise.
fn launch(
    setup: &RegistrySetup,
    options: &RegistryOptions,
    prepared: &Prepared,
    dir: &Path,
    log_path: &Path,
) -> (u16, Child) {
    let scheme = if prepared.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let realm = prepared
        .token
        .as_ref()
        .map(|(server, _)| server.realm())
        .unwrap_or_default();
    let storage = dir.join("storage");
    let probe = crate::http::agent(prepared.ca_cert.as_deref());
    let mut attempt = 0;
    loop {
        attempt += 1;
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let config = prepared.config(&addr, &realm, &storage, options).render();
        let config_path = dir.join("config.yml");
        write(&config_path, config.as_bytes());
        let mut child = spawn(&config_path, log_path, dir);
        let url = format!("{scheme}://{addr}/v2/");
        match wait_ready(&mut child, &probe, &addr, &url, log_path) {
            Ok(()) => return (port, child),
            Err(Failure::PortTaken) if attempt < PORT_ATTEMPTS => continue,
            Err(failure) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "docker-registry ({setup:?}) did not start: {failure}\nconfig:\n{config}\nlog:\n{}",
                    fs::read_to_string(log_path).unwrap_or_default()
                );
            }
        }
    }
}

/// Why a start attempt failed.
enum Failure {
    PortTaken,
    Exited(std::process::ExitStatus),
    Timeout,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::PortTaken => write!(f, "its port was taken {PORT_ATTEMPTS} times in a row"),
            Failure::Exited(status) => write!(f, "it exited ({status})"),
            Failure::Timeout => write!(f, "/v2/ did not answer within {START_TIMEOUT:?}"),
        }
    }
}

fn spawn(config: &Path, log: &Path, cwd: &Path) -> Child {
    let bin = std::env::var_os("REGENT_TEST_REGISTRY_BIN").unwrap_or_else(|| DEFAULT_BIN.into());
    let log_file = File::create(log).expect("create registry log");
    let mut command = Command::new(&bin);
    command
        .arg("serve")
        .arg(config)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("clone log handle"))
        .stderr(log_file);
    // The registry reads REGISTRY_* variables as config overrides; a stray
    // one (podman's REGISTRY_AUTH_FILE) must not change or break the set-up.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("REGISTRY_") {
            command.env_remove(name);
        }
    }
    command.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot run {}: {e}; install the Debian package docker-registry (or set REGENT_TEST_REGISTRY_BIN)",
            bin.to_string_lossy()
        )
    })
}

/// Wait until our registry has bound `addr` (its log says so, which rules
/// out another process that grabbed the port answering in its place) and
/// `/v2/` answers; any status counts, since the auth set-ups answer 401.
fn wait_ready(
    child: &mut Child,
    agent: &ureq::Agent,
    addr: &str,
    url: &str,
    log: &Path,
) -> Result<(), Failure> {
    let deadline = Instant::now() + START_TIMEOUT;
    let listening = format!("listening on {addr}");
    loop {
        let exited = child.try_wait().ok().flatten();
        let text = fs::read_to_string(log).unwrap_or_default();
        if let Some(status) = exited {
            if text.contains("address already in use") {
                return Err(Failure::PortTaken);
            }
            return Err(Failure::Exited(status));
        }
        if text.contains(&listening)
            && let Ok(response) = agent.get(url).call()
            && response
                .headers()
                .get("docker-distribution-api-version")
                .is_some()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Failure::Timeout);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A port nothing listens on right now. The registry binds it a moment
/// later; if another process wins the race the start is retried.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

fn htpasswd_entry(user: &str, password: &str) -> Vec<u8> {
    let output = Command::new("htpasswd")
        .args(["-Bbn", user, password])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run htpasswd: {e}; install the Debian package apache2-utils")
        });
    assert!(
        output.status.success(),
        "htpasswd -Bbn failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
