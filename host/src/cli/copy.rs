//! `regent copy SRC DST`: copy one image (or a whole multi-platform index)
//! from a registry, an OCI layout or a docker archive to a registry.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use super::CommandContext;
use super::output::{OutputFormat, print_json};
use super::sources::{open_source, parse_source};
use crate::registry::reference::Reference;
use crate::transfer::{Copier, NoProgress, Progress, progress_for_terminal};

/// Arguments of `regent copy`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:
  regent copy localhost:5000/app:v1 localhost:5000/mirror/app:v1
  regent copy oci:./build/app:v1 registry.example.com/team/app:v1
  regent copy docker-archive:app.tar localhost:5000/app:v1")]
pub struct CopyArgs {
    /// The source: an image reference (`docker://` optional), `oci:DIR[:REF]`
    /// or `docker-archive:FILE[:REF]`.
    pub source: String,
    /// The destination image reference with a tag, e.g. `localhost:5000/app:v1`.
    pub destination: String,
}

/// Copy the image.
pub async fn run(ctx: &CommandContext, args: CopyArgs) -> anyhow::Result<ExitCode> {
    let destination = Reference::parse(args.destination.trim_start_matches("docker://"))
        .with_context(|| format!("destination `{}`", args.destination))?;
    if destination.digest().is_some() {
        anyhow::bail!(
            "the destination {destination} has a digest; give a tag (a copy keeps the digest anyway)"
        );
    }
    let source = open_source(ctx, &parse_source(&args.source)?).await?;
    let access = ctx.registry(&destination.to_string()).await?;
    let progress: Arc<dyn Progress> = match ctx.global.output {
        OutputFormat::Json => Arc::new(NoProgress),
        OutputFormat::Table => progress_for_terminal(),
    };
    let copier = Copier::new(access.client().clone(), progress, 4);
    let tag = destination.tag().unwrap_or("latest").to_owned();
    let report = copier
        .copy(&source, destination.repository(), &[tag])
        .await?;
    match ctx.global.output {
        OutputFormat::Json => print_json(&report)?,
        OutputFormat::Table => println!("{destination} {} ({})", report.digest, report.summary()),
    }
    Ok(ExitCode::SUCCESS)
}
