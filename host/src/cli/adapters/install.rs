//! `regent adapter install (FILE.wasm | REF@sha256:DIGEST)`: check an
//! adapter, show what it asks for, record what the user grants, keep it.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use super::super::CommandContext;
use super::super::output::{OutputFormat, print_json};
use super::grants::{GrantArgs, describe_declaration};
use crate::adapters::installed::{
    GrantRequest, InstallError, InstallSource, InstalledRecord, InstalledStore,
    declared_but_ungranted, pull_component, resolve_grants,
};
use crate::registry::reference::Reference;
use crate::runtime::{AdapterInfo, AdapterSource, Grants, digest_of};

/// Arguments of `regent adapter install`.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// A component file, or an OCI reference pinned by digest
    /// (`registry/repo@sha256:...`, as `regent adapter publish` prints).
    pub source: String,
    #[command(flatten)]
    pub grants: GrantArgs,
    /// Accept a reference by tag; the digest it resolves to now is recorded.
    #[arg(long)]
    pub allow_unpinned: bool,
    /// Replace an installed adapter of the same name.
    #[arg(long)]
    pub replace: bool,
}

#[derive(Serialize)]
struct Installed<'a> {
    name: &'a str,
    version: &'a str,
    source: &'a InstallSource,
    component_digest: &'a str,
    grants: &'a Grants,
    ungranted_hosts: Vec<String>,
    ungranted_settings: Vec<String>,
    path: String,
}

/// Fetch, check, grant, record.
pub async fn run(ctx: &CommandContext, args: InstallArgs) -> anyhow::Result<ExitCode> {
    let store = InstalledStore::user_default()
        .context("no config directory for installed adapters; set REGENT_CONFIG_DIR")?;
    let (bytes, source) = fetch(ctx, &args).await?;
    let from = source.to_string();
    let loaded = tokio::task::spawn_blocking({
        let bytes = bytes.clone();
        move || -> anyhow::Result<_> {
            let engine = CommandContext::engine()?;
            Ok(engine.load(AdapterSource::Installed { from }, &bytes)?)
        }
    })
    .await
    .context("checking the component")??;
    let info = loaded.info().clone();
    let catalog = ctx.catalog().await?;
    if let Some(existing) = catalog.get(&info.name)
        && matches!(existing.source(), AdapterSource::Bundled { .. })
    {
        return Err(InstallError::BundledName {
            name: info.name.clone(),
        }
        .into());
    }
    if info.detection.fallback {
        return Err(InstallError::ClaimsFallback {
            adapter: info.name.clone(),
        }
        .into());
    }
    let json = matches!(ctx.global.output, OutputFormat::Json);
    if !json {
        eprint!("{}", describe_declaration(&info));
    }
    let request = args.grants.request();
    let request = if request.is_empty() && !json && ask_to_grant_all(&info)? {
        GrantRequest {
            all: true,
            ..request
        }
    } else {
        request
    };
    let grants = resolve_grants(&info, &request, &Grants::default())?;
    let component_digest = digest_of(&bytes);
    let file = store.write_component(&info.name, &component_digest, &bytes)?;
    let record = InstalledRecord {
        name: info.name.clone(),
        version: info.version.clone(),
        source,
        component_digest,
        file: file.clone(),
        grants,
        installed_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    };
    let replaced = store.update(|records| {
        let old = match records.iter().position(|r| r.name == record.name) {
            Some(i) if args.replace => Some(records.remove(i)),
            Some(i) => {
                return Err(InstallError::AlreadyInstalled {
                    name: record.name.clone(),
                    from: records[i].source.to_string(),
                });
            }
            None => None,
        };
        records.push(record.clone());
        Ok(old)
    });
    let replaced = match replaced {
        Ok(r) => r,
        Err(e) => {
            if !store.list()?.iter().any(|r| r.file == file) {
                store.remove_component(&file)?;
            }
            return Err(e.into());
        }
    };
    if let Some(old) = replaced
        && old.file != file
    {
        store.remove_component(&old.file)?;
    }
    report(ctx, &store, &record, &info)
}

/// The component bytes and where they came from.
async fn fetch(
    ctx: &CommandContext,
    args: &InstallArgs,
) -> anyhow::Result<(Vec<u8>, InstallSource)> {
    let path = PathBuf::from(&args.source);
    if path.is_file() || args.source.ends_with(".wasm") {
        let bytes = std::fs::read(&path)
            .with_context(|| format!("reading the component {}", path.display()))?;
        let shown = std::fs::canonicalize(&path).unwrap_or(path);
        return Ok((
            bytes,
            InstallSource::File {
                path: shown.display().to_string(),
            },
        ));
    }
    let reference = Reference::parse(&args.source)
        .with_context(|| format!("`{}` is neither a file nor a reference", args.source))?;
    let unpinned = reference.digest().is_none();
    if unpinned && !args.allow_unpinned {
        return Err(InstallError::Unpinned {
            reference: args.source.clone(),
            reference_base: format!("{}/{}", reference.registry(), reference.repository()),
        }
        .into());
    }
    let target = reference
        .digest()
        .map(ToString::to_string)
        .or_else(|| reference.tag().map(str::to_owned))
        .unwrap_or_else(|| "latest".to_owned());
    let access = ctx.registry(&reference.to_string()).await?;
    let (bytes, digest) = pull_component(access.client(), reference.repository(), &target)
        .await
        .with_context(|| format!("fetching the adapter {}", args.source))?;
    if unpinned {
        eprintln!(
            "regent: warning: {} was installed by tag; it resolved to {digest}, which is what was recorded",
            args.source
        );
    }
    Ok((
        bytes,
        InstallSource::Registry {
            requested: args.source.clone(),
            pinned: format!(
                "{}/{}@{digest}",
                reference.registry(),
                reference.repository()
            ),
            unpinned,
        },
    ))
}

/// On a terminal with nothing granted by flags: ask once for everything.
fn ask_to_grant_all(info: &AdapterInfo) -> anyhow::Result<bool> {
    if info.allowed_hosts.is_empty() && info.settings.is_empty() {
        return Ok(false);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(false);
    }
    eprint!("Grant adapter `{}` all of the above? [y/N] ", info.name);
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("reading the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

fn report(
    ctx: &CommandContext,
    store: &InstalledStore,
    record: &InstalledRecord,
    info: &AdapterInfo,
) -> anyhow::Result<ExitCode> {
    let (hosts, settings) = declared_but_ungranted(info, &record.grants);
    let shown = Installed {
        name: &record.name,
        version: &record.version,
        source: &record.source,
        component_digest: &record.component_digest,
        grants: &record.grants,
        ungranted_hosts: hosts.clone(),
        ungranted_settings: settings.clone(),
        path: store.component_path(record).display().to_string(),
    };
    match ctx.global.output {
        OutputFormat::Json => print_json(&shown)?,
        OutputFormat::Table => {
            println!(
                "installed adapter {} {} from {}",
                record.name, record.version, record.source
            );
            println!("component {}", record.component_digest);
            if !hosts.is_empty() || !settings.is_empty() {
                println!(
                    "not granted (calls that need them will be denied): {}",
                    super::grants::describe_list(&hosts, &settings)
                );
                println!(
                    "grant later with `regent adapter grant {}{}{}`",
                    record.name,
                    hosts
                        .iter()
                        .map(|h| format!(" --host {h}"))
                        .collect::<String>(),
                    settings
                        .iter()
                        .map(|s| format!(" --setting {s}"))
                        .collect::<String>()
                );
            }
            println!(
                "use it with `--repo-container-registry {}` (or through its address patterns where no bundled adapter claims the address)",
                record.name
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
