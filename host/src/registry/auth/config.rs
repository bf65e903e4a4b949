//! `config.json`: reading credentials the way Docker does, and changing
//! entries without losing anything else in the file.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::keys::{self, key_matches, preferred_keys};
use super::{AuthError, Credentials, Secret};

/// Where a registry's credentials live according to the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperChoice {
    /// `credHelpers[registry]`: this helper for this registry only.
    PerRegistry(String),
    /// `credsStore`: the helper for every registry.
    Default(String),
}

impl HelperChoice {
    /// The helper name (`desktop`, `pass`, ...).
    pub fn name(&self) -> &str {
        match self {
            Self::PerRegistry(n) | Self::Default(n) => n,
        }
    }
}

/// A parsed Docker `config.json`. The whole document is kept, so fields
/// regent does not know (`proxies`, `currentContext`, `psFormat`, ...)
/// survive a write.
#[derive(Clone, PartialEq)]
pub struct DockerConfig {
    path: PathBuf,
    doc: Map<String, Value>,
}

/// Shows the path and which registries have entries, never their contents.
impl std::fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let registries: Vec<&String> = self.auths().map(|a| a.keys().collect()).unwrap_or_default();
        f.debug_struct("DockerConfig")
            .field("path", &self.path)
            .field("auths", &registries)
            .field("credsStore", &self.creds_store())
            .finish_non_exhaustive()
    }
}

