//! One registry as a command uses it: the Registry API client, the
//! credentials behind it, and the adapter that knows the registry's quirks.
//!
//! Commands never assemble these themselves, so every command gets the
//! same TLS trust, the same token cache shared by the client and the adapter,
//! and the same adapter settings.

use std::path::PathBuf;
use std::sync::Arc;

use super::auth::{
    AuthError, CredentialFallback, CredentialStore, Credentials, DockerConfigDir, FallbackFuture,
    RegistryAuth, RegistryEndpoints, Secret,
};
use super::distribution::{RegistryClient, RegistryError, TransportOptions, base_url, http_client};
use super::naming::{NamingError, default_mode};
use super::reference::ImagesRepo;
use crate::adapters::Detected;
use crate::runtime::{
    AdapterCallError, AdapterInfo, AdapterSession, Outbound, RepoMode, SessionContext,
    SettingValues,
};

/// How to reach registries in this run: the user's connection flags.
#[derive(Debug, Clone, Default)]
pub struct AccessOptions {
    pub transport: TransportOptions,
    /// `--docker-config`, else `$DOCKER_CONFIG`, else `~/.docker`.
    pub docker_config: Option<PathBuf>,
    /// Adapter settings given on the command line (environment fills the rest).
    pub settings: SettingValues,
    /// Show adapters' debug log lines.
    pub verbose: bool,
}

/// Setting up access failed.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("adapter HTTP client: {0}")]
    AdapterClient(String),
}

/// Resolving the naming mode failed.
#[derive(Debug, thiserror::Error)]
pub enum ModeError {
    #[error(transparent)]
    Naming(#[from] NamingError),
    #[error(
        "the `{adapter}` adapter cannot name images in {repo} with --repo-mode {requested}: {source}"
    )]
    Adapter {
        adapter: String,
        repo: String,
        requested: RepoMode,
        #[source]
        source: AdapterCallError,
    },
    #[error("the adapter task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// A registry ready to use.
#[derive(Clone)]
pub struct RegistryAccess {
    registry: String,
    client: RegistryClient,
    auth: RegistryAuth,
    detected: Detected,
    context: SessionContext,
}

impl RegistryAccess {
    /// Connect to `detected.registry` with `options`. Must run inside a tokio
    /// runtime (adapters' HTTP is driven on it).
    pub fn open(detected: Detected, options: &AccessOptions) -> Result<Self, AccessError> {
        let registry = detected.registry.clone();
        let http = http_client(&options.transport, &registry);
        let http = http?;
        let store =
            CredentialStore::open(DockerConfigDir::locate(options.docker_config.as_deref())?)?;
        let endpoints = RegistryEndpoints::new(&options.transport.insecure_registries);
        let auth = RegistryAuth::new(http.clone(), store, endpoints);
        if let Some(path) = scheme_memory_path() {
            auth.remember_schemes_in(path);
        }
        let base = base_url(&options.transport, &registry)?;
        let client = RegistryClient::with_http_client(
            &registry,
            base,
            http,
            &options.transport,
            Arc::new(auth.clone()),
        );
        let adapter_http =
            crate::runtime::Outbound::default_client().map_err(AccessError::AdapterClient)?;
        let plain_outbound = Outbound::new(adapter_http, tokio::runtime::Handle::current());
        let outbound = plain_outbound
            .clone()
            .with_authenticator(Arc::new(auth.clone()));
        let mut settings = options.settings.clone();
        settings.fill_from_env(&detected.adapter.info().settings, |name| {
            std::env::var(name).ok()
        });
        fill_from_aws_files(&mut settings, detected.adapter.info());
        let context = SessionContext {
            registry: Some(registry.clone()),
            settings,
            outbound: Some(Arc::new(outbound)),
            verbose: options.verbose,
        };
        if detected.adapter.info().capabilities.registry_login {
            // The login session gets no registry authenticator: asking the
            // registry for credentials while producing them would recurse.
            let login_context = SessionContext {
                outbound: Some(Arc::new(plain_outbound)),
                ..context.clone()
            };
            auth.set_fallback(Arc::new(AdapterLogin {
                detected: detected.clone(),
                context: login_context,
            }));
        }
        Ok(Self {
            registry,
            client,
            auth,
            detected,
            context,
        })
    }

    /// `host[:port]`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The Registry API client.
    pub fn client(&self) -> &RegistryClient {
        &self.client
    }

