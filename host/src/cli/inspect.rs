//! `regent inspect REF...`: digest, media type, platforms, total size and
//! creation time of images, several at once (one process, one connection
//! pool, bounded concurrency) for scripts that check many tags.

use std::process::ExitCode;

use anyhow::Context as _;
use futures_util::{StreamExt, stream};

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use crate::registry::inspect::{ImageSummary, inspect};
use crate::registry::reference::Reference;
use crate::transfer::human_size;

/// Arguments of `regent inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Image references, e.g. `localhost:5000/app:v1` or `app@sha256:...`.
    #[arg(required = true, value_name = "REF")]
    pub references: Vec<String>,
}

/// Inspect every reference; the order of the output follows the arguments.
pub async fn run(ctx: &CommandContext, args: InspectArgs) -> anyhow::Result<ExitCode> {
    let mut parsed = Vec::new();
    for text in &args.references {
        parsed.push(
            Reference::parse(text)
                .with_context(|| format!("`{text}` is not an image reference"))?,
        );
    }
    let results: Vec<anyhow::Result<ImageSummary>> = stream::iter(parsed)
        .map(|reference| async move {
            let access = ctx.registry(&reference.to_string()).await?;
            inspect(access.client(), &reference)
                .await
                .with_context(|| format!("inspecting {reference}"))
        })
        .buffered(16)
        .collect()
        .await;
    let mut summaries = Vec::new();
    let mut failed = false;
    for result in results {
        match result {
            Ok(s) => summaries.push(s),
            Err(e) => {
                failed = true;
                eprintln!("regent: error: {e:#}");
            }
        }
    }
    match ctx.global.output {
        OutputFormat::Json if args.references.len() == 1 && summaries.len() == 1 => {
            print_json(&summaries[0])?
        }
        OutputFormat::Json => print_json(&summaries)?,
        OutputFormat::Table => {
            let mut table = Table::new(&["REFERENCE", "DIGEST", "PLATFORMS", "SIZE", "CREATED"]);
            for s in &summaries {
                let platforms: Vec<String> = s
                    .platforms
                    .iter()
                    .map(|p| match &p.variant {
                        Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                        None => format!("{}/{}", p.os, p.architecture),
                    })
                    .collect();
                table.row(vec![
                    s.reference.clone(),
                    s.digest.to_string(),
                    platforms.join(","),
                    human_size(s.total_size),
                    s.created.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            print!("{}", table.render());
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
