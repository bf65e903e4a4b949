//! The memory figure: `regent cleanup --dry-run --output json` over a
//! repository of very many tags served by [`crate::fake::FakeRegistry`],
//! with a policy that deletes half of them; wall time and peak RSS.

use crate::bench::Bench;
use crate::driver::{Samples, Tool};
use crate::fake::{FakeRegistry, REPO};
use crate::memory::measure;
use crate::regent_runs::delete_policy;
use crate::report::Row;
use crate::util::{Context, Res};

/// The peak RSS target of the issue, MiB.
const MAX_RSS_MIB: f64 = 200.0;

/// The plan row, and a line saying how many requests the fake answered.
pub fn row(bench: &Bench) -> Res<(Row, String)> {
    let tags = bench.sizes.plan_tags;
    let label = format!("dry-run plan over {tags} tags (fake registry), half deleted");
    let fake = FakeRegistry::start(tags)?;
    let policy = bench.path("plan-policy.yaml");
    // Tags are t-000000 ...; the even ones go (the regex must match the
    // whole tag).
    std::fs::write(&policy, delete_policy("t-[0-9]*[02468]")).ctx("write the plan policy")?;
    let regent = bench.cli.at(&fake.authority(), None)?;
    let audit = bench.path("audit-plan.jsonl");
    let repo = regent.repo(REPO);
    let (policy, audit) = (policy.display().to_string(), audit.display().to_string());
    let command = regent.command(&[
        "cleanup",
        "--repo",
        &repo,
        "--policy",
        &policy,
        "--dry-run",
        "--output",
        "json",
        "--audit-log",
        &audit,
    ]);
    println!("  plan: {tags} tags on {} ...", fake.authority());
    let mut samples = Samples::default();
    let (note, met, requests) = match measure(command) {
        Ok(measured) => {
            let mib = measured.peak_kib.map(|k| k as f64 / 1024.0);
            println!(
                "  plan: {:.2} s, peak RSS {}",
                measured.wall.as_secs_f64(),
                mib.map_or("unknown".into(), |m| format!("{m:.0} MiB"))
            );
            samples.record(Tool::Regent, Ok(measured.wall));
            (
                mib.map_or("peak RSS unknown".into(), |m| {
                    format!("peak RSS {m:.0} MiB")
                }),
                mib.map(|m| m <= MAX_RSS_MIB),
                fake.requests(),
            )
        }
        Err(error) => {
            println!("  plan: FAILED: {error}");
            samples.record(Tool::Regent, Err(error));
            ("".into(), None, fake.requests())
        }
    };
    let mut row = Row::new(label, samples, None, None);
    row.other_target = Some((format!("peak RSS ≤ {MAX_RSS_MIB:.0} MiB"), met));
    row.regent_note = (!note.is_empty()).then_some(note);
    let line = format!("the fake registry answered {requests} requests for the {tags}-tag plan");
    Ok((row, line))
}
