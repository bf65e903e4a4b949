//! `regent adapters ...` (also spelt `regent adapter ...`): list, scaffold,
//! publish, install, grant and remove registry adapters.

mod grants;
mod install;
mod list;
mod new;
mod publish;
mod remove;

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
    /// Push an adapter component to a registry as an OCI artifact (CNCF wasm
    /// layout) and print the digest-pinned reference to install it by.
    ///
    /// Example: `regent adapter publish target/wasm32-wasip2/release/acme.wasm registry.example.com/adapters/acme:1.0.0`.
    Publish(publish::PublishArgs),
    /// Install an adapter from a file or from a registry, pinned by digest,
    /// granting it hosts and settings it declares.
    ///
    /// Shows what the adapter declares (hosts it will call, settings it will
    /// read); it may use only what is granted here (`--grant-host`,
    /// `--grant-setting`, `--grant-all`, or a confirmation on a terminal).
    /// Example: `regent adapter install registry.example.com/adapters/acme@sha256:... --grant-setting acme-token`.
    Install(install::InstallArgs),
    /// Grant an installed adapter more of what it declares.
    ///
    /// Example: `regent adapter grant acme --setting acme-token --host api.acme.example`.
    Grant(grants::ChangeArgs),
    /// Take back hosts or settings granted to an installed adapter.
    Revoke(grants::ChangeArgs),
    /// Remove an installed adapter and its grants.
    Remove(remove::RemoveArgs),
}

/// Run an adapters command.
pub async fn run(ctx: &CommandContext, command: AdaptersCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdaptersCommand::List => list::run(ctx).await,
        AdaptersCommand::New(args) => new::run(ctx, args),
        AdaptersCommand::Publish(args) => publish::run(ctx, args).await,
        AdaptersCommand::Install(args) => install::run(ctx, args).await,
        AdaptersCommand::Grant(args) => grants::run(ctx, args, false).await,
        AdaptersCommand::Revoke(args) => grants::run(ctx, args, true).await,
        AdaptersCommand::Remove(args) => remove::run(ctx, args),
    }
}
