//! Which place holds a registry's credentials, and reading, storing and
//! erasing them there: a credential helper or `config.json`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::config::HelperChoice;
use super::helper::DEFAULT_HELPER_TIMEOUT;
use super::keys;
use super::{AuthError, CredentialHelper, Credentials, DockerConfig, DockerConfigDir, Secret};

/// Where `store` put the credentials (safe to print and serialise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoredIn {
    /// In a credential helper, e.g. `docker-credential-desktop`.
    Helper { program: String },
    /// Base64 `auth` in this `config.json`.
    ConfigFile { path: PathBuf },
}

impl std::fmt::Display for StoredIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Helper { program } => write!(f, "credential helper {program}"),
            Self::ConfigFile { path } => write!(f, "{}", path.display()),
        }
    }
}

/// What `erase` removed (safe to print and serialise).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Erased {
    /// The helper that held credentials and erased them.
    pub helper: Option<String>,
    /// True when an `auths` entry was removed from `config.json`.
    pub config_entry: bool,
}

impl Erased {
    /// True when anything was removed.
    pub fn any(&self) -> bool {
        self.helper.is_some() || self.config_entry
    }
}

/// The credentials of one Docker config, plus credentials given directly
/// (e.g. while `login` checks new ones before storing them).
#[derive(Debug, Clone)]
pub struct CredentialStore {
    dir: Option<DockerConfigDir>,
    config: DockerConfig,
    fixed: HashMap<String, Credentials>,
    helper_timeout: Duration,
}

impl CredentialStore {
    /// The credentials in `dir/config.json` and the helpers it names.
    pub fn open(dir: DockerConfigDir) -> Result<Self, AuthError> {
        let config = dir.load()?;
        Ok(Self {
            dir: Some(dir),
            config,
            fixed: HashMap::new(),
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        })
    }

    /// No stored credentials at all: only what [`CredentialStore::with_credentials`] adds.
    pub fn in_memory() -> Self {
        Self {
            dir: None,
            config: DockerConfig::empty("(no Docker config)"),
            fixed: HashMap::new(),
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }

    /// Use these credentials for `registry`, ahead of anything stored.
    pub fn with_credentials(mut self, registry: &str, credentials: Credentials) -> Self {
        self.fixed
            .insert(keys::canonical_registry(registry), credentials);
        self
    }

    /// Give up on credential helpers after `timeout`.
    pub fn with_helper_timeout(mut self, timeout: Duration) -> Self {
        self.helper_timeout = timeout;
        self
    }

    /// The parsed config.
    pub fn config(&self) -> &DockerConfig {
        &self.config
    }

    /// Where credentials come from, for messages (`/home/u/.docker/config.json`).
    pub fn describe(&self) -> String {
        self.config.path().display().to_string()
    }

    fn helper(&self, choice: &HelperChoice) -> CredentialHelper {
        CredentialHelper::new(choice.name()).with_timeout(self.helper_timeout)
    }

    /// The credentials for `registry`, or `None` for anonymous access. A
    /// registry with a helper gets only the helper's answer, as in Docker.
    pub async fn get(&self, registry: &str) -> Result<Option<Credentials>, AuthError> {
        if let Some(c) = self.fixed.get(&keys::canonical_registry(registry)) {
            return Ok(Some(c.clone()));
        }
        match self.config.helper_for(registry) {
            Some(choice) => self.helper(&choice).get(&keys::config_key(registry)).await,
            None => self.config.auth_entry(registry),
        }
    }

    fn dir(&self) -> Result<&DockerConfigDir, AuthError> {
        self.dir.as_ref().ok_or_else(|| AuthError::WriteConfig {
            path: self.config.path().to_path_buf(),
            source: std::io::Error::other("this credential store has no Docker config directory"),
        })
    }

    /// Store a login the way `docker login` does: through the registry's
    /// helper when one is configured, else as base64 `auth` in `config.json`.
    pub async fn store(
        &mut self,
        registry: &str,
        username: &str,
        password: &Secret,
    ) -> Result<StoredIn, AuthError> {
        let dir = self.dir()?.clone();
        let key = keys::config_key(registry);
        let stored = match self.config.helper_for(registry) {
            Some(choice) => {
                let helper = self.helper(&choice);
                helper.store(&key, username, password).await?;
                self.config.set_placeholder(registry);
                StoredIn::Helper {
                    program: helper.program(),
                }
            }
            None => {
                self.config.set_auth(registry, username, password);
                StoredIn::ConfigFile {
                    path: dir.config_file(),
                }
            }
        };
        dir.save(&self.config)?;
        Ok(stored)
    }

    /// Remove a login: from the registry's helper if one is configured, and
    /// any `auths` entry for it.
    pub async fn erase(&mut self, registry: &str) -> Result<Erased, AuthError> {
        let dir = self.dir()?.clone();
        let mut erased = Erased::default();
        if let Some(choice) = self.config.helper_for(registry) {
            let helper = self.helper(&choice);
            if helper.erase(&keys::config_key(registry)).await? {
                erased.helper = Some(helper.program());
            }
        }
        if self.config.remove_auth(registry) {
            erased.config_entry = true;
            dir.save(&self.config)?;
        }
        Ok(erased)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_store_round_trip() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = DockerConfigDir::new(tmp.path());
        let mut store = CredentialStore::open(dir.clone()).expect("open");
        assert_eq!(store.get("localhost:5000").await.expect("get"), None);
        let stored = store
            .store("localhost:5000", "alice", &Secret::new("pw"))
            .await
            .expect("store");
        assert_eq!(
            stored,
            StoredIn::ConfigFile {
                path: dir.config_file()
            }
        );

        let reopened = CredentialStore::open(dir.clone()).expect("reopen");
        assert_eq!(
            reopened.get("localhost:5000").await.expect("get"),
            Some(Credentials::basic("alice", Secret::new("pw")))
        );

        let mut reopened = reopened;
        let erased = reopened.erase("localhost:5000").await.expect("erase");
        assert!(erased.config_entry && erased.helper.is_none());
        assert!(
            !reopened
                .erase("localhost:5000")
                .await
                .expect("erase again")
                .any()
        );
        assert_eq!(
            CredentialStore::open(dir)
                .expect("open")
                .get("localhost:5000")
                .await
                .expect("get"),
            None
        );
    }

    #[tokio::test]
    async fn fixed_credentials_win_and_in_memory_stores_cannot_be_written() {
        let mut store = CredentialStore::in_memory()
            .with_credentials("index.docker.io", Credentials::basic("u", Secret::new("p")));
        assert_eq!(
            store.get("docker.io").await.expect("get"),
            Some(Credentials::basic("u", Secret::new("p")))
        );
        assert!(
            store
                .store("docker.io", "u", &Secret::new("p"))
                .await
                .is_err()
        );
    }
}
