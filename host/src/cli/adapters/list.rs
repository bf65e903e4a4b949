//! `regent adapters list`

use std::process::ExitCode;

use serde::Serialize;

use super::super::CommandContext;
use super::super::output::{OutputFormat, Table, print_json};
use crate::runtime::{AdapterSource, Capabilities, Detection, NamingQuirks, SettingSpec};

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

/// List every adapter.
pub async fn run(ctx: &CommandContext) -> anyhow::Result<ExitCode> {
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
