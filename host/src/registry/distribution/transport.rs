//! The HTTP client and base URL for a registry, and what a transport failure
//! means (TLS or connection).
//!
//! Clients are cached per set of trust settings: every registry client, and
//! the auth layer through [`http_client`], shares keep-alive connections and
//! the TLS session cache instead of paying a handshake per request.

use std::collections::HashMap;
use std::error::Error as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use url::Url;

use super::error::{RegistryError, tls_hint};
use super::options::TransportOptions;

/// Docker Hub's registry API is not served at the name people write.
const DOCKER_HUB_ENDPOINT: &str = "registry-1.docker.io";

/// The host (and port) that serves `registry`'s API: `docker.io` and
/// `index.docker.io` are served at `registry-1.docker.io`.
pub fn endpoint_host(registry: &str) -> &str {
    match registry.to_ascii_lowercase().as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_ENDPOINT,
        _ => registry,
    }
}

/// The root URL of `registry`'s API: `http://` for registries declared
/// insecure, `https://` for the rest.
pub fn base_url(options: &TransportOptions, registry: &str) -> Result<Url, RegistryError> {
    let invalid = |why: &str| RegistryError::InvalidArgument {
        what: "registry address",
        value: registry.to_owned(),
        why: why.to_owned(),
    };
    if registry.is_empty() || registry.contains(['/', '@', '?', '#', ' ']) {
        return Err(invalid("expected `host` or `host:port`"));
    }
    let scheme = if options.is_insecure(registry) {
        "http"
    } else {
        "https"
    };
    let url = Url::parse(&format!("{scheme}://{}/", endpoint_host(registry)))
        .map_err(|e| invalid(&e.to_string()))?;
    if url.host_str().is_none() {
        return Err(invalid("expected `host` or `host:port`"));
    }
    Ok(url)
}

/// The HTTP client for `registry` under `options`: system roots plus
/// `--ca-file`s plus the registry's `certs.d` CAs, and its `certs.d` client
/// certificate if any. Clients with the same trust settings are shared.
pub fn http_client(
    options: &TransportOptions,
    registry: &str,
) -> Result<reqwest::Client, RegistryError> {
    let key = TrustFiles::find(options, registry);
    static CLIENTS: OnceLock<Mutex<HashMap<TrustFiles, reqwest::Client>>> = OnceLock::new();
    let clients = CLIENTS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(client) = clients.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(client.clone());
    }
    let client = build_client(&key, registry)?;
    let mut cache = clients.lock().unwrap_or_else(|p| p.into_inner());
    Ok(cache.entry(key).or_insert(client).clone())
}

/// The files that decide a client's TLS trust; the cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TrustFiles {
    /// Not about trust, but clients differ by it too.
    user_agent: String,
    ca_files: Vec<PathBuf>,
    /// A client certificate and its key, both PEM.
    identity: Option<(PathBuf, PathBuf)>,
}

