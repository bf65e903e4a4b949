//! Which hosts an adapter may reach: its declared list, the registry in use,
//! and the hosts of API endpoints the user configured.

use serde::Serialize;

/// One allowed host: `example.com`, `*.example.com` (subdomains only), with
/// an optional port (no port: any port).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostRule {
    pub host: String,
    pub port: Option<u16>,
}

impl HostRule {
    /// Parse `host`, `host:port`, `*.domain` or `[v6]:port`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_ascii_lowercase();
        if text.is_empty() || text.contains('/') || text.contains('@') {
            return None;
        }
        let (host, port) = match text.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && (h.starts_with('[') || !h.contains(':')) => {
                (h.to_owned(), Some(p.parse().ok()?))
            }
            _ => (text.clone(), None),
        };
        let bare = host.strip_prefix("*.").unwrap_or(&host);
        if bare.is_empty() || bare.contains('*') {
            return None;
        }
        Some(Self { host, port })
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        match self.host.strip_prefix("*.") {
            Some(domain) => host.len() > domain.len() + 1 && host.ends_with(&format!(".{domain}")),
            None => self.host == host,
        }
    }
}

impl std::fmt::Display for HostRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// The hosts one adapter session may call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AllowList {
    rules: Vec<HostRule>,
}

impl AllowList {
    /// An allow-list of these rules.
    pub fn new(rules: Vec<HostRule>) -> Self {
        Self { rules }
    }

    /// Add a rule unless an identical one is present.
    pub fn push(&mut self, rule: HostRule) {
        if !self.rules.contains(&rule) {
            self.rules.push(rule);
        }
    }

    /// Whether `url` (already parsed) may be requested.
    pub fn allows(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let Some(port) = url.port_or_known_default() else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        self.rules.iter().any(|r| r.matches(&host, port))
    }

    /// The first rule that allows `url`, for messages.
    pub fn matching_rule(&self, url: &url::Url) -> Option<&HostRule> {
        let host = url.host_str()?.to_ascii_lowercase();
        let port = url.port_or_known_default()?;
        self.rules.iter().find(|r| r.matches(&host, port))
    }

    /// The rules, for messages and `adapters list`.
    pub fn rules(&self) -> &[HostRule] {
        &self.rules
    }
}

impl std::fmt::Display for AllowList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.rules.is_empty() {
            return f.write_str("nothing");
        }
        let names: Vec<String> = self.rules.iter().map(ToString::to_string).collect();
        f.write_str(&names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> url::Url {
        url::Url::parse(text).expect("test URL")
    }

    #[test]
    fn exact_host_any_port_without_port() {
        let list = AllowList::new(vec![HostRule::parse("api.github.com").expect("rule")]);
        assert!(list.allows(&url("https://api.github.com/user")));
        assert!(list.allows(&url("https://API.github.com:8443/x")));
        assert!(!list.allows(&url("https://api.github.com.evil.example/")));
        assert!(!list.allows(&url("https://github.com/")));
    }

    #[test]
    fn port_must_match_when_given() {
        let list = AllowList::new(vec![HostRule::parse("127.0.0.1:5000").expect("rule")]);
        assert!(list.allows(&url("http://127.0.0.1:5000/v2/")));
        assert!(!list.allows(&url("http://127.0.0.1:5001/v2/")));
        let https = AllowList::new(vec![HostRule::parse("ghcr.io:443").expect("rule")]);
        assert!(https.allows(&url("https://ghcr.io/v2/")));
    }

    #[test]
    fn wildcard_covers_subdomains_only() {
        let list = AllowList::new(vec![HostRule::parse("*.amazonaws.com").expect("rule")]);
        assert!(list.allows(&url("https://ecr.eu-west-1.amazonaws.com/")));
        assert!(!list.allows(&url("https://amazonaws.com/")));
        assert!(!list.allows(&url("https://evilamazonaws.com/")));
    }

    #[test]
    fn rejects_malformed_rules() {
        for bad in ["", "*", "*.", "a/b", "user@host", "host:port", "a.*.com"] {
            assert!(HostRule::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            HostRule::parse("[::1]:5000"),
            Some(HostRule {
                host: "[::1]".into(),
                port: Some(5000)
            })
        );
    }
}
