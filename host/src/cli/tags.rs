//! `regent tags REPOSITORY`: list a repository's tags, with what the
//! registry's native API knows of them where the adapter has one.

use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use crate::registry::reference::ImagesRepo;
use crate::registry::tag_listing::{ListingSource, list_tags};
use crate::runtime::TagInfo;

/// Arguments of `regent tags`.
#[derive(Debug, clap::Args)]
pub struct TagsArgs {
    /// The repository, e.g. `localhost:5000/project/frontend` or `acme/app` (Docker Hub).
    pub repository: String,
}

#[derive(Serialize)]
struct Listing<'a> {
    repository: String,
    implementation: &'a str,
    /// `native` (adapter API, with metadata) or `registry-api` (`tags/list`).
    source: &'static str,
    tags: Vec<TagInfo>,
}

/// List the tags.
pub async fn run(ctx: &CommandContext, args: TagsArgs) -> anyhow::Result<ExitCode> {
    let repo = ImagesRepo::parse(&args.repository)
        .with_context(|| format!("`{}` is not a repository", args.repository))?;
    let Some(path) = repo.path().map(str::to_owned) else {
        anyhow::bail!(
            "`{}` is a registry address; name a repository in it, e.g. {}/app",
            args.repository,
            repo.registry()
        );
    };
    let access = ctx.registry(&repo.to_string()).await?;
    let listed = list_tags(&access, &path, false).await?;
    let (source, tags) = match listed.source {
        ListingSource::Native => ("native", listed.tags),
        ListingSource::RegistryApi => ("registry-api", listed.tags),
    };
    let listing = Listing {
        repository: format!("{}/{path}", access.registry()),
        implementation: &access.detected().implementation,
        source,
        tags,
    };
    match ctx.global.output {
        OutputFormat::Json => print_json(&listing)?,
        OutputFormat::Table if source == "native" => {
            let mut table = Table::new(&["TAG", "DIGEST", "PUSHED", "LAST PULLED", "SIZE"]);
            let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
            for t in &listing.tags {
                table.row(vec![
                    t.name.clone(),
                    opt(t.digest.clone()),
                    opt(t.pushed_at.map(|s| s.to_string())),
                    opt(t.last_pulled_at.map(|s| s.to_string())),
                    opt(t.size.map(crate::transfer::human_size)),
                ]);
            }
            print!("{}", table.render());
        }
        OutputFormat::Table => {
            for t in &listing.tags {
                println!("{}", t.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
