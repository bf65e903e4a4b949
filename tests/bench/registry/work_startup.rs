//! Workload 6: start-up. The fairest pair that loads an adapter is a job
//! both tools do with the same requests: list the tags of a one-tag
//! repository (`regent tags` loads the registry's adapter from the cache;
//! `skopeo list-tags` reads its config and policy files), N times in a row
//! as a script would. A second row, `--version`, shows bare process start.

use std::time::Instant;

use crate::bench::Bench;
use crate::driver::{Tool, alternate};
use crate::regent_runs::run;
use crate::report::Row;
use crate::util::Res;

/// The one-tag repository.
pub const REPO: &str = "bench/startup";

/// Seed it (untimed).
pub fn seed(bench: &Bench) -> Res<()> {
    bench.seeder.seed(&bench.floor(), REPO, &["v1".to_owned()])
}

/// The start-up rows.
pub fn rows(bench: &Bench) -> Res<Vec<Row>> {
    let n = bench.sizes.startup_runs;
    let regent = bench.regent()?;
    let target = regent.repo(REPO);
    let tags = alternate(
        "start-up (tags)",
        bench.sizes.reps,
        &Tool::ALL,
        |tool, _| {
            let start = Instant::now();
            for _ in 0..n {
                match tool {
                    Tool::Skopeo => {
                        bench
                            .skopeo()
                            .try_list_tags(REPO)
                            .map_err(|e| e.to_string())?;
                    }
                    Tool::Regent => {
                        regent.run(&["tags", &target])?;
                    }
                    Tool::Floor => {
                        bench.floor().list_tags(REPO)?;
                    }
                }
            }
            Ok(start.elapsed())
        },
    );
    let version = alternate(
        "start-up (--version)",
        bench.sizes.reps,
        &[Tool::Skopeo, Tool::Regent],
        |tool, _| {
            let start = Instant::now();
            let skopeo = bench.skopeo();
            for _ in 0..n {
                match tool {
                    Tool::Regent => {
                        run(bench.cli.bare(&["--version"]))?;
                    }
                    _ => {
                        skopeo
                            .run(&["--version".to_owned()])
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
            Ok(start.elapsed())
        },
    );
    let mut rows = vec![
        Row::new(
            format!("start-up: {n} × list tags of a 1-tag repo (one adapter loaded)"),
            tags,
            Some(1.0),
            None,
        ),
        Row::new(
            format!("start-up: {n} × `--version` (no adapter, no network; for reference)"),
            version,
            None,
            None,
        ),
    ];
    for row in &mut rows {
        // The in-process floor pays no start-up, the very thing measured.
        row.ceiling = false;
    }
    Ok(rows)
}
