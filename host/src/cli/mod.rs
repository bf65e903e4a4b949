//! The `regent` command line: parses flags, picks the output form, owns exit
//! codes. One file per command group; none of them speaks HTTP itself.

mod adapters;
mod context;
mod detect;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use context::CommandContext;
pub use output::OutputFormat;

/// Publish container images to any registry and clean them up under audited policies.
///
/// regent implements the Docker Registry HTTP API v2 / OCI distribution API
/// itself; what differs per registry (ECR, ACR, Docker Hub, GitHub, GitLab,
/// Harbor, Quay, ...) comes from sandboxed WebAssembly adapters bundled in
/// this binary.
#[derive(Debug, Parser)]
#[command(name = "regent", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// Output form: a table for people, JSON for scripts.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Show debug messages, including adapters' own log lines.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    /// Force the registry implementation instead of detecting it from the
    /// address (`auto` detects). `regent adapters list` shows the kinds.
    #[arg(long, global = true, env = "REGENT_REPO_CONTAINER_REGISTRY", value_name = "KIND")]
    pub repo_container_registry: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show and manage registry adapters.
    #[command(subcommand)]
    Adapters(adapters::AdaptersCommand),
    /// Explain which adapter serves a registry address, and why.
    ///
    /// Example: `regent detect ghcr.io/acme/app --output json`.
    Detect(detect::DetectArgs),
}

/// Parse the arguments, run the command, and turn errors into messages and exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("regent: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("regent: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = CommandContext::new(cli.global);
    match cli.command {
        Command::Adapters(cmd) => adapters::run(&ctx, cmd).await,
        Command::Detect(args) => detect::run(&ctx, args).await,
    }
}
