//! `regent audit verify|show`: check and read the deletion audit log.

use std::process::ExitCode;

use super::CommandContext;

/// `regent audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain: report any edited, removed, inserted or reordered record.
    Verify,
}

/// Run an audit subcommand.
pub async fn run(_ctx: &CommandContext, _cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
