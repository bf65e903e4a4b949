//! A `config.yml` for the CNCF distribution registry (`docker-registry
//! serve`) that sends its notifications to `regent events serve`.
//!
//! Setting up a private registry that regent can clean and count means
//! getting several sections right at once: filesystem storage with deletes
//! enabled (cleanup needs `DELETE`), the listen address and TLS, optional
//! htpasswd auth, and a notification endpoint carrying the receiver's shared
//! token. [`RegistryConfigSpec::render`] checks the inputs (so mistakes show
//! up here with a clear message, not as a registry that will not start or
//! silently drops events) and writes the YAML with keys exactly as
//! distribution 2.8 reads them.
//!
//! The token appears in the YAML (the registry must send it) and nowhere
//! else: not in `Debug` output, not in error messages.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

/// The endpoint name in `notifications.endpoints`; it shows in the
/// registry's log and in its `/debug/vars` metrics.
pub const ENDPOINT_NAME: &str = "regent";

/// Consecutive delivery failures before the registry backs off; the value
/// distribution's own examples use.
pub const NOTIFY_THRESHOLD: u32 = 5;

/// The media type distribution gives blob (layer and config) events. Events
/// for manifests carry manifest media types, so ignoring this one leaves
/// exactly the manifest events that regent counts.
pub const BLOB_MEDIA_TYPE: &str = "application/octet-stream";

/// Everything the generated config depends on. Paths may be relative: they
/// are written absolute, so the registry can be started from any directory.
#[derive(Clone)]
pub struct RegistryConfigSpec {
    /// Where the registry POSTs events: the receiver's URL.
    pub notify_url: String,
    /// The receiver's shared token, sent as `Authorization: Bearer <token>`.
    pub token: String,
    /// `http.addr`: `:5000`, `0.0.0.0:5000`, `127.0.0.1:5000`, `[::1]:5000`.
    pub listen: String,
    /// `storage.filesystem.rootdirectory`; created by the registry if absent.
    pub storage: PathBuf,
    /// An htpasswd file (bcrypt entries) to require Basic auth.
    pub htpasswd: Option<PathBuf>,
    /// A PEM certificate (chain) and key to serve HTTPS.
    pub tls: Option<TlsFiles>,
    /// How long the registry waits for the receiver per delivery.
    pub notify_timeout: Duration,
    /// How long the registry backs off after repeated delivery failures.
    pub notify_backoff: Duration,
    /// Send no events for blobs (layers, configs): only manifests, which is
    /// what regent's statistics and hooks use, at a fraction of the traffic.
    pub ignore_blobs: bool,
}

/// The server certificate and key of an HTTPS registry.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM certificate, leaf first, then any intermediates.
    pub certificate: PathBuf,
    /// PEM private key of the certificate.
    pub key: PathBuf,
}

impl fmt::Debug for RegistryConfigSpec {
    /// Everything but the token, which must not end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryConfigSpec")
            .field("notify_url", &self.notify_url)
            .field("token", &"<redacted>")
            .field("listen", &self.listen)
            .field("storage", &self.storage)
            .field("htpasswd", &self.htpasswd)
            .field("tls", &self.tls)
            .field("notify_timeout", &self.notify_timeout)
            .field("notify_backoff", &self.notify_backoff)
            .field("ignore_blobs", &self.ignore_blobs)
            .finish()
    }
}

