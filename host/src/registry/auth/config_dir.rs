//! Finding the Docker config directory and writing `config.json` safely.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{AuthError, DockerConfig};
use crate::private_files::create_private_dir;

/// The directory holding `config.json`, chosen as Docker chooses it so that
/// regent, docker and skopeo share one login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfigDir {
    dir: PathBuf,
}

impl DockerConfigDir {
    /// `--docker-config` (or `REGENT_DOCKER_CONFIG`), then `DOCKER_CONFIG`, then `~/.docker`.
    pub fn locate(explicit: Option<&Path>) -> Result<Self, AuthError> {
        Self::locate_with(
            explicit,
            std::env::var_os("DOCKER_CONFIG"),
            dirs::home_dir(),
        )
    }

    /// [`DockerConfigDir::locate`] with the environment passed in, for tests.
    pub fn locate_with(
        explicit: Option<&Path>,
        docker_config: Option<OsString>,
        home: Option<PathBuf>,
    ) -> Result<Self, AuthError> {
        if let Some(dir) = explicit.filter(|d| !d.as_os_str().is_empty()) {
            return Ok(Self::new(dir));
        }
        if let Some(dir) = docker_config.filter(|d| !d.is_empty()) {
            return Ok(Self::new(dir));
        }
        home.map(|h| Self::new(h.join(".docker")))
            .ok_or(AuthError::NoConfigDir)
    }

    /// This directory.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `DIR/config.json`.
    pub fn config_file(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    /// Read `config.json`; a missing file is an empty config (anonymous access).
    pub fn load(&self) -> Result<DockerConfig, AuthError> {
        let path = self.config_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => DockerConfig::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DockerConfig::empty(path)),
            Err(source) => Err(AuthError::ReadConfig { path, source }),
        }
    }

    /// Write `config.json` atomically (a temporary file in the same directory,
    /// then rename) with mode 0600, creating the directory with mode 0700.
    /// A symlinked `config.json` is written through to its target.
    pub fn save(&self, config: &DockerConfig) -> Result<(), AuthError> {
        let link = self.config_file();
        let target = match std::fs::symlink_metadata(&link) {
            Ok(meta) if meta.file_type().is_symlink() => {
                std::fs::canonicalize(&link).map_err(|source| AuthError::WriteConfig {
                    path: link.clone(),
                    source,
                })?
            }
            _ => link,
        };
        let dir = target
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.dir.clone());
        let fail = |source: std::io::Error| AuthError::WriteConfig {
            path: target.clone(),
            source,
        };
        create_private_dir(&dir).map_err(fail)?;
        let mut file = tempfile::Builder::new()
            .prefix(".config.json.")
            .tempfile_in(&dir)
            .map_err(fail)?;
        set_private(file.as_file()).map_err(fail)?;
        let text = config.to_json()?;
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.as_file().sync_all().map_err(fail)?;
        file.persist(&target).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

#[cfg(unix)]
fn set_private(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::auth::Secret;

    #[test]
    fn precedence_is_flag_then_docker_config_then_home() {
        let home = Some(PathBuf::from("/home/u"));
        let pick = |explicit: Option<&str>, env: Option<&str>| {
            DockerConfigDir::locate_with(
                explicit.map(Path::new),
                env.map(OsString::from),
                home.clone(),
            )
            .expect("located")
            .path()
            .to_path_buf()
        };
        assert_eq!(pick(Some("/flag"), Some("/env")), PathBuf::from("/flag"));
        assert_eq!(pick(None, Some("/env")), PathBuf::from("/env"));
        assert_eq!(pick(None, Some("")), PathBuf::from("/home/u/.docker"));
        assert_eq!(pick(None, None), PathBuf::from("/home/u/.docker"));
        assert!(matches!(
            DockerConfigDir::locate_with(None, None, None),
            Err(AuthError::NoConfigDir)
        ));
    }

    #[test]
    fn missing_file_is_an_empty_config() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = DockerConfigDir::new(tmp.path().join("absent"));
        let config = dir.load().expect("loads");
        assert!(config.registries().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn save_is_private_and_keeps_unknown_fields() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = DockerConfigDir::new(tmp.path().join("new").join(".docker"));
        let mut config = DockerConfig::parse(
            dir.config_file(),
            r#"{"currentContext": "ctx", "auths": {}}"#,
        )
        .expect("parse");
        config.set_auth("localhost:5000", "u", &Secret::new("p"));
        dir.save(&config).expect("saved");

        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&dir.config_file()), 0o600);
        assert_eq!(mode(dir.path()), 0o700);
        let reread = dir.load().expect("reload");
        assert_eq!(
            reread,
            DockerConfig::parse(dir.config_file(), &config.to_json().expect("serialises"))
                .expect("parse")
        );
        let text = std::fs::read_to_string(dir.config_file()).expect("read");
        assert!(text.contains("\"currentContext\": \"ctx\""), "{text}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            leftovers,
            vec![OsString::from("config.json")],
            "no temporary files are left behind"
        );
    }

    #[cfg(unix)]
    #[test]
    fn save_tightens_an_existing_world_readable_file() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = DockerConfigDir::new(tmp.path());
        std::fs::write(dir.config_file(), "{}").expect("write");
        std::fs::set_permissions(dir.config_file(), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        dir.save(&dir.load().expect("load")).expect("save");
        let mode = std::fs::metadata(dir.config_file())
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
}
