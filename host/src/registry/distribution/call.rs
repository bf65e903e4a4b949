//! One request as the operations describe it, and the answer they get back.
//!
//! Operations say what they want (method, URL, scopes, replay safety); the
//! client (`client.rs`) decides how to deliver it. Keeping the body as
//! `Bytes` is what makes a request replayable for auth retries and backoff.

use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::sync::OwnedSemaphorePermit;
use url::Url;

use super::error::{RegistryError, Remote, Resource};
use super::retry;
use super::transport::transport_error;
use crate::registry::scope::Scope;

/// How much of an error body is read: enough for any `{"errors":[...]}`.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Sending it twice does no harm (GET, HEAD, DELETE, manifest PUT).
    Idempotent,
    /// It changes state (upload POST, PATCH, PUT): replay only when the
    /// registry certainly did not act on it (no connection, 429, 503).
    OnlyIfRefused,
}

/// A request to a registry.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub resource: Resource,
    pub scopes: Vec<Scope>,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    pub replay: Replay,
    /// A bound on the whole exchange; none for blob transfers, whose
    /// duration depends on their size.
    pub timeout: Option<Duration>,
}

impl Call {
    /// An idempotent request with the metadata timeout.
    pub(crate) fn new(method: Method, url: Url, resource: Resource, scopes: Vec<Scope>) -> Self {
        Self {
            method,
            url,
            resource,
            scopes,
            headers: HeaderMap::new(),
            body: None,
            replay: Replay::Idempotent,
            timeout: Some(Duration::from_secs(300)),
        }
    }

    /// Add a header (values are built from validated names and constants).
    pub(crate) fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.append(name, value);
        }
        self
    }

    /// Send this body.
    pub(crate) fn body(mut self, body: Bytes) -> Self {
        self.body = Some(body);
        self
    }

    /// Mark the request as changing state.
    pub(crate) fn not_idempotent(mut self) -> Self {
        self.replay = Replay::OnlyIfRefused;
        self
    }

    /// No overall time bound (blob transfers).
    pub(crate) fn unbounded(mut self) -> Self {
        self.timeout = None;
        self
    }
}

/// A registry's answer, holding a concurrency permit until it is consumed.
#[derive(Debug)]
pub(crate) struct Answer {
    pub response: reqwest::Response,
    pub permit: OwnedSemaphorePermit,
    pub registry: String,
    pub resource: Resource,
    pub scopes: String,
}

impl Answer {
    pub(crate) fn status(&self) -> StatusCode {
        self.response.status()
    }

    pub(crate) fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// The URL that answered (after redirects).
    pub(crate) fn url(&self) -> &Url {
        self.response.url()
    }

    /// A header as text, if present and readable.
    pub(crate) fn header_str(&self, name: &str) -> Option<&str> {
        self.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, refusing more than `limit` bytes so a hostile or broken
    /// registry cannot exhaust memory.
    pub(crate) async fn body(mut self, limit: usize) -> Result<Bytes, RegistryError> {
        let mut body = BytesMut::new();
        loop {
            match self.response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return Err(RegistryError::InvalidResponse {
                            registry: self.registry,
                            resource: Box::new(self.resource),
                            detail: format!("the response body is larger than {limit} bytes"),
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body.freeze()),
                Err(e) => {
                    let url = self.response.url().clone();
                    return Err(transport_error(&self.registry, &url, &e));
                }
            }
        }
    }

    /// The error this (unsuccessful) answer stands for.
    pub(crate) async fn into_error(self) -> RegistryError {
        let status = self.status();
        let retry_after = retry::retry_after(self.headers(), SystemTime::now());
        let (registry, resource, scopes) = (
            self.registry.clone(),
            self.resource.clone(),
            self.scopes.clone(),
        );
        let body = self.body(ERROR_BODY_LIMIT).await.unwrap_or_default();
        let remote = Remote::from_response(status, &body);
        match RegistryError::from_remote(&registry, resource, remote, scopes) {
            RegistryError::RateLimited {
                registry,
                resource,
                remote,
                ..
            } => RegistryError::RateLimited {
                registry,
                resource,
                remote,
                retry_after,
            },
            other => other,
        }
    }

    /// Fail with [`Self::into_error`] unless the status is one of `expected`.
    pub(crate) async fn expect(self, expected: &[u16]) -> Result<Self, RegistryError> {
        if expected.contains(&self.status().as_u16()) {
            Ok(self)
        } else {
            Err(self.into_error().await)
        }
    }

    /// A protocol violation in this answer.
    pub(crate) fn invalid(&self, detail: impl Into<String>) -> RegistryError {
        RegistryError::InvalidResponse {
            registry: self.registry.clone(),
            resource: Box::new(self.resource.clone()),
            detail: detail.into(),
        }
    }
}

/// Read access to a repository.
pub(crate) fn pull(repository: &str) -> Vec<Scope> {
    vec![Scope::repository(repository, &["pull"])]
}

/// Write access to a repository (pushing needs pull too).
pub(crate) fn push(repository: &str) -> Vec<Scope> {
    vec![Scope::repository(repository, &["pull", "push"])]
}

/// Delete access to a repository.
pub(crate) fn delete(repository: &str) -> Vec<Scope> {
    vec![Scope::repository(repository, &["delete"])]
}
