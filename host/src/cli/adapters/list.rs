//! `regent adapters list`

use std::process::ExitCode;

use serde::Serialize;

use super::super::CommandContext;
use super::super::output::{OutputFormat, Table, print_json};
use crate::adapters::installed::{InstalledRecord, InstalledStore, declared_but_ungranted};
use crate::runtime::{
    AdapterSource, Capabilities, Detection, Grants, NamingQuirks, Permissions, SettingSpec,
};

/// What an adapter may use: everything it declares (bundled) or its grants.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Granted<'a> {
    /// Bundled: trusted with its whole declaration.
    Declared,
    /// Installed: only these, and the declared rest is listed as ungranted.
    Granted {
        #[serde(flatten)]
        grants: &'a Grants,
        ungranted_hosts: Vec<String>,
        ungranted_settings: Vec<String>,
    },
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
    permissions: Granted<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    installed: Option<&'a InstalledRecord>,
}

/// List every adapter.
pub async fn run(ctx: &CommandContext) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog().await?;
    let records = match InstalledStore::user_default() {
        Some(store) => store.list()?,
        None => Vec::new(),
    };
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
                permissions: match a.permissions() {
                    Permissions::Declared => Granted::Declared,
                    Permissions::Granted(grants) => {
                        let (hosts, settings) = declared_but_ungranted(info, grants);
                        Granted::Granted {
                            grants,
                            ungranted_hosts: hosts,
                            ungranted_settings: settings,
                        }
                    }
                },
                installed: match a.source() {
                    AdapterSource::Installed { .. } => records.iter().find(|r| r.name == info.name),
                    AdapterSource::Bundled { .. } => None,
                },
            }
        })
        .collect();
    match ctx.global.output {
        OutputFormat::Json => print_json(&rows)?,
        OutputFormat::Table => {
            let mut table = Table::new(&[
                "NAME", "VERSION", "SOURCE", "DIGEST", "HOSTS", "NATIVE", "GRANTED",
            ]);
            for r in &rows {
                let source = match r.source {
                    AdapterSource::Bundled { .. } => "bundled".to_owned(),
                    AdapterSource::Installed { from } => format!("installed {}", shorten(from)),
                };
                let granted = match &r.permissions {
                    Granted::Declared => "all declared".to_owned(),
                    Granted::Granted { grants, .. } => super::grants::describe_list(
                        &grants.hosts.iter().cloned().collect::<Vec<_>>(),
                        &grants.settings.iter().cloned().collect::<Vec<_>>(),
                    ),
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
                    granted,
                ]);
            }
            print!("{}", table.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `host/repo@sha256:abcdef123456` instead of the full 64 hex digits.
fn shorten(from: &str) -> String {
    match from.split_once("@sha256:") {
        Some((name, hex)) => format!("{name}@sha256:{}", hex.get(..12).unwrap_or(hex)),
        None => from.to_owned(),
    }
}

fn short_digest(digest: &str) -> String {
    let hex = digest.trim_start_matches("sha256:");
    format!("sha256:{}", &hex[..hex.len().min(12)])
}
