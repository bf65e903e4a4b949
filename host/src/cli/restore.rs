//! `regent restore`: put deleted manifests back under their tags.

use std::process::ExitCode;

use super::CommandContext;

/// Arguments of `regent restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {}

/// Restore.
pub async fn run(_ctx: &CommandContext, _args: RestoreArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