/// Why a config could not be generated. Messages name the flag and say
/// what to do; none of them contains the token.
#[derive(Debug, thiserror::Error)]
pub enum DistributionConfigError {
    /// The notification URL does not parse.
    #[error(
        "--notify {url}: not a valid URL ({source}); give the receiver's address, e.g. http://regent-host:5080/events"
    )]
    NotifyUrl {
        url: String,
        source: url::ParseError,
    },
    /// The notification URL is not HTTP(S).
    #[error("--notify {url}: the registry can only POST to http:// or https:// URLs")]
    NotifyScheme { url: String },
    /// The notification URL has no host.
    #[error("--notify {url}: the URL has no host")]
    NotifyHost { url: String },
    /// The token is empty after trimming.
    #[error("the token from {origin} is empty: give the secret `regent events serve` expects")]
    EmptyToken { origin: String },
    /// The token cannot travel in an HTTP header.
    #[error(
        "the token from {origin} contains characters an HTTP header cannot carry: use printable ASCII"
    )]
    TokenNotHeaderSafe { origin: String },
    /// The listen address is not `[HOST]:PORT`.
    #[error("--listen {addr}: {reason}; use [HOST]:PORT, e.g. :5000 or 127.0.0.1:5000")]
    Listen { addr: String, reason: String },
    /// A file the registry needs does not exist or cannot be read.
    #[error("{flag} {path}: {source}")]
    File {
        flag: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file the registry needs has the wrong content.
    #[error("{flag} {path}: {reason}")]
    Content {
        flag: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// A duration that must be positive is zero.
    #[error("{flag} must be more than zero")]
    ZeroDuration { flag: &'static str },
    /// The current directory is needed to make a path absolute.
    #[error("cannot make {path} absolute: {source}")]
    Absolute {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Serialising the YAML failed (a bug: every value is a plain string).
    #[error("cannot write the YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
}

/// Trim a token and check that a registry can send it as a header value;
/// `origin` (`--token`, a file name, a variable name) goes into the error.
/// Returns the trimmed token.
pub fn check_token<'a>(text: &'a str, origin: &str) -> Result<&'a str, DistributionConfigError> {
    let token = text.trim();
    if token.is_empty() {
        return Err(DistributionConfigError::EmptyToken {
            origin: origin.to_owned(),
        });
    }
    if !token.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(DistributionConfigError::TokenNotHeaderSafe {
            origin: origin.to_owned(),
        });
    }
    Ok(token)
}

impl RegistryConfigSpec {
    /// A spec with distribution's usual defaults (`:5000`,
    /// `/var/lib/registry`, 5 s timeout, 1 s backoff) for this receiver.
    pub fn new(notify_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            notify_url: notify_url.into(),
            token: token.into(),
            listen: ":5000".into(),
            storage: PathBuf::from("/var/lib/registry"),
            htpasswd: None,
            tls: None,
            notify_timeout: Duration::from_secs(5),
            notify_backoff: Duration::from_secs(1),
            ignore_blobs: false,
        }
    }

    /// Check every input and return the `config.yml` text.
    pub fn render(&self) -> Result<String, DistributionConfigError> {
        let url = check_notify_url(&self.notify_url)?;
        let token = check_token(&self.token, "--token")?;
        check_listen(&self.listen)?;
        if self.notify_timeout.is_zero() {
            return Err(DistributionConfigError::ZeroDuration {
                flag: "--notify-timeout",
            });
        }
        if self.notify_backoff.is_zero() {
            return Err(DistributionConfigError::ZeroDuration {
                flag: "--notify-backoff",
            });
        }
        let storage = absolute(&self.storage)?;
        let auth = match &self.htpasswd {
            Some(path) => {
                let path = existing_file("--htpasswd", path)?;
                check_htpasswd(&path)?;
                Some(Auth {
                    htpasswd: Htpasswd {
                        realm: "regent-registry",
                        path: display(&path),
                    },
                })
            }
            None => None,
        };
        let tls = match &self.tls {
            Some(files) => {
                let certificate = existing_file("--tls-cert", &files.certificate)?;
                check_pem("--tls-cert", &certificate, "CERTIFICATE")?;
                let key = existing_file("--tls-key", &files.key)?;
                check_pem("--tls-key", &key, "PRIVATE KEY")?;
                Some(Tls {
                    certificate: display(&certificate),
                    key: display(&key),
                })
            }
            None => None,
        };
        let document = Document {
            version: "0.1",
            log: Log {
                fields: BTreeMap::from([("service", "registry")]),
            },
            storage: Storage {
                filesystem: Filesystem {
                    rootdirectory: display(&storage),
                },
                delete: Enabled { enabled: true },
            },
            http: Http {
                addr: self.listen.clone(),
                headers: BTreeMap::from([("X-Content-Type-Options", vec!["nosniff"])]),
                tls,
            },
            auth,
            notifications: Notifications {
                events: Events {
                    includereferences: true,
                },
                endpoints: vec![Endpoint {
                    name: ENDPOINT_NAME,
                    url: url.to_string(),
                    headers: BTreeMap::from([("Authorization", vec![format!("Bearer {token}")])]),
                    timeout: go_duration(self.notify_timeout),
                    threshold: NOTIFY_THRESHOLD,
                    backoff: go_duration(self.notify_backoff),
                    ignore: self.ignore_blobs.then(|| Ignore {
                        mediatypes: vec![BLOB_MEDIA_TYPE],
                    }),
                }],
            },
            health: Health {
                storagedriver: StorageHealth {
                    enabled: true,
                    interval: "10s",
                    threshold: 3,
                },
            },
        };
        let yaml = serde_norway::to_string(&document)?;
        Ok(format!(
            "# CNCF distribution registry config written by `regent registry-config`.\n\
             # It holds the token for regent's event receiver: keep it private (mode 0600).\n\
             # Run: docker-registry serve config.yml\n\
             {yaml}"
        ))
    }
}

