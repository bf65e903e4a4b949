//! What can go wrong talking to a registry, said so a user can act on it.
//!
//! Every error names the registry and what was being worked on; HTTP errors
//! carry the status and the registry's own `{"errors":[{code,message}]}`
//! words; errors with an obvious remedy (log in, trust a CA, use plain HTTP)
//! say it.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

use crate::registry::digest::Digest;

/// What an operation was working on, for error messages and not-found kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The registry as a whole (`GET /v2/`).
    Registry,
    /// The repository catalog.
    Catalog,
    /// A repository's tag list.
    Tags { repository: String },
    /// A manifest by tag or digest.
    Manifest {
        repository: String,
        reference: String,
    },
    /// A blob.
    Blob { repository: String, digest: Digest },
    /// A blob upload (or mount) into a repository.
    Upload { repository: String },
    /// The referrers of a manifest.
    Referrers { repository: String, subject: Digest },
}

impl Resource {
    /// The repository involved, if any.
    pub fn repository(&self) -> Option<&str> {
        match self {
            Self::Registry | Self::Catalog => None,
            Self::Tags { repository }
            | Self::Manifest { repository, .. }
            | Self::Blob { repository, .. }
            | Self::Upload { repository }
            | Self::Referrers { repository, .. } => Some(repository),
        }
    }

    /// What "not found" means for this resource when the registry does not say.
    pub(crate) fn default_missing(&self) -> Missing {
        match self {
            Self::Registry | Self::Catalog => Missing::Endpoint,
            Self::Tags { .. } => Missing::Repository,
            Self::Manifest { .. } | Self::Referrers { .. } => Missing::Manifest,
            Self::Blob { .. } => Missing::Blob,
            Self::Upload { .. } => Missing::Upload,
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Registry => f.write_str("registry API /v2/"),
            Self::Catalog => f.write_str("repository catalog"),
            Self::Tags { repository } => write!(f, "tags of {repository}"),
            Self::Manifest {
                repository,
                reference,
            } if reference.contains(':') => {
                write!(f, "manifest {repository}@{reference}")
            }
            Self::Manifest {
                repository,
                reference,
            } => write!(f, "manifest {repository}:{reference}"),
            Self::Blob { repository, digest } => write!(f, "blob {repository}@{digest}"),
            Self::Upload { repository } => write!(f, "blob upload to {repository}"),
            Self::Referrers {
                repository,
                subject,
            } => write!(f, "referrers of {repository}@{subject}"),
        }
    }
}

/// Which thing a 404 says is missing: the registry's error code decides
/// (`NAME_UNKNOWN` is the repository even when a manifest was asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Missing {
    Repository,
    Manifest,
    Blob,
    /// An upload session (it expired or was cancelled).
    Upload,
    /// The API endpoint itself (the server is not a registry, or lacks it).
    Endpoint,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Repository => "repository",
            Self::Manifest => "manifest",
            Self::Blob => "blob",
            Self::Upload => "upload session",
            Self::Endpoint => "API endpoint",
        })
    }
}

/// A registry's answer to a failed request: the HTTP status and its own
/// error code and message, when the body had them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub status: u16,
    /// The first `errors[].code`, e.g. `MANIFEST_UNKNOWN`.
    pub code: Option<String>,
    /// The `errors[].message`s joined with `; `, or a short plain-text body.
    pub message: Option<String>,
}

impl Remote {
    /// Read the status and the `{"errors":[...]}` body (or a short text body).
    pub fn from_response(status: StatusCode, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            errors: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            #[serde(default)]
            code: Option<String>,
            #[serde(default)]
            message: Option<String>,
        }
        if let Ok(parsed) = serde_json::from_slice::<Body>(body)
            && !parsed.errors.is_empty()
        {
            let code = parsed.errors.iter().find_map(|e| e.code.clone());
            let messages: Vec<String> = parsed
                .errors
                .iter()
                .filter_map(|e| e.message.clone())
                .filter(|m| !m.is_empty())
                .collect();
            return Self {
                status: status.as_u16(),
                code,
                message: (!messages.is_empty()).then(|| messages.join("; ")),
            };
        }
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let message = (!text.is_empty() && !text.starts_with('{') && !text.starts_with('<'))
            .then(|| text.chars().take(200).collect::<String>());
        Self {
            status: status.as_u16(),
            code: None,
            message,
        }
    }

    /// Whether the registry used this error code.
    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

