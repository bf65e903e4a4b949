//! The project file, `regent.yaml`: which images a project publishes, so
//! `regent publish --repo REPO --tag TAG` needs no IMAGE=SOURCE arguments.
//!
//! ```yaml
//! project: shop
//! images:
//!   - name: frontend
//!     source: oci:./build/frontend
//!   - name: ~              # the image published at REPO itself
//!     source: docker-archive:./dist/api.tar:api:latest
//! ```
//!
//! Relative paths are resolved against the file's directory, so the result
//! does not depend on where regent is started. Unknown fields are refused:
//! a misspelt key would otherwise be silently ignored. `name` must be
//! given, `~` included, so the nameless image is always a decision.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use super::spec::{ImageSpec, SourceSpec};
use crate::registry::reference::check_path;

/// The file `regent publish` looks for by default.
pub const PROJECT_FILE: &str = "regent.yaml";

/// A loaded, checked project file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The file it was read from.
    pub path: PathBuf,
    /// The `project:` name.
    pub name: String,
    /// The images, in file order, with sources resolved to the file's
    /// directory.
    pub images: Vec<ImageSpec>,
}

/// Why the project file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("cannot read the project file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    project: String,
    images: Vec<RawImage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    /// Outer `None`: the key is missing; inner `None`: `name: ~`.
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    source: String,
}

/// Tell a missing key from an explicit null.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

impl Project {
    /// Read and check the project file at `path`.
    pub fn load(path: &Path) -> Result<Self, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|error| ProjectError::Read {
            path: path.to_owned(),
            error,
        })?;
        Self::parse(&text, path)
    }

    /// Check `text` as the content of the project file at `path` (whose
    /// directory relative sources are resolved against).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ProjectError> {
        let raw: RawProject = serde_norway::from_str(text).map_err(|e| ProjectError::Syntax {
            path: path.to_owned(),
            message: syntax_message(&e),
        })?;
        let invalid = |message: String| ProjectError::Invalid {
            path: path.to_owned(),
            message,
        };
        if let Err(problem) = check_path(&raw.project) {
            return Err(invalid(format!(
                "`project: {}` is not a valid name: {problem}",
                raw.project
            )));
        }
        if raw.images.is_empty() {
            return Err(invalid(
                "`images:` is empty; list at least one `- name: NAME` / `source: oci:DIR` entry"
                    .to_owned(),
            ));
        }
        let base = path.parent().map(Path::to_owned).unwrap_or_default();
        let mut seen = BTreeSet::new();
        let mut images = Vec::new();
        for (i, raw_image) in raw.images.into_iter().enumerate() {
            let Some(name) = raw_image.name else {
                return Err(invalid(format!(
                    "images[{i}] has no `name:`; give one, or `name: ~` for the image published at the repository itself"
                )));
            };
            let label = name.as_deref().unwrap_or("~");
            if !seen.insert(name.clone()) {
                return Err(invalid(format!(
                    "images[{i}]: the name `{label}` is used twice; each image needs its own name"
                )));
            }
            let source: SourceSpec = raw_image
                .source
                .parse()
                .map_err(|e| invalid(format!("images[{i}] (`{label}`): {e}")))?;
            let given = format!("{label}={}", raw_image.source);
            let image = ImageSpec::new(&given, name, source.resolved_against(&base))
                .map_err(|e| invalid(format!("images[{i}]: {e}")))?;
            images.push(image);
        }
        Ok(Self {
            path: path.to_owned(),
            name: raw.project,
            images,
        })
    }
}

/// serde's message with the position, and a hint for unknown fields.
fn syntax_message(error: &serde_norway::Error) -> String {
    let text = error.to_string();
    if text.contains("unknown field") {
        format!(
            "{text}; the fields are `project` and `images` at the top, and `name` and `source` per image"
        )
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Project, ProjectError> {
        Project::parse(text, Path::new("/work/shop/regent.yaml"))
    }

    #[test]
    fn resolves_relative_sources_against_the_file() {
        let project = parse(
            "project: shop\n\
             images:\n\
             \x20 - name: frontend\n\
             \x20   source: oci:./build/frontend\n\
             \x20 - name: ~\n\
             \x20   source: \"docker-archive:dist/api.tar:api:1\"\n\
             \x20 - name: tools/cli\n\
             \x20   source: oci:/abs/cli:v2\n\
             \x20 - name: remote\n\
             \x20   source: docker://ghcr.io/acme/x:1\n",
        )
        .expect("valid project");
        assert_eq!(project.name, "shop");
        let sources: Vec<(Option<&str>, String)> = project
            .images
            .iter()
            .map(|i| (i.name.as_deref(), i.source.to_string()))
            .collect();
        assert_eq!(
            sources,
            [
                (Some("frontend"), "oci:/work/shop/build/frontend".to_owned()),
                (
                    None,
                    "docker-archive:/work/shop/dist/api.tar:api:1".to_owned()
                ),
                (Some("tools/cli"), "oci:/abs/cli:v2".to_owned()),
                (Some("remote"), "docker://ghcr.io/acme/x:1".to_owned()),
            ]
        );
    }

    #[test]
    fn refuses_unknown_fields_naming_file_and_field() {
        let err =
            parse("project: shop\nimages:\n  - name: fe\n    source: oci:./fe\n    tag: v1\n")
                .expect_err("unknown");
        let text = err.to_string();
        assert!(
            text.contains("/work/shop/regent.yaml") && text.contains("unknown field `tag`"),
            "{text}"
        );
        assert!(text.contains("line 5"), "the position is shown: {text}");
        let err =
            parse("project: shop\nimage:\n  - name: fe\n    source: oci:./fe\n").expect_err("typo");
        assert!(err.to_string().contains("unknown field `image`"), "{err}");
    }

    #[test]
    fn refuses_bad_content() {
        let cases = [
            ("project: shop\nimages: []\n", "is empty"),
            (
                "project: Shop\nimages:\n  - {name: a, source: oci:a}\n",
                "not a valid name",
            ),
            (
                "project: shop\nimages:\n  - {source: oci:a}\n",
                "has no `name:`",
            ),
            (
                "project: shop\nimages:\n  - {name: a, source: oci:a}\n  - {name: a, source: oci:b}\n",
                "used twice",
            ),
            (
                "project: shop\nimages:\n  - {name: ~, source: oci:a}\n  - {name: ~, source: oci:b}\n",
                "`~` is used twice",
            ),
            (
                "project: shop\nimages:\n  - {name: a, source: ./build}\n",
                "write oci:./build",
            ),
            (
                "project: shop\nimages:\n  - {name: A, source: oci:a}\n",
                "not a valid image name",
            ),
            (
                "images:\n  - {name: a, source: oci:a}\n",
                "missing field `project`",
            ),
            ("project: [\n", "regent.yaml"),
        ];
        for (text, expected) in cases {
            let err = parse(text).expect_err(text).to_string();
            assert!(
                err.contains(expected),
                "{text:?} gave {err:?}, expected it to contain {expected:?}"
            );
        }
    }

    #[test]
    fn loads_from_disk_and_reports_a_missing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(PROJECT_FILE);
        std::fs::write(
            &path,
            "project: p\nimages:\n  - name: a\n    source: oci:out\n",
        )
        .expect("write");
        let project = Project::load(&path).expect("loads");
        assert_eq!(
            project.images[0].source,
            SourceSpec::OciLayout {
                dir: dir.path().join("out"),
                reference: None
            }
        );
        let err = Project::load(&dir.path().join("absent.yaml")).expect_err("missing");
        assert!(err.to_string().contains("absent.yaml"), "{err}");
    }
}
