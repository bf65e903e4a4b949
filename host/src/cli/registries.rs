//! `regent registries`: the support table, generated from what each
//! adapter declares, so it can never drift from the code.

use std::process::ExitCode;

use serde::Serialize;

use super::CommandContext;
use super::output::{OutputFormat, Table, print_json};
use crate::runtime::{OciArtifactSupport, SettingSpec};

/// Arguments of `regent registries`.
#[derive(Debug, clap::Args)]
pub struct RegistriesArgs {}

#[derive(Serialize)]
struct Support<'a> {
    implementation: &'a str,
    display_name: &'a str,
    recognises: Vec<String>,
    publish: &'static str,
    oci_artifacts: OciArtifactSupport,
    cleanup: bool,
    native_cleanup: bool,
    native_listing: bool,
    metadata: Vec<&'static str>,
    nested_repositories: bool,
    settings: &'a [SettingSpec],
}

/// Print the table.
pub async fn run(ctx: &CommandContext, _args: RegistriesArgs) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog().await?;
    let rows: Vec<Support<'_>> = catalog
        .all()
        .map(|a| {
            let info = a.info();
            let mut recognises: Vec<String> = info
                .detection
                .patterns
                .iter()
                .map(ToString::to_string)
                .collect();
            if info.detection.fallback {
                recognises.push("(everything else)".into());
            }
            if recognises.is_empty() {
                recognises.push("(only with --repo-container-registry)".into());
            }
            Support {
                implementation: &info.name,
                display_name: &info.display_name,
                recognises,
                publish: if info.quirks.create_repository_before_push {
                    "yes (creates repositories first)"
                } else {
                    "yes"
                },
                oci_artifacts: info.quirks.oci_artifacts,
                cleanup: true,
                native_cleanup: info.capabilities.delete_tags,
                native_listing: info.capabilities.list_tags,
                metadata: info.metadata.names(),
                nested_repositories: info.quirks.nested_repositories,
                settings: &info.settings,
            }
        })
        .collect();
    match ctx.global.output {
        OutputFormat::Json => print_json(&rows)?,
        OutputFormat::Table => {
            let mut table = Table::new(&[
                "IMPLEMENTATION",
                "PUBLISH",
                "OCI ARTIFACTS",
                "CLEANUP",
                "METADATA",
                "SETTINGS",
            ]);
            for r in &rows {
                let oci = match r.oci_artifacts {
                    OciArtifactSupport::Supported => "yes",
                    OciArtifactSupport::NotTested => "not tested",
                    OciArtifactSupport::NotSupported => "no",
                };
                let cleanup = if r.native_cleanup {
                    "native"
                } else {
                    "Registry API (tag-safe)"
                };
                let metadata = if r.metadata.is_empty() {
                    "-".to_owned()
                } else {
                    r.metadata.join(",")
                };
                let settings: Vec<String> = r
                    .settings
                    .iter()
                    .map(|s| {
                        format!(
                            "--repo-{}{}",
                            s.name,
                            if s.secret { " (secret)" } else { "" }
                        )
                    })
                    .collect();
                table.row(vec![
                    r.implementation.to_owned(),
                    r.publish.to_owned(),
                    oci.to_owned(),
                    cleanup.to_owned(),
                    metadata,
                    if settings.is_empty() {
                        "-".to_owned()
                    } else {
                        settings.join(" ")
                    },
                ]);
            }
            print!("{}", table.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}