/// The hint for a TLS failure: the two usual causes are a private CA and a
/// registry that does not speak TLS at all.
pub fn tls_hint(registry: &str) -> String {
    format!(
        "trust the registry's CA with `--ca-file FILE` or in certs.d ({registry}/ca.crt under /etc/docker/certs.d or ~/.docker/certs.d); \
         if {registry} serves plain HTTP, pass `--insecure-registry {registry}`"
    )
}

/// The hint for a refused authentication.
pub fn login_hint(registry: &str) -> String {
    format!(
        "run `regent login {registry}` (or `docker login {registry}`) with credentials that may access it"
    )
}

/// A failed registry operation.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No credentials, wrong credentials, or the auth flow itself failed.
    #[error("{registry}: {resource}: authentication failed ({detail}); hint: {hint}")]
    Unauthorized {
        registry: String,
        resource: Box<Resource>,
        /// The registry's answer or the auth flow's own message.
        detail: String,
        hint: String,
    },
    /// Authenticated, but not allowed to do this.
    #[error("{registry}: {resource}: access denied ({remote}); the operation needs {scopes}")]
    Forbidden {
        registry: String,
        resource: Box<Resource>,
        remote: Remote,
        /// The token scopes the operation asked for.
        scopes: String,
    },
    /// The repository, manifest, blob or upload does not exist.
    #[error("{registry}: {resource}: {missing} not found ({remote})")]
    NotFound {
        registry: String,
        resource: Box<Resource>,
        missing: Missing,
        remote: Remote,
    },
    /// The registry does not implement or allow this operation (deletion
    /// disabled, tag deletion unsupported, ...).
    #[error("{registry}: {resource}: the registry does not support this operation ({remote})")]
    Unsupported {
        registry: String,
        resource: Box<Resource>,
        remote: Remote,
    },
    /// Still rate limited after the retries the policy allows.
    #[error("{registry}: {resource}: rate limited ({remote}){}", retry_after_note(*retry_after))]
    RateLimited {
        registry: String,
        resource: Box<Resource>,
        remote: Remote,
        retry_after: Option<Duration>,
    },
    /// Content does not hash to the digest it was fetched or pushed by.
    #[error(
        "{registry}: {resource}: digest mismatch: expected {expected}, the content hashes to {actual}"
    )]
    DigestMismatch {
        registry: String,
        resource: Box<Resource>,
        expected: Digest,
        actual: Digest,
    },
    /// The TLS handshake failed (untrusted certificate, or no TLS at all).
    #[error("{registry}: TLS handshake with {host}:{port} failed: {detail}; hint: {hint}")]
    Tls {
        registry: String,
        host: String,
        port: u16,
        detail: String,
        hint: String,
    },
    /// No connection, or it broke or timed out.
    #[error("{registry}: cannot talk to {host}:{port}: {detail}")]
    Connection {
        registry: String,
        host: String,
        port: u16,
        detail: String,
    },
    /// Any other HTTP failure.
    #[error("{registry}: {resource}: {remote}")]
    Http {
        registry: String,
        resource: Box<Resource>,
        remote: Remote,
    },
    /// A success status with a body or headers that break the protocol.
    #[error("{registry}: {resource}: unexpected response: {detail}")]
    InvalidResponse {
        registry: String,
        resource: Box<Resource>,
        detail: String,
    },
    /// Reading the caller's content for an upload failed.
    #[error("{registry}: {resource}: reading the content to upload failed: {source}")]
    Source {
        registry: String,
        resource: Box<Resource>,
        #[source]
        source: std::io::Error,
    },
    /// A repository name, tag or digest that the protocol cannot carry.
    #[error("invalid {what} {value:?}: {why}")]
    InvalidArgument {
        what: &'static str,
        value: String,
        why: String,
    },
    /// The transport could not be set up (unreadable CA file, ...).
    #[error("{registry}: {detail}")]
    Config { registry: String, detail: String },
}

fn retry_after_note(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!("; the registry asks to wait {}s", d.as_secs()),
        None => String::new(),
    }
}

impl RegistryError {
    /// The HTTP status, for errors that come from a registry's answer.
    pub fn status(&self) -> Option<u16> {
        self.remote().map(|r| r.status)
    }

    /// The registry's error code (`MANIFEST_UNKNOWN`, ...), if it sent one.
    pub fn code(&self) -> Option<&str> {
        self.remote().and_then(|r| r.code.as_deref())
    }

    /// The registry's answer, for errors that come from one.
    pub fn remote(&self) -> Option<&Remote> {
        match self {
            Self::Forbidden { remote, .. }
            | Self::NotFound { remote, .. }
            | Self::Unsupported { remote, .. }
            | Self::RateLimited { remote, .. }
            | Self::Http { remote, .. } => Some(remote),
            _ => None,
        }
    }

