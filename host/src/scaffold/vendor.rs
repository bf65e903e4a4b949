//! The SDK and WIT contract this regent was built with, embedded so that
//! `regent adapter new` can write a copy that builds offline and speaks
//! exactly this regent's contract.

/// `adapters/sdk/src/*` as `(file name, text)`. A unit test fails when a
/// file there is missing from this list.
pub const SDK_SOURCES: &[(&str, &str)] = &[
    (
        "component.rs",
        include_str!("../../../adapters/sdk/src/component.rs"),
    ),
    (
        "errors.rs",
        include_str!("../../../adapters/sdk/src/errors.rs"),
    ),
    ("http.rs", include_str!("../../../adapters/sdk/src/http.rs")),
    ("info.rs", include_str!("../../../adapters/sdk/src/info.rs")),
    ("lib.rs", include_str!("../../../adapters/sdk/src/lib.rs")),
    ("log.rs", include_str!("../../../adapters/sdk/src/log.rs")),
    (
        "paging.rs",
        include_str!("../../../adapters/sdk/src/paging.rs"),
    ),
    (
        "settings.rs",
        include_str!("../../../adapters/sdk/src/settings.rs"),
    ),
    ("time.rs", include_str!("../../../adapters/sdk/src/time.rs")),
];

/// `wit/adapter.wit`.
pub const WIT: &str = include_str!("../../../wit/adapter.wit");

/// A standalone manifest for the vendored SDK (the original inherits from
/// regent's workspace). Placeholder: `{{sdk_version}}`.
pub const SDK_MANIFEST: &str = include_str!("../../templates/adapter/vendor-sdk-Cargo.toml");

/// Where the vendored SDK goes inside the crate. Its bindings read
/// `../../wit` relative to this directory, which is the crate's `wit/`.
pub const SDK_DIR: &str = "vendor/regent-adapter-sdk";

/// Where the WIT contract goes inside the crate.
pub const WIT_PATH: &str = "wit/adapter.wit";

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn workspace() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("host/ sits in the workspace")
    }

    #[test]
    fn every_sdk_source_file_is_embedded_verbatim() {
        let dir = workspace().join("adapters/sdk/src");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("adapters/sdk/src")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = SDK_SOURCES.iter().map(|(n, _)| (*n).to_owned()).collect();
        embedded.sort();
        assert_eq!(
            embedded, on_disk,
            "host/src/scaffold/vendor.rs must embed every file of adapters/sdk/src \
             (subdirectories are not supported: keep the SDK flat)"
        );
        for (name, text) in SDK_SOURCES {
            let disk = std::fs::read_to_string(dir.join(name)).expect("read");
            assert_eq!(&disk, text, "{name} embedded verbatim");
        }
    }

    #[test]
    fn bindings_path_resolves_to_the_written_wit() {
        let lib = SDK_SOURCES
            .iter()
            .find(|(n, _)| *n == "lib.rs")
            .map(|(_, t)| *t)
            .expect("lib.rs");
        assert!(
            lib.contains(r#"path: "../../wit""#),
            "the SDK reads ../../wit"
        );
        let resolved = Path::new(SDK_DIR).join("../../wit/adapter.wit");
        let normal: std::path::PathBuf =
            resolved
                .components()
                .fold(std::path::PathBuf::new(), |mut acc, c| {
                    match c {
                        std::path::Component::ParentDir => {
                            acc.pop();
                        }
                        other => acc.push(other),
                    }
                    acc
                });
        assert_eq!(normal, Path::new(WIT_PATH));
    }

    #[test]
    fn vendored_manifest_uses_the_workspace_dependency_versions() {
        let workspace_manifest =
            std::fs::read_to_string(workspace().join("Cargo.toml")).expect("workspace Cargo.toml");
        for dep in ["wit-bindgen", "serde", "serde_json"] {
            let prefix = format!("{dep} = ");
            let line = workspace_manifest
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("{dep} in [workspace.dependencies]"));
            assert!(
                SDK_MANIFEST.lines().any(|l| l == line),
                "vendor-sdk-Cargo.toml must say `{line}` like the workspace"
            );
        }
        let sdk_manifest =
            std::fs::read_to_string(workspace().join("adapters/sdk/Cargo.toml")).expect("sdk");
        let deps: Vec<&str> = sdk_manifest
            .split("[dependencies]")
            .nth(1)
            .expect("sdk has dependencies")
            .lines()
            .filter_map(|l| l.split_once(".workspace").map(|(n, _)| n.trim()))
            .collect();
        assert_eq!(
            deps,
            ["wit-bindgen", "serde", "serde_json"],
            "the SDK's dependencies changed"
        );
    }

    #[test]
    fn wit_is_embedded_verbatim() {
        let disk = std::fs::read_to_string(workspace().join("wit/adapter.wit")).expect("wit");
        assert_eq!(disk, WIT);
        let wit_files = std::fs::read_dir(workspace().join("wit"))
            .expect("wit/")
            .count();
        assert_eq!(
            wit_files, 1,
            "wit/ holds more than adapter.wit: embed the rest too"
        );
    }
}
