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
    session_of(bundled(package), package, registry, settings)
}

/// A session of the component `bytes` (e.g. a test adapter from
/// [`crate::components::component`]), loaded under the label `name` and
/// trusted like a bundled adapter with everything it declares, for
/// `registry` with `settings`, under the default sandbox limits.
pub fn session_of(
    bytes: &'static [u8],
    name: &str,
    registry: &str,
    settings: &[(&str, &str)],
) -> AdapterUnderTest {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let engine =
        AdapterEngine::new(SandboxLimits::default(), ComponentCache::disabled()).expect("engine");
    let loaded = engine
        .load(
            AdapterSource::Bundled {
                package: name.into(),
            },
            bytes,
        )
        .unwrap_or_else(|e| panic!("{name} loads: {e}"));
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

/// Registry access to `registry` (plain HTTP) through bundled adapter
/// `package`, forced as kind `kind`, with `settings` and the Docker config in
/// `docker_dir`; what the host builds for a command, for adapter tests that
/// also need the Registry API client or the credential fallback. Must be
/// called inside a tokio runtime.
pub fn registry_access(
    package: &str,
    kind: &str,
    registry: &str,
    settings: &[(&str, &str)],
    docker_dir: &std::path::Path,
) -> regent::registry::access::RegistryAccess {
    registry_access_of(
        bundled(package),
        package,
        kind,
        registry,
        settings,
        docker_dir,
    )
}

/// Like [`registry_access`], for the component `bytes` (e.g. a test adapter
/// from [`crate::components::component`]) loaded under the label `name` and
/// trusted like a bundled adapter with everything it declares.
pub fn registry_access_of(
    bytes: &'static [u8],
    name: &str,
    kind: &str,
    registry: &str,
    settings: &[(&str, &str)],
    docker_dir: &std::path::Path,
) -> regent::registry::access::RegistryAccess {
    let limits = SandboxLimits {
        call_deadline: std::time::Duration::from_secs(30),
        ..SandboxLimits::default()
    };
    let engine = AdapterEngine::new(limits, ComponentCache::disabled()).expect("engine");
    let loaded = engine
        .load(
            AdapterSource::Bundled {
                package: name.into(),
            },
            bytes,
        )
        .unwrap_or_else(|e| panic!("{name} loads: {e}"));
    let mut catalog = regent::adapters::AdapterCatalog::default();
    catalog.add(loaded);
    let detected = catalog
        .detect(registry, Some((kind, "the test")))
        .expect("explicit adapter");
    let mut values = SettingValues::new();
    for (name, value) in settings {
        values.insert(*name, *value);
    }
    let options = regent::registry::access::AccessOptions {
        transport: regent::registry::distribution::TransportOptions {
            insecure_registries: vec![registry.to_owned()],
            ..Default::default()
        },
        docker_config: Some(docker_dir.to_path_buf()),
        settings: values,
        verbose: false,
    };
    regent::registry::access::RegistryAccess::open(detected, &options).expect("open")
}
