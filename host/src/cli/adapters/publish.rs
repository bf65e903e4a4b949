//! `regent adapter publish FILE.wasm REF`: push an adapter component as an
//! OCI artifact (CNCF wasm layout) and print the digest to install it by.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::super::CommandContext;
use super::super::output::{OutputFormat, print_json};
use crate::adapters::installed::publish_component;
use crate::registry::reference::Reference;
use crate::runtime::{AdapterSource, WIT_PACKAGE};

/// Arguments of `regent adapter publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The component, e.g. `target/wasm32-wasip2/release/acme_registry.wasm`.
    pub file: PathBuf,
    /// Where to push it, e.g. `registry.example.com/regent-adapters/acme:1.0.0`.
    /// Without a tag, the adapter's own version is the tag.
    pub reference: String,
}

/// Check the component loads (contract version, info), then push it.
pub async fn run(ctx: &CommandContext, args: PublishArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("reading the component {}", args.file.display()))?;
    let origin = args.file.display().to_string();
    let checked = tokio::task::spawn_blocking({
        let bytes = bytes.clone();
        move || -> anyhow::Result<_> {
            let engine = CommandContext::engine()?;
            let loaded = engine.load(
                AdapterSource::Installed {
                    from: origin.clone(),
                },
                &bytes,
            )?;
            let interfaces = engine.interfaces(&bytes, &origin)?;
            Ok((loaded.info().clone(), interfaces))
        }
    })
    .await
    .context("checking the component")??;
    let (info, interfaces) = checked;
    let reference = Reference::parse(&args.reference)
        .with_context(|| format!("the reference `{}`", args.reference))?;
    if reference.digest().is_some() {
        anyhow::bail!(
            "{} has a digest; publish to a tag (the digest is computed from what is pushed)",
            args.reference
        );
    }
    let explicit_tag = args
        .reference
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'));
    let tag = match reference.tag() {
        Some(tag) if explicit_tag => tag.to_owned(),
        _ => info.version.clone(),
    };
    let access = ctx.registry(&reference.to_string()).await?;
    let version = interfaces
        .exports
        .iter()
        .find_map(|e| e.strip_prefix(&format!("{WIT_PACKAGE}/registry@")))
        .unwrap_or("unknown")
        .to_owned();
    let published = publish_component(
        access.client(),
        reference.repository(),
        &tag,
        bytes,
        (&info.name, &info.version),
        interfaces.imports,
        interfaces.exports,
        &format!("{WIT_PACKAGE}/adapter@{version}"),
    )
    .await
    .with_context(|| format!("publishing adapter `{}` to {}", info.name, args.reference))?;
    match ctx.global.output {
        OutputFormat::Json => print_json(&published)?,
        OutputFormat::Table => {
            println!(
                "published adapter {} {} as {}",
                published.name, published.version, published.reference
            );
            println!("install it pinned by digest with:");
            println!("  regent adapter install {}", published.pinned);
        }
    }
    Ok(ExitCode::SUCCESS)
}