    /// What the user can do about it, if anything obvious.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Self::Unauthorized { hint, .. } | Self::Tls { hint, .. } => Some(hint),
            _ => None,
        }
    }

    /// Whether this says the thing does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Build the error for a failed answer: the status and the registry's
    /// code pick the variant.
    pub(crate) fn from_remote(
        registry: &str,
        resource: Resource,
        remote: Remote,
        scopes: String,
    ) -> Self {
        let registry = registry.to_owned();
        let missing_by_default = resource.default_missing();
        let resource = Box::new(resource);
        let code = remote.code.as_deref();
        match remote.status {
            401 => Self::Unauthorized {
                hint: login_hint(&registry),
                registry,
                resource,
                detail: remote.to_string(),
            },
            403 if code == Some("TOOMANYREQUESTS") => Self::RateLimited {
                registry,
                resource,
                remote,
                retry_after: None,
            },
            403 => Self::Forbidden {
                registry,
                resource,
                remote,
                scopes,
            },
            404 => {
                let missing = match code {
                    Some("NAME_UNKNOWN") => Missing::Repository,
                    Some("MANIFEST_UNKNOWN") => Missing::Manifest,
                    Some("BLOB_UNKNOWN") => Missing::Blob,
                    Some("BLOB_UPLOAD_UNKNOWN") => Missing::Upload,
                    _ => missing_by_default,
                };
                Self::NotFound {
                    registry,
                    resource,
                    missing,
                    remote,
                }
            }
            405 => Self::Unsupported {
                registry,
                resource,
                remote,
            },
            _ if code == Some("UNSUPPORTED") => Self::Unsupported {
                registry,
                resource,
                remote,
            },
            429 => Self::RateLimited {
                registry,
                resource,
                remote,
                retry_after: None,
            },
            _ => Self::Http {
                registry,
                resource,
                remote,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_reads_the_error_body_and_short_text() {
        let body = br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"x"}},{"code":"OTHER","message":"second"}]}"#;
        let remote = Remote::from_response(StatusCode::NOT_FOUND, body);
        assert_eq!(remote.code.as_deref(), Some("NAME_UNKNOWN"));
        assert_eq!(
            remote.message.as_deref(),
            Some("repository name not known to registry; second")
        );
        assert_eq!(
            remote.to_string(),
            "HTTP 404 NAME_UNKNOWN: repository name not known to registry; second"
        );
        let text = Remote::from_response(StatusCode::NOT_FOUND, b"404 page not found\n");
        assert_eq!(text.to_string(), "HTTP 404: 404 page not found");
        let html = Remote::from_response(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!(html.to_string(), "HTTP 502");
    }

    #[test]
    fn status_and_code_pick_the_variant() {
        let resource = Resource::Manifest {
            repository: "acme/app".into(),
            reference: "v1".into(),
        };
        let remote = Remote::from_response(StatusCode::NOT_FOUND, br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#);
        let error =
            RegistryError::from_remote("r.example", resource.clone(), remote, String::new());
        assert!(matches!(
            error,
            RegistryError::NotFound {
                missing: Missing::Repository,
                ..
            }
        ));
        assert_eq!(
            error.to_string(),
            "r.example: manifest acme/app:v1: repository not found (HTTP 404 NAME_UNKNOWN: repository name not known to registry)"
        );
        assert_eq!(error.code(), Some("NAME_UNKNOWN"));
        let unauthorized = RegistryError::from_remote(
            "r.example",
            resource.clone(),
            Remote::from_response(StatusCode::UNAUTHORIZED, b""),
            String::new(),
        );
        assert!(
            unauthorized.to_string().contains("regent login r.example"),
            "{unauthorized}"
        );
        let forbidden = RegistryError::from_remote(
            "r.example",
            resource.clone(),
            Remote::from_response(
                StatusCode::FORBIDDEN,
                br#"{"errors":[{"code":"DENIED","message":"no"}]}"#,
            ),
            "repository:acme/app:pull".into(),
        );
        assert!(
            forbidden.to_string().contains("DENIED: no")
                && forbidden.to_string().contains("repository:acme/app:pull")
        );
        let unsupported = RegistryError::from_remote(
            "r.example",
            resource,
            Remote::from_response(
                StatusCode::METHOD_NOT_ALLOWED,
                br#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#,
            ),
            String::new(),
        );
        assert!(matches!(unsupported, RegistryError::Unsupported { .. }));
    }
}