/// Parse the notification URL: HTTP(S) with a host.
fn check_notify_url(text: &str) -> Result<url::Url, DistributionConfigError> {
    let url =
        url::Url::parse(text.trim()).map_err(|source| DistributionConfigError::NotifyUrl {
            url: text.to_owned(),
            source,
        })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DistributionConfigError::NotifyScheme {
            url: text.to_owned(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(DistributionConfigError::NotifyHost {
            url: text.to_owned(),
        });
    }
    Ok(url)
}

/// `[HOST]:PORT` as Go's `net.Listen("tcp", addr)` takes it.
fn check_listen(addr: &str) -> Result<(), DistributionConfigError> {
    let fail = |reason: &str| DistributionConfigError::Listen {
        addr: addr.to_owned(),
        reason: reason.to_owned(),
    };
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| fail("no port"))?;
    port.parse::<u16>()
        .map_err(|_| fail("the port is not a number from 0 to 65535"))?;
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| fail("an IPv6 address needs its closing `]`"))?;
        inner
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| fail("not an IPv6 address between the brackets"))?;
        return Ok(());
    }
    if host.contains(':') {
        return Err(fail("write an IPv6 host in brackets, e.g. [::1]:5000"));
    }
    let hostname_ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !hostname_ok {
        return Err(fail("the host is neither an IP address nor a host name"));
    }
    Ok(())
}

/// `path` made absolute against the current directory (not resolved: it
/// may not exist yet).
fn absolute(path: &Path) -> Result<PathBuf, DistributionConfigError> {
    std::path::absolute(path).map_err(|source| DistributionConfigError::Absolute {
        path: path.to_path_buf(),
        source,
    })
}

/// The canonical path of a regular file that must exist.
fn existing_file(flag: &'static str, path: &Path) -> Result<PathBuf, DistributionConfigError> {
    let canonical = path
        .canonicalize()
        .map_err(|source| DistributionConfigError::File {
            flag,
            path: path.to_path_buf(),
            source,
        })?;
    if !canonical.is_file() {
        return Err(DistributionConfigError::Content {
            flag,
            path: path.to_path_buf(),
            reason: "not a regular file".into(),
        });
    }
    Ok(canonical)
}

fn read(flag: &'static str, path: &Path) -> Result<String, DistributionConfigError> {
    std::fs::read_to_string(path).map_err(|source| DistributionConfigError::File {
        flag,
        path: path.to_path_buf(),
        source,
    })
}