    /// Credentials and tokens (shared with the client and the adapter).
    pub fn auth(&self) -> &RegistryAuth {
        &self.auth
    }

    /// Which adapter serves this registry, and why.
    pub fn detected(&self) -> &Detected {
        &self.detected
    }

    /// The adapter's validated self-description.
    pub fn adapter_info(&self) -> &AdapterInfo {
        self.detected.adapter.info()
    }

    /// Run `f` with a fresh adapter session on a blocking thread (adapter
    /// calls are synchronous and may wait on HTTP).
    pub async fn with_adapter<R, F>(&self, f: F) -> Result<R, tokio::task::JoinError>
    where
        R: Send + 'static,
        F: FnOnce(&mut AdapterSession) -> R + Send + 'static,
    {
        let adapter = self.detected.adapter.clone();
        let context = self.context.clone();
        tokio::task::spawn_blocking(move || {
            let mut session = AdapterSession::new(adapter, context);
            f(&mut session)
        })
        .await
    }

    /// The registry's naming mode for `repo`: the adapter's own rule where it
    /// has one, else the host's rule from the adapter's quirks.
    pub async fn resolve_mode(
        &self,
        repo: &ImagesRepo,
        requested: RepoMode,
    ) -> Result<RepoMode, ModeError> {
        if !self.adapter_info().capabilities.resolve_mode {
            return Ok(default_mode(repo, &self.adapter_info().quirks, requested)?);
        }
        let text = repo.to_string();
        let asked = text.clone();
        let answer = self
            .with_adapter(move |s| s.resolve_mode(&asked, requested))
            .await?;
        answer.map_err(|source| ModeError::Adapter {
            adapter: self.detected.implementation.clone(),
            repo: text,
            requested,
            source,
        })
    }
}

/// Registry credentials from the adapter's `registry-login`.
struct AdapterLogin {
    detected: Detected,
    context: SessionContext,
}

impl CredentialFallback for AdapterLogin {
    fn credentials<'a>(&'a self, registry: &'a str) -> FallbackFuture<'a> {
        Box::pin(async move {
            let adapter = self.detected.adapter.clone();
            let context = self.context.clone();
            let asked = registry.to_owned();
            let answer = tokio::task::spawn_blocking(move || {
                AdapterSession::new(adapter, context).registry_login(&asked)
            })
            .await
            .map_err(|e| AuthError::AdapterLogin {
                registry: registry.to_owned(),
                message: e.to_string(),
            })?;
            match answer {
                Ok(found) => Ok(found.map(|c| Credentials::Basic {
                    username: c.username,
                    password: Secret::new(c.password),
                })),
                Err(e) => Err(AuthError::AdapterLogin {
                    registry: registry.to_owned(),
                    message: e.to_string(),
                }),
            }
        })
    }
}

/// AWS credentials and region from `~/.aws` for adapters that declare the
/// `aws-*` settings and got no value from flags or the environment; only
/// declared names are handed over.
fn fill_from_aws_files(settings: &mut SettingValues, info: &AdapterInfo) {
    if !info.settings.iter().any(|s| s.name.starts_with("aws-")) {
        return;
    }
    const KEY_PARTS: [&str; 3] = [
        "aws-access-key-id",
        "aws-secret-access-key",
        "aws-session-token",
    ];
    // Key, secret and token are one credential: take them from the files only
    // when none came from flags or the environment, never mixed.
    let key_given = KEY_PARTS.iter().any(|n| settings.get(n).is_some());
    let found = super::aws_profile::aws_profile_settings(
        |name| std::env::var(name).ok(),
        dirs::home_dir().as_deref(),
    );
    for (name, value) in found {
        let is_key_part = KEY_PARTS.contains(&name.as_str());
        if info.setting(&name).is_some()
            && settings.get(&name).is_none()
            && !(is_key_part && key_given)
        {
            settings.insert(name, value);
        }
    }
}

/// Where the registries that asked for Basic credentials are remembered:
/// regent's cache dir, as the component cache finds it
/// (`$REGENT_CACHE_DIR`, else `~/.cache/regent`).
fn scheme_memory_path() -> Option<PathBuf> {
    let dir = match std::env::var_os("REGENT_CACHE_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => dirs::cache_dir()?.join("regent"),
    };
    Some(dir.join("auth-basic-registries"))
}