impl TrustFiles {
    /// `--ca-file`s, then `*.crt` in `certs.d/HOST` of every certs.d dir, and
    /// the first `*.cert` there that has a matching `*.key`.
    fn find(options: &TransportOptions, registry: &str) -> Self {
        let mut ca_files = options.ca_files.clone();
        let mut identity = None;
        let mut hosts = vec![registry];
        if endpoint_host(registry) != registry {
            hosts.push(endpoint_host(registry));
        }
        for dir in &options.certs_d_dirs {
            for host in &hosts {
                let mut entries = list_dir(&dir.join(host));
                entries.sort();
                for path in entries {
                    match path.extension().and_then(|e| e.to_str()) {
                        Some("crt") => ca_files.push(path),
                        Some("cert") if identity.is_none() => {
                            let key = path.with_extension("key");
                            if key.is_file() {
                                identity = Some((path, key));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        Self {
            user_agent: options.user_agent.clone(),
            ca_files,
            identity,
        }
    }
}

fn list_dir(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

fn build_client(trust: &TrustFiles, registry: &str) -> Result<reqwest::Client, RegistryError> {
    let config_error = |detail: String| RegistryError::Config {
        registry: registry.to_owned(),
        detail,
    };
    let mut certificates = Vec::new();
    for path in &trust.ca_files {
        let pem = std::fs::read(path)
            .map_err(|e| config_error(format!("cannot read CA file {}: {e}", path.display())))?;
        let bundle = crate::tls::pem_certificates(&pem).map_err(|e| {
            config_error(format!(
                "CA file {} is not PEM certificates: {e}",
                path.display()
            ))
        })?;
        if bundle.is_empty() {
            return Err(config_error(format!(
                "CA file {} holds no PEM certificate",
                path.display()
            )));
        }
        certificates.extend(bundle);
    }
    let identity = match &trust.identity {
        None => None,
        Some((cert, key)) => {
            let cert_pem = std::fs::read(cert).map_err(|e| {
                config_error(format!(
                    "cannot read client certificate {}: {e}",
                    cert.display()
                ))
            })?;
            let key_pem = std::fs::read(key).map_err(|e| {
                config_error(format!("cannot read client key {}: {e}", key.display()))
            })?;
            Some(
                crate::tls::ClientIdentity::from_pem(&cert_pem, &key_pem).map_err(|e| {
                    config_error(format!(
                        "client certificate {} / {}: {e}",
                        cert.display(),
                        key.display()
                    ))
                })?,
            )
        }
    };
    // System roots are loaded on the first TLS handshake, not here: a
    // plain-HTTP registry never needs them (see `crate::tls`).
    let tls = crate::tls::client_config(certificates, identity)
        .map_err(|e| config_error(format!("cannot set up HTTPS: {e}")))?;
    reqwest::Client::builder()
        .user_agent(trust.user_agent.as_str())
        .connect_timeout(Duration::from_secs(15))
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(reqwest::redirect::Policy::limited(10))
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| config_error(format!("cannot set up HTTPS: {}", crate::errors::chain(&e))))
}

/// Turn a failed send into a TLS or connection error naming host and port.
pub(crate) fn transport_error(registry: &str, url: &Url, error: &reqwest::Error) -> RegistryError {
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or_default();
    let detail = crate::errors::chain(error);
    if is_tls_failure(error, &detail) {
        return RegistryError::Tls {
            registry: registry.to_owned(),
            host,
            port,
            detail,
            hint: tls_hint(registry),
        };
    }
    let detail = if error.is_timeout() {
        format!("timed out: {detail}")
    } else {
        detail
    };
    RegistryError::Connection {
        registry: registry.to_owned(),
        host,
        port,
        detail,
    }
}

/// Whether rustls is somewhere in the error's sources (io errors hide their
/// payload from `source()`, so look inside them too), or the text says so.
fn is_tls_failure(error: &reqwest::Error, text: &str) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(e) = current {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
        {
            return true;
        }
        current = e.source();
    }
    let text = text.to_ascii_lowercase();
    [
        "invalid peer certificate",
        "invalidcontenttype",
        "received corrupt message",
        "handshake",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_pick_scheme_and_docker_hub_endpoint() {
        let options = TransportOptions {
            insecure_registries: vec!["127.0.0.1:5000".into()],
            certs_d_dirs: Vec::new(),
            ..TransportOptions::default()
        };
        assert_eq!(
            base_url(&options, "127.0.0.1:5000").expect("url").as_str(),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(
            base_url(&options, "ghcr.io").expect("url").as_str(),
            "https://ghcr.io/"
        );
        assert_eq!(
            base_url(&options, "docker.io").expect("url").as_str(),
            "https://registry-1.docker.io/"
        );
        assert_eq!(
            base_url(&options, "index.docker.io").expect("url").as_str(),
            "https://registry-1.docker.io/"
        );
        assert!(base_url(&options, "evil.example/path").is_err());
        assert!(base_url(&options, "user@evil.example").is_err());
        assert!(base_url(&options, "").is_err());
    }

    #[test]
    fn certs_d_files_are_found_per_host_and_bad_pem_is_a_config_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let host_dir = dir.path().join("reg.example:5000");
        std::fs::create_dir_all(&host_dir).expect("mkdir");
        std::fs::write(host_dir.join("ca.crt"), "not a certificate").expect("write");
        std::fs::write(host_dir.join("client.cert"), "x").expect("write");
        std::fs::write(host_dir.join("client.key"), "y").expect("write");
        std::fs::write(host_dir.join("notes.txt"), "z").expect("write");
        let options = TransportOptions {
            certs_d_dirs: vec![dir.path().to_owned()],
            ..TransportOptions::default()
        };
        let found = TrustFiles::find(&options, "reg.example:5000");
        assert_eq!(found.ca_files, vec![host_dir.join("ca.crt")]);
        assert_eq!(
            found.identity,
            Some((host_dir.join("client.cert"), host_dir.join("client.key")))
        );
        assert_eq!(
            TrustFiles::find(&options, "other.example").ca_files,
            Vec::<PathBuf>::new()
        );
        let error = http_client(&options, "reg.example:5000").expect_err("bad PEM must fail");
        assert!(matches!(error, RegistryError::Config { .. }), "{error}");
        assert!(error.to_string().contains("ca.crt"), "{error}");
    }
}
