//! Where an image comes from, as the user writes it on the command line or
//! in `regent.yaml`: `oci:DIR[:REF]`, `docker-archive:FILE[:REF]` or
//! `docker://REF`.
//!
//! The path ends at the first colon, as in skopeo, so a ref may itself
//! contain colons (`docker-archive:app.tar:app:1.0`) and the same strings
//! work with both tools.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use crate::registry::reference::check_path;

/// The forms a source can take, for error messages.
pub const SOURCE_FORMS: &str = "oci:DIR[:REF], docker-archive:FILE[:REF] or docker://REF";

/// A parsed image source, not yet opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// An OCI image layout directory; `reference` picks an image by its
    /// `org.opencontainers.image.ref.name` annotation.
    OciLayout {
        dir: PathBuf,
        reference: Option<String>,
    },
    /// A tar written by `docker save` (either format), possibly gzipped;
    /// `reference` picks an image by one of its RepoTags.
    DockerArchive {
        file: PathBuf,
        reference: Option<String>,
    },
    /// An image in a registry. Only the text is kept: the registry client
    /// parses and reads it.
    Remote { reference: String },
}

/// Why a source text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("the image source is empty; expected {SOURCE_FORMS}")]
    Empty,
    #[error("unknown image source {given:?}: expected {SOURCE_FORMS}{hint}")]
    UnknownKind { given: String, hint: String },
    #[error("image source {given:?} has no path after `{kind}:`; expected {form}")]
    MissingPath {
        given: String,
        kind: &'static str,
        form: &'static str,
    },
    #[error(
        "image source {given:?} ends with `:` but names no ref; expected {form} (drop the colon to take the only image)"
    )]
    EmptyRef { given: String, form: &'static str },
    #[error(
        "image source {given:?} names no image after `docker://`; expected docker://REF, e.g. docker://ghcr.io/acme/app:1.0"
    )]
    EmptyRemote { given: String },
    #[error(
        "image source {given:?} contains whitespace, which no image reference does; expected docker://REF"
    )]
    Whitespace { given: String },
    #[error(
        "image {given:?}: the name {name:?} is not a valid image name: {problem}; write IMAGE=SOURCE, e.g. frontend=oci:./build/frontend"
    )]
    BadName {
        given: String,
        name: String,
        problem: String,
    },
}

const OCI_FORM: &str = "oci:DIR[:REF]";
const ARCHIVE_FORM: &str = "docker-archive:FILE[:REF]";

impl SourceSpec {
    /// The same source with a relative path resolved against `base` (the
    /// directory of the project file that named it), so a project publishes
    /// the same images wherever regent is started.
    pub fn resolved_against(self, base: &Path) -> Self {
        match self {
            SourceSpec::OciLayout { dir, reference } => SourceSpec::OciLayout {
                dir: join_clean(base, &dir),
                reference,
            },
            SourceSpec::DockerArchive { file, reference } => SourceSpec::DockerArchive {
                file: join_clean(base, &file),
                reference,
            },
            remote @ SourceSpec::Remote { .. } => remote,
        }
    }

    /// The ref the user asked for, if any.
    pub fn reference(&self) -> Option<&str> {
        match self {
            SourceSpec::OciLayout { reference, .. }
            | SourceSpec::DockerArchive { reference, .. } => reference.as_deref(),
            SourceSpec::Remote { reference } => Some(reference),
        }
    }
}

/// `base/path` without `.` components; absolute paths are kept as given.
fn join_clean(base: &Path, path: &Path) -> PathBuf {
    base.join(path)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

impl FromStr for SourceSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err(SpecError::Empty);
        }
        if let Some(rest) = text.strip_prefix("docker://") {
            if rest.is_empty() {
                return Err(SpecError::EmptyRemote {
                    given: text.to_owned(),
                });
            }
            if rest.chars().any(char::is_whitespace) {
                return Err(SpecError::Whitespace {
                    given: text.to_owned(),
                });
            }
            return Ok(SourceSpec::Remote {
                reference: rest.to_owned(),
            });
        }
        if let Some(rest) = text.strip_prefix("oci:") {
            let (dir, reference) = path_and_ref(text, rest, "oci", OCI_FORM)?;
            return Ok(SourceSpec::OciLayout { dir, reference });
        }
        if let Some(rest) = text.strip_prefix("docker-archive:") {
            let (file, reference) = path_and_ref(text, rest, "docker-archive", ARCHIVE_FORM)?;
            return Ok(SourceSpec::DockerArchive { file, reference });
        }
        Err(SpecError::UnknownKind {
            given: text.to_owned(),
            hint: unknown_kind_hint(text),
        })
    }
}

