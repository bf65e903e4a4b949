//! `regent cleanup`: plan deletions under a retention policy, show every
//! decision with its rule, and apply the plan with a re-check before each
//! deletion and an audit record after it.

mod print;

use print::print_outcome;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use serde::Serialize;

use super::CommandContext;
use super::output::OutputFormat;
use crate::cleanup::apply::{ApplyOptions, ApplyReport, AuditSink, apply_plan};
use crate::cleanup::audit::{Actor, AuditLog, default_audit_log_path};
use crate::cleanup::notify::{Notifier, NotifyReport};
use crate::cleanup::plan::Plan;
use crate::cleanup::planner::{PlanRequest, make_plan};
use crate::cleanup::policy::Policy;
use crate::registry::access::RegistryAccess;
use crate::registry::digest::Digest;
use crate::registry::reference::ImagesRepo;

/// Arguments of `regent cleanup`.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_long_help = "How a plan is made:
  1. list every tag (native API with push/pull times where the adapter has
     one, else tags/list plus each image config's `created`);
  2. the policy decides keep or delete per tag; keep beats delete; protected
     tags and the freshness window always keep; max-deletions caps the run;
  3. a manifest is deleted only when every tag on it goes and no kept index
     uses it; otherwise only the tag is removed. Referrers (signatures,
     SBOMs) go with their subject; children of a deleted index go with it.
Before each deletion the tags are read again: anything that moved since the
plan is skipped and reported. Each executed deletion is appended to the
audit log (`regent audit verify`, `regent restore`).

Examples:
  regent cleanup --repo localhost:5000/app --policy policy.yaml --dry-run
  regent cleanup --repo localhost:5000/app --policy policy.yaml --dry-run --plan-out plan.json
  regent cleanup apply plan.json
  regent cleanup --repo ghcr.io/acme/app --policy policy.yaml --notify https://hooks.example/registry"
)]
pub struct CleanupArgs {
    #[command(subcommand)]
    pub command: Option<CleanupCommand>,
    /// Repository to clean, `REGISTRY/PATH`; repeat for several on one registry.
    #[arg(long = "repo", value_name = "REPOSITORY")]
    pub repositories: Vec<String>,
    /// The retention policy (YAML; see `regent policy check --help`).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Only show the plan; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the plan as JSON, to apply later with `regent cleanup apply`.
    #[arg(long, value_name = "FILE")]
    pub plan_out: Option<PathBuf>,
    /// Pull times from this `regent events serve` database, for registries
    /// whose API reports none (feeds pulled-within / not-pulled-for).
    #[arg(long, value_name = "FILE", env = "REGENT_EVENTS_DB")]
    pub events_db: Option<PathBuf>,
    #[command(flatten)]
    pub apply: ApplyFlags,
}

/// `regent cleanup` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CleanupCommand {
    /// Carry out a plan written by `--plan-out` (every tag is checked again first).
    Apply {
        /// The plan JSON.
        plan: PathBuf,
        #[command(flatten)]
        apply: ApplyFlags,
    },
}

/// Flags of the apply step.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplyFlags {
    /// Append audit records here (default: $REGENT_AUDIT_LOG, else
    /// ~/.local/state/regent/audit.jsonl).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Send each deletion to this URL as a CNCF distribution notification event.
    #[arg(long, value_name = "URL")]
    pub notify: Option<reqwest::Url>,
    /// Registry requests in flight at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,
}

#[derive(Serialize)]
struct CleanupOutput<'a> {
    plan: &'a Plan,
    summary: crate::cleanup::plan::PlanSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    apply: Option<&'a ApplyReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audit_log: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notify: Option<&'a NotifyReport>,
}

