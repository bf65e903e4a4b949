//! Micro-benchmarks of the adapter runtime: loading a component from the
//! compile cache, instantiating it for a command, and one small call.
//! Prints medians and writes them to `bench/RESULTS.md`. Timing belongs here,
//! never in tests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use regent::runtime::{
    AdapterEngine, AdapterSource, ComponentCache, SandboxLimits, SessionContext,
};
use regent_tests::components::component;

const PACKAGE: &str = "regent-test-adapter-hostile";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn measure(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let engine = AdapterEngine::new(SandboxLimits::default(), ComponentCache::at(dir.path()))?;
    let bytes = component(PACKAGE);
    let source = || AdapterSource::Bundled {
        package: PACKAGE.into(),
    };

    let start = Instant::now();
    let adapter = Arc::new(engine.load(source(), bytes)?);
    let cold = start.elapsed();
    let cached = measure(20, || {
        engine.load(source(), bytes).expect("cached load");
    });
    let instantiate = measure(200, || {
        let mut session = engine.session(adapter.clone(), SessionContext::default());
        session
            .list_tags("env", None)
            .expect("first call instantiates");
    });
    let mut session = engine.session(adapter.clone(), SessionContext::default());
    session.list_tags("env", None)?;
    let call = measure(2000, || {
        session.list_tags("env", None).expect("call");
    });

    let rows = [
        ("compile a component (cold, no cache)", cold),
        (
            "load a component from the cache (deserialize + link + info)",
            cached,
        ),
        ("fresh store + instantiate + first call", instantiate),
        ("one small call on a live instance", call),
    ];
    let mut table = String::from("| adapter runtime | median |\n|---|---|\n");
    for (what, d) in rows {
        println!("{what:<62} {d:>12.2?}");
        table.push_str(&format!("| {what} | {d:.2?} |\n"));
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/RESULTS.md");
    let body = format!(
        "# Benchmark results\n\nWritten by `just bench` on {} ({} cores). Component: `{PACKAGE}` ({} KiB).\n\n{table}",
        std::process::Command::new("date")
            .arg("-u")
            .arg("+%Y-%m-%d %H:%M UTC")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        bytes.len() / 1024
    );
    std::fs::create_dir_all(out.parent().ok_or("no parent")?)?;
    std::fs::write(&out, body)?;
    println!("wrote {}", out.display());
    Ok(())
}
