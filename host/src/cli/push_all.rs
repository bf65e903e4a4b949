//! `regent push-all --from oci:DIR --to REGISTRY[/PREFIX]`: push every image
//! of an OCI layout under its ref name, the batch onboarding of a registry.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use crate::publish::{ImageSource, SourceSpec};
use crate::registry::reference::{ImagesRepo, Reference, looks_like_registry};
use crate::transfer::{
    Copier, CopyReport, CopySource, NoProgress, Progress, progress_for_terminal,
};

/// Images pushed at once (each moves up to 4 blobs at a time).
const IMAGES_AT_ONCE: usize = 4;

/// Arguments of `regent push-all`.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Ref names map to targets like this (with --to localhost:5000/mirror):
  frontend:v1                    -> localhost:5000/mirror/frontend:v1
  docker.io/library/alpine:3.20  -> localhost:5000/mirror/library/alpine:3.20
  v1 (a bare tag)                -> localhost:5000/mirror:v1"
)]
pub struct PushAllArgs {
    /// The OCI image layout, `oci:DIR`.
    #[arg(long, value_name = "oci:DIR")]
    pub from: String,
    /// The registry, optionally with a path prefix.
    #[arg(long, value_name = "REGISTRY[/PREFIX]")]
    pub to: String,
}

#[derive(Serialize)]
struct Pushed {
    #[serde(rename = "ref")]
    ref_name: String,
    reference: String,
    #[serde(flatten)]
    report: CopyReport,
}

/// Push every image of the layout.
pub async fn run(ctx: &CommandContext, args: PushAllArgs) -> anyhow::Result<ExitCode> {
    let spec: SourceSpec = args
        .from
        .parse()
        .with_context(|| format!("--from `{}`", args.from))?;
    if !matches!(
        spec,
        SourceSpec::OciLayout {
            reference: None,
            ..
        }
    ) {
        anyhow::bail!(
            "--from takes an OCI layout without a ref, `oci:DIR` (got `{}`)",
            args.from
        );
    }
    let to = ImagesRepo::parse(&args.to).with_context(|| format!("--to `{}`", args.to))?;
    let sources = ImageSource::open_all(&spec)
        .await
        .with_context(|| format!("opening {}", args.from))?;
    let mut targets = Vec::new();
    for source in sources {
        let Some(ref_name) = source.reference().map(str::to_owned) else {
            eprintln!(
                "regent: warning: skipping an image of {} without a ref name",
                args.from
            );
            continue;
        };
        targets.push((target_for(&to, &ref_name)?, ref_name, source));
    }
    let access = ctx.registry(&to.to_string()).await?;
    let progress: Arc<dyn Progress> = match ctx.global.output {
        OutputFormat::Json => Arc::new(NoProgress),
        OutputFormat::Table => progress_for_terminal(),
    };
    let copier = Copier::new(access.client().clone(), progress, 4);
    // Images go up several at a time (each with its own bounded blob
    // concurrency), in order in the report; one at a time left the
    // connection pool idle between an image's few requests.
    // Two refs mapping to one target keep their order (the later one wins).
    let distinct = targets
        .iter()
        .map(|(target, _, _)| target.to_string())
        .collect::<std::collections::HashSet<_>>()
        .len()
        == targets.len();
    let at_once = if distinct { IMAGES_AT_ONCE } else { 1 };
    let copier = &copier;
    let pushed: Vec<Pushed> = stream::iter(targets)
        .map(|(target, ref_name, source)| async move {
            let tag = target.tag().unwrap_or("latest").to_owned();
            let report = copier
                .copy(&CopySource::Local(source), target.repository(), &[tag])
                .await
                .with_context(|| format!("pushing {ref_name} to {target}"))?;
            anyhow::Ok(Pushed {
                ref_name,
                reference: target.to_string(),
                report,
            })
        })
        .buffered(at_once)
        .try_collect()
        .await?;
    match ctx.global.output {
        OutputFormat::Json => print_json(&pushed)?,
        OutputFormat::Table => {
            let mut table = Table::new(&["REF", "REFERENCE", "DIGEST"]);
            for p in &pushed {
                table.row(vec![
                    p.ref_name.clone(),
                    p.reference.clone(),
                    p.report.digest.to_string(),
                ]);
            }
            print!("{}", table.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the image with `ref_name` goes under `to`.
fn target_for(to: &ImagesRepo, ref_name: &str) -> anyhow::Result<Reference> {
    let (name, tag) = match ref_name.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (Some(name), tag),
        _ => (None, ref_name),
    };
    let name = name.map(|n| match n.split_once('/') {
        Some((first, rest)) if looks_like_registry(first) => rest,
        _ => n,
    });
    let path = match (to.path(), name) {
        (Some(prefix), Some(name)) => format!("{prefix}/{name}"),
        (None, Some(name)) => name.to_owned(),
        (Some(prefix), None) => prefix.to_owned(),
        (None, None) => anyhow::bail!(
            "the ref `{ref_name}` is only a tag, so it needs a repository: give --to {}/REPOSITORY",
            to.registry()
        ),
    };
    Reference::new(to.registry(), &path)
        .and_then(|r| r.with_tag(tag))
        .with_context(|| format!("the ref `{ref_name}` does not make a valid reference under {to}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(to: &str, ref_name: &str) -> String {
        let to = ImagesRepo::parse(to).expect("repo");
        target_for(&to, ref_name)
            .map(|r| r.to_string())
            .unwrap_or_else(|e| format!("error: {e:#}"))
    }

    #[test]
    fn ref_names_map_under_the_target() {
        assert_eq!(
            target("localhost:5000/mirror", "frontend:v1"),
            "localhost:5000/mirror/frontend:v1"
        );
        assert_eq!(
            target("localhost:5000", "frontend:v1"),
            "localhost:5000/frontend:v1"
        );
        assert_eq!(
            target("localhost:5000/m", "docker.io/library/alpine:3.20"),
            "localhost:5000/m/library/alpine:3.20"
        );
        assert_eq!(target("localhost:5000/m", "v1"), "localhost:5000/m:v1");
        assert!(target("localhost:5000", "v1").starts_with("error: the ref `v1` is only a tag"));
    }
}
