//! `regent adapter new NAME`: scaffold an adapter crate (owned by the scaffold work).

use std::path::PathBuf;
use std::process::ExitCode;

use super::super::CommandContext;

/// Arguments of `regent adapter new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The adapter's name: lowercase letters, digits and `-` (e.g. `acme-registry`).
    pub name: String,
    /// Where to create the crate (default: `./NAME`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Depend on the regent-adapter-sdk at this path instead of a vendored copy.
    #[arg(long, value_name = "PATH")]
    pub sdk_path: Option<PathBuf>,
}

/// Scaffold the crate and say what to do next.
pub fn run(_ctx: &CommandContext, _args: NewArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("regent adapter new is not implemented yet")
}
