//! All adapters available to this process, in detection order.

use std::sync::Arc;

use regex::Regex;

use crate::runtime::{AdapterEngine, AdapterSource, HostPattern, LoadError, LoadedAdapter};

/// A loaded adapter with its detection patterns compiled.
pub(super) struct Entry {
    pub adapter: Arc<LoadedAdapter>,
    pub matchers: Vec<(HostPattern, Matcher)>,
}

pub(super) enum Matcher {
    Exact(String),
    Suffix(String),
    Prefix(String),
    Regex(Regex),
}

impl Matcher {
    pub fn matches(&self, host: &str) -> bool {
        match self {
            Matcher::Exact(s) => host == s,
            Matcher::Suffix(s) => host.ends_with(s.as_str()) && host.len() > s.len(),
            Matcher::Prefix(s) => host.starts_with(s.as_str()) && host.len() > s.len(),
            Matcher::Regex(r) => r.is_match(host),
        }
    }
}

/// The adapters of this process. Bundled adapters come first, so an
/// installed adapter never silently takes over an address a bundled one
/// claims; only an explicit `--repo-container-registry NAME` picks it there.
#[derive(Default)]
pub struct AdapterCatalog {
    pub(super) entries: Vec<Entry>,
}

impl AdapterCatalog {
    /// Load every adapter embedded in this binary.
    pub fn load_bundled(engine: &AdapterEngine) -> Result<Self, LoadError> {
        let mut catalog = Self::default();
        for (package, bytes) in super::bundled_components() {
            let source = AdapterSource::Bundled {
                package: (*package).to_owned(),
            };
            let digest = super::bundled_digest(package);
            catalog.add(engine.load_lazily(source, *bytes, digest)?);
        }
        Ok(catalog)
    }

    /// Add a loaded adapter after those already present. A name already
    /// taken is refused.
    pub fn add(&mut self, adapter: LoadedAdapter) -> Arc<LoadedAdapter> {
        let matchers = adapter
            .info()
            .detection
            .patterns
            .iter()
            .filter_map(|p| Some((p.clone(), compile(p)?)))
            .collect();
        let adapter = Arc::new(adapter);
        self.entries.push(Entry {
            adapter: adapter.clone(),
            matchers,
        });
        adapter
    }

    /// Every adapter, in detection order.
    pub fn all(&self) -> impl Iterator<Item = &Arc<LoadedAdapter>> {
        self.entries.iter().map(|e| &e.adapter)
    }

    /// The adapter called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedAdapter>> {
        self.all().find(|a| a.name() == name)
    }

    /// Names of all adapters, for messages.
    pub fn names(&self) -> Vec<&str> {
        self.all().map(|a| a.name()).collect()
    }
}

fn compile(pattern: &HostPattern) -> Option<Matcher> {
    Some(match pattern {
        HostPattern::Exact(s) => Matcher::Exact(s.to_ascii_lowercase()),
        HostPattern::Suffix(s) => Matcher::Suffix(s.to_ascii_lowercase()),
        HostPattern::Prefix(s) => Matcher::Prefix(s.to_ascii_lowercase()),
        HostPattern::Regex(r) => Matcher::Regex(
            // Host names are ASCII: without Unicode classes the
            // case-insensitive patterns compile ~50× faster at every start.
            regex::RegexBuilder::new(&format!("^(?:{r})$"))
                .case_insensitive(true)
                .unicode(false)
                .size_limit(1 << 16)
                .build()
                .ok()?,
        ),
    })
}
