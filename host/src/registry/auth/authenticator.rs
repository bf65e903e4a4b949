//! The authenticator every registry request goes through: credentials from
//! the [`CredentialStore`], the Basic or Bearer flow a registry asks for,
//! and a token cache shared by all clones.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use super::cache::{CachedToken, TokenCache, normalise, parse_scope};
use super::challenge::{BearerChallenge, Challenge, parse_challenge};
use super::schemes::SchemeMemory;
use super::token::{self, short_text};
use super::{AuthError, CredentialStore, Credentials, RegistryEndpoints, keys};
use crate::registry::scope::{Authorize, AuthorizeFuture, Scope};
use crate::runtime::{AuthFuture, RegistryAuthRequest, RegistryAuthenticator};

/// How long the `/v2/` probes of `verify` and adapters' Bearer requests may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a registry is known to want, learnt from its challenges.
#[derive(Debug, Clone)]
enum Known {
    /// `/v2/` answered without asking for anything.
    Open,
    /// Basic credentials on every request.
    Basic,
    /// Tokens from this token server.
    Bearer(BearerChallenge),
}

/// The outcome of [`RegistryAuth::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verified {
    /// The registry asked for credentials and accepted them.
    Accepted,
    /// The registry answered `/v2/` without asking for credentials, so they
    /// could not be checked.
    NotRequired,
}

/// Credentials and tokens for every registry one command talks to. Cheap
/// to clone: clones share the token cache and what was learnt about each
/// registry, and use the caller's `reqwest::Client` so the distribution
/// client and the token requests share TLS settings and connections.
#[derive(Clone)]
pub struct RegistryAuth {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    store: CredentialStore,
    endpoints: RegistryEndpoints,
    credentials: tokio::sync::Mutex<HashMap<String, Option<Credentials>>>,
    known: Mutex<HashMap<String, Known>>,
    tokens: TokenCache,
    fallback: OnceLock<Arc<dyn CredentialFallback>>,
    schemes: OnceLock<SchemeMemory>,
}

/// A boxed future of credentials from a fallback source.
pub type FallbackFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Credentials>, AuthError>> + Send + 'a>>;

/// Where credentials come from when the Docker config has none for a
/// registry: the registry's adapter (ECR's GetAuthorizationToken, ACR's
/// token exchange), so `regent login` is not needed where the cloud's own
/// credentials already grant access.
pub trait CredentialFallback: Send + Sync {
    /// Credentials for `registry`, or none for anonymous access.
    fn credentials<'a>(&'a self, registry: &'a str) -> FallbackFuture<'a>;
}

/// Shows what was learnt about registries, never credentials or tokens.
impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let known: Vec<String> = self
            .inner
            .known
            .lock()
            .map(|k| k.iter().map(|(r, how)| format!("{r}: {how:?}")).collect())
            .unwrap_or_default();
        f.debug_struct("RegistryAuth")
            .field("credentials", &self.inner.store.describe())
            .field("endpoints", &self.inner.endpoints)
            .field("known", &known)
            .finish_non_exhaustive()
    }
}

