//! Turning `--grant-host` / `--grant-setting` into grants, checked against
//! what the adapter declares: granting something it never declared would
//! do nothing, so it is refused as a likely typo.

use crate::runtime::{AdapterInfo, Grants, normalise_host};

use super::error::InstallError;

/// What the user asked to grant.
#[derive(Debug, Clone, Default)]
pub struct GrantRequest {
    pub hosts: Vec<String>,
    pub settings: Vec<String>,
    /// Grant everything the adapter declares.
    pub all: bool,
}

impl GrantRequest {
    /// Nothing was asked for.
    pub fn is_empty(&self) -> bool {
        !self.all && self.hosts.is_empty() && self.settings.is_empty()
    }
}

/// `existing` plus what `request` adds, after checking every name is declared.
pub fn resolve_grants(
    info: &AdapterInfo,
    request: &GrantRequest,
    existing: &Grants,
) -> Result<Grants, InstallError> {
    let mut grants = existing.clone();
    if request.all {
        grants
            .hosts
            .extend(info.allowed_hosts.iter().map(|h| normalise_host(h)));
        grants
            .settings
            .extend(info.settings.iter().map(|s| s.name.clone()));
    }
    for host in &request.hosts {
        let wanted = normalise_host(host);
        if !info
            .allowed_hosts
            .iter()
            .any(|h| normalise_host(h) == wanted)
        {
            return Err(not_declared(
                info,
                "host",
                host,
                info.allowed_hosts.join(", "),
            ));
        }
        grants.hosts.insert(wanted);
    }
    for name in &request.settings {
        if info.setting(name).is_none() {
            let declared: Vec<&str> = info.settings.iter().map(|s| s.name.as_str()).collect();
            return Err(not_declared(info, "setting", name, declared.join(", ")));
        }
        grants.settings.insert(name.clone());
    }
    Ok(grants)
}

/// `existing` without what `request` names (revoking an undeclared name is
/// refused the same way as granting one).
pub fn revoke_grants(
    info: &AdapterInfo,
    request: &GrantRequest,
    existing: &Grants,
) -> Result<Grants, InstallError> {
    if request.all {
        return Ok(Grants::default());
    }
    let named = resolve_grants(info, request, &Grants::default())?;
    let mut grants = existing.clone();
    grants.hosts.retain(|h| !named.hosts.contains(h));
    grants.settings.retain(|s| !named.settings.contains(s));
    Ok(grants)
}

/// Declared hosts and settings that `grants` leaves out, for the install
/// summary and `adapters list`.
pub fn declared_but_ungranted(info: &AdapterInfo, grants: &Grants) -> (Vec<String>, Vec<String>) {
    let hosts = info
        .allowed_hosts
        .iter()
        .filter(|h| !grants.has_host(h))
        .cloned()
        .collect();
    let settings = info
        .settings
        .iter()
        .filter(|s| !grants.has_setting(&s.name))
        .map(|s| s.name.clone())
        .collect();
    (hosts, settings)
}

fn not_declared(
    info: &AdapterInfo,
    what: &'static str,
    given: &str,
    declared: String,
) -> InstallError {
    InstallError::NotDeclared {
        adapter: info.name.clone(),
        what,
        given: given.to_owned(),
        declared: if declared.is_empty() {
            "nothing".to_owned()
        } else {
            declared
        },
    }
}
