//! An adapter's `registry-login` supplies credentials when the Docker config
//! has none for the registry (how ECR and ACR work without `docker login`).

use std::time::Duration;

use regent::adapters::AdapterCatalog;
use regent::registry::access::{AccessOptions, RegistryAccess};
use regent::registry::distribution::TransportOptions;
use regent::runtime::{AdapterEngine, AdapterSource, ComponentCache, SandboxLimits, SettingValues};
use regent_tests::components::component;
use regent_tests::registry::{RegistrySetup, TestRegistry};

fn access(
    registry: &TestRegistry,
    token: Option<&str>,
    docker_config: &std::path::Path,
) -> RegistryAccess {
    let limits = SandboxLimits {
        call_deadline: Duration::from_secs(10),
        ..SandboxLimits::default()
    };
    let engine = AdapterEngine::new(limits, ComponentCache::disabled()).expect("engine");
    let package = "regent-test-adapter-hostile";
    let loaded = engine
        .load(
            AdapterSource::Installed {
                from: package.into(),
            },
            component(package),
        )
        .expect("load");
    let mut catalog = AdapterCatalog::default();
    catalog.add(loaded);
    let detected = catalog
        .detect(&registry.authority(), Some(("hostile", "the test")))
        .expect("explicit adapter");
    let mut settings = SettingValues::new();
    if let Some(t) = token {
        settings.insert("declared-token", t);
    }
    let options = AccessOptions {
        transport: TransportOptions {
            insecure_registries: vec![registry.authority()],
            ..TransportOptions::default()
        },
        docker_config: Some(docker_config.to_path_buf()),
        settings,
        verbose: false,
    };
    RegistryAccess::open(detected, &options).expect("open")
}

#[test]
fn adapter_login_is_used_when_the_docker_config_has_nothing() {
    let registry = TestRegistry::start(RegistrySetup::htpasswd("cloud", "from-the-cloud-api"));
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let with_login = access(&registry, Some("cloud:from-the-cloud-api"), dir.path());
        let tags = with_login
            .client()
            .catalog(None)
            .await
            .expect("the adapter's credentials open the registry");
        assert!(tags.is_empty());

        let wrong = access(&registry, Some("cloud:wrong"), dir.path());
        let error = wrong
            .client()
            .catalog(None)
            .await
            .expect_err("wrong credentials are refused");
        assert!(
            error.to_string().contains("401")
                || error.to_string().to_lowercase().contains("unauthorized"),
            "{error}"
        );

        let without = access(&registry, None, dir.path());
        assert!(
            without.client().catalog(None).await.is_err(),
            "no credentials anywhere: refused"
        );
    });
}
