//! The client for one registry: sends each request with credentials, runs
//! the auth challenge once on 401, retries transient failures, and keeps the
//! number of requests in flight bounded.
//!
//! The operations live in their own files (`manifests.rs`, `blobs.rs`, ...)
//! as further `impl RegistryClient` blocks.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Method, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::call::{Answer, Call, Replay};
use super::error::{RegistryError, Resource, login_hint};
use super::options::TransportOptions;
use super::retry::{self, RetryPolicy};
use super::transport::{self, transport_error};
use crate::registry::scope::{Authorize, AuthorizeError, Scope};

/// How much of a discarded body is read so the connection can be reused.
const DRAIN_LIMIT: usize = 64 * 1024;

/// A client for one registry. Cheap to clone: clones share the HTTP
/// connections, the credentials and the concurrency bound.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

struct Inner {
    registry: String,
    base: Url,
    http: reqwest::Client,
    auth: Arc<dyn Authorize>,
    retry: RetryPolicy,
    permits: Arc<Semaphore>,
}

impl RegistryClient {
    /// A client for `registry` (`host` or `host:port` as written in image
    /// references; `docker.io` is fine) with these options and credentials.
    pub fn new(
        registry: &str,
        options: &TransportOptions,
        auth: Arc<dyn Authorize>,
    ) -> Result<Self, RegistryError> {
        let base = transport::base_url(options, registry)?;
        let http = transport::http_client(options, registry)?;
        Ok(Self::with_http_client(registry, base, http, options, auth))
    }