/// Distribution 2.8 checks htpasswd passwords with bcrypt only: an MD5 or
/// SHA entry would make every login fail, so refuse it here. Reports the
/// user, never the hash.
fn check_htpasswd(path: &Path) -> Result<(), DistributionConfigError> {
    let text = read("--htpasswd", path)?;
    let mut users = 0;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let content = |reason: String| DistributionConfigError::Content {
            flag: "--htpasswd",
            path: path.to_path_buf(),
            reason,
        };
        let (user, hash) = line
            .split_once(':')
            .ok_or_else(|| content(format!("line {} is not `user:hash`", number + 1)))?;
        if !["$2y$", "$2a$", "$2b$"].iter().any(|p| hash.starts_with(p)) {
            return Err(content(format!(
                "the entry for `{user}` (line {}) is not bcrypt, the only kind the registry \
                 accepts; create it with `htpasswd -B`",
                number + 1
            )));
        }
        users += 1;
    }
    if users == 0 {
        return Err(DistributionConfigError::Content {
            flag: "--htpasswd",
            path: path.to_path_buf(),
            reason: "no users in it; add one with `htpasswd -B FILE USER`".into(),
        });
    }
    Ok(())
}

/// A PEM file with a `-----BEGIN ...{label}-----` block (`CERTIFICATE`,
/// or `PRIVATE KEY` which also matches `RSA PRIVATE KEY` and `EC PRIVATE KEY`).
fn check_pem(flag: &'static str, path: &Path, label: &str) -> Result<(), DistributionConfigError> {
    let text = read(flag, path)?;
    let found = text.lines().any(|line| {
        line.trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
            .is_some_and(|name| name.ends_with(label))
    });
    if found {
        Ok(())
    } else {
        Err(DistributionConfigError::Content {
            flag,
            path: path.to_path_buf(),
            reason: format!("no PEM `{label}` block in it"),
        })
    }
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A duration as Go's `time.ParseDuration` reads it (`5s`, `500ms`); a
/// bare number would be taken as nanoseconds.
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos.is_multiple_of(1_000_000_000) {
        format!("{}s", d.as_secs())
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{}ms", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!("{}us", nanos / 1_000)
    } else {
        format!("{nanos}ns")
    }
}

// The YAML document, with distribution's key names.

#[derive(Serialize)]
struct Document {
    version: &'static str,
    log: Log,
    storage: Storage,
    http: Http,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<Auth>,
    notifications: Notifications,
    health: Health,
}

#[derive(Serialize)]
struct Log {
    fields: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct Storage {
    filesystem: Filesystem,
    delete: Enabled,
}

#[derive(Serialize)]
struct Filesystem {
    rootdirectory: String,
}

#[derive(Serialize)]
struct Enabled {
    enabled: bool,
}

#[derive(Serialize)]
struct Http {
    addr: String,
    headers: BTreeMap<&'static str, Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<Tls>,
}

#[derive(Serialize)]
struct Tls {
    certificate: String,
    key: String,
}

#[derive(Serialize)]
struct Auth {
    htpasswd: Htpasswd,
}

#[derive(Serialize)]
struct Htpasswd {
    realm: &'static str,
    path: String,
}

#[derive(Serialize)]
struct Notifications {
    events: Events,
    endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
struct Events {
    includereferences: bool,
}

#[derive(Serialize)]
struct Endpoint {
    name: &'static str,
    url: String,
    headers: BTreeMap<&'static str, Vec<String>>,
    timeout: String,
    threshold: u32,
    backoff: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignore: Option<Ignore>,
}

#[derive(Serialize)]
struct Ignore {
    mediatypes: Vec<&'static str>,
}

#[derive(Serialize)]
struct Health {
    storagedriver: StorageHealth,
}

#[derive(Serialize)]
struct StorageHealth {
    enabled: bool,
    interval: &'static str,
    threshold: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_norway::Value;

    const TOKEN: &str = "t0ken-Secret";

    fn parse(yaml: &str) -> Value {
        serde_norway::from_str(yaml).expect("the output is YAML")
    }

    fn get<'a>(value: &'a Value, path: &str) -> &'a Value {
        path.split('.')
            .fold(value, |v, key| match key.parse::<usize>() {
                Ok(i) => &v[i],
                Err(_) => &v[key],
            })
    }

