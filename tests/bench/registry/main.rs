//! `registry-bench`: issue 8's benchmark. It starts the real CNCF
//! distribution registry (Basic auth, filesystem storage, deletes enabled),
//! seeds it, and times the same jobs done by skopeo (one process per
//! operation, as a script runs it), by regent (one process per job) and by
//! the floor (a minimal client inside this benchmark, see [`floor`]),
//! alternating, several repetitions, and reports medians and ratios. It
//! also measures regent's wall time and peak memory for a dry-run plan over
//! a very large (fake) repository.
//!
//! Printed, and written as the `## Registry: regent vs skopeo vs the floor`
//! section of `bench/RESULTS.md` (the rest of the file is kept). Timing
//! belongs here, never in tests; the only checks are that each job did what
//! it should (tags listed, deleted, images copied with the right digests).
//!
//! `--quick`: smaller sizes and one repetition, results not written (a
//! smoke check). `--reps N`: repetitions (default 3). `REGENT_BIN` picks the
//! binary; by default the `regent` beside this benchmark in the target dir.

mod bench;
mod driver;
mod fake;
mod floor;
mod memory;
mod regent_runs;
mod report;
mod section;
mod seed;
mod util;
mod work_copy;
mod work_delete;
mod work_plan;
mod work_read;
mod work_startup;

use std::path::{Path, PathBuf};
use std::time::Instant;

use bench::{Bench, Sizes};
use report::Row;
use util::{Context, Res};

/// What the command line asked for.
struct Args {
    quick: bool,
    reps: Option<usize>,
}

fn parse_args() -> Res<Args> {
    let mut args = Args {
        quick: false,
        reps: None,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--reps" => {
                let n = iter.next().ok_or("--reps needs a number")?;
                args.reps = Some(n.parse().ctx(format!("--reps {n}"))?);
            }
            "-h" | "--help" => {
                println!(
                    "registry-bench [--quick] [--reps N]\n  --quick   smaller sizes, 1 repetition, RESULTS.md not written\n  --reps N  repetitions per contender (default 3)\nREGENT_BIN overrides the regent binary."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if args.reps == Some(0) {
        return Err("--reps must be at least 1".into());
    }
    Ok(args)
}

fn main() {
    if let Err(error) = run() {
        eprintln!("registry-bench: error: {error}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let started = Instant::now();
    let load_before = report::load_average();
    let args = parse_args()?;
    let sizes = if args.quick {
        let mut sizes = Sizes::quick();
        sizes.reps = args.reps.unwrap_or(1);
        sizes
    } else {
        Sizes::full(args.reps.unwrap_or(3))
    };
    let bin = regent_bin()?;
    println!(
        "registry-bench{}: {} repetitions; regent = {}",
        if args.quick { " --quick" } else { "" },
        sizes.reps,
        bin.display()
    );
    // What is measured, read before the copy is taken: others may rebuild
    // or commit in the same checkout while the benchmark runs.
    let origin = section::Origin {
        built: std::fs::metadata(&bin)
            .and_then(|m| m.modified())
            .map(|t| humantime::format_rfc3339_seconds(t).to_string())
            .unwrap_or_else(|_| "unknown".into()),
        source: section::source_state(),
    };
    let bench = Bench::new(sizes, bin)?;
    println!("registry at {} (htpasswd)", bench.registry.authority());

    let seeding = Instant::now();
    work_read::seed(&bench)?;
    work_delete::seed(&bench)?;
    work_startup::seed(&bench)?;
    let layouts = work_copy::Layouts::build(&bench)?;
    let seeding = seeding.elapsed();
    println!("seeded in {:.1} s", seeding.as_secs_f64());

    // Warm-up (untimed): regent compiles its adapter into the empty cache
    // once; every timed run after that loads it from the cache.
    let warm = Instant::now();
    bench
        .regent()?
        .run(&["tags", &bench.regent()?.repo(work_startup::REPO)])
        .map_err(|e| format!("warm-up failed: {e}"))?;
    let first_run = warm.elapsed();
    println!(
        "first regent run (empty compile cache): {:.2} s",
        first_run.as_secs_f64()
    );
    bench
        .skopeo()
        .try_list_tags(work_startup::REPO)
        .map_err(|e| format!("skopeo warm-up failed: {e}"))?;

    let mut rows: Vec<Row> = Vec::new();
    rows.push(work_read::list(&bench)?);
    rows.push(work_read::inspect(&bench)?);
    rows.extend(work_delete::rows(&bench)?);
    rows.extend(work_copy::big(&bench, &layouts)?);
    rows.push(work_copy::many(&bench, &layouts)?);
    rows.extend(work_startup::rows(&bench)?);
    let (plan_row, plan_line) = work_plan::row(&bench)?;
    rows.push(plan_row);

    let total = started.elapsed();
    let load = (load_before, report::load_average());
    println!("load average before: {}, after: {}", load.0, load.1);
    let table = report::table(&rows);
    println!("\n{table}\n");
    println!("skopeo/floor: {}", report::ceilings(&rows));
    let failures = report::failures(&rows);
    for line in &failures {
        println!("{line}");
    }
    println!(
        "whole run: {:.0} s (seeding {:.1} s)",
        total.as_secs_f64(),
        seeding.as_secs_f64()
    );
    if args.quick {
        println!("--quick: bench/RESULTS.md not written");
        return Ok(());
    }
    let timing = section::Timing {
        total,
        seeding,
        first_run,
        load,
        origin,
    };
    let section = section::section(&bench, &rows, &table, &failures, &plan_line, &timing);
    let results = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace dir")?
        .join("bench")
        .join("RESULTS.md");
    report::write_section(&results, &section)?;
    println!(
        "wrote the `{}` section of {}",
        report::HEADING,
        results.display()
    );
    Ok(())
}

/// `$REGENT_BIN`, else `regent` beside this executable (`target/<profile>/`).
fn regent_bin() -> Res<PathBuf> {
    if let Some(path) = std::env::var_os("REGENT_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ctx("this executable's path")?;
    let sibling = exe
        .parent()
        .map(|dir| dir.join("regent"))
        .ok_or("no target dir")?;
    if sibling.is_file() {
        Ok(sibling)
    } else {
        Err(format!(
            "{} is missing: run `cargo build -p regent` first (just bench does)",
            sibling.display()
        ))
    }
}
