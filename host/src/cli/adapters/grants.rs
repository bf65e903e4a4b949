//! `regent adapter grant|revoke NAME`, and the grant flags `install` shares.

use std::fmt::Write as _;
use std::process::ExitCode;

use super::super::CommandContext;
use super::super::output::{OutputFormat, print_json};
use crate::adapters::installed::{
    GrantRequest, InstallError, InstalledStore, declared_but_ungranted, resolve_grants,
    revoke_grants,
};
use crate::runtime::{AdapterInfo, AdapterSource};

/// What to grant (install) or grant/revoke (later).
#[derive(Debug, Clone, clap::Args)]
pub struct GrantArgs {
    /// A host the adapter declares that it may call (repeat for several).
    #[arg(long = "grant-host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// A setting the adapter declares that it may read (repeat for several).
    #[arg(long = "grant-setting", value_name = "NAME")]
    pub settings: Vec<String>,
    /// Everything the adapter declares.
    #[arg(long = "grant-all")]
    pub all: bool,
}

impl GrantArgs {
    /// As a request.
    pub fn request(&self) -> GrantRequest {
        GrantRequest {
            hosts: self.hosts.clone(),
            settings: self.settings.clone(),
            all: self.all,
        }
    }
}

/// Arguments of `regent adapter grant` and `revoke`.
#[derive(Debug, clap::Args)]
pub struct ChangeArgs {
    /// The installed adapter.
    pub name: String,
    /// A declared host (repeat for several).
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// A declared setting (repeat for several).
    #[arg(long = "setting", value_name = "NAME")]
    pub settings: Vec<String>,
    /// Everything the adapter declares.
    #[arg(long)]
    pub all: bool,
}

/// Grant (`revoke == false`) or revoke what `args` names.
pub async fn run(ctx: &CommandContext, args: ChangeArgs, revoke: bool) -> anyhow::Result<ExitCode> {
    let store = InstalledStore::user_default()
        .ok_or_else(|| anyhow::anyhow!("no config directory; set REGENT_CONFIG_DIR"))?;
    let catalog = ctx.catalog().await?;
    let adapter = catalog.get(&args.name);
    if let Some(a) = adapter
        && matches!(a.source(), AdapterSource::Bundled { .. })
    {
        anyhow::bail!(
            "adapter `{}` is bundled with regent and may use everything it declares; grants apply to installed adapters",
            args.name
        );
    }
    let installed = store.list()?;
    let Some(adapter) = adapter else {
        return Err(InstallError::NotInstalled {
            name: args.name.clone(),
            installed: names(&installed),
        }
        .into());
    };
    let info = adapter.info().clone();
    let request = GrantRequest {
        hosts: args.hosts,
        settings: args.settings,
        all: args.all,
    };
    let record = store.update(|records| {
        let Some(record) = records.iter_mut().find(|r| r.name == args.name) else {
            return Err(InstallError::NotInstalled {
                name: args.name.clone(),
                installed: names(records),
            });
        };
        record.grants = if revoke {
            revoke_grants(&info, &request, &record.grants)?
        } else {
            resolve_grants(&info, &request, &record.grants)?
        };
        Ok(record.clone())
    })?;
    let (hosts, settings) = declared_but_ungranted(&info, &record.grants);
    match ctx.global.output {
        OutputFormat::Json => print_json(&serde_json::json!({
            "name": record.name,
            "grants": record.grants,
            "ungranted_hosts": hosts,
            "ungranted_settings": settings,
        }))?,
        OutputFormat::Table => {
            println!(
                "adapter {} may use: {}",
                record.name,
                describe_list(
                    &record.grants.hosts.iter().cloned().collect::<Vec<_>>(),
                    &record.grants.settings.iter().cloned().collect::<Vec<_>>()
                )
            );
            if !hosts.is_empty() || !settings.is_empty() {
                println!("not granted: {}", describe_list(&hosts, &settings));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn names(records: &[crate::adapters::installed::InstalledRecord]) -> String {
    if records.is_empty() {
        return "none".to_owned();
    }
    records
        .iter()
        .map(|r| r.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `hosts a, b; settings x` or `nothing`.
pub fn describe_list(hosts: &[String], settings: &[String]) -> String {
    let mut parts = Vec::new();
    if !hosts.is_empty() {
        parts.push(format!("hosts {}", hosts.join(", ")));
    }
    if !settings.is_empty() {
        parts.push(format!("settings {}", settings.join(", ")));
    }
    if parts.is_empty() {
        "nothing".to_owned()
    } else {
        parts.join("; ")
    }
}

/// What an adapter declares, as shown before granting.
pub fn describe_declaration(info: &AdapterInfo) -> String {
    let mut text = format!(
        "adapter {} {} ({}) declares:\n",
        info.name, info.version, info.display_name
    );
    if info.allowed_hosts.is_empty() {
        text.push_str("  hosts: none besides the registry in use\n");
    } else {
        for host in &info.allowed_hosts {
            let _ = writeln!(text, "  host     {host}");
        }
    }
    for s in &info.settings {
        let mut kind = Vec::new();
        if s.secret {
            kind.push("secret");
        }
        if s.api_endpoint {
            kind.push("API endpoint: its host joins the allow-list");
        }
        let kind = if kind.is_empty() {
            String::new()
        } else {
            format!(" [{}]", kind.join(", "))
        };
        let _ = writeln!(text, "  setting  {} (${}){kind}: {}", s.name, s.env, s.help);
    }
    text
}
