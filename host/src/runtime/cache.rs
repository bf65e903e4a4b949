//! The on-disk cache of compiled components.
//!
//! Compiling an adapter with Cranelift takes far longer than loading it, so
//! compiled code is kept under the user's cache directory, keyed by the
//! component's digest, the wasmtime version and the engine's settings.
//! Deserialising runs native code, so only files this host wrote are
//! accepted: each starts with a header carrying the SHA-256 of the rest,
//! the directory is private to the user, and a file that fails either check
//! is ignored and rewritten.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::types::AdapterInfo;
use crate::private_files::create_private_dir;

const MAGIC: &[u8; 8] = b"RGNTCW01";
const HEADER_LEN: usize = MAGIC.len() + 32;

/// Where compiled components are kept; `disabled` compiles every time.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
    /// The engine settings' hash, computed once by [`ComponentCache::bound_to`]
    /// (every file name carries it).
    engine_key: Option<u64>,
}

impl ComponentCache {
    /// A cache in `dir` (created on first write, private to the user).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            engine_key: None,
        }
    }

    /// No cache: every load compiles.
    pub fn disabled() -> Self {
        Self {
            dir: None,
            engine_key: None,
        }
    }

    /// `$REGENT_CACHE_DIR`, else the platform cache dir (`~/.cache/regent`).
    pub fn user_default() -> Self {
        match std::env::var_os("REGENT_CACHE_DIR") {
            Some(dir) if !dir.is_empty() => Self::at(PathBuf::from(dir).join("components")),
            _ => match dirs::cache_dir() {
                Some(dir) => Self::at(dir.join("regent").join("components")),
                None => Self::disabled(),
            },
        }
    }

    /// The directory, if caching is on.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// This cache for `engine`: its settings' hash is computed once here
    /// rather than for every file looked up.
    pub(super) fn bound_to(mut self, engine: &Engine) -> Self {
        self.engine_key = Some(engine_key(engine));
        self
    }

    fn path_for(&self, engine: &Engine, component_digest: &str) -> Option<PathBuf> {
        let key = self.engine_key.unwrap_or_else(|| engine_key(engine));
        let name = format!(
            "{}-wasmtime{}-{key:016x}.cwasm",
            component_digest.trim_start_matches("sha256:"),
            wasmtime_version(),
        );
        self.dir.as_ref().map(|d| d.join(name))
    }

    /// The cached compilation of the component with this digest, if present and intact.
    pub(super) fn load(&self, engine: &Engine, component_digest: &str) -> Option<Component> {
        let path = self.path_for(engine, component_digest)?;
        let bytes = fs::read(&path).ok()?;
        let payload = verified_payload(&bytes)?;
        // SAFETY: the payload was written by `store` below from
        // `Component::serialize` (checked by the SHA-256 header); wasmtime
        // also checks its own version and settings inside the payload.
        unsafe { Component::deserialize(engine, payload) }.ok()
    }

    /// Keep a compiled component. Failures are reported, never fatal to the caller.
    pub(super) fn store(
        &self,
        engine: &Engine,
        component_digest: &str,
        component: &Component,
    ) -> Result<(), String> {
        let Some(path) = self.path_for(engine, component_digest) else {
            return Ok(());
        };
        let dir = path.parent().ok_or("cache path has no parent")?;
        create_private_dir(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let payload = component.serialize().map_err(|e| e.to_string())?;
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
        file.write_all(MAGIC).map_err(|e| e.to_string())?;
        file.write_all(&Sha256::digest(&payload))
            .map_err(|e| e.to_string())?;
        file.write_all(&payload).map_err(|e| e.to_string())?;
        file.persist(&path).map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl ComponentCache {
    fn info_path(&self, engine: &Engine, component_digest: &str) -> Option<PathBuf> {
        self.path_for(engine, component_digest)
            .map(|p| p.with_extension(format!("regent{}.info.json", env!("CARGO_PKG_VERSION"))))
    }

    /// The validated info this host recorded for a component, if cached.
    pub(super) fn load_info(&self, engine: &Engine, component_digest: &str) -> Option<AdapterInfo> {
        let bytes = fs::read(self.info_path(engine, component_digest)?).ok()?;
        let payload = verified_payload(&bytes)?;
        serde_json::from_slice(payload).ok()
    }

    /// Record a component's validated info; failures only cost a later probe.
    pub(super) fn store_info(&self, engine: &Engine, component_digest: &str, info: &AdapterInfo) {
        let Some(path) = self.info_path(engine, component_digest) else {
            return;
        };
        let Ok(payload) = serde_json::to_vec(info) else {
            return;
        };
        let write = || -> std::io::Result<()> {
            let dir = path
                .parent()
                .ok_or_else(|| std::io::Error::other("no parent"))?;
            create_private_dir(dir)?;
            let mut file = tempfile::NamedTempFile::new_in(dir)?;
            file.write_all(MAGIC)?;
            file.write_all(&Sha256::digest(&payload))?;
            file.write_all(&payload)?;
            file.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        let _ = write();
    }
}

/// A hash of everything in `engine`'s settings that compiled code depends on.
fn engine_key(engine: &Engine) -> u64 {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.finish()
}

fn verified_payload(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.len() < HEADER_LEN || &bytes[..MAGIC.len()] != MAGIC {
        return None;
    }
    let (header, payload) = bytes.split_at(HEADER_LEN);
    (Sha256::digest(payload).as_slice() == &header[MAGIC.len()..]).then_some(payload)
}

/// The exact wasmtime version, read from Cargo.lock by `build.rs`.
fn wasmtime_version() -> &'static str {
    env!("REGENT_WASMTIME_VERSION")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_files_it_did_not_write() {
        assert!(verified_payload(b"short").is_none());
        let mut forged = MAGIC.to_vec();
        forged.extend_from_slice(&[0u8; 32]);
        forged.extend_from_slice(b"native code");
        assert!(verified_payload(&forged).is_none());
        let mut good = MAGIC.to_vec();
        good.extend_from_slice(&Sha256::digest(b"native code"));
        good.extend_from_slice(b"native code");
        assert_eq!(verified_payload(&good), Some(&b"native code"[..]));
    }
}
