//! The crate's files, rendered from `host/templates/adapter/` by replacing
//! `{{placeholder}}`s (plain text replacement, nothing else).

use super::names::AdapterName;
use super::vendor;

const CARGO_TOML: &str = include_str!("../../templates/adapter/Cargo.toml");
const LIB_RS: &str = include_str!("../../templates/adapter/src/lib.rs");
const FAKE_REGISTRY_RS: &str = include_str!("../../templates/adapter/tests/fake_registry.rs");
const README_MD: &str = include_str!("../../templates/adapter/README.md");
const GITIGNORE: &str = include_str!("../../templates/adapter/gitignore");

/// How the rendered crate reaches the SDK.
pub enum SdkDependency<'a> {
    /// `vendor/regent-adapter-sdk` inside the crate.
    Vendored,
    /// A path dependency, written as this text (relative to the crate where possible).
    Path(&'a str),
}

/// Every file of the crate as `(path relative to the crate, contents)`.
pub fn render(name: &AdapterName, sdk: &SdkDependency<'_>) -> Vec<(String, String)> {
    let (dependency, layout) = match sdk {
        SdkDependency::Vendored => (
            format!("regent-adapter-sdk = {{ path = \"{}\" }}", vendor::SDK_DIR),
            format!(
                "| `{}/`, `{}` | a copy of regent's adapter SDK and of the WIT contract it implements |",
                vendor::SDK_DIR,
                vendor::WIT_PATH
            ),
        ),
        SdkDependency::Path(path) => (
            format!(
                "regent-adapter-sdk = {{ path = \"{}\" }}",
                toml_escape(path)
            ),
            format!("| `{path}` | regent's adapter SDK (a path dependency) |"),
        ),
    };
    let values = [
        ("name", name.name.clone()),
        ("package", name.package()),
        ("title", name.title()),
        ("type_name", name.type_name()),
        ("env_name", name.upper_snake()),
        ("wasm_file", name.wasm_file()),
        ("sdk_dependency", dependency),
        ("sdk_layout", layout),
        ("regent_version", env!("CARGO_PKG_VERSION").to_owned()),
        ("sdk_version", env!("CARGO_PKG_VERSION").to_owned()),
        ("wit_version", wit_version().to_owned()),
        ("repository", env!("CARGO_PKG_REPOSITORY").to_owned()),
    ];
    let fill = |template: &str| {
        values
            .iter()
            .fold(template.to_owned(), |text, (key, value)| {
                text.replace(&format!("{{{{{key}}}}}"), value)
            })
    };
    let mut files = vec![
        ("Cargo.toml".to_owned(), fill(CARGO_TOML)),
        ("src/lib.rs".to_owned(), fill(LIB_RS)),
        ("tests/fake_registry.rs".to_owned(), fill(FAKE_REGISTRY_RS)),
        ("README.md".to_owned(), fill(README_MD)),
        (".gitignore".to_owned(), fill(GITIGNORE)),
    ];
    if let SdkDependency::Vendored = sdk {
        files.push((
            format!("{}/Cargo.toml", vendor::SDK_DIR),
            fill(vendor::SDK_MANIFEST),
        ));
        for (file, text) in vendor::SDK_SOURCES {
            files.push((
                format!("{}/src/{file}", vendor::SDK_DIR),
                (*text).to_owned(),
            ));
        }
        files.push((vendor::WIT_PATH.to_owned(), vendor::WIT.to_owned()));
    }
    files
}

/// The contract version the embedded WIT declares (`package regent:adapter@X;`).
pub fn wit_version() -> &'static str {
    vendor::WIT
        .lines()
        .find_map(|l| l.trim().strip_prefix("package regent:adapter@"))
        .and_then(|rest| rest.strip_suffix(';'))
        .unwrap_or("unknown")
}

/// Escape text for a TOML basic string.
fn toml_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftover_placeholder(text: &str) -> Option<&str> {
        let start = text.find("{{")?;
        let rest = &text[start + 2..];
        let end = rest.find("}}")?;
        let key = &rest[..end];
        (!key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')).then_some(key)
    }

    #[test]
    fn fills_every_placeholder() {
        let name = AdapterName::parse("acme-registry").expect("valid");
        for sdk in [SdkDependency::Vendored, SdkDependency::Path("../sdk")] {
            for (path, text) in render(&name, &sdk) {
                assert_eq!(leftover_placeholder(&text), None, "{path}");
            }
        }
    }

    #[test]
    fn vendored_crate_carries_sdk_and_wit_path_crate_does_not() {
        let name = AdapterName::parse("acme").expect("valid");
        let vendored = render(&name, &SdkDependency::Vendored);
        let paths: Vec<&str> = vendored.iter().map(|(p, _)| p.as_str()).collect();
        assert!(paths.contains(&"wit/adapter.wit"));
        assert!(paths.contains(&"vendor/regent-adapter-sdk/src/lib.rs"));
        let manifest = &vendored[0].1;
        assert!(manifest.contains("regent-adapter-sdk = { path = \"vendor/regent-adapter-sdk\" }"));
        assert!(manifest.contains("name = \"acme-regent-adapter\""));
        assert!(manifest.contains("\n[workspace]\n"));

        let path = render(&name, &SdkDependency::Path("C:\\sdk \"x\""));
        assert!(
            path.iter()
                .all(|(p, _)| !p.starts_with("vendor/") && !p.starts_with("wit/"))
        );
        assert!(
            path[0]
                .1
                .contains(r#"regent-adapter-sdk = { path = "C:\\sdk \"x\"" }"#)
        );
    }

    #[test]
    fn lib_uses_the_names_and_settings() {
        let name = AdapterName::parse("acme-registry").expect("valid");
        let files = render(&name, &SdkDependency::Vendored);
        let lib = &files[1].1;
        assert!(lib.contains(r#"const NAME: &str = "acme-registry";"#));
        assert!(lib.contains(r#"InfoBuilder::new(NAME, "Acme Registry registry""#));
        assert!(lib.contains(r#""REGENT_REPO_ACME_REGISTRY_API_URL""#));
        assert!(lib.contains("pub struct AcmeRegistryAdapter;"));
        assert!(lib.contains("register_adapter!(AcmeRegistryAdapter);"));
        assert_eq!(wit_version(), "0.1.0");
    }
}
