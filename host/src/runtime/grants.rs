//! What a user allowed an installed adapter to use.
//!
//! A bundled adapter ships inside the binary and is trusted with everything
//! it declares. An installed one runs with the intersection of what it
//! declares in `info()` and what the user granted at install time; anything
//! else is denied with an error naming the adapter, the host or setting, and
//! the command that grants it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::allow_list::HostRule;

/// Hosts and settings granted to one installed adapter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// Declared hosts (as written in `allowed-hosts`, normalised) the user allowed.
    #[serde(default)]
    pub hosts: BTreeSet<String>,
    /// Declared setting names the user allowed the adapter to read.
    #[serde(default)]
    pub settings: BTreeSet<String>,
}

impl Grants {
    /// Whether `rule` (a declared `allowed-hosts` entry) is granted.
    pub fn has_host(&self, rule: &str) -> bool {
        let wanted = normalise_host(rule);
        self.hosts.iter().any(|h| normalise_host(h) == wanted)
    }

    /// Whether the setting `name` is granted.
    pub fn has_setting(&self, name: &str) -> bool {
        self.settings.contains(name)
    }

    /// Nothing granted.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.settings.is_empty()
    }
}

/// A host rule in the one spelling used for comparisons (`HostRule`'s).
pub fn normalise_host(rule: &str) -> String {
    HostRule::parse(rule)
        .map(|r| r.to_string())
        .unwrap_or_else(|| rule.trim().to_ascii_lowercase())
}

/// How much of its declaration an adapter may use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Permissions {
    /// Everything it declares (bundled adapters).
    #[default]
    Declared,
    /// Only what the user granted (installed adapters).
    Granted(Grants),
}

impl Permissions {
    /// Whether a declared host may be called.
    pub fn allows_host(&self, rule: &str) -> bool {
        match self {
            Permissions::Declared => true,
            Permissions::Granted(g) => g.has_host(rule),
        }
    }

    /// Whether a declared setting may be read.
    pub fn allows_setting(&self, name: &str) -> bool {
        match self {
            Permissions::Declared => true,
            Permissions::Granted(g) => g.has_setting(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_allows_everything_granted_only_what_was_granted() {
        assert!(Permissions::Declared.allows_host("api.example.com"));
        assert!(Permissions::Declared.allows_setting("token"));
        let granted = Permissions::Granted(Grants {
            hosts: ["API.example.com".to_owned()].into(),
            settings: ["token".to_owned()].into(),
        });
        assert!(granted.allows_host("api.example.com"));
        assert!(!granted.allows_host("*.example.com"));
        assert!(granted.allows_setting("token"));
        assert!(!granted.allows_setting("other"));
        assert!(!Permissions::Granted(Grants::default()).allows_setting("token"));
    }
}
