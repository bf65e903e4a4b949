//! `regent adapters ...`

use std::process::ExitCode;

use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use crate::runtime::{AdapterSource, Capabilities, Detection, NamingQuirks, SettingSpec};

/// Adapter commands.
#[derive(Debug, clap::Subcommand)]
pub enum AdaptersCommand {
    /// List the adapters this regent can use: name, version, where it comes
    /// from, component digest, hosts it may call, native capabilities.
    List,
}

#[derive(Serialize)]
struct AdapterRow<'a> {
    name: &'a str,
    version: &'a str,
    display_name: &'a str,
    source: &'a AdapterSource,
    digest: &'a str,
    allowed_hosts: &'a [String],
    capabilities: &'a Capabilities,
    detection: &'a Detection,
    settings: &'a [SettingSpec],
    quirks: &'a NamingQuirks,
}

/// Run an adapters command.
pub async fn run(ctx: &CommandContext, command: AdaptersCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdaptersCommand::List => list(ctx).await,
    }
}

async fn list(ctx: &CommandContext) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog().await?;
    let rows: Vec<AdapterRow<'_>> = catalog
        .all()
        .map(|a| {
            let info = a.info();
            AdapterRow {
                name: &info.name,
                version: &info.version,
                display_name: &info.display_name,
                source: a.source(),
                digest: a.digest(),
                allowed_hosts: &info.allowed_hosts,
                capabilities: &info.capabilities,
                detection: &info.detection,
                settings: &info.settings,
                quirks: &info.quirks,
            }
        })
        .collect();
    match ctx.global.output {
        OutputFormat::Json => print_json(&rows)?,
        OutputFormat::Table => {
            let mut table = Table::new(&["NAME", "VERSION", "SOURCE", "DIGEST", "HOSTS", "NATIVE"]);
            for r in &rows {
                let source = match r.source {
                    AdapterSource::Bundled { .. } => "bundled".to_owned(),
                    AdapterSource::Installed { .. } => "installed".to_owned(),
                };
                let hosts = if r.allowed_hosts.is_empty() {
                    "(registry only)".to_owned()
                } else {
                    r.allowed_hosts.join(",")
                };
                let native = r.capabilities.names();
                table.row(vec![
                    r.name.to_owned(),
                    r.version.to_owned(),
                    source,
                    short_digest(r.digest),
                    hosts,
                    if native.is_empty() {
                        "(Registry API only)".to_owned()
                    } else {
                        native.join(",")
                    },
                ]);
            }
            print!("{}", table.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn short_digest(digest: &str) -> String {
    let hex = digest.trim_start_matches("sha256:");
    format!("sha256:{}", &hex[..hex.len().min(12)])
}
