//! How `regent cleanup` shows a plan and what apply did: one table of
//! decisions per repository, one of results, and the summary lines.

use super::{CleanupOutput, OutputFormat};
use crate::cleanup::apply::{ApplyReport, UnitOutcome};
use crate::cleanup::notify::NotifyReport;
use crate::cleanup::plan::{DeletionKind, Plan};
use crate::cleanup::planner::short;
use crate::cleanup::policy::Verdict;
use crate::cli::CommandContext;
use crate::cli::output::{Table, print_json};
use crate::registry::tag_listing::ListingSource;

/// Print the plan (unless `show_plan` is off), the apply report and where
/// the records went, as a table or one JSON document.
pub(super) fn print_outcome(
    ctx: &CommandContext,
    plan: &Plan,
    show_plan: bool,
    report: Option<&ApplyReport>,
    audit_log: Option<String>,
    notify: Option<&NotifyReport>,
) -> anyhow::Result<()> {
    if ctx.global.output == OutputFormat::Json {
        return print_json(&CleanupOutput {
            plan,
            summary: plan.summary(),
            apply: report,
            audit_log,
            notify,
        });
    }
    let now = plan.evaluated_at;
    if !show_plan {
        println!(
            "applying the plan made {} with {} ({})",
            plan.created_at, plan.policy.source, plan.registry
        );
    }
    for repo in plan.repositories.iter().filter(|_| show_plan) {
        let listing = match repo.listing {
            ListingSource::Native => "the adapter's native API",
            ListingSource::RegistryApi => "the Registry API",
        };
        println!(
            "{}/{}: {} tags, listed through {listing}",
            plan.registry,
            repo.repository,
            repo.tags.len()
        );
        let mut table = Table::new(&["TAG", "DIGEST", "PUSHED", "DECISION", "RULE", "REASON"]);
        for t in &repo.tags {
            table.row(vec![
                t.tag.clone(),
                short(&t.digest),
                t.pushed_at
                    .map(|p| format!("{} ago", age(now - p)))
                    .unwrap_or_else(|| "-".into()),
                match t.decision {
                    Verdict::Keep => "keep".into(),
                    Verdict::Delete => "DELETE".into(),
                },
                t.rule.clone(),
                t.reason.clone(),
            ]);
        }
        print!("{}", table.render());
        for d in &repo.deletions {
            for dep in &d.dependents {
                println!(
                    "  also deletes {} {} ({})",
                    dep.relation,
                    short(&dep.digest),
                    dep.reason
                );
            }
            if d.kind == DeletionKind::Untag {
                println!("  untag only {}: {}", d.tags.join(", "), d.reason);
            }
        }
        for w in &repo.warnings {
            println!("  warning: {w}");
        }
    }
    let s = plan.summary();
    println!(
        "{}: {} tags, keep {}, delete {} ({} manifests deleted, {} tags untagged only)",
        if show_plan { "plan" } else { "the plan had" },
        s.tags,
        s.keep,
        s.delete,
        s.manifests,
        s.untag_only
    );
    if let Some(report) = report {
        let mut table = Table::new(&["REPOSITORY", "TAGS", "DIGEST", "OUTCOME", "METHOD", "AUDIT"]);
        for r in &report.results {
            table.row(vec![
                r.repository.clone(),
                if r.tags.is_empty() {
                    "(untagged)".into()
                } else {
                    r.tags.join(",")
                },
                short(&r.digest),
                match &r.outcome {
                    UnitOutcome::Deleted => "deleted".into(),
                    UnitOutcome::AlreadyGone => "already gone".into(),
                    UnitOutcome::Skipped { reason } => format!("skipped: {reason}"),
                    UnitOutcome::Failed { error } => format!("FAILED: {error}"),
                },
                r.method.clone().unwrap_or_else(|| "-".into()),
                r.audit
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ]);
        }
        print!("{}", table.render());
        let s = report.summary;
        println!(
            "applied: {} deleted ({} tags, {} manifests), {} already gone, {} skipped, {} failed",
            s.deleted, s.tags_deleted, s.manifests_deleted, s.already_gone, s.skipped, s.failed
        );
    }
    if let Some(path) = audit_log {
        println!("audit log: {path}");
    }
    if let Some(n) = notify {
        println!("notifications: {} sent, {} failed", n.sent, n.failed.len());
        for f in &n.failed {
            println!("  {f}");
        }
    }
    Ok(())
}

/// `3d`, `5h`, `12m`: ages people read in a table.
fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3_600 => format!("{}h", s / 3_600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
