//! The installed adapters on disk: `adapters.json` and the component files
//! under the user's config directory (`$REGENT_CONFIG_DIR`, default
//! `~/.config/regent`). Changes happen under an exclusive lock and are
//! written to a temporary file that replaces the old one, so a crash or a
//! concurrent install never leaves a half-written file.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::InstallError;
use super::record::InstalledRecord;
use crate::private_files::create_private_dir;

const FORMAT: &str = "regent-installed-adapters";

#[derive(Serialize, Deserialize)]
struct File {
    kind: String,
    version: u32,
    adapters: Vec<InstalledRecord>,
}

/// The directory holding installed adapters and their grants.
#[derive(Debug, Clone)]
pub struct InstalledStore {
    root: PathBuf,
}

fn io(path: &Path, e: impl std::fmt::Display) -> InstallError {
    InstallError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

impl InstalledStore {
    /// A store rooted at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `$REGENT_CONFIG_DIR`, else the platform config dir (`~/.config/regent`).
    pub fn user_default() -> Option<Self> {
        match std::env::var_os("REGENT_CONFIG_DIR") {
            Some(dir) if !dir.is_empty() => Some(Self::at(dir)),
            _ => dirs::config_dir().map(|d| Self::at(d.join("regent"))),
        }
    }

    /// The file with records and grants.
    pub fn index_path(&self) -> PathBuf {
        self.root.join("adapters.json")
    }

    /// Where a record's component file is.
    pub fn component_path(&self, record: &InstalledRecord) -> PathBuf {
        self.root.join("adapters").join(&record.file)
    }

    /// Every installed adapter; none when nothing was ever installed.
    pub fn list(&self) -> Result<Vec<InstalledRecord>, InstallError> {
        let path = self.index_path();
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&path, e)),
        };
        let file: File = serde_json::from_slice(&text).map_err(|e| InstallError::Corrupt {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if file.kind != FORMAT || file.version != 1 {
            return Err(InstallError::Corrupt {
                path: path.display().to_string(),
                message: format!(
                    "kind {:?} version {} (this regent reads {FORMAT} version 1)",
                    file.kind, file.version
                ),
            });
        }
        Ok(file.adapters)
    }

    /// Change the records under the store's lock; `change` sees the current
    /// records, and nothing is written when it fails.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Vec<InstalledRecord>) -> Result<T, InstallError>,
    ) -> Result<T, InstallError> {
        create_private_dir(&self.root).map_err(|e| io(&self.root, e))?;
        let lock_path = self.root.join("adapters.lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io(&lock_path, e))?;
        lock.lock().map_err(|e| io(&lock_path, e))?;
        let mut records = self.list()?;
        let answer = change(&mut records)?;
        records.sort_by(|a, b| a.name.cmp(&b.name));
        let file = File {
            kind: FORMAT.to_owned(),
            version: 1,
            adapters: records,
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| io(&self.index_path(), e))?;
        self.write_atomically(&self.index_path(), &bytes)?;
        Ok(answer)
    }

    /// Keep a component's bytes; returns the file name inside `adapters/`.
    pub fn write_component(
        &self,
        name: &str,
        component_digest: &str,
        bytes: &[u8],
    ) -> Result<String, InstallError> {
        let hex = component_digest.trim_start_matches("sha256:");
        let file = format!("{name}-{}.wasm", &hex[..hex.len().min(16)]);
        let dir = self.root.join("adapters");
        create_private_dir(&dir).map_err(|e| io(&dir, e))?;
        self.write_atomically(&dir.join(&file), bytes)?;
        Ok(file)
    }

    /// Delete a component file no record uses any more; a missing file is fine.
    pub fn remove_component(&self, file: &str) -> Result<(), InstallError> {
        let path = self.root.join("adapters").join(file);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path, e)),
        }
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
        let dir = path.parent().unwrap_or(&self.root);
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io(dir, e))?;
        temp.write_all(bytes).map_err(|e| io(path, e))?;
        temp.as_file().sync_all().map_err(|e| io(path, e))?;
        temp.persist(path).map_err(|e| io(path, e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::installed::InstallSource;

    fn record(name: &str) -> InstalledRecord {
        InstalledRecord {
            name: name.into(),
            version: "1.0.0".into(),
            source: InstallSource::File {
                path: "x.wasm".into(),
            },
            component_digest: format!("sha256:{}", "ab".repeat(32)),
            file: format!("{name}.wasm"),
            grants: Default::default(),
            installed_at: "2026-11-23T00:00:00Z".into(),
        }
    }

    #[test]
    fn records_round_trip_and_a_failed_change_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = InstalledStore::at(dir.path());
        assert!(store.list().expect("empty").is_empty());
        store
            .update(|r| {
                r.push(record("b"));
                r.push(record("a"));
                Ok(())
            })
            .expect("write");
        let names: Vec<String> = store
            .list()
            .expect("list")
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
        let failed: Result<(), _> = store.update(|r| {
            r.clear();
            Err(InstallError::NotInstalled {
                name: "x".into(),
                installed: String::new(),
            })
        });
        assert!(failed.is_err());
        assert_eq!(store.list().expect("list").len(), 2);
    }

    #[test]
    fn a_corrupt_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = InstalledStore::at(dir.path());
        fs::write(store.index_path(), b"{not json").expect("write");
        let error = store.list().expect_err("corrupt");
        assert!(error.to_string().contains("adapters.json"), "{error}");
    }
}
