//! `regent cleanup`: plan deletions under a policy, and apply plans.

use std::process::ExitCode;

use super::CommandContext;

/// Arguments of `regent cleanup`.
#[derive(Debug, clap::Args)]
pub struct CleanupArgs {}

/// Plan or apply.
pub async fn run(_ctx: &CommandContext, _args: CleanupArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
