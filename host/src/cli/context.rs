//! What commands share: global flags, and the adapter engine and catalog,
//! created only when a command needs them.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;

use super::GlobalArgs;
use crate::adapters::installed::{InstalledStore, add_installed};
use crate::adapters::{AdapterCatalog, Detected};
use crate::registry::access::{AccessOptions, RegistryAccess};
use crate::registry::distribution::TransportOptions;
use crate::runtime::{AdapterEngine, ComponentCache, SandboxLimits, SettingValues};

/// Shared state of one command run.
pub struct CommandContext {
    pub global: GlobalArgs,
    /// Adapter settings from `--repo-NAME VALUE` flags.
    pub settings: SettingValues,
    catalog: OnceLock<Arc<AdapterCatalog>>,
    registries: tokio::sync::Mutex<HashMap<String, RegistryAccess>>,
    /// The User-Agent registry requests carry.
    user_agent: String,
}

impl CommandContext {
    /// A context for these global flags.
    pub fn new(global: GlobalArgs, settings: SettingValues) -> Self {
        Self {
            global,
            settings,
            catalog: OnceLock::new(),
            registries: tokio::sync::Mutex::new(HashMap::new()),
            user_agent: crate::registry::distribution::DEFAULT_USER_AGENT.to_owned(),
        }
    }

    /// Send `user_agent` to registries instead of the default (set before
    /// any registry is opened).
    pub fn with_user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = user_agent.to_owned();
        self
    }

    /// The adapter catalog, loading bundled adapters on first use (on a
    /// blocking thread: compiling may take a moment the first time).
    pub async fn catalog(&self) -> anyhow::Result<Arc<AdapterCatalog>> {
        if let Some(c) = self.catalog.get() {
            return Ok(c.clone());
        }
        let loaded = tokio::task::spawn_blocking(|| -> anyhow::Result<AdapterCatalog> {
            let engine = Self::engine()?;
            let mut catalog = AdapterCatalog::load_bundled(&engine)?;
            if let Some(store) = InstalledStore::user_default() {
                for warning in add_installed(&engine, &mut catalog, &store) {
                    eprintln!("regent: warning: {warning}");
                }
            }
            Ok(catalog)
        })
        .await
        .context("loading adapters")??;
        Ok(self.catalog.get_or_init(|| Arc::new(loaded)).clone())
    }

    /// A fresh adapter engine with the default limits and the user's compile cache.
    pub fn engine() -> anyhow::Result<AdapterEngine> {
        AdapterEngine::new(SandboxLimits::default(), ComponentCache::user_default())
            .map_err(anyhow::Error::msg)
    }

    /// Forget the loaded catalog (after installing or removing an adapter).
    pub fn reload_catalog(&mut self) {
        self.catalog = OnceLock::new();
    }

    /// The adapter for `address`, honouring `--repo-container-registry`.
    pub async fn detect(&self, address: &str) -> anyhow::Result<Detected> {
        let catalog = self.catalog().await?;
        let explicit = self.global.repo_container_registry.as_deref().map(|kind| {
            let origin = if std::env::var("REGENT_REPO_CONTAINER_REGISTRY")
                .ok()
                .as_deref()
                == Some(kind)
            {
                "REGENT_REPO_CONTAINER_REGISTRY"
            } else {
                "--repo-container-registry"
            };
            (kind, origin)
        });
        Ok(catalog.detect(address, explicit)?)
    }

    /// Connection settings from the global flags.
    pub fn access_options(&self) -> AccessOptions {
        AccessOptions {
            transport: TransportOptions {
                insecure_registries: self.global.insecure_registry.clone(),
                ca_files: self.global.ca_file.iter().cloned().collect(),
                user_agent: self.user_agent.clone(),
                ..TransportOptions::default()
            },
            docker_config: self.global.docker_config.clone(),
            verbose: self.global.verbose,
            settings: self.settings.clone(),
        }
    }

    /// The registry serving `address` (a registry, repository or reference),
    /// opened once per run and shared by everything the command does there.
    pub async fn registry(&self, address: &str) -> anyhow::Result<RegistryAccess> {
        let detected = self.detect(address).await?;
        self.check_setting_names().await?;
        let mut open = self.registries.lock().await;
        if let Some(access) = open.get(&detected.registry) {
            return Ok(access.clone());
        }
        let registry = detected.registry.clone();
        let access = RegistryAccess::open(detected, &self.access_options())?;
        open.insert(registry, access.clone());
        Ok(access)
    }

    /// Refuse `--repo-NAME` flags no adapter declares (a typo would
    /// otherwise be ignored silently).
    async fn check_setting_names(&self) -> anyhow::Result<()> {
        let catalog = self.catalog().await?;
        for name in self.settings.names() {
            let declared = catalog.all().any(|a| a.info().setting(name).is_some());
            if !declared {
                let mut known: Vec<String> = catalog
                    .all()
                    .flat_map(|a| {
                        a.info()
                            .settings
                            .iter()
                            .map(|s| format!("--repo-{}", s.name))
                    })
                    .collect();
                known.sort();
                known.dedup();
                anyhow::bail!(
                    "no registry adapter has a setting `{name}` (from --repo-{name}); known settings: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                );
            }
        }
        Ok(())
    }
}