impl DockerConfig {
    /// An empty config that will be written to `path`.
    pub fn empty(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            doc: Map::new(),
        }
    }

    /// Parse the text of `path`. An empty file is an empty config, as for Docker.
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> Result<Self, AuthError> {
        let path = path.into();
        if text.trim().is_empty() {
            return Ok(Self::empty(path));
        }
        let doc = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(AuthError::ParseConfig {
                    path,
                    reason: "it is not a JSON object".into(),
                });
            }
            Err(e) => {
                return Err(AuthError::ParseConfig {
                    path,
                    reason: format!("bad JSON at line {} column {}", e.line(), e.column()),
                });
            }
        };
        for field in ["auths", "credHelpers"] {
            if doc
                .get(field)
                .is_some_and(|v| !v.is_object() && !v.is_null())
            {
                return Err(AuthError::ParseConfig {
                    path,
                    reason: format!("`{field}` is not an object"),
                });
            }
        }
        Ok(Self { path, doc })
    }

    /// The file this config was read from or will be written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The document as it is written: pretty JSON and a trailing newline,
    /// so people can still read and diff the file.
    pub fn to_json(&self) -> Result<String, AuthError> {
        let mut text =
            serde_json::to_string_pretty(&self.doc).map_err(|e| AuthError::ParseConfig {
                path: self.path.clone(),
                reason: format!("it cannot be written back as JSON: {e}"),
            })?;
        text.push('\n');
        Ok(text)
    }

    /// `credsStore`, the default helper, if set and not empty.
    pub fn creds_store(&self) -> Option<&str> {
        self.doc
            .get("credsStore")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The helper that holds this registry's credentials, if any:
    /// `credHelpers` wins over `credsStore`, as in Docker.
    pub fn helper_for(&self, registry: &str) -> Option<HelperChoice> {
        if let Some(helpers) = self.doc.get("credHelpers").and_then(Value::as_object) {
            let found = preferred_keys(registry)
                .into_iter()
                .find_map(|k| helpers.get(&k))
                .or_else(|| {
                    helpers
                        .iter()
                        .find(|(k, _)| key_matches(k, registry))
                        .map(|(_, v)| v)
                });
            if let Some(name) = found.and_then(Value::as_str).filter(|s| !s.is_empty()) {
                return Some(HelperChoice::PerRegistry(name.to_owned()));
            }
        }
        self.creds_store()
            .map(|s| HelperChoice::Default(s.to_owned()))
    }

    fn auths(&self) -> Option<&Map<String, Value>> {
        self.doc.get("auths").and_then(Value::as_object)
    }

    /// The `auths` key holding this registry's entry: an exact preferred key
    /// first, then any key naming the same host (`https://host/v1/`, ...).
    pub fn auth_key(&self, registry: &str) -> Option<String> {
        let auths = self.auths()?;
        preferred_keys(registry)
            .into_iter()
            .find(|k| auths.contains_key(k))
            .or_else(|| auths.keys().find(|k| key_matches(k, registry)).cloned())
    }

    /// Credentials from `auths` for this registry; `None` when there is no
    /// entry or an empty one (anonymous).
    pub fn auth_entry(&self, registry: &str) -> Result<Option<Credentials>, AuthError> {
        let Some(key) = self.auth_key(registry) else {
            return Ok(None);
        };
        let Some(entry) = self
            .auths()
            .and_then(|a| a.get(&key))
            .and_then(Value::as_object)
        else {
            return Ok(None);
        };
        let text = |name: &str| {
            entry
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        if let Some(token) = text("registrytoken") {
            return Ok(Some(Credentials::RegistryToken(Secret::new(token))));
        }
        if let Some(token) = text("identitytoken") {
            return Ok(Some(Credentials::IdentityToken(Secret::new(token))));
        }
        if let Some(encoded) = text("auth") {
            let bad = |reason: &str| AuthError::ParseConfig {
                path: self.path.clone(),
                reason: format!(
                    "the `auth` of `auths.{key}` {reason}; run `regent login {registry}` again"
                ),
            };
            let decoded = STANDARD
                .decode(encoded.trim())
                .map_err(|_| bad("is not base64"))?;
            let decoded = String::from_utf8(decoded).map_err(|_| bad("is not UTF-8"))?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or_else(|| bad("is not `user:password`"))?;
            if username.is_empty() && password.is_empty() {
                return Ok(None);
            }
            return Ok(Some(Credentials::basic(username, Secret::new(password))));
        }
        match (text("username"), text("password")) {
            (Some(username), password) => Ok(Some(Credentials::basic(
                username,
                Secret::new(password.unwrap_or_default()),
            ))),
            _ => Ok(None),
        }
    }

    /// Store a user name and password for this registry as `docker login`
    /// does without a helper: base64 `auth` under the canonical key. Other
    /// fields of an existing entry (e.g. `email`) are kept; stale credential
    /// fields are dropped.
    pub fn set_auth(&mut self, registry: &str, username: &str, password: &Secret) {
        let key = keys::config_key(registry);
        let mut entry = self.take_entries(registry).unwrap_or_default();
        entry.insert(
            "auth".into(),
            Value::String(STANDARD.encode(format!("{username}:{}", password.expose()))),
        );
        self.auths_mut().insert(key, Value::Object(entry));
    }

    /// Record that this registry's credentials are in a helper, as Docker
    /// does with an empty `auths` entry, so listings show the login.
    pub fn set_placeholder(&mut self, registry: &str) {
        let key = keys::config_key(registry);
        let entry = self.take_entries(registry).unwrap_or_default();
        self.auths_mut().insert(key, Value::Object(entry));
    }

    /// Remove every `auths` entry for this registry; true if one existed.
    pub fn remove_auth(&mut self, registry: &str) -> bool {
        self.take_entries(registry).is_some()
    }

    /// Remove all entries naming this registry, returning the first one's
    /// fields other than credentials.
    fn take_entries(&mut self, registry: &str) -> Option<Map<String, Value>> {
        let auths = self.doc.get_mut("auths").and_then(Value::as_object_mut)?;
        let matching: Vec<String> = auths
            .keys()
            .filter(|k| key_matches(k, registry))
            .cloned()
            .collect();
        let mut kept: Option<Map<String, Value>> = None;
        for key in matching {
            if let Some(Value::Object(mut entry)) = auths.remove(&key) {
                for secret in [
                    "auth",
                    "username",
                    "password",
                    "identitytoken",
                    "registrytoken",
                ] {
                    entry.remove(secret);
                }
                kept.get_or_insert(entry);
            } else {
                kept.get_or_insert_with(Map::new);
            }
        }
        kept
    }

    fn auths_mut(&mut self) -> &mut Map<String, Value> {
        let slot = self
            .doc
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        match slot {
            Value::Object(map) => map,
            _ => unreachable!("just made an object"),
        }
    }

    /// The registries with an `auths` entry (for listings; no secrets).
    pub fn registries(&self) -> Vec<String> {
        self.auths()
            .map(|a| a.keys().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> DockerConfig {
        DockerConfig::parse("/x/config.json", text).expect("valid config")
    }

    fn basic(user: &str, pass: &str) -> Option<Credentials> {
        Some(Credentials::basic(user, Secret::new(pass)))
    }

    #[test]
    fn reads_every_form_of_auths_entry() {
        let c = parse(
            r#"{"auths": {
                "a.example": {"auth": "dXNlcjpwYTpzcw=="},
                "b.example": {"username": "bob", "password": "pw"},
                "c.example": {"auth": "dXNlcjo=", "identitytoken": "refresh-me"},
                "d.example": {"registrytoken": "bearer-me"},
                "e.example": {},
                "f.example": {"auth": ""}
            }}"#,
        );
        assert_eq!(
            c.auth_entry("a.example").ok().flatten(),
            basic("user", "pa:ss")
        );
        assert_eq!(c.auth_entry("b.example").ok().flatten(), basic("bob", "pw"));
        assert_eq!(
            c.auth_entry("c.example").ok().flatten(),
            Some(Credentials::IdentityToken(Secret::new("refresh-me")))
        );
        assert_eq!(
            c.auth_entry("d.example").ok().flatten(),
            Some(Credentials::RegistryToken(Secret::new("bearer-me")))
        );
        assert_eq!(c.auth_entry("e.example").ok().flatten(), None);
        assert_eq!(c.auth_entry("f.example").ok().flatten(), None);
        assert_eq!(c.auth_entry("nothing.example").ok().flatten(), None);
    }

    #[test]
    fn finds_entries_under_any_key_form() {
        let c = parse(
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "aHViOmh1Yg=="},
                "https://ghcr.io": {"auth": "Z2g6Z2g="},
                "http://localhost:5000/v2/": {"auth": "bG86bG8="}
            }}"#,
        );
        for hub in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
            assert_eq!(
                c.auth_entry(hub).ok().flatten(),
                basic("hub", "hub"),
                "{hub}"
            );
        }
        assert_eq!(c.auth_entry("ghcr.io").ok().flatten(), basic("gh", "gh"));
        assert_eq!(
            c.auth_entry("localhost:5000").ok().flatten(),
            basic("lo", "lo")
        );
        assert_eq!(c.auth_entry("localhost:5001").ok().flatten(), None);
    }

    #[test]
    fn exact_key_wins_over_other_forms() {
        let c = parse(
            r#"{"auths": {"http://q.example": {"auth": "aHR0cDpo"}, "q.example": {"auth": "ZXhhY3Q6ZQ=="}}}"#,
        );
        assert_eq!(
            c.auth_entry("q.example").ok().flatten(),
            basic("exact", "e")
        );
    }

    #[test]
    fn helpers_per_registry_win_over_the_default_store() {
        let c = parse(
            r#"{"credsStore": "desktop", "credHelpers": {"gcr.io": "gcloud", "https://index.docker.io/v1/": "hub"}}"#,
        );
        assert_eq!(
            c.helper_for("gcr.io"),
            Some(HelperChoice::PerRegistry("gcloud".into()))
        );
        assert_eq!(
            c.helper_for("docker.io"),
            Some(HelperChoice::PerRegistry("hub".into()))
        );
        assert_eq!(
            c.helper_for("ghcr.io"),
            Some(HelperChoice::Default("desktop".into()))
        );
        assert_eq!(parse(r#"{"credsStore": ""}"#).helper_for("ghcr.io"), None);
    }

    #[test]
    fn broken_entries_are_errors_naming_the_file_not_the_secret() {
        let c = parse(r#"{"auths": {"x.example": {"auth": "%%%notbase64"}}}"#);
        let e = c
            .auth_entry("x.example")
            .expect_err("bad base64")
            .to_string();
        assert!(
            e.contains("/x/config.json") && e.contains("x.example") && !e.contains("%%%"),
            "{e}"
        );
        let no_colon = parse(r#"{"auths": {"x.example": {"auth": "bm9jb2xvbg=="}}}"#);
        assert!(no_colon.auth_entry("x.example").is_err());
        assert!(DockerConfig::parse("/c.json", "[1]").is_err());
        assert!(DockerConfig::parse("/c.json", "{\"auths\": 3}").is_err());
        assert!(DockerConfig::parse("/c.json", "{nope").is_err());
        assert!(DockerConfig::parse("/c.json", "  ").is_ok());
    }

    #[test]
    fn writing_keeps_unknown_fields_and_replaces_stale_credentials() {
        let mut c = parse(
            r#"{"psFormat": "table", "proxies": {"default": {"httpProxy": "http://p"}},
                "auths": {"https://ghcr.io": {"username": "old", "password": "old", "email": "a@b"}, "other.example": {"auth": "eDp5"}}}"#,
        );
        c.set_auth("ghcr.io", "new", &Secret::new("pw"));
        let v: Value = serde_json::from_str(&c.to_json().expect("serialises")).expect("json");
        assert_eq!(v["psFormat"], "table");
        assert_eq!(v["proxies"]["default"]["httpProxy"], "http://p");
        assert_eq!(v["auths"]["ghcr.io"]["email"], "a@b");
        assert_eq!(v["auths"]["ghcr.io"]["auth"], "bmV3OnB3");
        assert!(v["auths"]["ghcr.io"].get("password").is_none());
        assert!(v["auths"].get("https://ghcr.io").is_none());
        assert_eq!(v["auths"]["other.example"]["auth"], "eDp5");
        assert!(c.remove_auth("ghcr.io"));
        assert!(!c.remove_auth("ghcr.io"));
        assert_eq!(c.registries(), vec!["other.example".to_owned()]);
    }

    #[test]
    fn docker_hub_is_written_under_its_legacy_key() {
        let mut c = DockerConfig::empty("/c.json");
        c.set_auth("registry-1.docker.io", "u", &Secret::new("p"));
        assert_eq!(c.registries(), vec![keys::DOCKER_HUB_CONFIG_KEY.to_owned()]);
    }

    #[test]
    fn debug_shows_no_credentials() {
        let c = parse(r#"{"auths": {"a.example": {"auth": "dXNlcjpzZWNyZXQ="}}}"#);
        let shown = format!("{c:?}");
        assert!(
            shown.contains("a.example") && !shown.contains("dXNlcjpzZWNyZXQ="),
            "{shown}"
        );
    }
}
