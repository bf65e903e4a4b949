//! `regent policy import|check`: retention policies.

use std::process::ExitCode;

use super::CommandContext;

/// `regent policy` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Turn another registry's retention rules into a regent policy.
    Import,
}

/// Run a policy subcommand.
pub async fn run(_ctx: &CommandContext, _cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
