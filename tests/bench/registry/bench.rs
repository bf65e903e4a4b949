//! The benchmark's shared state: sizes, the registry, regent's environment
//! and the temp directory that layouts, policies and audit logs live in.

use std::path::PathBuf;

use regent_tests::registry::{RegistrySetup, TestRegistry};
use regent_tests::skopeo::Skopeo;

use crate::floor::Floor;
use crate::regent_runs::{Regent, RegentCli};
use crate::seed::TagSeeder;
use crate::util::{Context, Res};

/// The registry's Basic credentials.
pub const USER: &str = "bench";
/// The registry's password.
pub const PASSWORD: &str = "bench-s3cret";

/// How much work each workload does.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Repetitions per contender.
    pub reps: usize,
    /// Tags in the listed repository.
    pub list: usize,
    /// Tags inspected.
    pub inspect: usize,
    /// Tags deleted per delete run.
    pub delete: usize,
    /// Tags in the larger delete repository.
    pub delete_total: usize,
    /// Size of the big layer, bytes.
    pub big_layer: usize,
    /// Images in the many-images copy.
    pub many: usize,
    /// Sequential runs in the start-up workload.
    pub startup_runs: usize,
    /// Tags in the fake registry for the memory plan.
    pub plan_tags: usize,
}

impl Sizes {
    /// The sizes.
    pub fn full(reps: usize) -> Self {
        Self {
            reps,
            list: 1000,
            inspect: 100,
            delete: 200,
            delete_total: 1000,
            big_layer: 50 << 20,
            many: 20,
            startup_runs: 10,
            plan_tags: 100_000,
        }
    }

    /// A smoke check: everything smaller, one repetition.
    pub fn quick() -> Self {
        Self {
            reps: 1,
            list: 100,
            inspect: 10,
            delete: 20,
            delete_total: 100,
            big_layer: 5 << 20,
            many: 5,
            startup_runs: 3,
            plan_tags: 5_000,
        }
    }
}

/// Everything the workloads share.
pub struct Bench {
    /// The sizes in use.
    pub sizes: Sizes,
    /// The registry most workloads run against (Basic auth, deletes on).
    pub registry: TestRegistry,
    /// regent and its private cache and configs.
    pub cli: RegentCli,
    /// Seeds tag repositories.
    pub seeder: TagSeeder,
    dir: tempfile::TempDir,
}

impl Bench {
    /// Start the registry and prepare regent's environment.
    pub fn new(sizes: Sizes, regent_bin: PathBuf) -> Res<Self> {
        let dir = tempfile::Builder::new()
            .prefix("regent-registry-bench-")
            .tempdir()
            .ctx("bench temp dir")?;
        // Run a private copy: a rebuild in the shared target dir during the
        // run must not change the binary under measurement.
        let copy = dir.path().join("bin").join("regent");
        std::fs::create_dir_all(dir.path().join("bin")).ctx("create the bin dir")?;
        std::fs::copy(&regent_bin, &copy).ctx(format!("copy {}", regent_bin.display()))?;
        let registry = start_registry();
        let cli = RegentCli::new(copy, regent_bin, &dir.path().join("regent"))?;
        Ok(Self {
            sizes,
            registry,
            cli,
            seeder: TagSeeder::new(),
            dir,
        })
    }

    /// A path in the bench's temp dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A fresh floor client (no open connections) for the main registry.
    pub fn floor(&self) -> Floor {
        floor_for(&self.registry)
    }

    /// skopeo with the main registry's credentials.
    pub fn skopeo(&self) -> Skopeo<'_> {
        Skopeo::new(&self.registry)
    }

    /// regent pointed at the main registry.
    pub fn regent(&self) -> Res<Regent<'_>> {
        self.cli
            .at(&self.registry.authority(), self.registry.credentials())
    }
}

/// A fresh registry like the main one (Basic auth, filesystem storage,
/// deletes enabled), with empty storage.
pub fn start_registry() -> TestRegistry {
    TestRegistry::start(RegistrySetup::htpasswd(USER, PASSWORD))
}

/// A fresh floor client for `registry`.
pub fn floor_for(registry: &TestRegistry) -> Floor {
    Floor::new(&registry.base_url(), registry.credentials())
}
