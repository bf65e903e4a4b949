//! Workload 3: delete D tags out of D, and D out of a larger repository.
//! Before every run the deleted tags are put back (untimed), each with its
//! own image, and afterwards the repository must hold exactly the kept tags.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::bench::Bench;
use crate::driver::{Tool, alternate};
use crate::regent_runs::delete_policy;
use crate::report::Row;
use crate::seed::tag_names;
use crate::util::{Context, Res};

/// One delete case.
struct Case {
    repo: &'static str,
    delete: Vec<String>,
    keep: Vec<String>,
}

impl Case {
    fn new(repo: &'static str, delete: usize, total: usize) -> Self {
        Self {
            repo,
            delete: tag_names("del", delete, 3),
            keep: tag_names("keep", total.saturating_sub(delete), 3),
        }
    }

    fn all(&self) -> BTreeSet<String> {
        self.delete.iter().chain(&self.keep).cloned().collect()
    }

    /// Put back whatever is missing, and check the repository is whole.
    fn reseed(&self, bench: &Bench) -> Res<()> {
        let floor = bench.floor();
        let present: BTreeSet<String> = floor.list_tags(self.repo)?.into_iter().collect();
        let missing: Vec<String> = self.all().difference(&present).cloned().collect();
        if !missing.is_empty() {
            bench.seeder.seed(&floor, self.repo, &missing)?;
        }
        let now: BTreeSet<String> = floor.list_tags(self.repo)?.into_iter().collect();
        if now != self.all() {
            return Err(format!(
                "re-seeding {} left {} tags, expected {}",
                self.repo,
                now.len(),
                self.all().len()
            ));
        }
        Ok(())
    }

    /// After a run: exactly the kept tags remain.
    fn check(&self, bench: &Bench, tool: crate::driver::Tool) -> Res<()> {
        let now: BTreeSet<String> = bench.floor().list_tags(self.repo)?.into_iter().collect();
        let keep: BTreeSet<String> = self.keep.iter().cloned().collect();
        if now == keep {
            return Ok(());
        }
        let left = now.iter().filter(|t| t.starts_with("del-")).count();
        let lost = keep.difference(&now).count();
        Err(format!(
            "after {tool}: {left} tags to delete remain, {lost} kept tags are gone"
        ))
    }
}

/// Seed both delete repositories (untimed).
pub fn seed(bench: &Bench) -> Res<()> {
    for case in cases(bench) {
        case.reseed(bench)?;
    }
    Ok(())
}

fn cases(bench: &Bench) -> [Case; 2] {
    let s = &bench.sizes;
    [
        Case::new("bench/del-all", s.delete, s.delete),
        Case::new("bench/del-some", s.delete, s.delete_total),
    ]
}

/// Both delete rows.
pub fn rows(bench: &Bench) -> Res<Vec<Row>> {
    let policy = bench.path("delete-policy.yaml");
    std::fs::write(&policy, delete_policy("del-.*")).ctx("write the delete policy")?;
    let policy = policy.display().to_string();
    let regent = bench.regent()?;
    let mut rows = Vec::new();
    let targets = [(5.0, 1.2), (2.5, 1.2)];
    for (case, (vs_skopeo, vs_floor)) in cases(bench).into_iter().zip(targets) {
        let total = case.delete.len() + case.keep.len();
        let label = format!("delete {} of {total}", case.delete.len());
        let repo_arg = regent.repo(case.repo);
        let samples = alternate(&label, bench.sizes.reps, &Tool::ALL, |tool, rep| {
            case.reseed(bench)?;
            let start = Instant::now();
            match tool {
                Tool::Skopeo => {
                    let skopeo = bench.skopeo();
                    for tag in &case.delete {
                        skopeo
                            .try_delete(&format!("{}:{tag}", case.repo))
                            .map_err(|e| e.to_string())?;
                    }
                }
                Tool::Regent => {
                    let audit = bench.path(&format!(
                        "audit-{}-{rep}.jsonl",
                        case.repo.replace('/', "_")
                    ));
                    let audit = audit.display().to_string();
                    regent.run(&[
                        "cleanup",
                        "--repo",
                        &repo_arg,
                        "--policy",
                        &policy,
                        "--audit-log",
                        &audit,
                    ])?;
                }
                Tool::Floor => {
                    bench.floor().delete_prefixed(case.repo, "del-")?;
                }
            }
            let time = start.elapsed();
            case.check(bench, tool)?;
            Ok(time)
        });
        rows.push(Row::new(label, samples, Some(vs_skopeo), Some(vs_floor)));
    }
    Ok(rows)
}
