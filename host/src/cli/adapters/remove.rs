//! `regent adapter remove NAME`: forget an installed adapter and its grants.

use std::process::ExitCode;

use super::super::CommandContext;
use super::super::output::{OutputFormat, print_json};
use crate::adapters::bundled_components;
use crate::adapters::installed::{InstallError, InstalledStore};

/// Arguments of `regent adapter remove`.
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// The installed adapter's name.
    pub name: String,
}

/// Remove the record, then the component file.
pub fn run(ctx: &CommandContext, args: RemoveArgs) -> anyhow::Result<ExitCode> {
    let store = InstalledStore::user_default()
        .ok_or_else(|| anyhow::anyhow!("no config directory; set REGENT_CONFIG_DIR"))?;
    let removed = store.update(
        |records| match records.iter().position(|r| r.name == args.name) {
            Some(i) => Ok(records.remove(i)),
            None => Err(InstallError::NotInstalled {
                name: args.name.clone(),
                installed: if records.is_empty() {
                    "none".to_owned()
                } else {
                    records
                        .iter()
                        .map(|r| r.name.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            }),
        },
    );
    let removed = match removed {
        Ok(r) => r,
        Err(e) => {
            let bundled = format!("regent-adapter-{}", args.name);
            if bundled_components().iter().any(|(p, _)| *p == bundled) {
                anyhow::bail!(
                    "adapter `{}` is bundled with regent and cannot be removed",
                    args.name
                );
            }
            return Err(e.into());
        }
    };
    store.remove_component(&removed.file)?;
    match ctx.global.output {
        OutputFormat::Json => print_json(&removed)?,
        OutputFormat::Table => println!(
            "removed adapter {} {} (installed from {})",
            removed.name, removed.version, removed.source
        ),
    }
    Ok(ExitCode::SUCCESS)
}