/// Plan, and unless `--dry-run`, apply.
pub async fn run(ctx: &CommandContext, args: CleanupArgs) -> anyhow::Result<ExitCode> {
    if let Some(CleanupCommand::Apply { plan, apply }) = args.command {
        return apply_file(ctx, &plan, &apply).await;
    }
    let Some(policy_path) = args.policy.as_deref() else {
        anyhow::bail!(
            "name the policy: --policy FILE (see `regent policy check --help` for the format)"
        );
    };
    if args.repositories.is_empty() {
        anyhow::bail!("name at least one repository: --repo REGISTRY/PATH");
    }
    let (registry, paths) = split_repositories(&args.repositories)?;
    let policy_bytes = std::fs::read(policy_path)
        .with_context(|| format!("cannot read the policy {}", policy_path.display()))?;
    let policy = Policy::parse(
        &String::from_utf8_lossy(&policy_bytes),
        &policy_path.display().to_string(),
    )?;
    let access = ctx.registry(&format!("{registry}/{}", paths[0])).await?;
    let request = PlanRequest {
        repositories: paths,
        policy,
        policy_source: policy_path.display().to_string(),
        policy_sha256: Digest::sha256_of(&policy_bytes).hex().to_owned(),
        now: unix_now(),
        concurrency: args.apply.concurrency.max(1),
        events_db: args.events_db.clone(),
    };
    let plan = make_plan(&access, &request).await?;
    if let Some(out) = &args.plan_out {
        write_plan(out, &plan)?;
    }
    if args.dry_run {
        print_outcome(ctx, &plan, true, None, None, None)?;
        if args.plan_out.is_none() && ctx.global.output == OutputFormat::Table {
            println!(
                "dry run: nothing deleted (add --plan-out FILE to apply this exact plan later)"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    execute(ctx, &access, &plan, &args.apply, false).await
}

async fn apply_file(
    ctx: &CommandContext,
    path: &Path,
    flags: &ApplyFlags,
) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read(path).with_context(|| format!("cannot read the plan {}", path.display()))?;
    let plan: Plan = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a regent cleanup plan", path.display()))?;
    plan.check_format()
        .map_err(|m| anyhow::anyhow!("the plan {} cannot be used: {m}", path.display()))?;
    let first = plan
        .repositories
        .first()
        .map(|r| r.repository.clone())
        .unwrap_or_default();
    let access = ctx.registry(&format!("{}/{first}", plan.registry)).await?;
    if access.detected().implementation != plan.implementation {
        anyhow::bail!(
            "the plan was made for {} through the `{}` adapter, but `{}` serves it now; make a new plan",
            plan.registry,
            plan.implementation,
            access.detected().implementation
        );
    }
    execute(ctx, &access, &plan, flags, true).await
}

async fn execute(
    ctx: &CommandContext,
    access: &RegistryAccess,
    plan: &Plan,
    flags: &ApplyFlags,
    from_file: bool,
) -> anyhow::Result<ExitCode> {
    let log_path = match &flags.audit_log {
        Some(p) => p.clone(),
        None => default_audit_log_path().context(
            "cannot find a state directory for the audit log; pass --audit-log FILE or set REGENT_AUDIT_LOG",
        )?,
    };
    let log = AuditLog::open(&log_path, Actor::detect())?;
    let notifier = match &flags.notify {
        Some(url) => Some(Notifier::new(
            url.clone(),
            notify_client()?,
            access.registry().to_owned(),
        )),
        None => None,
    };
    let sink = AuditSink::new(access, log, notifier);
    let options = ApplyOptions {
        concurrency: flags.concurrency.max(1),
        recheck_kept: from_file,
    };
    let report = apply_plan(access, plan, &sink, options).await;
    let notified = match sink.into_notifier() {
        Some(n) => Some(n.finish().await),
        None => None,
    };
    let report = report?;
    print_outcome(
        ctx,
        plan,
        !from_file,
        Some(&report),
        Some(log_path.display().to_string()),
        notified.as_ref(),
    )?;
    Ok(if report.summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn notify_client() -> anyhow::Result<reqwest::Client> {
    crate::tls::install_crypto_provider();
    Ok(reqwest::Client::builder()
        .user_agent(concat!("regent/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// All repositories must be on one registry: one plan, one adapter.
fn split_repositories(given: &[String]) -> anyhow::Result<(String, Vec<String>)> {
    let mut registry: Option<String> = None;
    let mut paths = Vec::new();
    for text in given {
        let repo =
            ImagesRepo::parse(text).with_context(|| format!("`{text}` is not a repository"))?;
        let Some(path) = repo.path() else {
            anyhow::bail!(
                "`{text}` is a registry address; name a repository in it, e.g. {}/app",
                repo.registry()
            );
        };
        match &registry {
            Some(r) if r != repo.registry() => anyhow::bail!(
                "all --repo values must be on one registry (got {r} and {}); run one cleanup per registry",
                repo.registry()
            ),
            _ => registry = Some(repo.registry().to_owned()),
        }
        paths.push(path.to_owned());
    }
    paths.sort();
    paths.dedup();
    Ok((registry.unwrap_or_default(), paths))
}

fn write_plan(path: &Path, plan: &Plan) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(plan)?;
    std::fs::write(path, json)
        .with_context(|| format!("cannot write the plan to {}", path.display()))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