fn path_and_ref(
    given: &str,
    rest: &str,
    kind: &'static str,
    form: &'static str,
) -> Result<(PathBuf, Option<String>), SpecError> {
    let (path, reference) = match rest.split_once(':') {
        Some((path, reference)) => (path, Some(reference)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(SpecError::MissingPath {
            given: given.to_owned(),
            kind,
            form,
        });
    }
    if reference == Some("") {
        return Err(SpecError::EmptyRef {
            given: given.to_owned(),
            form,
        });
    }
    Ok((PathBuf::from(path), reference.map(str::to_owned)))
}

fn unknown_kind_hint(text: &str) -> String {
    if let Some(rest) = text.strip_prefix("docker:") {
        return format!(" (did you mean docker://{}?)", rest.trim_start_matches('/'));
    }
    if text.starts_with("oci-archive:") {
        return " (oci-archive is not supported: extract it with `tar -xf` and use oci:DIR)"
            .to_owned();
    }
    if text.starts_with("docker-daemon:") || text.starts_with("containers-storage:") {
        return " (export the image first: `docker save -o app.tar IMAGE` and use docker-archive:app.tar)".to_owned();
    }
    if text.ends_with(".tar") || text.ends_with(".tar.gz") || text.ends_with(".tgz") {
        return format!(" (a docker save archive? write docker-archive:{text})");
    }
    if !text.contains(':') {
        return format!(" (an OCI layout directory? write oci:{text})");
    }
    String::new()
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, path, reference) = match self {
            SourceSpec::OciLayout { dir, reference } => ("oci", dir, reference),
            SourceSpec::DockerArchive { file, reference } => ("docker-archive", file, reference),
            SourceSpec::Remote { reference } => return write!(f, "docker://{reference}"),
        };
        write!(f, "{kind}:{}", path.display())?;
        if let Some(reference) = reference {
            write!(f, ":{reference}")?;
        }
        Ok(())
    }
}

/// One image to publish: `IMAGE=SOURCE` on the command line, or an entry of
/// `images:` in `regent.yaml`. The nameless image (`=SOURCE`, bare `SOURCE`,
/// or `name: ~`) is published at the repository itself rather than under a
/// sub-name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    pub name: Option<String>,
    pub source: SourceSpec,
}

impl ImageSpec {
    /// An image spec after checking the name is a valid repository path
    /// component list (it becomes part of the pushed repository name).
    pub fn new(given: &str, name: Option<String>, source: SourceSpec) -> Result<Self, SpecError> {
        if let Some(name) = &name
            && let Err(problem) = check_path(name)
        {
            return Err(SpecError::BadName {
                given: given.to_owned(),
                name: name.clone(),
                problem: problem.to_string(),
            });
        }
        Ok(Self { name, source })
    }
}

impl FromStr for ImageSpec {
    type Err = SpecError;

    /// `IMAGE=SOURCE`. The text before the first `=` is the name only when
    /// it has no colon: every source form starts with `kind:`, so a path
    /// containing `=` (`oci:./a=b`) is never mistaken for a name.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('=') {
            Some((name, source)) if !name.contains(':') => {
                let name = (!name.is_empty()).then(|| name.to_owned());
                Self::new(text, name, source.parse()?)
            }
            _ => Self::new(text, None, text.parse()?),
        }
    }
}

