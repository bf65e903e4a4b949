//! AWS credentials and region from the shared files the AWS CLI and SDKs
//! use, for the `ecr` adapter's settings when the environment has none.
//!
//! - credentials: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`;
//!   the profile's section is `[NAME]`.
//! - config: `AWS_CONFIG_FILE`, else `~/.aws/config`; the profile's section
//!   is `[profile NAME]` (`[default]` for the default profile).
//! - the profile is `AWS_PROFILE`, else `default`.
//!
//! Keys read: `aws_access_key_id`, `aws_secret_access_key`,
//! `aws_session_token` (credentials file first, then config) and `region`
//! (config). Profiles that obtain credentials otherwise (`source_profile`,
//! `credential_process`, SSO) are not resolved here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Setting names and values found for the active AWS profile, in the order
/// `aws-access-key-id`, `aws-secret-access-key`, `aws-session-token`,
/// `aws-region`; settings with no value in the files are left out.
/// `env` reads an environment variable; `home` is the user's home directory.
pub fn aws_profile_settings(
    env: impl Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Vec<(String, String)> {
    let profile = env("AWS_PROFILE")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    let credentials_path = file_path(&env, "AWS_SHARED_CREDENTIALS_FILE", home, "credentials");
    let config_path = file_path(&env, "AWS_CONFIG_FILE", home, "config");
    let credentials = credentials_path
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|text| parse_ini(&text))
        .unwrap_or_default();
    let config = config_path
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|text| parse_ini(&text))
        .unwrap_or_default();
    let from_credentials = credentials.get(&profile);
    let from_config = config_section(&config, &profile);
    let lookup = |key: &str, allow_credentials: bool| {
        allow_credentials
            .then(|| from_credentials.and_then(|s| s.get(key)))
            .flatten()
            .or_else(|| from_config.and_then(|s| s.get(key)))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let wanted = [
        ("aws-access-key-id", "aws_access_key_id", true),
        ("aws-secret-access-key", "aws_secret_access_key", true),
        ("aws-session-token", "aws_session_token", true),
        ("aws-region", "region", false),
    ];
    wanted
        .iter()
        .filter_map(|(setting, key, in_credentials)| {
            lookup(key, *in_credentials).map(|value| ((*setting).to_owned(), value))
        })
        .collect()
}

/// The file named by `variable`, else `~/.aws/<name>`.
fn file_path(
    env: &impl Fn(&str) -> Option<String>,
    variable: &str,
    home: Option<&Path>,
    name: &str,
) -> Option<PathBuf> {
    match env(variable).filter(|v| !v.trim().is_empty()) {
        Some(path) => {
            let path = path.trim();
            match (path.strip_prefix("~/"), home) {
                (Some(rest), Some(home)) => Some(home.join(rest)),
                _ => Some(PathBuf::from(path)),
            }
        }
        None => home.map(|h| h.join(".aws").join(name)),
    }
}

/// The config file's section for `profile`: `[profile NAME]`, or `[default]`
/// (also `[profile default]`) for the default profile.
fn config_section<'a>(
    config: &'a BTreeMap<String, BTreeMap<String, String>>,
    profile: &str,
) -> Option<&'a BTreeMap<String, String>> {
    let prefixed = config.get(&format!("profile {profile}"));
    if profile == "default" {
        config.get("default").or(prefixed)
    } else {
        prefixed
    }
}

