//! `regent publish`: copy a project's images into the images repo under the
//! naming scheme, creating repositories first where the registry needs it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use super::sources::open_source;
use crate::publish::{ImageSpec, PROJECT_FILE, Project};
use crate::registry::naming::{ImageName, final_references};
use crate::registry::reference::ImagesRepo;
use crate::runtime::RepoMode;
use crate::transfer::{Copier, CopyReport, NoProgress, Progress, progress_for_terminal};

/// Arguments of `regent publish`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:
  regent publish --repo localhost:5000/project --tag v1 frontend=oci:./build/frontend backend=oci:./build/backend
  regent publish --repo localhost:5000/project --repo-mode monorepo --tag v1 frontend=docker-archive:frontend.tar
  regent publish --repo ghcr.io/acme --tag $CI_COMMIT_SHA          # every image of ./regent.yaml
  regent publish --repo localhost:5000/mirror --tag v1 app=docker://docker.io/library/alpine:3.20

Blobs the target repository has are skipped; blobs in another repository of
the same registry are mounted; multi-platform indexes are copied whole.")]
pub struct PublishArgs {
    /// Where the images go: a registry, account or repository (see `regent name --help`).
    #[arg(long, env = "REGENT_REPO", value_name = "REPO")]
    pub repo: String,
    /// Layout of images in REPO: multirepo (REPO/IMAGE:TAG), monorepo (REPO:IMAGE-TAG), auto.
    #[arg(long, env = "REGENT_REPO_MODE", value_enum, default_value_t = RepoMode::Auto, value_name = "MODE")]
    pub repo_mode: RepoMode,
    /// The tag every image gets.
    #[arg(long, env = "REGENT_TAG", value_name = "TAG")]
    pub tag: String,
    /// The project file to read images from when no IMAGE=SOURCE is given.
    #[arg(long, value_name = "FILE")]
    pub project: Option<PathBuf>,
    /// Images as IMAGE=SOURCE, SOURCE being `oci:DIR[:REF]`,
    /// `docker-archive:FILE[:REF]` or `docker://REF`; `=SOURCE` is the nameless image.
    #[arg(value_name = "IMAGE=SOURCE")]
    pub images: Vec<String>,
}

#[derive(Serialize)]
struct Published {
    image: String,
    reference: String,
    #[serde(flatten)]
    report: CopyReport,
}

#[derive(Serialize)]
struct PublishOutput<'a> {
    repo: String,
    mode: RepoMode,
    implementation: &'a str,
    images: Vec<Published>,
}

/// Publish every image.
pub async fn run(ctx: &CommandContext, args: PublishArgs) -> anyhow::Result<ExitCode> {
    let repo = ImagesRepo::parse(&args.repo)
        .with_context(|| format!("--repo `{}` is not an images repo", args.repo))?;
    let specs = image_specs(&args)?;
    let names = specs
        .iter()
        .map(|s| match &s.name {
            Some(n) => ImageName::parse(n).with_context(|| format!("image name `{n}`")),
            None => Ok(ImageName::nameless()),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let access = ctx.registry(&repo.to_string()).await?;
    let mode = access.resolve_mode(&repo, args.repo_mode).await?;
    let targets = final_references(&repo, mode, &names, &args.tag)?;

    if access.adapter_info().quirks.create_repository_before_push {
        let mut repositories: Vec<String> = targets
            .iter()
            .map(|t| t.reference.repository().to_owned())
            .collect();
        repositories.dedup();
        for repository in repositories {
            let name = repository.clone();
            access
                .with_adapter(move |s| s.create_repository(&name))
                .await
                .context("the adapter task failed")?
                .with_context(|| format!("creating repository {repository} before the push"))?;
        }
    }

    let progress: Arc<dyn Progress> = match ctx.global.output {
        OutputFormat::Json => Arc::new(NoProgress),
        OutputFormat::Table => progress_for_terminal(),
    };
    let copier = Copier::new(access.client().clone(), progress, 4);
    let mut published = Vec::new();
    for (spec, target) in specs.iter().zip(&targets) {
        let source = open_source(ctx, &spec.source).await?;
        let tag = target.reference.tag().unwrap_or(&args.tag).to_owned();
        let report = copier
            .copy(&source, target.reference.repository(), &[tag])
            .await
            .with_context(|| format!("publishing {} to {}", target.image, target.reference))?;
        if ctx.global.output == OutputFormat::Table {
            eprintln!(
                "regent: published {} ({})",
                target.reference,
                report.summary()
            );
        }
        published.push(Published {
            image: target.image.to_string(),
            reference: target.reference.to_string(),
            report,
        });
    }
    match ctx.global.output {
        OutputFormat::Json => print_json(&PublishOutput {
            repo: repo.to_string(),
            mode,
            implementation: &access.detected().implementation,
            images: published,
        })?,
        OutputFormat::Table => {
            let mut table = Table::new(&["IMAGE", "REFERENCE", "DIGEST"]);
            for p in &published {
                table.row(vec![
                    p.image.clone(),
                    p.reference.clone(),
                    p.report.digest.to_string(),
                ]);
            }
            print!("{}", table.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The images from the arguments, else from the project file.
fn image_specs(args: &PublishArgs) -> anyhow::Result<Vec<ImageSpec>> {
    if !args.images.is_empty() {
        return args
            .images
            .iter()
            .map(|text| {
                text.parse::<ImageSpec>()
                    .with_context(|| format!("`{text}` is not IMAGE=SOURCE"))
            })
            .collect();
    }
    let path = args
        .project
        .clone()
        .unwrap_or_else(|| PathBuf::from(PROJECT_FILE));
    if !path.is_file() {
        anyhow::bail!(
            "no images given and no project file at {}: pass IMAGE=SOURCE arguments or write a {PROJECT_FILE}",
            path.display()
        );
    }
    let project = Project::load(&path)?;
    if project.images.is_empty() {
        anyhow::bail!("{} lists no images", path.display());
    }
    Ok(project.images)
}
