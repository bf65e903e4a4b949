//! The one wasmtime engine, its linker, and the epoch ticker behind call deadlines.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

use super::bindings::{Adapter, AdapterPre};
use super::cache::ComponentCache;
use super::error::LoadError;
use super::host_imports::AdapterState;
use super::limits::SandboxLimits;
use super::loaded::{AdapterSource, LoadedAdapter};
use super::session::{AdapterSession, SessionContext};
use super::types::AdapterInfo;

/// The WIT package adapters are built against.
pub const WIT_PACKAGE: &str = "regent:adapter";
/// Versions of [`WIT_PACKAGE`] this host accepts (see `wit/adapter.wit` for the rule).
pub const SUPPORTED_WIT_VERSIONS: &[&str] = &["0.1.0"];

/// How often the engine's epoch advances; deadlines are rounded up to it.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Compiles and pre-instantiates adapters. Cheap to clone.
#[derive(Clone)]
pub struct AdapterEngine {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub engine: Engine,
    /// Built on first instantiation: linking WASI costs about a millisecond
    /// that commands using no adapter call should not pay.
    pub linker: OnceLock<Result<Linker<AdapterState>, String>>,
    pub limits: SandboxLimits,
    pub cache: ComponentCache,
}

impl AdapterEngine {
    /// An engine with these limits and compile cache; starts the epoch ticker.
    pub fn new(limits: SandboxLimits, cache: ComponentCache) -> Result<Self, String> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| format!("starting wasmtime: {e}"))?;
        start_ticker(&engine);
        let cache = cache.bound_to(&engine);
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker: OnceLock::new(),
                limits,
                cache,
            }),
        })
    }

    /// The limits every instance runs under.
    pub fn limits(&self) -> &SandboxLimits {
        &self.inner.limits
    }

    /// Deadline of one call in epoch ticks.
    pub(super) fn deadline_ticks(limits: &SandboxLimits) -> u64 {
        let ticks = limits
            .call_deadline
            .as_millis()
            .div_ceil(EPOCH_TICK.as_millis());
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }

    pub(super) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Compile (or load from the cache), check the WIT version, pre-instantiate,
    /// and read and validate `info()`.
    pub fn load(&self, source: AdapterSource, bytes: &[u8]) -> Result<LoadedAdapter, LoadError> {
        self.load_with_digest(source, bytes, digest_of(bytes))
    }

    fn load_with_digest(
        &self,
        source: AdapterSource,
        bytes: &[u8],
        digest: String,
    ) -> Result<LoadedAdapter, LoadError> {
        let origin = source.to_string();
        let pre = self.prepare(bytes, &digest, &origin)?;
        let info = self.probe_info(&pre, &origin)?;
        self.inner
            .cache
            .store_info(&self.inner.engine, &digest, &info);
        Ok(LoadedAdapter::new(
            self.clone(),
            Some(pre),
            None,
            info,
            digest,
            source,
        ))
    }

    /// Like [`AdapterEngine::load`], but when this component's info is in
    /// the cache, nothing is compiled until a session first calls it: a
    /// command that uses one adapter pays for one. `digest` is the
    /// component's `sha256:` digest when the caller already knows it (bundled
    /// adapters carry theirs from the build); otherwise it is computed.
    pub fn load_lazily(
        &self,
        source: AdapterSource,
        bytes: impl Into<bytes::Bytes>,
        digest: Option<&str>,
    ) -> Result<LoadedAdapter, LoadError> {
        let bytes: bytes::Bytes = bytes.into();
        let digest = digest.map_or_else(|| digest_of(&bytes), str::to_owned);
        // The cached info was validated before it was stored, and the file
        // is checksummed and private to the user, so it is not re-validated.
        match self.inner.cache.load_info(&self.inner.engine, &digest) {
            Some(info) => Ok(LoadedAdapter::new(
                self.clone(),
                None,
                Some(bytes),
                info,
                digest,
                source,
            )),
            _ => self.load_with_digest(source, &bytes, digest),
        }
    }

    /// The compiled, linked component: from the cache, else compiled now.
    pub(super) fn prepare(
        &self,
        bytes: &[u8],
        digest: &str,
        origin: &str,
    ) -> Result<AdapterPre<AdapterState>, LoadError> {
        let component = match self.inner.cache.load(&self.inner.engine, digest) {
            Some(c) => c,
            None => {
                let c =
                    Component::new(&self.inner.engine, bytes).map_err(|e| LoadError::Compile {
                        origin: origin.to_owned(),
                        message: format!("{e:#}"),
                    })?;
                if let Err(message) = self.inner.cache.store(&self.inner.engine, digest, &c) {
                    eprintln!(
                        "regent: warning: could not cache the compiled adapter {origin}: {message}"
                    );
                }
                c
            }
        };
        check_wit_version(&self.inner.engine, &component, origin)?;
        self.linker()
            .map_err(|message| LoadError::Link {
                origin: origin.to_owned(),
                message,
            })?
            .instantiate_pre(&component)
            .and_then(AdapterPre::new)
            .map_err(|e| LoadError::Link {
                origin: origin.to_owned(),
                message: format!("{e:#}"),
            })
    }

    /// WASI and the host interface, linked once per engine.
    fn linker(&self) -> Result<&Linker<AdapterState>, String> {
        self.inner
            .linker
            .get_or_init(|| {
                let mut linker = Linker::new(&self.inner.engine);
                wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
                    .map_err(|e| format!("linking WASI: {e}"))?;
                Adapter::add_to_linker::<_, HasSelf<AdapterState>>(&mut linker, |state| state)
                    .map_err(|e| format!("linking the host interface: {e}"))?;
                Ok(linker)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn probe_info(
        &self,
        pre: &AdapterPre<AdapterState>,
        origin: &str,
    ) -> Result<AdapterInfo, LoadError> {
        let mut probe = AdapterSession::probe(self.clone(), pre.clone(), origin);
        let info = probe.info().map_err(|source| LoadError::Info {
            origin: origin.to_owned(),
            source: Box::new(source),
        })?;
        super::validate::info(&info).map_err(|message| LoadError::InvalidInfo {
            origin: origin.to_owned(),
            message,
        })?;
        Ok(info)
    }

    /// Start a session with one adapter for one command.
    pub fn session(&self, adapter: Arc<LoadedAdapter>, context: SessionContext) -> AdapterSession {
        AdapterSession::new(adapter, context)
    }
}

/// The WIT interfaces a component imports and exports, by full name
/// (`regent:adapter/registry@0.1.0`, `wasi:io/streams@0.2.0`, ...).
#[derive(Debug, Clone, Default)]
pub struct ComponentInterfaces {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

impl AdapterEngine {
    /// What `bytes` imports and exports (compiled or taken from the cache).
    pub fn interfaces(&self, bytes: &[u8], origin: &str) -> Result<ComponentInterfaces, LoadError> {
        let digest = digest_of(bytes);
        let component = match self.inner.cache.load(&self.inner.engine, &digest) {
            Some(c) => c,
            None => Component::new(&self.inner.engine, bytes).map_err(|e| LoadError::Compile {
                origin: origin.to_owned(),
                message: format!("{e:#}"),
            })?,
        };
        let ty = component.component_type();
        Ok(ComponentInterfaces {
            imports: ty
                .imports(&self.inner.engine)
                .map(|(n, _)| n.to_owned())
                .collect(),
            exports: ty
                .exports(&self.inner.engine)
                .map(|(n, _)| n.to_owned())
                .collect(),
        })
    }
}

/// `sha256:<hex>` of component bytes: the identity of an adapter build.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Refuse components built against a contract version this host does not speak.
fn check_wit_version(
    engine: &Engine,
    component: &Component,
    origin: &str,
) -> Result<(), LoadError> {
    let ty = component.component_type();
    let prefix = format!("{WIT_PACKAGE}/");
    let mut found = Vec::new();
    let names = ty
        .exports(engine)
        .map(|(n, _)| n.to_owned())
        .chain(ty.imports(engine).map(|(n, _)| n.to_owned()));
    for name in names {
        if let Some(rest) = name.strip_prefix(&prefix) {
            let version = rest
                .split_once('@')
                .map(|(_, v)| v.to_owned())
                .unwrap_or_default();
            found.push((
                rest.split('@').next().unwrap_or_default().to_owned(),
                version,
            ));
        }
    }
    if !found.iter().any(|(iface, _)| iface == "registry") {
        return Err(LoadError::NotAnAdapter {
            origin: origin.to_owned(),
        });
    }
    if let Some((_, version)) = found
        .iter()
        .find(|(_, v)| !SUPPORTED_WIT_VERSIONS.contains(&v.as_str()))
    {
        return Err(LoadError::UnsupportedWitVersion {
            origin: origin.to_owned(),
            found: format!(
                "{WIT_PACKAGE}@{}",
                if version.is_empty() {
                    "(unversioned)"
                } else {
                    version
                }
            ),
            supported: SUPPORTED_WIT_VERSIONS
                .iter()
                .map(|v| format!("{WIT_PACKAGE}@{v}"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(())
}

/// Advance the epoch every tick for as long as the engine lives.
fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("regent-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(e) = spawned {
        eprintln!("regent: warning: no deadline ticker ({e}); adapter calls have no time limit");
    }
}
