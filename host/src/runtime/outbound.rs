//! The network side of `http-send`: a shared HTTP client, a tokio handle to
//! drive it from synchronous adapter calls, and the registry authenticator.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// What an adapter asked the host to authenticate a request with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryAuthRequest {
    /// The registry's bearer-token flow for these scopes.
    Bearer(Vec<String>),
    /// Basic credentials for the registry from the Docker config.
    Basic,
}

/// A boxed future answering an `Authorization` header value (or none).
pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<String>, String>> + Send + 'a>>;

/// Supplies credentials for the registry in use without showing them to adapters.
pub trait RegistryAuthenticator: Send + Sync {
    /// The `Authorization` header value for a request to `registry`.
    fn authorization<'a>(
        &'a self,
        registry: &'a str,
        request: &'a RegistryAuthRequest,
    ) -> AuthFuture<'a>;
}

/// Outbound HTTP for adapters.
#[derive(Clone)]
pub struct Outbound {
    pub(super) client: reqwest::Client,
    pub(super) handle: tokio::runtime::Handle,
    pub(super) authenticator: Option<Arc<dyn RegistryAuthenticator>>,
}

impl Outbound {
    /// Outbound HTTP over `client`, driven on `handle`'s runtime. Adapter
    /// calls that use it must run outside async tasks (e.g. in `spawn_blocking`).
    pub fn new(client: reqwest::Client, handle: tokio::runtime::Handle) -> Self {
        Self {
            client,
            handle,
            authenticator: None,
        }
    }

    /// The client regent gives adapters: no redirects (a redirect could leave
    /// the allow-list), a user agent naming regent, and TLS whose system
    /// roots load on the first handshake (most adapter sessions send nothing).
    pub fn default_client() -> Result<reqwest::Client, String> {
        let tls = crate::tls::client_config(Vec::new(), None)?;
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("regent/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|e| crate::errors::chain(&e))
    }

    /// Use `authenticator` for requests that ask for registry credentials.
    pub fn with_authenticator(mut self, authenticator: Arc<dyn RegistryAuthenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("authenticator", &self.authenticator.is_some())
            .finish_non_exhaustive()
    }
}
