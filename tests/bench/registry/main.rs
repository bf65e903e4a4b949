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
    let origin = Origin {
        built: std::fs::metadata(&bin)
            .and_then(|m| m.modified())
            .map(|t| humantime::format_rfc3339_seconds(t).to_string())
            .unwrap_or_else(|_| "unknown".into()),
        source: source_state(),
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
    let timing = Timing {
        total,
        seeding,
        first_run,
        load,
        origin,
    };
    let section = section(&bench, &table, &failures, &plan_line, &timing);
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

/// Which build profile `bin` comes from, in words.
fn profile(bin: &Path) -> String {
    let path = bin.display().to_string();
    if path.contains("/release/") {
        "release profile".into()
    } else if path.contains("/debug/") {
        "dev profile, the one the tests use: dependencies at opt-level 2, regent's own crates at opt-level 0".into()
    } else {
        "profile unknown".into()
    }
}

/// `commit` (and whether the working tree had other changes) of the checkout.
fn source_state() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let head = report::version_of(
        "git",
        &[
            "-C",
            &root.display().to_string(),
            "rev-parse",
            "--short",
            "HEAD",
        ],
    );
    let dirty = std::process::Command::new("git")
        .args([
            "-C",
            &root.display().to_string(),
            "status",
            "--porcelain",
            "--untracked-files=no",
        ])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        format!("commit {head} plus uncommitted changes in the working tree")
    } else {
        format!("commit {head}")
    }
}

/// How long the run took, and how busy the machine was.
struct Timing {
    total: std::time::Duration,
    seeding: std::time::Duration,
    first_run: std::time::Duration,
    /// Load averages before and after.
    load: (String, String),
    origin: Origin,
}

/// When the measured binary was built, and from which source.
struct Origin {
    built: String,
    source: String,
}

fn section(
    bench: &Bench,
    table: &str,
    failures: &[String],
    plan_line: &str,
    timing: &Timing,
) -> String {
    let bin = bench.cli.original();
    let s = &bench.sizes;
    let mut text = format!(
        "{heading}\n\n\
Written by `cargo run -p regent-tests --bin registry-bench` (`just bench`) on {date}.\n\n\
- Machine: {machine}; load average (1, 5, 15 min) {load_before} before the run, {load_after} after it (the machine is shared: other builds and tests may run at the same time, so single figures are noisy).\n\
- Registry: {registry}, htpasswd (Basic) auth, filesystem storage, deletes enabled, on loopback.\n\
- skopeo: {skopeo} (`skopeo --version`).\n\
- regent: `{bin}` ({profile}), built {built} from {source}; run from a copy taken at the start.\n\
- Medians of {reps} alternating repetitions (the contender that starts rotates). The whole run took {total:.0} s, of which seeding {seeding:.1} s; regent's first run with an empty compile cache took {first:.2} s (untimed warm-up; every timed run loads its adapter from the cache).\n\n\
{table}\n\n",
        heading = report::HEADING,
        date = report::now_utc(),
        machine = report::machine(),
        registry = report::version_of("docker-registry", &["--version"]),
        skopeo = report::version_of("skopeo", &["--version"]),
        bin = bin.display(),
        profile = profile(bin),
        built = timing.origin.built,
        source = timing.origin.source,
        reps = s.reps,
        total = timing.total.as_secs_f64(),
        seeding = timing.seeding.as_secs_f64(),
        first = timing.first_run.as_secs_f64(),
        load_before = timing.load.0,
        load_after = timing.load.1,
    );
    text.push_str(&format!(
        "How each row is measured (every timed run is checked afterwards; set-up and re-seeding are not timed):\n\n\
- **list**: `regent tags REPO --output json` vs `skopeo list-tags`; floor: one `GET tags/list`.\n\
- **inspect**: one `regent inspect --output json REF1 ... REF{n}` vs {n} sequential `skopeo inspect --no-tags` (skopeo's default also lists every tag of the repository, which regent's inspect does not show, so `--no-tags` asks both for the same information); floor: `GET` manifest and config per tag.\n\
- **delete**: each tag has its own image (digest). `regent cleanup --repo R --policy P --audit-log FILE` with `freshness: 0s`, `protected-tags: []` and one delete rule `tags: {{match: 'del-.*'}}` (regent matches the regex against the whole tag), vs {d} sequential `skopeo delete R:del-NNN`; floor: one `GET tags/list`, a `HEAD` of every tag (8 threads; a tag-safe client must know the kept tags' digests too, since a digest delete removes every tag on it), then one `DELETE` by digest at a time (the 2.8 registry answers 500 to overlapping manifest deletes in one repository); it does not re-check tags before deleting, as regent's cleanup must. The deleted tags are pushed back before every run.\n\
- **copy, cold**: a fresh registry per run, so no blob exists anywhere in its storage (and skopeo's blob-info cache cannot mount one); `regent copy oci:LAYOUT:big HOST/bench/big:TAG` vs `skopeo copy oci:LAYOUT:big docker://...`. The layer is gzip (random, so incompressible) and is uploaded unchanged by all three. **warm**: the target repository already holds every blob; only the tag is new.\n\
- **copy {m} images**: one `regent push-all --from oci:LAYOUT --to HOST/bench/many-TOOL-REP` vs {m} sequential `skopeo copy`, each run into new repositories (blobs already in the registry's storage from earlier runs, but not linked to those repositories; skopeo may mount them thanks to its blob-info cache, regent uploads them).\n\
- **start-up**: {k} sequential `regent tags` of a one-tag repository (loads the registry's adapter from the cache) vs {k} `skopeo list-tags` of it: the same requests, so the difference is start-up. `--version` shows bare process start.\n\
- **plan**: `regent cleanup --dry-run --output json > /dev/null` against a fake registry in the benchmark serving {p} tags (each its own manifest, one shared config with an old `created`; `tags/list` in one page, as 2.8 does), with a policy that deletes the even-numbered half; wall time and peak RSS (`VmHWM` from `/proc/PID/status`, sampled every millisecond). One run; {plan_line}.\n\
- **floor**: a minimal client in the benchmark (ureq, keep-alive, Basic auth on every request without a `/v2/` probe, 8 threads) that sends only the requests the job needs; a fresh client (no open connection) per run. It runs in-process, so it pays no process start-up.\n",
        n = s.inspect,
        d = s.delete,
        m = s.many,
        k = s.startup_runs,
        p = s.plan_tags,
    ));
    if failures.is_empty() {
        text.push_str("\nNo run failed.\n");
    } else {
        text.push_str("\nFailures (exact command and error):\n\n");
        for line in failures {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}
