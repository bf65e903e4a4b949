//! A bundled adapter under test: its component bytes, and a session with
//! the given settings whose HTTP runs on a runtime owned by the session, so
//! adapter tests do not each rebuild the same engine, runtime and outbound.

use std::sync::Arc;

use regent::runtime::{
    AdapterEngine, AdapterSession, AdapterSource, ComponentCache, Outbound, SandboxLimits,
    SessionContext, SettingValues,
};

/// The component of bundled adapter `package` (e.g. `regent-adapter-quay`).
pub fn bundled(package: &str) -> &'static [u8] {
    regent::adapters::bundled_components()
        .iter()
        .find(|(p, _)| *p == package)
        .map(|(_, b)| *b)
        .unwrap_or_else(|| panic!("{package} is not bundled"))
}

/// A live session and the runtime its `http-send` calls run on (kept alive
/// as long as the session).
pub struct AdapterUnderTest {
    _runtime: tokio::runtime::Runtime,
    pub session: AdapterSession,
}

/// A session of bundled adapter `package` for `registry` with `settings`,
/// under the default sandbox limits.
pub fn session(package: &str, registry: &str, settings: &[(&str, &str)]) -> AdapterUnderTest {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let engine =
        AdapterEngine::new(SandboxLimits::default(), ComponentCache::disabled()).expect("engine");
    let loaded = engine
        .load(
            AdapterSource::Bundled {
                package: package.into(),
            },
            bundled(package),
        )
        .unwrap_or_else(|e| panic!("{package} loads: {e}"));
    let mut values = SettingValues::new();
    for (name, value) in settings {
        values.insert(*name, *value);
    }
    let outbound = Outbound::new(
        Outbound::default_client().expect("client"),
        runtime.handle().clone(),
    );
    let session = engine.session(
        Arc::new(loaded),
        SessionContext {
            registry: Some(registry.into()),
            settings: values,
            outbound: Some(Arc::new(outbound)),
            verbose: false,
        },
    );
    AdapterUnderTest {
        _runtime: runtime,
        session,
    }
}
