//! Workloads 1 and 2: list the tags of a large repository; inspect many tags.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bench::Bench;
use crate::driver::{Tool, alternate};
use crate::report::Row;
use crate::seed::tag_names;
use crate::util::{Context, Res};

/// The listed (and inspected) repository.
pub const LIST_REPO: &str = "bench/list";

/// Seed the listed repository (untimed).
pub fn seed(bench: &Bench) -> Res<()> {
    let tags = tag_names("t", bench.sizes.list, 4);
    bench.seeder.seed(&bench.floor(), LIST_REPO, &tags)
}

/// Every distinct string in `value` (recursively) that `keep` accepts.
pub fn strings_where(value: &Value, keep: &dyn Fn(&str) -> bool, out: &mut HashSet<String>) {
    match value {
        Value::String(s) if keep(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| strings_where(v, keep, out)),
        Value::Object(map) => map.values().for_each(|v| strings_where(v, keep, out)),
        _ => {}
    }
}

fn check_count(what: &str, got: usize, want: usize) -> Res<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got}, expected {want}"))
    }
}

/// `regent tags` vs `skopeo list-tags` vs one `GET tags/list`.
pub fn list(bench: &Bench) -> Res<Row> {
    let want = bench.sizes.list;
    let regent = bench.regent()?;
    let target = regent.repo(LIST_REPO);
    let samples = alternate("list", bench.sizes.reps, &Tool::ALL, |tool, _| match tool {
        Tool::Skopeo => {
            let start = Instant::now();
            let tags = bench
                .skopeo()
                .try_list_tags(LIST_REPO)
                .map_err(|e| e.to_string())?;
            let time = start.elapsed();
            check_count("skopeo list-tags", tags.len(), want)?;
            Ok(time)
        }
        Tool::Regent => {
            let start = Instant::now();
            let output = regent.run(&["tags", &target, "--output", "json"])?;
            let time = start.elapsed();
            let value: Value = serde_json::from_slice(&output.stdout).ctx("regent tags JSON")?;
            let mut tags = HashSet::new();
            strings_where(&value, &|s| s.starts_with("t-"), &mut tags);
            check_count("regent tags", tags.len(), want)?;
            Ok(time)
        }
        Tool::Floor => {
            let start = Instant::now();
            let tags = bench.floor().list_tags(LIST_REPO)?;
            let time = start.elapsed();
            check_count("floor tags", tags.len(), want)?;
            Ok(time)
        }
    });
    Ok(Row::new(
        format!("list {} tags", bench.sizes.list),
        samples,
        Some(1.5),
        None,
    ))
}

/// One `regent inspect` of N references vs N `skopeo inspect --no-tags`
/// processes vs the floor's manifest + config GETs.
pub fn inspect(bench: &Bench) -> Res<Row> {
    let tags: Vec<String> = tag_names("t", bench.sizes.list, 4)
        .into_iter()
        .take(bench.sizes.inspect)
        .collect();
    let regent = bench.regent()?;
    let refs: Vec<String> = tags
        .iter()
        .map(|t| format!("{}:{t}", regent.repo(LIST_REPO)))
        .collect();
    let mut args: Vec<&str> = vec!["inspect", "--output", "json"];
    args.extend(refs.iter().map(String::as_str));
    let samples = alternate(
        "inspect",
        bench.sizes.reps,
        &Tool::ALL,
        |tool, _| -> Res<Duration> {
            match tool {
                Tool::Skopeo => {
                    let skopeo = bench.skopeo();
                    let start = Instant::now();
                    for tag in &tags {
                        skopeo
                            .try_inspect(&format!("{LIST_REPO}:{tag}"), &["--no-tags"])
                            .map_err(|e| e.to_string())?;
                    }
                    Ok(start.elapsed())
                }
                Tool::Regent => {
                    let start = Instant::now();
                    let output = regent.run(&args)?;
                    let time = start.elapsed();
                    let value: Value =
                        serde_json::from_slice(&output.stdout).ctx("regent inspect JSON")?;
                    let mut shown = HashSet::new();
                    strings_where(&value, &|s| refs.iter().any(|r| r == s), &mut shown);
                    check_count(
                        "references regent inspect reported",
                        shown.len(),
                        refs.len(),
                    )?;
                    Ok(time)
                }
                Tool::Floor => {
                    let start = Instant::now();
                    bench.floor().inspect(LIST_REPO, &tags)?;
                    Ok(start.elapsed())
                }
            }
        },
    );
    Ok(Row::new(
        format!("inspect {} tags", bench.sizes.inspect),
        samples,
        Some(10.0),
        Some(1.2),
    ))
}
