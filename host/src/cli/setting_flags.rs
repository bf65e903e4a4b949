//! `--repo-<setting> VALUE` flags for adapter settings.
//!
//! Adapters declare their settings at run time (`info().settings`), so clap
//! cannot know them in advance. They are taken out of the arguments before
//! clap parses the rest, and checked against what the adapters declare when
//! a registry is opened.

use std::ffi::OsString;

use crate::runtime::SettingValues;

/// Flags that start with `--repo-` but belong to regent itself.
const OWN_FLAGS: &[&str] = &["mode", "container-registry"];

/// Split `args` into the arguments for clap and the adapter settings given
/// as `--repo-NAME VALUE` or `--repo-NAME=VALUE`.
pub fn extract(args: Vec<OsString>) -> Result<(Vec<OsString>, SettingValues), String> {
    let mut rest = Vec::with_capacity(args.len());
    let mut settings = SettingValues::new();
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        let Some(text) = arg.to_str().map(str::to_owned) else {
            rest.push(arg);
            continue;
        };
        if text == "--" {
            rest.push(arg);
            rest.extend(iter);
            break;
        }
        let Some(flag) = text.strip_prefix("--repo-") else {
            rest.push(arg);
            continue;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (flag.to_owned(), None),
        };
        if OWN_FLAGS.contains(&name.as_str()) {
            rest.push(arg);
            continue;
        }
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(format!(
                "`--repo-{name}` is not a setting flag (settings are --repo-NAME VALUE with NAME in a-z, 0-9, -)"
            ));
        }
        let value = match inline {
            Some(v) => v,
            None => match iter.next().and_then(|v| v.into_string().ok()) {
                Some(v) => v,
                None => return Err(format!("`--repo-{name}` needs a value")),
            },
        };
        settings.insert(name, value);
    }
    Ok((rest, settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn takes_out_setting_flags_and_leaves_regents_own() {
        let (rest, settings) = extract(args(&[
            "regent",
            "tags",
            "ghcr.io/a/b",
            "--repo-github-token",
            "t0k",
            "--repo-mode",
            "auto",
            "--repo-github-api-url=http://127.0.0.1:1",
            "--repo-container-registry",
            "github",
            "--",
            "--repo-x",
        ]))
        .expect("extract");
        assert_eq!(
            rest,
            args(&[
                "regent",
                "tags",
                "ghcr.io/a/b",
                "--repo-mode",
                "auto",
                "--repo-container-registry",
                "github",
                "--",
                "--repo-x"
            ])
        );
        assert_eq!(settings.get("github-token"), Some("t0k"));
        assert_eq!(settings.get("github-api-url"), Some("http://127.0.0.1:1"));
        assert!(
            extract(args(&["regent", "--repo-token"]))
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(extract(args(&["regent", "--repo-Bad", "x"])).is_err());
    }
}