type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// Parse the AWS INI dialect: `[section]` headers (inner whitespace
/// collapsed), `key = value` lines, `#` / `;` comment lines, and nested
/// blocks (indented lines under a key with an empty value), which are
/// skipped. Keys are lowercased; a later value for a key wins.
fn parse_ini(text: &str) -> Sections {
    let mut sections = Sections::new();
    let mut current: Option<String> = None;
    let mut nested = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if nested && indented {
            continue;
        }
        nested = false;
        if let Some(header) = line.strip_prefix('[') {
            let Some(name) = header.strip_suffix(']') else {
                current = None;
                continue;
            };
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            sections.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        let (Some(section), Some((key, value))) = (&current, line.split_once('=')) else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        if value.is_empty() {
            nested = true;
            continue;
        }
        sections
            .entry(section.clone())
            .or_default()
            .insert(key, value.to_owned());
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A private directory under the system temp dir, removed on drop.
    struct TempHome(PathBuf);

    impl TempHome {
        fn new() -> Self {
            static COUNTER: AtomicU32 = AtomicU32::new(0);
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            let dir =
                std::env::temp_dir().join(format!("regent-aws-profile-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join(".aws")).expect("create temp home");
            Self(dir)
        }

        fn write(&self, relative: &str, text: &str) -> PathBuf {
            let path = self.0.join(relative);
            std::fs::write(&path, text).expect("write test file");
            path
        }
    }

    impl Drop for TempHome {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const CREDENTIALS: &str = "\
# comment
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default/secret+key

[ci]
aws_access_key_id=AKIACI
aws_secret_access_key=ci-secret
aws_session_token = ci-token
";

    const CONFIG: &str = "\
[default]
region = eu-west-1
output = json

[profile ci]
; the CI account
region = us-east-2
s3 =
    region = ap-south-1
    max_concurrent_requests = 10

[ci]
region = wrong-section-for-config
";

    #[test]
    fn default_profile_from_home() {
        let home = TempHome::new();
        home.write(".aws/credentials", CREDENTIALS);
        home.write(".aws/config", CONFIG);
        assert_eq!(
            aws_profile_settings(env_of(&[]), Some(&home.0)),
            settings(&[
                ("aws-access-key-id", "AKIADEFAULT"),
                ("aws-secret-access-key", "default/secret+key"),
                ("aws-region", "eu-west-1"),
            ])
        );
    }

    #[test]
    fn named_profile_uses_profile_prefix_in_config_and_skips_nested_blocks() {
        let home = TempHome::new();
        home.write(".aws/credentials", CREDENTIALS);
        home.write(".aws/config", CONFIG);
        assert_eq!(
            aws_profile_settings(env_of(&[("AWS_PROFILE", "ci")]), Some(&home.0)),
            settings(&[
                ("aws-access-key-id", "AKIACI"),
                ("aws-secret-access-key", "ci-secret"),
                ("aws-session-token", "ci-token"),
                ("aws-region", "us-east-2"),
            ])
        );
    }

    #[test]
    fn file_variables_override_home_paths() {
        let home = TempHome::new();
        home.write(".aws/credentials", CREDENTIALS);
        let elsewhere_credentials = home.write(
            "creds.ini",
            "[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n",
        );
        let elsewhere_config = home.write("config.ini", "[profile default]\nregion = sa-east-1\n");
        let credentials = elsewhere_credentials.to_string_lossy().into_owned();
        let config = elsewhere_config.to_string_lossy().into_owned();
        let env = env_of(&[
            ("AWS_SHARED_CREDENTIALS_FILE", &credentials),
            ("AWS_CONFIG_FILE", &config),
        ]);
        assert_eq!(
            aws_profile_settings(env, Some(&home.0)),
            settings(&[
                ("aws-access-key-id", "AKIAOTHER"),
                ("aws-secret-access-key", "other"),
                ("aws-region", "sa-east-1"),
            ])
        );
    }

    #[test]
    fn credentials_in_config_are_used_when_the_credentials_file_has_none() {
        let home = TempHome::new();
        home.write(
            ".aws/config",
            "[profile dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = dev\nregion = eu-north-1\n",
        );
        assert_eq!(
            aws_profile_settings(env_of(&[("AWS_PROFILE", "dev")]), Some(&home.0)),
            settings(&[
                ("aws-access-key-id", "AKIADEV"),
                ("aws-secret-access-key", "dev"),
                ("aws-region", "eu-north-1"),
            ])
        );
    }

    #[test]
    fn missing_profile_files_or_home_give_nothing() {
        let home = TempHome::new();
        home.write(".aws/credentials", CREDENTIALS);
        assert!(
            aws_profile_settings(env_of(&[("AWS_PROFILE", "absent")]), Some(&home.0)).is_empty()
        );
        assert!(aws_profile_settings(env_of(&[]), None).is_empty());
        let empty = TempHome::new();
        assert!(aws_profile_settings(env_of(&[]), Some(&empty.0)).is_empty());
    }

    #[test]
    fn ini_parsing_details() {
        let parsed = parse_ini("key = outside\n[  profile   x ]\nKey = a = b\n[broken\nk = v\n");
        assert_eq!(
            parsed
                .get("profile x")
                .and_then(|s| s.get("key"))
                .map(String::as_str),
            Some("a = b")
        );
        assert_eq!(parsed.len(), 1, "{parsed:?}");
    }
}
