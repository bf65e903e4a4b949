//! `regent audit verify|show`: check and read the deletion audit log.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use crate::cleanup::audit::time::{parse_since, parse_time};
use crate::cleanup::audit::{
    AuditOutcome, AuditRecord, ChainProblem, default_audit_log_path, read_records,
    verify_with_anchor,
};

/// `regent audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain: report any edited, removed, inserted or reordered record.
    #[command(after_long_help = VERIFY_HELP)]
    Verify(VerifyArgs),
    /// List the deletions the audit log recorded.
    #[command(after_long_help = SHOW_HELP)]
    Show(ShowArgs),
}

const VERIFY_HELP: &str =
    "Every record stores the SHA-256 of the line before it, so an edited record no
longer matches what its successor stored, a removed record leaves a seq gap,
an inserted record is one nothing chains to, and a moved record points at a
line after it. Each problem names the line and seq it is about.

The last record has no successor, so an edit of it (or cutting records off
the end) is invisible to the chain alone. The report prints the head: the
hash of the last line. Keep it somewhere else (a CI log, a ticket) and pass
it back with --anchor later; the check then fails if that line is gone.

Exit code 0 when the chain is intact, 1 when problems are found or the log
cannot be read.

Examples:
  regent audit verify
  regent audit verify --audit-log /var/log/regent/audit.jsonl --output json
  regent audit verify --anchor 3f9a...c1";

const SHOW_HELP: &str = "Columns: SEQ (what `regent restore --entry` takes), TIME (UTC), ACTOR (CI
user and job, or user@host), REPOSITORY, TAG (`-` for an untagged
manifest), DIGEST (shortened), RULE (the policy rule, or `manual`), OUTCOME.
Reading does not check the chain: run `regent audit verify` for that.

--repo matches REGISTRY/REPOSITORY or REPOSITORY exactly, or as a prefix up
to a `/` (so --repo localhost:5000/team shows every repository under team).
--output json prints the records as stored, without the base64 manifests
unless --with-manifests.

Examples:
  regent audit show --since 24h
  regent audit show --since 2026-11-20T08:00:00Z --repo localhost:5000/team/app
  regent audit show --output json --with-manifests > deletions.json";

/// Which audit log: the flag, `REGENT_AUDIT_LOG`, or the default location.
#[derive(Debug, clap::Args)]
pub struct LogArg {
    /// The audit log `regent cleanup` wrote (default: $XDG_STATE_HOME/regent/audit.jsonl,
    /// else ~/.local/state/regent/audit.jsonl).
    #[arg(long, env = "REGENT_AUDIT_LOG", value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

impl LogArg {
    /// The log path to use.
    fn path(&self) -> anyhow::Result<PathBuf> {
        self.audit_log
            .clone()
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(default_audit_log_path)
            .context(
                "no home directory to find the audit log in: pass --audit-log FILE (or set REGENT_AUDIT_LOG)",
            )
    }
}

/// Arguments of `regent audit verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub log: LogArg,
    /// A head hash printed by an earlier verify: fail unless some line still hashes to it.
    #[arg(long, value_name = "SHA256")]
    pub anchor: Option<String>,
}

/// Arguments of `regent audit show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub log: LogArg,
    /// Only records since this time: RFC 3339 (`2026-11-20T08:00:00Z`) or a
    /// duration back from now (`24h`, `7d`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only records of this repository (`REGISTRY/REPOSITORY` or `REPOSITORY`, or a prefix of either).
    #[arg(long, value_name = "REPO")]
    pub repo: Option<String>,
    /// Include the base64 `manifest` of each record in JSON output.
    #[arg(long)]
    pub with_manifests: bool,
}

/// Run an audit subcommand.
pub async fn run(ctx: &CommandContext, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify(args) => verify(ctx.global.output, &args),
        AuditCommand::Show(args) => show(ctx.global.output, &args),
    }
}

#[derive(Serialize)]
struct VerifyJson<'a> {
    path: String,
    records: usize,
    intact: bool,
    head: Option<&'a str>,
    problems: &'a [ChainProblem],
}

fn verify(output: OutputFormat, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let path = args.log.path()?;
    let report = verify_with_anchor(&path, args.anchor.as_deref())?;
    match output {
        OutputFormat::Json => print_json(&VerifyJson {
            path: path.display().to_string(),
            records: report.records,
            intact: report.ok(),
            head: report.head.as_deref(),
            problems: &report.problems,
        })?,
        OutputFormat::Table => {
            let records = plural(report.records, "record", "records");
            if report.ok() {
                println!("audit log {}: {records}, chain intact", path.display());
                if let Some(head) = &report.head {
                    println!(
                        "head: {head} (pass it to --anchor later to detect an edit of the last record)"
                    );
                }
            } else {
                let problems = plural(report.problems.len(), "problem", "problems");
                println!("audit log {}: {records}, {problems}:", path.display());
                for problem in &report.problems {
                    println!("  {}", problem.message);
                }
            }
        }
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn show(output: OutputFormat, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let path = args.log.path()?;
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, SystemTime::now()).map_err(anyhow::Error::msg))
        .transpose()
        .context("--since")?;
    let mut selected = Vec::new();
    for record in read_records(&path)? {
        if let Some(since) = since {
            let time = parse_time(&record.time)
                .map_err(anyhow::Error::msg)
                .with_context(|| {
                    format!(
                        "audit log {}, record seq {}: bad time",
                        path.display(),
                        record.seq
                    )
                })?;
            if time < since {
                continue;
            }
        }
        if let Some(repo) = &args.repo
            && !repo_matches(&record, repo)
        {
            continue;
        }
        selected.push(record);
    }
    match output {
        OutputFormat::Json => print_json(&json_records(&selected, args.with_manifests)?)?,
        OutputFormat::Table => print_table(&path, &selected),
    }
    Ok(ExitCode::SUCCESS)
}

