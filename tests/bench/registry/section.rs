//! The text of this benchmark's section in `bench/RESULTS.md`: where and
//! what was measured, the table, how each row is measured, and failures.

use std::path::Path;

use crate::bench::Bench;
use crate::report::{self, Row};

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
pub fn source_state() -> String {
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
pub struct Timing {
    /// The whole run.
    pub total: std::time::Duration,
    /// Seeding and layouts (untimed set-up).
    pub seeding: std::time::Duration,
    /// regent's first run, compiling its adapter into the empty cache.
    pub first_run: std::time::Duration,
    /// Load averages before and after.
    pub load: (String, String),
    /// What was measured.
    pub origin: Origin,
}

/// When the measured binary was built, and from which source.
pub struct Origin {
    /// The binary's modification time.
    pub built: String,
    /// Commit, and whether the working tree had changes.
    pub source: String,
}

/// The whole section, heading included.
pub fn section(
    bench: &Bench,
    rows: &[Row],
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
- Medians of {reps} alternating repetitions (the contender that starts rotates). The whole run took {total:.0} s, of which seeding {seeding:.1} s; regent's first run with an empty compile cache took {first:.2} s (untimed warm-up; every timed run loads its adapter from the cache, and sends the Basic credentials up front because that cache also records that this registry asked for them).\n\n\
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
    text.push_str(&format!(
        "\nskopeo/floor, the most any client could gain over skopeo on each job against this registry: {}.\n",
        report::ceilings(rows)
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
