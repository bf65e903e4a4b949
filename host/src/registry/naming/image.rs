//! Image names: what the user calls each image of a run (`frontend`,
//! `tools/cli`), or the nameless image `~` for a project with one image.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::error::NamingError;
use crate::registry::reference::check_path;

/// How the nameless image is written on the command line and in output.
pub const NAMELESS: &str = "~";

/// A named image (one or more repository path components) or the nameless
/// image. Names are validated so that composing them into a repository
/// (multirepo) or a tag (monorepo) cannot produce an invalid reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageName {
    name: Option<String>,
}

impl ImageName {
    /// The nameless image: the images repo itself, `REPO:TAG`.
    pub fn nameless() -> Self {
        Self { name: None }
    }

    /// Parse `~` or a repository path such as `frontend` or `tools/cli`.
    pub fn parse(text: &str) -> Result<Self, NamingError> {
        if text == NAMELESS {
            return Ok(Self::nameless());
        }
        check_path(text).map_err(|problem| NamingError::ImageName {
            given: text.to_owned(),
            problem,
        })?;
        Ok(Self {
            name: Some(text.to_owned()),
        })
    }

    /// The name, or `None` for the nameless image.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether this is the nameless image.
    pub fn is_nameless(&self) -> bool {
        self.name.is_none()
    }
}

impl FromStr for ImageName {
    type Err = NamingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name.as_deref().unwrap_or(NAMELESS))
    }
}

impl Serialize for ImageName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::reference::PathProblem;

    #[test]
    fn names_and_the_nameless_image() {
        let nameless = ImageName::parse("~").expect("nameless");
        assert!(nameless.is_nameless());
        assert_eq!(nameless, ImageName::nameless());
        assert_eq!(nameless.name(), None);
        assert_eq!(nameless.to_string(), "~");
        let cli = ImageName::parse("tools/cli").expect("nested name");
        assert_eq!(cli.name(), Some("tools/cli"));
        assert!(!cli.is_nameless());
        assert_eq!(cli.to_string(), "tools/cli");
        assert_eq!(
            "front-end_2.x".parse::<ImageName>().map(|n| n.to_string()),
            Ok("front-end_2.x".into())
        );
        assert_eq!(
            serde_json::to_value(&nameless).ok(),
            Some(serde_json::json!("~"))
        );
        assert_eq!(
            serde_json::to_value(&cli).ok(),
            Some(serde_json::json!("tools/cli"))
        );
    }

    #[test]
    fn bad_names_say_why() {
        assert_eq!(
            ImageName::parse("Frontend"),
            Err(NamingError::ImageName {
                given: "Frontend".into(),
                problem: PathProblem::Uppercase {
                    lowercase: "frontend".into()
                }
            })
        );
        let message = ImageName::parse("Frontend")
            .expect_err("uppercase")
            .to_string();
        assert!(
            message.starts_with("image name `Frontend` is not valid: names must be lowercase"),
            "{message}"
        );
        assert!(message.contains("`~` for the nameless image"), "{message}");
        for bad in ["", "~x", "-a", "a/", "/home/user", "a:b", "a b"] {
            assert!(
                matches!(ImageName::parse(bad), Err(NamingError::ImageName { .. })),
                "{bad:?}"
            );
        }
    }
}