impl RegistryAuth {
    /// Authenticate with credentials from `store`, sending requests with `client`.
    pub fn new(
        client: reqwest::Client,
        store: CredentialStore,
        endpoints: RegistryEndpoints,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                store,
                endpoints,
                credentials: tokio::sync::Mutex::new(HashMap::new()),
                known: Mutex::new(HashMap::new()),
                tokens: TokenCache::default(),
                fallback: OnceLock::new(),
                schemes: OnceLock::new(),
            }),
        }
    }

    /// Ask `fallback` for credentials of registries the Docker config does
    /// not cover. Set once; later calls are ignored.
    pub fn set_fallback(&self, fallback: Arc<dyn CredentialFallback>) {
        let _ = self.inner.fallback.set(fallback);
    }

    /// Remember across runs, in the file at `path`, which registries asked
    /// for Basic credentials, and send them up front to those (saving each
    /// command a 401 and a resend). Set once; later calls are ignored.
    pub fn remember_schemes_in(&self, path: std::path::PathBuf) {
        let _ = self.inner.schemes.set(SchemeMemory::at(path));
    }

    /// The HTTP client in use, for requests that should share its connections.
    pub fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// Which registries are reached over plain HTTP.
    pub fn endpoints(&self) -> &RegistryEndpoints {
        &self.inner.endpoints
    }

    /// The registry's credentials, asking the store (and so maybe a helper)
    /// once per registry and process.
    async fn credentials(&self, registry: &str) -> Result<Option<Credentials>, AuthError> {
        let mut resolved = self.inner.credentials.lock().await;
        if let Some(found) = resolved.get(registry) {
            return Ok(found.clone());
        }
        let mut found = self.inner.store.get(registry).await?;
        if found.is_none()
            && let Some(fallback) = self.inner.fallback.get()
        {
            found = fallback.credentials(registry).await?;
        }
        resolved.insert(registry.to_owned(), found.clone());
        Ok(found)
    }

    fn known(&self, registry: &str) -> Option<Known> {
        self.inner
            .known
            .lock()
            .ok()
            .and_then(|k| k.get(registry).cloned())
    }

    /// Whether `registry` asked for Basic credentials in an earlier run.
    fn asked_for_basic_before(&self, registry: &str) -> bool {
        self.inner
            .schemes
            .get()
            .is_some_and(|memory| memory.wants_basic(registry))
    }

    fn remember(&self, registry: &str, how: Known) {
        if let Some(memory) = self.inner.schemes.get() {
            memory.record(registry, matches!(how, Known::Basic));
        }
        if let Ok(mut known) = self.inner.known.lock() {
            known.insert(registry.to_owned(), how);
        }
    }

    fn no_credentials(&self, registry: &str) -> AuthError {
        AuthError::NoCredentials {
            registry: registry.to_owned(),
            config: self.inner.store.describe(),
        }
    }

    /// The `Authorization` value to send up front: a cached token covering
    /// `scopes`, Basic credentials for a registry known to want them, or none.
    pub async fn authorization_for(
        &self,
        registry: &str,
        scopes: &[Scope],
    ) -> Result<Option<String>, AuthError> {
        let registry = keys::canonical_registry(registry);
        let wanted = normalise(scopes.iter().cloned());
        if let Some(t) = self.inner.tokens.get(&registry, &wanted, SystemTime::now()) {
            return Ok(Some(bearer(t.token.expose())));
        }
        match self.known(&registry) {
            Some(Known::Basic) => Ok(self
                .credentials(&registry)
                .await?
                .and_then(|c| c.basic_header())),
            Some(Known::Bearer(_)) => match self.credentials(&registry).await? {
                Some(Credentials::RegistryToken(t)) => Ok(Some(bearer(t.expose()))),
                _ => Ok(None),
            },
            // Only here, where a 401 is answered and corrects it, does what
            // an earlier run learnt count; adapters' requests probe instead.
            None if self.asked_for_basic_before(&registry) => Ok(self
                .credentials(&registry)
                .await?
                .and_then(|c| c.basic_header())),
            Some(Known::Open) | None => Ok(None),
        }
    }

    /// Answer a 401's `WWW-Authenticate` for `scopes`: Basic credentials, or
    /// a token fetched for the scopes (always a new one, unless another
    /// request fetched one while this one waited: the 401 says the token
    /// it sent, if any, is no good).
    pub async fn answer_challenge(
        &self,
        registry: &str,
        www_authenticate: &str,
        scopes: &[Scope],
    ) -> Result<String, AuthError> {
        let registry = keys::canonical_registry(registry);
        let started = Instant::now();
        let challenge = parse_challenge(www_authenticate).map_err(|e| AuthError::BadChallenge {
            registry: registry.clone(),
            header: www_authenticate.to_owned(),
            reason: e.to_string(),
        })?;
        match challenge {
            Challenge::Basic { .. } => {
                self.remember(&registry, Known::Basic);
                self.basic(&registry).await
            }
            Challenge::Bearer(bearer_challenge) => {
                self.remember(&registry, Known::Bearer(bearer_challenge.clone()));
                self.bearer(&registry, &bearer_challenge, scopes, Some(started))
                    .await
            }
        }
    }

    async fn basic(&self, registry: &str) -> Result<String, AuthError> {
        match self.credentials(registry).await? {
            Some(c) => c.basic_header().ok_or_else(|| AuthError::BadChallenge {
                registry: registry.to_owned(),
                header: "Basic".into(),
                reason: "the registry wants a user name and password, but its stored credentials are a token".into(),
            }),
            None => Err(self.no_credentials(registry)),
        }
    }

    /// A token for `scopes` plus the scopes the challenge names. With
    /// `fresher_than`, a cached token is used only if fetched after then.
    async fn bearer(
        &self,
        registry: &str,
        challenge: &BearerChallenge,
        scopes: &[Scope],
        fresher_than: Option<Instant>,
    ) -> Result<String, AuthError> {
        let credentials = self.credentials(registry).await?;
        if let Some(Credentials::RegistryToken(t)) = &credentials {
            return Ok(bearer(t.expose()));
        }
        let wanted = normalise(
            scopes
                .iter()
                .cloned()
                .chain(challenge.scopes.iter().filter_map(|s| parse_scope(s))),
        );
        let lock = self.inner.tokens.fetch_lock(registry, &wanted);
        let _one_fetch_at_a_time = lock.lock().await;
        if let Some(t) = self.inner.tokens.get(registry, &wanted, SystemTime::now())
            && fresher_than.is_none_or(|since| t.fetched_at > since)
        {
            return Ok(bearer(t.token.expose()));
        }
        if fresher_than.is_some() {
            // The registry refused what it was sent: do not hand it out again.
            self.inner.tokens.remove(registry, &wanted);
        }
        let scope_texts: Vec<String> = wanted.iter().map(ToString::to_string).collect();
        let fetched = token::fetch(
            &self.inner.client,
            registry,
            challenge,
            &scope_texts,
            credentials.as_ref(),
        )
        .await?;
        let header = bearer(fetched.value.expose());
        self.inner.tokens.insert(
            registry,
            CachedToken {
                scopes: wanted,
                token: fetched.value,
                expires_at: fetched.expires_at,
                fetched_at: Instant::now(),
            },
            SystemTime::now(),
        );
        Ok(header)
    }

    /// `GET /v2/` without credentials to learn what the registry wants.
    async fn probe(&self, registry: &str) -> Result<Known, AuthError> {
        let (url, response) = self.get_v2(registry, None).await?;
        let how = match response.status {
            200..=299 => Known::Open,
            401 => {
                let header = response
                    .www_authenticate
                    .ok_or_else(|| AuthError::Unexpected {
                        registry: registry.to_owned(),
                        url: url.clone(),
                        status: 401,
                        reason: "401 without a WWW-Authenticate challenge".into(),
                    })?;
                match parse_challenge(&header) {
                    Ok(Challenge::Basic { .. }) => Known::Basic,
                    Ok(Challenge::Bearer(b)) => Known::Bearer(b),
                    Err(e) => {
                        return Err(AuthError::BadChallenge {
                            registry: registry.to_owned(),
                            header,
                            reason: e.to_string(),
                        });
                    }
                }
            }
            status => {
                return Err(AuthError::Unexpected {
                    registry: registry.to_owned(),
                    url,
                    status,
                    reason: response.body,
                });
            }
        };
        self.remember(registry, how.clone());
        Ok(how)
    }

    async fn get_v2(
        &self,
        registry: &str,
        authorization: Option<&str>,
    ) -> Result<(String, Probe), AuthError> {
        let url = self
            .inner
            .endpoints
            .base_url(registry)?
            .join("v2/")
            .map_err(|e| AuthError::BadAddress {
                address: registry.to_owned(),
                reason: e.to_string(),
            })?;
        let shown = url.to_string();
        let mut request = self.inner.client.get(url).timeout(PROBE_TIMEOUT);
        if let Some(value) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        let network = |e: reqwest::Error| AuthError::Network {
            registry: registry.to_owned(),
            url: shown.clone(),
            reason: crate::errors::chain(&e.without_url()),
        };
        let response = request.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let www_authenticate = response
            .headers()
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ");
        let body = response
            .bytes()
            .await
            .map(|b| short_text(&b))
            .unwrap_or_default();
        Ok((
            shown,
            Probe {
                status,
                www_authenticate: (!www_authenticate.is_empty()).then_some(www_authenticate),
                body,
            },
        ))
    }

    /// Check the credentials for `registry` the way `docker login` does:
    /// `GET /v2/`, answer the challenge, and `GET /v2/` again with them. A
    /// 401 after that (or from the token server) means wrong credentials.
    pub async fn verify(&self, registry: &str) -> Result<Verified, AuthError> {
        let registry = keys::canonical_registry(registry);
        let (url, first) = self.get_v2(&registry, None).await?;
        match first.status {
            200..=299 => return Ok(Verified::NotRequired),
            401 => {}
            status => {
                return Err(AuthError::Unexpected {
                    registry,
                    url,
                    status,
                    reason: first.body,
                });
            }
        }
        let header = first
            .www_authenticate
            .ok_or_else(|| AuthError::Unexpected {
                registry: registry.clone(),
                url: url.clone(),
                status: 401,
                reason: "401 without a WWW-Authenticate challenge".into(),
            })?;
        let authorization = self.answer_challenge(&registry, &header, &[]).await?;
        let (_, second) = self.get_v2(&registry, Some(&authorization)).await?;
        match second.status {
            200..=299 => Ok(Verified::Accepted),
            401 | 403 => Err(AuthError::Rejected {
                username: self
                    .credentials(&registry)
                    .await?
                    .as_ref()
                    .and_then(Credentials::username)
                    .map(str::to_owned),
                registry,
            }),
            status => Err(AuthError::Unexpected {
                registry,
                url,
                status,
                reason: second.body,
            }),
        }
    }

    /// The header for an adapter's `http-send` request: Basic from the
    /// Docker config, or a Bearer token for the scopes, learning the
    /// registry's challenge from `GET /v2/` the first time.
    pub async fn authorization_for_adapter(
        &self,
        registry: &str,
        request: &RegistryAuthRequest,
    ) -> Result<Option<String>, AuthError> {
        let registry = keys::canonical_registry(registry);
        match request {
            RegistryAuthRequest::Basic => Ok(self
                .credentials(&registry)
                .await?
                .and_then(|c| c.basic_header())),
            RegistryAuthRequest::Bearer(texts) => {
                let mut scopes = Vec::with_capacity(texts.len());
                for text in texts {
                    scopes.push(parse_scope(text).ok_or_else(|| AuthError::BadChallenge {
                        registry: registry.clone(),
                        header: text.clone(),
                        reason:
                            "an adapter asked for a scope that is not `type:name:actions`".into(),
                    })?);
                }
                let wanted = normalise(scopes);
                if let Some(t) = self.inner.tokens.get(&registry, &wanted, SystemTime::now()) {
                    return Ok(Some(bearer(t.token.expose())));
                }
                let how = match self.known(&registry) {
                    Some(how) => how,
                    None => self.probe(&registry).await?,
                };
                match how {
                    Known::Open => Ok(None),
                    Known::Basic => Ok(self
                        .credentials(&registry)
                        .await?
                        .and_then(|c| c.basic_header())),
                    Known::Bearer(challenge) => self
                        .bearer(&registry, &challenge, &wanted, None)
                        .await
                        .map(Some),
                }
            }
        }
    }
}