    /// A client over an HTTP client and base URL the caller already has
    /// (e.g. one shared with the auth layer).
    pub fn with_http_client(
        registry: &str,
        base: Url,
        http: reqwest::Client,
        options: &TransportOptions,
        auth: Arc<dyn Authorize>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                registry: registry.to_owned(),
                base,
                http,
                auth,
                retry: options.retry.clone(),
                permits: Arc::new(Semaphore::new(options.max_concurrency.max(1))),
            }),
        }
    }

    /// The registry as given to [`Self::new`]: the name credentials are kept under.
    pub fn registry(&self) -> &str {
        &self.inner.registry
    }

    /// The root URL requests go to (`https://host/`, or `http://` if insecure).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// Check that the registry speaks the API and the credentials work (`GET /v2/`).
    pub async fn ping(&self) -> Result<(), RegistryError> {
        let call = Call::new(
            Method::GET,
            self.url("/v2/")?,
            Resource::Registry,
            Vec::new(),
        );
        let answer = self.send(&call).await?.expect(&[200]).await?;
        drop(answer);
        Ok(())
    }

    /// A URL on this registry for an API path (built from validated names).
    pub(crate) fn url(&self, path: &str) -> Result<Url, RegistryError> {
        self.inner
            .base
            .join(path)
            .map_err(|e| RegistryError::InvalidArgument {
                what: "API path",
                value: path.to_owned(),
                why: e.to_string(),
            })
    }

    /// A URL from a registry's `Location` or `Link` header, resolved against
    /// the URL that sent it.
    pub(crate) fn resolve(&self, answer: &Answer, location: &str) -> Result<Url, RegistryError> {
        answer
            .url()
            .join(location)
            .map_err(|e| answer.invalid(format!("unusable URL {location:?}: {e}")))
    }

    /// Send `call`: credentials up front, one challenge round on 401,
    /// retries with backoff on transient failures when replay is safe.
    /// Returns any answer that is not retried; callers check the status.
    pub(crate) async fn send(&self, call: &Call) -> Result<Answer, RegistryError> {
        let inner = &self.inner;
        let mut authorization = inner
            .auth
            .authorization(&inner.registry, &call.scopes)
            .await
            .map_err(|e| self.auth_error(call, e))?;
        let mut challenged = false;
        let mut attempt: u32 = 1;
        loop {
            let permit = self.permit().await?;
            let response = match self.request(call, authorization.as_deref()).send().await {
                Ok(response) => response,
                Err(error) => {
                    drop(permit);
                    let mapped = transport_error(&inner.registry, &call.url, &error);
                    // A TLS failure is a trust or set-up problem; repeating
                    // the handshake cannot fix it.
                    let transient = !matches!(mapped, RegistryError::Tls { .. })
                        && (error.is_connect() || call.replay == Replay::Idempotent);
                    if transient && attempt < inner.retry.max_attempts {
                        tokio::time::sleep(inner.retry.backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(mapped);
                }
            };
            let status = response.status();
            if status.as_u16() == 401 && !challenged {
                let www_authenticate = response
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                if let Some(www_authenticate) = www_authenticate {
                    drain(response).await;
                    drop(permit);
                    authorization = Some(self.answer_challenge(call, &www_authenticate).await?);
                    challenged = true;
                    continue;
                }
            }
            if retry::is_retryable_status(status)
                && attempt < inner.retry.max_attempts
                && (call.replay == Replay::Idempotent || retry::is_refusal_status(status))
                && let Some(wait) = self.retry_wait(&response, attempt)
            {
                drain(response).await;
                drop(permit);
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Ok(Answer {
                response,
                permit,
                registry: inner.registry.clone(),
                resource: call.resource.clone(),
                scopes: scopes_text(&call.scopes),
            });
        }
    }

    /// A concurrency permit; waits while `max_concurrency` requests are out.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, RegistryError> {
        self.inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| RegistryError::Config {
                registry: self.inner.registry.clone(),
                detail: "the request limiter was closed".into(),
            })
    }

    /// Run the auth flow a 401 asked for; the header to retry with.
    async fn answer_challenge(
        &self,
        call: &Call,
        www_authenticate: &str,
    ) -> Result<String, RegistryError> {
        let inner = &self.inner;
        match inner
            .auth
            .challenge(&inner.registry, www_authenticate, &call.scopes)
            .await
        {
            Ok(Some(header)) => Ok(header),
            Ok(None) => Err(RegistryError::Unauthorized {
                registry: inner.registry.clone(),
                resource: Box::new(call.resource.clone()),
                detail: format!(
                    "the registry asks for credentials ({www_authenticate}) and none are configured"
                ),
                hint: login_hint(&inner.registry),
            }),
            Err(e) => Err(self.auth_error(call, e)),
        }
    }

    /// How long to wait before retrying after a transient status: what
    /// `Retry-After` asks (none if more than the policy accepts), else backoff.
    fn retry_wait(&self, response: &Response, attempt: u32) -> Option<Duration> {
        match retry::retry_after(response.headers(), SystemTime::now()) {
            Some(asked) if asked > self.inner.retry.max_retry_after => None,
            Some(asked) => Some(asked),
            None => Some(self.inner.retry.backoff(attempt)),
        }
    }

    fn request(&self, call: &Call, authorization: Option<&str>) -> reqwest::RequestBuilder {
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .headers(call.headers.clone());
        // Credentials go only to the registry itself, never to another
        // origin a Location or Link header pointed at.
        if let Some(value) = authorization
            && same_origin(&call.url, &self.inner.base)
        {
            request = request.header(AUTHORIZATION, value);
        }
        if let Some(body) = &call.body {
            request = request.body(body.clone());
        }
        if let Some(timeout) = call.timeout {
            request = request.timeout(timeout);
        }
        request
    }

    fn auth_error(&self, call: &Call, error: AuthorizeError) -> RegistryError {
        RegistryError::Unauthorized {
            registry: self.inner.registry.clone(),
            resource: Box::new(call.resource.clone()),
            hint: error
                .hint
                .clone()
                .unwrap_or_else(|| login_hint(&self.inner.registry)),
            detail: error.message,
        }
    }
}

impl fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryClient")
            .field("registry", &self.inner.registry)
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn scopes_text(scopes: &[Scope]) -> String {
    if scopes.is_empty() {
        return "no particular scope".into();
    }
    scopes
        .iter()
        .map(Scope::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Read (a bounded part of) a body we discard, so the connection can be reused.
async fn drain(mut response: Response) {
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read > DRAIN_LIMIT {
            break;
        }
    }
}
