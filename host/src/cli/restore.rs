//! `regent restore`: put manifests a cleanup deleted back under their tags,
//! from the bytes the audit log kept.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use crate::cleanup::audit::{AuditRecord, default_audit_log_path, read_records, time::parse_since};
use crate::cleanup::restore::{
    EntryReport, Outcome, Refusal, RestoreOptions, Restorer, Selected, Selection,
    order_for_restore, select,
};

/// Arguments of `regent restore`.
#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("which").required(true).args(["entries", "since"])),
    after_long_help = "Each selected entry is restored only if the audit log's manifest bytes hash to
the recorded digest and the registry still holds every blob (or, for an index,
every child manifest) it needs; otherwise the report names what is missing.
A tag that now points at another manifest is left alone unless --force.
Exit code 1 if any selected entry was not restored.

Examples:
  regent restore --audit-log audit.jsonl --entry 3 --entry 4
  regent restore --since 24h --dry-run
  regent restore --since 2026-11-20T08:00:00Z --output json"
)]
pub struct RestoreArgs {
    /// The audit log `regent cleanup` wrote (default: $XDG_STATE_HOME/regent/audit.jsonl,
    /// else ~/.local/state/regent/audit.jsonl).
    #[arg(long, env = "REGENT_AUDIT_LOG", value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Restore the entry with this sequence number; repeat for several.
    #[arg(long = "entry", value_name = "SEQ")]
    pub entries: Vec<u64>,
    /// Restore every entry logged since this time: RFC 3339
    /// (`2026-11-20T08:00:00Z`) or a duration back from now (`24h`, `7d`).
    #[arg(long, value_name = "TIME", conflicts_with = "entries")]
    pub since: Option<String>,
    /// Check everything, push nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Overwrite a tag that now points at another manifest.
    #[arg(long)]
    pub force: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    audit_log: String,
    dry_run: bool,
    entries: &'a [EntryReport],
}

/// Restore the selected entries and report each.
pub async fn run(ctx: &CommandContext, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let path = match args.audit_log.clone().or_else(default_audit_log_path) {
        Some(path) => path,
        None => anyhow::bail!(
            "no home directory to find the audit log in: pass --audit-log FILE (or set REGENT_AUDIT_LOG)"
        ),
    };
    let records = read_records(&path)?;
    let selection = match &args.since {
        Some(since) => Selection::Since(
            parse_since(since, SystemTime::now())
                .map_err(anyhow::Error::msg)
                .context("--since")?,
        ),
        None => Selection::Entries(args.entries.clone()),
    };
    let mut reports = Vec::new();
    let mut to_restore: Vec<AuditRecord> = Vec::new();
    for selected in select(&records, &selection) {
        match selected {
            Selected::Record(record) => to_restore.push(*record),
            Selected::Refused(report) => reports.push(report),
        }
    }
    order_for_restore(&mut to_restore);
    let mut restorer = Restorer::new(RestoreOptions {
        dry_run: args.dry_run,
        force: args.force,
    });
    for record in &to_restore {
        let address = format!("{}/{}", record.entry.registry, record.entry.repository);
        let report = match ctx.registry(&address).await {
            Ok(access) => restorer.restore(access.client(), record).await,
            Err(e) => EntryReport::new(
                record,
                Outcome::NotRestored(Refusal::Registry(format!("{address}: {e:#}"))),
            ),
        };
        reports.push(report);
    }
    reports.sort_by_key(|r| r.seq);
    print_report(ctx, &path, &args, &selection, &reports)?;
    let all_done = reports.iter().all(|r| r.outcome.is_success());
    Ok(if all_done {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(
    ctx: &CommandContext,
    path: &std::path::Path,
    args: &RestoreArgs,
    selection: &Selection,
    reports: &[EntryReport],
) -> anyhow::Result<()> {
    match ctx.global.output {
        OutputFormat::Json => print_json(&Report {
            audit_log: path.display().to_string(),
            dry_run: args.dry_run,
            entries: reports,
        }),
        OutputFormat::Table => {
            if reports.is_empty() {
                if let Selection::Since(_) = selection {
                    println!(
                        "no entries in {} since {}: nothing to restore",
                        path.display(),
                        args.since.as_deref().unwrap_or_default()
                    );
                }
                return Ok(());
            }
            let mut table = Table::new(&["SEQ", "REFERENCE", "OUTCOME"]);
            for report in reports {
                let outcome = match &report.outcome {
                    Outcome::NotRestored(refusal) => format!("not-restored: {refusal}"),
                    other => other.word().to_owned(),
                };
                table.row(vec![
                    report.seq.to_string(),
                    report.reference.clone(),
                    outcome,
                ]);
            }
            print!("{}", table.render());
            Ok(())
        }
    }
}
