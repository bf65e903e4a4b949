//! `regent delete REF`: delete one tag without touching any other tag on
//! its digest, or delete a digest and say which tags went with it.

use std::process::ExitCode;

use anyhow::Context as _;
use futures_util::{StreamExt, stream};
use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, print_json};
use crate::registry::access::RegistryAccess;
use crate::registry::digest::Digest;
use crate::registry::distribution::DeleteOutcome;
use crate::registry::reference::Reference;
use crate::registry::tag_delete::TagDeleter;
use crate::runtime::TagRef;

/// Arguments of `regent delete`.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "A tag reference deletes only that tag: other tags on the same digest stay,
even on registries that can only delete by digest (regent moves the tag onto
a throwaway manifest and deletes that). A digest reference deletes the
manifest and every tag on it; the output lists them.

Examples:
  regent delete localhost:5000/app:v1
  regent delete localhost:5000/app@sha256:4f1c..."
)]
pub struct DeleteArgs {
    /// `REGISTRY/REPOSITORY:TAG` or `REGISTRY/REPOSITORY@DIGEST`.
    pub reference: String,
}

#[derive(Serialize)]
struct Deleted {
    reference: String,
    digest: Digest,
    /// `native` (the adapter's API), `tag-delete`, `throwaway`, or `digest`.
    method: String,
    /// Tags that no longer exist because of this deletion.
    deleted_tags: Vec<String>,
}

/// Delete the tag or digest.
pub async fn run(ctx: &CommandContext, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let reference = Reference::parse(&args.reference)
        .with_context(|| format!("`{}` is not an image reference", args.reference))?;
    let explicit_tag = args
        .reference
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'));
    if reference.digest().is_none() && !explicit_tag {
        anyhow::bail!(
            "name the tag to delete explicitly, e.g. {}:latest (regent never assumes `latest` for a delete)",
            args.reference
        );
    }
    let access = ctx.registry(&reference.to_string()).await?;
    let deleted = match reference.digest() {
        Some(digest) => delete_digest(&access, &reference, digest).await?,
        None => delete_tag(&access, &reference).await?,
    };
    match ctx.global.output {
        OutputFormat::Json => print_json(&deleted)?,
        OutputFormat::Table => {
            println!(
                "deleted {} ({}, via {})",
                deleted.reference, deleted.digest, deleted.method
            );
            if deleted.deleted_tags.len() > 1 || reference.digest().is_some() {
                println!(
                    "tags removed: {}",
                    if deleted.deleted_tags.is_empty() {
                        "(none)".to_owned()
                    } else {
                        deleted.deleted_tags.join(", ")
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn delete_tag(access: &RegistryAccess, reference: &Reference) -> anyhow::Result<Deleted> {
    let repository = reference.repository().to_owned();
    let tag = reference.tag().unwrap_or("latest").to_owned();
    let deleter = TagDeleter::new(access.client());
    if access.adapter_info().capabilities.delete_tags {
        let digest = deleter.resolve(&repository, &tag).await?;
        let request = vec![TagRef {
            tag: tag.clone(),
            digest: Some(digest.to_string()),
        }];
        let repo = repository.clone();
        let answer = access
            .with_adapter(move |s| s.delete_tags(&repo, &request))
            .await
            .context("the adapter task failed")?;
        // `unsupported` (for the call, or for this tag) means: the host's
        // tag-safe Registry API delete does it instead.
        let native_done = match answer {
            Err(e) if e.is_unsupported() => false,
            Err(e) => return Err(e.into()),
            Ok(results) => {
                let mut done = true;
                for result in results {
                    match result.outcome {
                        Ok(()) => {}
                        Err(crate::runtime::RegistryFailure::Unsupported { .. }) => done = false,
                        Err(e) => {
                            return Err(
                                anyhow::Error::new(e).context(format!("deleting {reference}"))
                            );
                        }
                    }
                }
                done
            }
        };
        if native_done {
            return Ok(Deleted {
                reference: reference.to_string(),
                digest,
                method: "native".into(),
                deleted_tags: vec![tag],
            });
        }
    }
    let gone = deleter.delete(&repository, &tag, None).await?;
    Ok(Deleted {
        reference: reference.to_string(),
        digest: gone.digest,
        method: serde_json::to_value(gone.method)?
            .as_str()
            .unwrap_or("tag-delete")
            .to_owned(),
        deleted_tags: vec![tag],
    })
}

async fn delete_digest(
    access: &RegistryAccess,
    reference: &Reference,
    digest: &Digest,
) -> anyhow::Result<Deleted> {
    let client = access.client();
    let repository = reference.repository();
    let tags = match client.tags(repository, Some(1000)).await {
        Ok(tags) => tags,
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let sharing: Vec<String> = stream::iter(tags)
        .map(|tag| async move {
            let head = client.head_manifest(repository, &tag).await;
            (tag, head)
        })
        .buffer_unordered(8)
        .filter_map(|(tag, head)| async move {
            match head {
                Ok(Some(h)) if h.digest.as_ref() == Some(digest) => Some(tag),
                _ => None,
            }
        })
        .collect()
        .await;
    match client.delete_manifest(repository, digest.as_str()).await? {
        DeleteOutcome::Deleted => {}
        DeleteOutcome::NotFound => anyhow::bail!("{reference} does not exist"),
        DeleteOutcome::TagDeleteUnsupported => {
            anyhow::bail!("{} refused to delete {reference}", access.registry())
        }
    }
    let mut deleted_tags = sharing;
    deleted_tags.sort();
    Ok(Deleted {
        reference: reference.to_string(),
        digest: digest.clone(),
        method: "digest".into(),
        deleted_tags,
    })
}
