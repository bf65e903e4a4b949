//! Which registries asked for Basic credentials, remembered across runs.
//!
//! Within one process a registry's first 401 teaches the authenticator to
//! send Basic credentials up front. Each regent command is its own process,
//! so every command used to pay that 401 and a resend on its first request.
//! This file (one registry name per line, in regent's cache dir) carries
//! the lesson over. Only Basic is remembered: credentials go up front only
//! to a registry that asked for them before, under the name Docker keys
//! them by; a registry that now answers with a Bearer challenge (or none)
//! is forgotten again. Nothing secret is stored.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

/// The remembered set and where it lives.
#[derive(Debug)]
pub(super) struct SchemeMemory {
    path: PathBuf,
    /// Loaded on first use.
    basic: Mutex<Option<BTreeSet<String>>>,
}

impl SchemeMemory {
    /// Remember in the file at `path` (created when first needed).
    pub(super) fn at(path: PathBuf) -> Self {
        Self {
            path,
            basic: Mutex::new(None),
        }
    }

    /// Whether `registry` (canonical) asked for Basic last time.
    pub(super) fn wants_basic(&self, registry: &str) -> bool {
        let mut basic = self.basic.lock().unwrap_or_else(|p| p.into_inner());
        basic.get_or_insert_with(|| self.load()).contains(registry)
    }

    /// Record what `registry` asked for; the file is rewritten only when
    /// that changes what it says.
    pub(super) fn record(&self, registry: &str, wants_basic: bool) {
        let mut guard = self.basic.lock().unwrap_or_else(|p| p.into_inner());
        let basic = guard.get_or_insert_with(|| self.load());
        let changed = if wants_basic {
            basic.insert(registry.to_owned())
        } else {
            basic.remove(registry)
        };
        if changed {
            // A cache: failing to write it only costs the next run a 401.
            let _ = self.save(basic);
        }
    }

    fn load(&self) -> BTreeSet<String> {
        std::fs::read_to_string(&self.path)
            .map(|text| {
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn save(&self, basic: &BTreeSet<String>) -> std::io::Result<()> {
        let dir = self
            .path
            .parent()
            .ok_or_else(|| std::io::Error::other("no parent directory"))?;
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        writeln!(
            file,
            "# Registries that asked regent for Basic credentials (sent up front next time)."
        )?;
        for registry in basic {
            writeln!(file, "{registry}")?;
        }
        file.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_registries_are_remembered_and_forgotten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("auth-basic-registries");
        let memory = SchemeMemory::at(path.clone());
        assert!(!memory.wants_basic("reg.example:5000"));
        memory.record("reg.example:5000", true);
        memory.record("other.example", true);
        let again = SchemeMemory::at(path.clone());
        assert!(again.wants_basic("reg.example:5000"));
        again.record("reg.example:5000", false);
        let third = SchemeMemory::at(path);
        assert!(!third.wants_basic("reg.example:5000"));
        assert!(third.wants_basic("other.example"));
    }
}