/// `REGISTRY/REPOSITORY` or `REPOSITORY`, exactly or as a prefix up to a `/`.
fn repo_matches(record: &AuditRecord, wanted: &str) -> bool {
    let wanted = wanted.trim_end_matches('/');
    let full = format!("{}/{}", record.entry.registry, record.entry.repository);
    [full.as_str(), record.entry.repository.as_str()]
        .iter()
        .any(|name| {
            name.strip_prefix(wanted)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// The records as stored, minus `manifest` unless asked for.
fn json_records(
    records: &[AuditRecord],
    with_manifests: bool,
) -> anyhow::Result<Vec<serde_json::Value>> {
    records
        .iter()
        .map(|record| {
            let mut value = serde_json::to_value(record)?;
            if !with_manifests && let Some(object) = value.as_object_mut() {
                object.remove("manifest");
            }
            Ok(value)
        })
        .collect()
}

fn print_table(path: &Path, records: &[AuditRecord]) {
    if records.is_empty() {
        eprintln!("audit log {}: no matching records", path.display());
        return;
    }
    let mut table = Table::new(&[
        "SEQ",
        "TIME",
        "ACTOR",
        "REPOSITORY",
        "TAG",
        "DIGEST",
        "RULE",
        "OUTCOME",
    ]);
    for r in records {
        let e = &r.entry;
        table.row(vec![
            r.seq.to_string(),
            r.time.clone(),
            r.actor.label(),
            format!("{}/{}", e.registry, e.repository),
            e.tag.clone().unwrap_or_else(|| "-".to_owned()),
            short_digest(&e.digest),
            e.rule.clone(),
            match &e.outcome {
                AuditOutcome::Deleted => "deleted".to_owned(),
                AuditOutcome::Failed { error } => format!("failed: {}", one_line(error)),
            },
        ]);
    }
    print!("{}", table.render());
}

/// `sha256:0123456789ab`: enough to tell digests apart in a table.
fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) => format!("{algorithm}:{}", hex.get(..12).unwrap_or(hex)),
        None => digest.get(..19).unwrap_or(digest).to_owned(),
    }
}

/// An error message on one line, so a row stays a row.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cleanup::audit::{Actor, AdapterIdentity, AuditEntry};

    fn record(registry: &str, repository: &str) -> AuditRecord {
        AuditRecord {
            seq: 1,
            time: "2026-01-01T00:00:00Z".to_owned(),
            actor: Actor {
                user: "u".to_owned(),
                host: None,
                ci: None,
            },
            entry: AuditEntry {
                registry: registry.to_owned(),
                implementation: "default".to_owned(),
                adapter: AdapterIdentity {
                    name: "default".to_owned(),
                    version: "1".to_owned(),
                    component_digest: "sha256:00".to_owned(),
                },
                repository: repository.to_owned(),
                tag: None,
                digest: "sha256:0123456789abcdef".to_owned(),
                media_type: None,
                manifest: Some("e30=".to_owned()),
                rule: "manual".to_owned(),
                method: "digest".to_owned(),
                outcome: AuditOutcome::Deleted,
            },
            prev: "0".repeat(64),
        }
    }

    #[test]
    fn repo_matches_full_name_short_name_and_prefixes() {
        let r = record("localhost:5000", "team/app");
        assert!(repo_matches(&r, "localhost:5000/team/app"));
        assert!(repo_matches(&r, "team/app"));
        assert!(repo_matches(&r, "localhost:5000/team"));
        assert!(repo_matches(&r, "team/"));
        assert!(!repo_matches(&r, "team/ap"));
        assert!(!repo_matches(&r, "other:5000/team/app"));
    }

    #[test]
    fn json_drops_manifests_unless_asked() {
        let records = [record("r", "a")];
        let without = json_records(&records, false).expect("json");
        assert!(without[0].get("manifest").is_none());
        assert_eq!(without[0]["repository"], "a");
        let with = json_records(&records, true).expect("json");
        assert_eq!(with[0]["manifest"], "e30=");
    }

    #[test]
    fn digests_are_shortened() {
        assert_eq!(
            short_digest("sha256:0123456789abcdef"),
            "sha256:0123456789ab"
        );
        assert_eq!(short_digest("sha256:01"), "sha256:01");
        assert_eq!(one_line("a\n  b"), "a b");
    }
}
