//! `regent logout REGISTRY`

use std::process::ExitCode;

use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, print_json};
use crate::registry::auth::{CredentialStore, DockerConfigDir, Erased, keys};

/// Arguments of `regent logout`.
#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// The registry: `host[:port]`, e.g. `ghcr.io`, `localhost:5000`, `docker.io`.
    pub registry: String,
}

/// What `--output json` prints.
#[derive(Debug, Serialize)]
struct LogoutReport<'a> {
    registry: &'a str,
    removed: bool,
    #[serde(flatten)]
    erased: &'a Erased,
}

/// Remove the stored login: from the registry's credential helper, and its
/// `auths` entry in `config.json`. Not being logged in is not an error.
pub async fn run(ctx: &CommandContext, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let registry = keys::validate(&args.registry)?;
    let dir = DockerConfigDir::locate(ctx.global.docker_config.as_deref())?;
    let mut store = CredentialStore::open(dir)?;
    let erased = store.erase(&registry).await?;
    match ctx.global.output {
        OutputFormat::Json => print_json(&LogoutReport {
            registry: &registry,
            removed: erased.any(),
            erased: &erased,
        })?,
        OutputFormat::Table => {
            if erased.any() {
                let mut from = Vec::new();
                if let Some(helper) = &erased.helper {
                    from.push(format!("credential helper {helper}"));
                }
                if erased.config_entry {
                    from.push(store.describe());
                }
                println!(
                    "Removed login credentials for {registry} from {}",
                    from.join(" and ")
                );
            } else {
                println!("Not logged in to {registry}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
