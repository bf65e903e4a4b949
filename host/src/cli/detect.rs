//! `regent detect ADDRESS`

use std::process::ExitCode;

use super::CommandContext;
use super::output::{OutputFormat, print_json};

/// Arguments of `regent detect`.
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// A registry address or repository: `ghcr.io`, `localhost:5000/app`, `acme/app` (Docker Hub).
    pub address: String,
}

/// Print which adapter serves the address and why.
pub async fn run(ctx: &CommandContext, args: DetectArgs) -> anyhow::Result<ExitCode> {
    let detected = ctx.detect(&args.address).await?;
    match ctx.global.output {
        OutputFormat::Json => print_json(&detected)?,
        OutputFormat::Table => {
            println!("address:        {}", detected.address);
            println!("registry:       {}", detected.registry);
            println!("implementation: {}", detected.implementation);
            println!("reason:         {}", detected.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}