    fn str_at<'a>(value: &'a Value, path: &str) -> &'a str {
        get(value, path)
            .as_str()
            .unwrap_or_else(|| panic!("{path} is not a string: {:?}", get(value, path)))
    }

    #[test]
    fn the_default_config_has_storage_deletes_and_the_notification_endpoint() {
        let yaml = RegistryConfigSpec::new("http://regent.internal:5080/events", TOKEN)
            .render()
            .expect("renders");
        let doc = parse(&yaml);
        assert_eq!(str_at(&doc, "version"), "0.1");
        assert_eq!(
            str_at(&doc, "storage.filesystem.rootdirectory"),
            "/var/lib/registry"
        );
        assert_eq!(get(&doc, "storage.delete.enabled").as_bool(), Some(true));
        assert_eq!(str_at(&doc, "http.addr"), ":5000");
        assert!(get(&doc, "http.tls").is_null());
        assert!(get(&doc, "auth").is_null());
        assert_eq!(
            get(&doc, "notifications.events.includereferences").as_bool(),
            Some(true)
        );
        let endpoints = get(&doc, "notifications.endpoints")
            .as_sequence()
            .expect("a list");
        assert_eq!(endpoints.len(), 1);
        let endpoint = &endpoints[0];
        assert_eq!(str_at(endpoint, "name"), "regent");
        assert_eq!(
            str_at(endpoint, "url"),
            "http://regent.internal:5080/events"
        );
        let auth = get(endpoint, "headers.Authorization")
            .as_sequence()
            .expect("header values are a list");
        assert_eq!(auth.len(), 1);
        assert_eq!(auth[0].as_str(), Some("Bearer t0ken-Secret"));
        assert_eq!(str_at(endpoint, "timeout"), "5s");
        assert_eq!(str_at(endpoint, "backoff"), "1s");
        assert_eq!(get(endpoint, "threshold").as_u64(), Some(5));
        assert!(get(endpoint, "ignore").is_null());
        assert_eq!(
            yaml.matches(TOKEN).count(),
            1,
            "the token appears once:\n{yaml}"
        );
    }

    #[test]
    fn auth_tls_durations_and_ignored_blobs_are_written_with_absolute_paths() {
        let dir = tempfile::tempdir().expect("temp dir");
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(
            &htpasswd,
            "alice:$2y$05$abcdefghijklmnopqrstuu5M2Zb1cDtqmnW3zgy8p2lmTcgaTgqpy\n",
        )
        .expect("write htpasswd");
        let cert = dir.path().join("server.crt");
        std::fs::write(
            &cert,
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .expect("write cert");
        let key = dir.path().join("server.key");
        std::fs::write(
            &key,
            "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n",
        )
        .expect("write key");
        let spec = RegistryConfigSpec {
            listen: "0.0.0.0:443".into(),
            storage: PathBuf::from("relative/storage"),
            htpasswd: Some(htpasswd.clone()),
            tls: Some(TlsFiles {
                certificate: cert.clone(),
                key: key.clone(),
            }),
            notify_timeout: Duration::from_millis(1500),
            notify_backoff: Duration::from_secs(30),
            ignore_blobs: true,
            ..RegistryConfigSpec::new("https://[::1]:5050/", TOKEN)
        };
        let doc = parse(&spec.render().expect("renders"));
        let storage = PathBuf::from(str_at(&doc, "storage.filesystem.rootdirectory"));
        assert!(
            storage.is_absolute() && storage.ends_with("relative/storage"),
            "{storage:?}"
        );
        assert_eq!(str_at(&doc, "http.addr"), "0.0.0.0:443");
        let canonical = |p: &Path| {
            p.canonicalize()
                .expect("canonical")
                .to_string_lossy()
                .into_owned()
        };
        assert_eq!(str_at(&doc, "http.tls.certificate"), canonical(&cert));
        assert_eq!(str_at(&doc, "http.tls.key"), canonical(&key));
        assert_eq!(str_at(&doc, "auth.htpasswd.path"), canonical(&htpasswd));
        assert!(!str_at(&doc, "auth.htpasswd.realm").is_empty());
        let endpoint = get(&doc, "notifications.endpoints.0");
        assert_eq!(str_at(endpoint, "url"), "https://[::1]:5050/");
        assert_eq!(str_at(endpoint, "timeout"), "1500ms");
        assert_eq!(str_at(endpoint, "backoff"), "30s");
        assert_eq!(
            get(endpoint, "ignore.mediatypes")
                .as_sequence()
                .map(Vec::as_slice),
            Some(&[Value::from("application/octet-stream")][..])
        );
    }

    #[test]
    fn bad_inputs_are_refused_with_the_flag_named_and_the_token_never_shown() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ok = || RegistryConfigSpec::new("http://127.0.0.1:5050/events", TOKEN);
        let error = |spec: RegistryConfigSpec| {
            let message = spec.render().expect_err("refused").to_string();
            assert!(!message.contains(TOKEN), "the token leaked: {message}");
            message
        };
        assert!(
            error(RegistryConfigSpec {
                notify_url: "not a url".into(),
                ..ok()
            })
            .contains("--notify not a url")
        );
        assert!(
            error(RegistryConfigSpec {
                notify_url: "ftp://host/x".into(),
                ..ok()
            })
            .contains("http:// or https://")
        );
        assert!(
            error(RegistryConfigSpec {
                token: " \n".into(),
                ..ok()
            })
            .contains("empty")
        );
        assert!(
            error(RegistryConfigSpec {
                token: "a\u{1}b".into(),
                ..ok()
            })
            .contains("header")
        );
        for bad in [
            "5000",
            "host:port",
            ":70000",
            "::1:5000",
            "[::1:5000",
            "bad host:1",
        ] {
            let message = error(RegistryConfigSpec {
                listen: bad.into(),
                ..ok()
            });
            assert!(
                message.starts_with(&format!("--listen {bad}:")),
                "{message}"
            );
        }
        for good in [
            ":5000",
            "0.0.0.0:5000",
            "localhost:5000",
            "[::]:5000",
            "registry.example.com:443",
        ] {
            RegistryConfigSpec {
                listen: good.into(),
                ..ok()
            }
            .render()
            .expect(good);
        }
        let missing = dir.path().join("missing");
        assert!(
            error(RegistryConfigSpec {
                htpasswd: Some(missing.clone()),
                ..ok()
            })
            .starts_with("--htpasswd ")
        );
        let md5 = dir.path().join("md5");
        std::fs::write(&md5, "bob:$apr1$abc$def\n").expect("write");
        let message = error(RegistryConfigSpec {
            htpasswd: Some(md5),
            ..ok()
        });
        assert!(
            message.contains("`bob`")
                && message.contains("htpasswd -B")
                && !message.contains("apr1"),
            "{message}"
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").expect("write");
        assert!(
            error(RegistryConfigSpec {
                htpasswd: Some(empty.clone()),
                ..ok()
            })
            .contains("no users")
        );
        let tls = |certificate: &Path, key: &Path| TlsFiles {
            certificate: certificate.to_path_buf(),
            key: key.to_path_buf(),
        };
        assert!(
            error(RegistryConfigSpec {
                tls: Some(tls(&missing, &missing)),
                ..ok()
            })
            .starts_with("--tls-cert ")
        );
        assert!(
            error(RegistryConfigSpec {
                tls: Some(tls(&empty, &empty)),
                ..ok()
            })
            .contains("CERTIFICATE")
        );
        assert!(
            error(RegistryConfigSpec {
                tls: Some(tls(dir.path(), &empty)),
                ..ok()
            })
            .contains("not a regular file")
        );
        assert!(
            error(RegistryConfigSpec {
                notify_timeout: Duration::ZERO,
                ..ok()
            })
            .contains("--notify-timeout")
        );
        assert!(
            error(RegistryConfigSpec {
                notify_backoff: Duration::ZERO,
                ..ok()
            })
            .contains("--notify-backoff")
        );
        assert!(!format!("{:?}", ok()).contains(TOKEN));
    }

    #[test]
    fn durations_are_written_in_go_syntax() {
        assert_eq!(go_duration(Duration::from_secs(5)), "5s");
        assert_eq!(go_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(go_duration(Duration::from_micros(1500)), "1500us");
        assert_eq!(go_duration(Duration::from_nanos(7)), "7ns");
    }
}
