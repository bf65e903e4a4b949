//! Opening what the user names as a source (`oci:`, `docker-archive:`,
//! `docker://` or a plain reference) for the copy engine.

use anyhow::Context as _;

use super::CommandContext;
use crate::publish::{ImageSource, SourceSpec};
use crate::registry::reference::Reference;
use crate::transfer::{CopySource, RemoteImage};

/// Open `spec`; remote images are read through the registry's client.
pub async fn open_source(ctx: &CommandContext, spec: &SourceSpec) -> anyhow::Result<CopySource> {
    match spec {
        SourceSpec::Remote { reference } => {
            let parsed = Reference::parse(reference)
                .with_context(|| format!("source docker://{reference}"))?;
            open_remote(ctx, &parsed).await
        }
        local => Ok(CopySource::Local(
            ImageSource::open(local)
                .await
                .with_context(|| format!("opening {local}"))?,
        )),
    }
}

/// A remote image by reference.
pub async fn open_remote(
    ctx: &CommandContext,
    reference: &Reference,
) -> anyhow::Result<CopySource> {
    let access = ctx.registry(&reference.to_string()).await?;
    let target = match (reference.digest(), reference.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_owned(),
        (None, None) => "latest".to_owned(),
    };
    Ok(CopySource::Remote(RemoteImage {
        client: access.client().clone(),
        repository: reference.repository().to_owned(),
        reference: target,
    }))
}

/// Parse a source argument: the explicit forms, else a plain image reference.
pub fn parse_source(text: &str) -> anyhow::Result<SourceSpec> {
    if text.starts_with("oci:")
        || text.starts_with("docker-archive:")
        || text.starts_with("docker://")
    {
        return text
            .parse()
            .with_context(|| format!("`{text}` is not a source"));
    }
    Ok(SourceSpec::Remote {
        reference: text.to_owned(),
    })
}