impl fmt::Display for ImageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name.as_deref().unwrap_or(""), self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SourceSpec, SpecError> {
        text.parse()
    }

    #[test]
    fn parses_each_form() {
        assert_eq!(
            parse("oci:./build/app"),
            Ok(SourceSpec::OciLayout {
                dir: "./build/app".into(),
                reference: None
            })
        );
        assert_eq!(
            parse("oci:/l:v1.2"),
            Ok(SourceSpec::OciLayout {
                dir: "/l".into(),
                reference: Some("v1.2".into())
            })
        );
        // The path ends at the first colon, so refs keep theirs (as skopeo).
        assert_eq!(
            parse("docker-archive:app.tar:acme/app:1.0"),
            Ok(SourceSpec::DockerArchive {
                file: "app.tar".into(),
                reference: Some("acme/app:1.0".into())
            })
        );
        assert_eq!(
            parse("docker://ghcr.io/acme/app:1"),
            Ok(SourceSpec::Remote {
                reference: "ghcr.io/acme/app:1".into()
            })
        );
        for text in [
            "oci:/l:v1.2",
            "docker-archive:app.tar:acme/app:1.0",
            "docker://x/y:1",
            "oci:d",
        ] {
            assert_eq!(parse(text).expect("parses").to_string(), text);
        }
    }

    #[test]
    fn errors_say_what_form_was_expected() {
        assert_eq!(parse(""), Err(SpecError::Empty));
        let e = parse("./build/app").expect_err("bare path");
        assert!(
            e.to_string().contains("oci:DIR[:REF]")
                && e.to_string().contains("write oci:./build/app"),
            "{e}"
        );
        let e = parse("docker:ubuntu").expect_err("docker: without //");
        assert!(
            e.to_string().contains("did you mean docker://ubuntu"),
            "{e}"
        );
        let e = parse("app.tar").expect_err("bare tar");
        assert!(e.to_string().contains("docker-archive:app.tar"), "{e}");
        assert!(matches!(
            parse("oci:"),
            Err(SpecError::MissingPath { kind: "oci", .. })
        ));
        assert!(matches!(
            parse("oci::ref"),
            Err(SpecError::MissingPath { .. })
        ));
        assert!(matches!(
            parse("docker-archive:a.tar:"),
            Err(SpecError::EmptyRef { .. })
        ));
        assert!(matches!(
            parse("docker://"),
            Err(SpecError::EmptyRemote { .. })
        ));
        assert!(matches!(
            parse("docker://a b"),
            Err(SpecError::Whitespace { .. })
        ));
        let e = parse("oci-archive:x.tar").expect_err("oci-archive");
        assert!(e.to_string().contains("tar -xf"), "{e}");
    }

    #[test]
    fn relative_paths_resolve_against_a_base() {
        let spec = parse("oci:./build/../out/app:v1").expect("parses");
        assert_eq!(
            spec.resolved_against(Path::new("/proj")),
            SourceSpec::OciLayout {
                dir: "/proj/build/../out/app".into(),
                reference: Some("v1".into())
            }
        );
        let abs = parse("docker-archive:/tmp/a.tar").expect("parses");
        assert_eq!(abs.clone().resolved_against(Path::new("/proj")), abs);
        let remote = parse("docker://x/y").expect("parses");
        assert_eq!(remote.clone().resolved_against(Path::new("/proj")), remote);
    }

    #[test]
    fn image_specs_name_or_not() {
        let named: ImageSpec = "frontend=oci:./fe".parse().expect("named");
        assert_eq!(named.name.as_deref(), Some("frontend"));
        assert_eq!(named.source, parse("oci:./fe").expect("parses"));
        let nameless: ImageSpec = "=oci:./fe".parse().expect("nameless");
        assert_eq!(nameless.name, None);
        let bare: ImageSpec = "oci:./a=b".parse().expect("= inside the path");
        assert_eq!(bare.name, None);
        assert_eq!(
            bare.source,
            SourceSpec::OciLayout {
                dir: "./a=b".into(),
                reference: None
            }
        );
        let nested: ImageSpec = "tools/cli=docker://x/y".parse().expect("nested name");
        assert_eq!(nested.name.as_deref(), Some("tools/cli"));
        let e = "Frontend=oci:./fe"
            .parse::<ImageSpec>()
            .expect_err("uppercase");
        assert!(
            matches!(e, SpecError::BadName { .. }) && e.to_string().contains("frontend"),
            "{e}"
        );
        assert!("fe=nonsense".parse::<ImageSpec>().is_err());
    }
}
