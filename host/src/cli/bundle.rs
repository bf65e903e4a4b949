//! `regent bundle publish|pull`: a directory as an OCI artifact.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::CommandContext;
use super::output::{OutputFormat, print_json};
use crate::bundle;
use crate::registry::reference::{ImagesRepo, Reference};
use crate::runtime::OciArtifactSupport;

/// Bundle commands.
#[derive(Debug, clap::Subcommand)]
pub enum BundleCommand {
    /// Push a directory as an OCI artifact to REPO:TAG.
    ///
    /// Example: `regent bundle publish ./deploy --repo localhost:5000/project/bundle --tag v1`.
    Publish {
        /// The directory to ship (regular files and folders).
        dir: PathBuf,
        /// The repository, e.g. `localhost:5000/project/bundle`.
        #[arg(long, env = "REGENT_REPO")]
        repo: String,
        /// The tag.
        #[arg(long, env = "REGENT_TAG")]
        tag: String,
    },
    /// Pull a bundle into a new or empty directory.
    ///
    /// Example: `regent bundle pull localhost:5000/project/bundle:v1 ./deploy`.
    Pull {
        /// The bundle reference.
        reference: String,
        /// Where to unpack it (must be empty or absent).
        dir: PathBuf,
    },
}

/// Run a bundle command.
pub async fn run(ctx: &CommandContext, command: BundleCommand) -> anyhow::Result<ExitCode> {
    match command {
        BundleCommand::Publish { dir, repo, tag } => {
            let repo_parsed =
                ImagesRepo::parse(&repo).with_context(|| format!("--repo `{repo}`"))?;
            let Some(path) = repo_parsed.path().map(str::to_owned) else {
                anyhow::bail!(
                    "--repo {repo} is a registry; name a repository for the bundle, e.g. {repo}/bundle"
                );
            };
            let access = ctx.registry(&repo_parsed.to_string()).await?;
            if access.adapter_info().quirks.oci_artifacts == OciArtifactSupport::NotSupported {
                anyhow::bail!(
                    "{} ({}) cannot store OCI artifacts, so the bundle was not uploaded; publish bundles to a registry that can (see `regent registries`)",
                    access.registry(),
                    access.adapter_info().display_name
                );
            }
            let layer = bundle::pack_dir(&dir).map_err(anyhow::Error::msg)?;
            let published = bundle::publish(access.client(), &path, &tag, layer).await?;
            match ctx.global.output {
                OutputFormat::Json => print_json(&published)?,
                OutputFormat::Table => {
                    println!("published {} ({})", published.reference, published.digest)
                }
            }
        }
        BundleCommand::Pull { reference, dir } => {
            let parsed = Reference::parse(&reference).with_context(|| format!("`{reference}`"))?;
            let access = ctx.registry(&parsed.to_string()).await?;
            let target = parsed
                .digest()
                .map(|d| d.to_string())
                .or_else(|| parsed.tag().map(str::to_owned))
                .unwrap_or_else(|| "latest".into());
            let layer = bundle::pull(access.client(), parsed.repository(), &target).await?;
            let files = bundle::unpack_into(&layer, &dir).map_err(anyhow::Error::msg)?;
            match ctx.global.output {
                OutputFormat::Json => print_json(&serde_json::json!({
                    "reference": parsed.to_string(),
                    "dir": dir,
                    "files": files,
                }))?,
                OutputFormat::Table => println!(
                    "pulled {parsed} into {} ({} files)",
                    dir.display(),
                    files.len()
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
