//! `regent adapters ...` (also spelt `regent adapter ...`): list, scaffold,
//! publish, install, grant and remove registry adapters.

mod list;
mod new;

use std::process::ExitCode;

use super::CommandContext;

/// Adapter commands.
#[derive(Debug, clap::Subcommand)]
pub enum AdaptersCommand {
    /// List the adapters this regent can use: name, version, where it comes
    /// from, component digest, hosts it may call, native capabilities, grants.
    List,
    /// Scaffold a new adapter crate: SDK, a working info(), a test against a
    /// fake server, and a README.
    ///
    /// Example: `regent adapter new acme-registry && cd acme-registry && cargo build --target wasm32-wasip2 --release`.
    New(new::NewArgs),
}

/// Run an adapters command.
pub async fn run(ctx: &CommandContext, command: AdaptersCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdaptersCommand::List => list::run(ctx).await,
        AdaptersCommand::New(args) => new::run(ctx, args),
    }
}
