//! `regent name --repo REPO --tag TAG IMAGE...`: show the references images
//! get under the naming scheme, without touching the registry, so a CI
//! script can check (or reuse) the names before it publishes.

use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use crate::registry::naming::{
    FinalReference, ImageName, NAMELESS, default_mode, final_references,
};
use crate::registry::reference::ImagesRepo;
use crate::runtime::{AdapterSession, RepoMode, SessionContext};

/// Arguments of `regent name`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct NameArgs {
    /// Where the images go: a registry (`localhost:5000`, `ghcr.io`), an
    /// account or a repository (`ghcr.io/acme`, `localhost:5000/team/app`),
    /// or a Docker Hub short form (`acme`, `acme/app`). No tag or digest.
    #[arg(long, env = "REGENT_REPO", value_name = "REPO")]
    pub repo: String,
    /// How images are laid out in REPO: `multirepo` gives each image its
    /// own repository (REPO/IMAGE:TAG), `monorepo` makes them tags of REPO
    /// (REPO:IMAGE-TAG), `auto` follows the registry's rules.
    #[arg(long, env = "REGENT_REPO_MODE", value_enum, default_value_t = RepoMode::Auto, value_name = "MODE")]
    pub repo_mode: RepoMode,
    /// The tag every image gets, e.g. `v1.2.0` or a commit hash.
    #[arg(long, env = "REGENT_TAG", value_name = "TAG")]
    pub tag: String,
    /// Image names (`frontend`, `tools/cli`), or `~` for the nameless image
    /// that is REPO:TAG itself (quote it, '~', so the shell leaves it alone).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

const EXAMPLES: &str = "\
Examples:
  regent name --repo localhost:5000/project --tag v1 frontend backend
      localhost:5000/project/frontend:v1, localhost:5000/project/backend:v1
  regent name --repo localhost:5000/project --repo-mode monorepo --tag v1 frontend backend
      localhost:5000/project:frontend-v1, localhost:5000/project:backend-v1
  regent name --repo localhost:5000/project --tag v1 '~'
      localhost:5000/project:v1 (the nameless image)
  regent name --repo acme --tag v1 frontend
      docker.io/acme/frontend:v1 (Docker Hub: an account means multirepo,
      `--repo acme/app` a repository, so monorepo)
  REGENT_REPO=ghcr.io/acme REGENT_TAG=v1 regent name frontend --output json";

#[derive(Serialize)]
struct Named<'a> {
    repo: &'a ImagesRepo,
    mode: RepoMode,
    implementation: &'a str,
    images: &'a [FinalReference],
}

/// Resolve the mode for the repo and print each image's final reference.
pub async fn run(ctx: &CommandContext, args: NameArgs) -> anyhow::Result<ExitCode> {
    let repo = ImagesRepo::parse(&args.repo)
        .with_context(|| format!("--repo `{}` is not an images repo", args.repo))?;
    let images = args
        .images
        .iter()
        .map(|text| image_name(text))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let repo_text = repo.to_string();
    let detected = ctx.detect(&repo_text).await?;
    let info = detected.adapter.info();
    let mode = if info.capabilities.resolve_mode {
        let adapter = detected.adapter.clone();
        let context = SessionContext {
            registry: Some(detected.registry.clone()),
            verbose: ctx.global.verbose,
            ..Default::default()
        };
        let requested = args.repo_mode;
        let text = repo_text.clone();
        tokio::task::spawn_blocking(move || {
            AdapterSession::new(adapter, context).resolve_mode(&text, requested)
        })
        .await
        .context("the naming-mode task failed")?
        .with_context(|| {
            format!(
                "the `{}` adapter cannot name images in {repo_text} with --repo-mode {requested}",
                detected.implementation
            )
        })?
    } else {
        default_mode(&repo, &info.quirks, args.repo_mode)?
    };
    let named = final_references(&repo, mode, &images, &args.tag)?;
    match ctx.global.output {
        OutputFormat::Json => print_json(&Named {
            repo: &repo,
            mode,
            implementation: &detected.implementation,
            images: &named,
        })?,
        OutputFormat::Table => {
            let mut table = Table::new(&["IMAGE", "REFERENCE"]);
            for f in &named {
                table.row(vec![f.image.to_string(), f.reference.to_string()]);
            }
            print!("{}", table.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Parse an image argument; an unquoted `~` arrives as the home directory,
/// so say so rather than only that a path is not an image name.
fn image_name(text: &str) -> anyhow::Result<ImageName> {
    ImageName::parse(text).map_err(|error| {
        let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
        if home.is_some_and(|h| h.to_str() == Some(text)) {
            anyhow::Error::new(error).context(format!(
                "`{text}` is your home directory: the shell expanded `{NAMELESS}`; quote it ('{NAMELESS}') for the nameless image"
            ))
        } else {
            anyhow::Error::new(error)
        }
    })
}