struct Probe {
    status: u16,
    www_authenticate: Option<String>,
    body: String,
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

impl Authorize for RegistryAuth {
    fn authorization<'a>(&'a self, registry: &'a str, scopes: &'a [Scope]) -> AuthorizeFuture<'a> {
        Box::pin(async move {
            self.authorization_for(registry, scopes)
                .await
                .map_err(Into::into)
        })
    }

    fn challenge<'a>(
        &'a self,
        registry: &'a str,
        www_authenticate: &'a str,
        scopes: &'a [Scope],
    ) -> AuthorizeFuture<'a> {
        Box::pin(async move {
            self.answer_challenge(registry, www_authenticate, scopes)
                .await
                .map(Some)
                .map_err(Into::into)
        })
    }
}

impl RegistryAuthenticator for RegistryAuth {
    fn authorization<'a>(
        &'a self,
        registry: &'a str,
        request: &'a RegistryAuthRequest,
    ) -> AuthFuture<'a> {
        Box::pin(async move {
            self.authorization_for_adapter(registry, request)
                .await
                .map_err(|e| {
                    let message = crate::errors::chain(&e);
                    match e.hint() {
                        Some(hint) if !message.contains(&hint) => format!("{message} ({hint})"),
                        _ => message,
                    }
                })
        })
    }
}
