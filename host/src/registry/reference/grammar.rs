//! The character-level rules of the distribution reference grammar
//! (github.com/distribution/reference), written by hand so that every
//! refusal can say exactly which part broke which rule.

use std::fmt;

/// The longest tag a registry accepts.
pub const TAG_MAX_LEN: usize = 128;

/// The longest name (`registry/repository`) a registry accepts.
pub const NAME_MAX_LEN: usize = 255;

/// Why a repository path (or an image name, which is one) is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    /// Nothing was given.
    Empty,
    /// A doubled, leading or trailing `/`.
    EmptyComponent,
    /// Uppercase letters; carries the lowercase spelling to suggest.
    Uppercase { lowercase: String },
    /// A component that breaks the component rule.
    Component { component: String },
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathProblem::Empty => f.write_str("it is empty"),
            PathProblem::EmptyComponent => {
                f.write_str("it has an empty component (a doubled, leading or trailing `/`)")
            }
            PathProblem::Uppercase { lowercase } => {
                write!(f, "names must be lowercase (did you mean `{lowercase}`?)")
            }
            PathProblem::Component { component } => write!(
                f,
                "the component `{component}` is not valid: a component is lowercase letters and digits, \
                 joined by `.`, `_`, `__` or dashes, and starts and ends with a letter or digit"
            ),
        }
    }
}

/// Why a tag is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagProblem {
    /// The empty string.
    Empty,
    /// More than [`TAG_MAX_LEN`] characters.
    TooLong { len: usize },
    /// A first character other than a letter, digit or `_`.
    BadStart { first: char },
    /// A character other than letters, digits, `_`, `.` and `-`.
    BadChar { bad: char },
}

impl fmt::Display for TagProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagProblem::Empty => f.write_str("a tag cannot be empty"),
            TagProblem::TooLong { len } => {
                write!(
                    f,
                    "it is {len} characters long; a tag has at most {TAG_MAX_LEN}"
                )
            }
            TagProblem::BadStart { first } => {
                write!(
                    f,
                    "it starts with {first:?}; a tag starts with a letter, a digit or `_`"
                )
            }
            TagProblem::BadChar { bad } => {
                write!(
                    f,
                    "it contains {bad:?}; a tag has only letters, digits, `_`, `.` and `-`"
                )
            }
        }
    }
}

/// Check a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn check_tag(tag: &str) -> Result<(), TagProblem> {
    let mut chars = tag.chars();
    let Some(first) = chars.next() else {
        return Err(TagProblem::Empty);
    };
    if !(first.is_ascii_alphanumeric() || first == '_') {
        return Err(TagProblem::BadStart { first });
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(TagProblem::BadChar { bad });
    }
    if tag.len() > TAG_MAX_LEN {
        return Err(TagProblem::TooLong { len: tag.len() });
    }
    Ok(())
}

/// Check a repository path: components `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
/// separated by `/`. Uppercase is reported as such (it is the usual mistake).
pub fn check_path(path: &str) -> Result<(), PathProblem> {
    if path.is_empty() {
        return Err(PathProblem::Empty);
    }
    if path.chars().any(|c| c.is_uppercase()) {
        return Err(PathProblem::Uppercase {
            lowercase: path.to_lowercase(),
        });
    }
    for component in path.split('/') {
        if component.is_empty() {
            return Err(PathProblem::EmptyComponent);
        }
        if !is_path_component(component) {
            return Err(PathProblem::Component {
                component: component.to_owned(),
            });
        }
    }
    Ok(())
}

/// One path component: runs of `[a-z0-9]` joined by exactly `.`, `_`, `__`
/// or one or more `-`.
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().copied().is_some_and(alnum) || !bytes.last().copied().is_some_and(alnum) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// A host name: dot-separated `[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?`
/// (IPv4 addresses are host names by this rule).
pub fn is_domain_name(host: &str) -> bool {
    !host.is_empty()
        && host.split('.').all(|part| {
            let bytes = part.as_bytes();
            let edge = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
            edge(bytes.first())
                && edge(bytes.last())
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_components_follow_the_grammar() {
        for ok in [
            "a",
            "a0",
            "ubuntu",
            "a.b",
            "a_b",
            "a__b",
            "a-b",
            "a--b",
            "a---b",
            "a.b_c-d__e",
            "team/app",
            "a/b/c/d",
        ] {
            assert_eq!(check_path(ok), Ok(()), "{ok}");
        }
        for (bad, component) in [
            ("-a", "-a"),
            ("a-", "a-"),
            (".a", ".a"),
            ("a.", "a."),
            ("_a", "_a"),
            ("a..b", "a..b"),
            ("a___b", "a___b"),
            ("a._b", "a._b"),
            ("a.-b", "a.-b"),
            ("a b", "a b"),
            ("team/a:b", "a:b"),
            ("a@b", "a@b"),
            ("ü", "ü"),
        ] {
            assert_eq!(
                check_path(bad),
                Err(PathProblem::Component {
                    component: component.to_owned()
                }),
                "{bad}"
            );
        }
        assert_eq!(check_path(""), Err(PathProblem::Empty));
        for bad in ["a//b", "/a", "a/"] {
            assert_eq!(check_path(bad), Err(PathProblem::EmptyComponent), "{bad}");
        }
        assert_eq!(
            check_path("Team/App"),
            Err(PathProblem::Uppercase {
                lowercase: "team/app".into()
            })
        );
    }

    #[test]
    fn tags_follow_the_grammar() {
        for ok in [
            "v1",
            "latest",
            "_x",
            "1.0.0-rc.1",
            "A_b.C-d",
            &"a".repeat(128),
        ] {
            assert_eq!(check_tag(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_tag(""), Err(TagProblem::Empty));
        assert_eq!(check_tag(".a"), Err(TagProblem::BadStart { first: '.' }));
        assert_eq!(check_tag("-a"), Err(TagProblem::BadStart { first: '-' }));
        assert_eq!(check_tag("a/b"), Err(TagProblem::BadChar { bad: '/' }));
        assert_eq!(check_tag("a+b"), Err(TagProblem::BadChar { bad: '+' }));
        assert_eq!(
            check_tag(&"a".repeat(129)),
            Err(TagProblem::TooLong { len: 129 })
        );
    }

    #[test]
    fn domain_names_follow_the_grammar() {
        for ok in [
            "localhost",
            "ghcr.io",
            "my-registry.example.com",
            "127.0.0.1",
            "A.B",
            "a",
        ] {
            assert!(is_domain_name(ok), "{ok}");
        }
        for bad in [
            "", "-a.com", "a-.com", "a..com", ".a", "a.", "a_b.com", "a b",
        ] {
            assert!(!is_domain_name(bad), "{bad}");
        }
    }

    #[test]
    fn problems_explain_the_rule() {
        let text = PathProblem::Component {
            component: "-a".into(),
        }
        .to_string();
        assert!(
            text.contains("`-a`") && text.contains("lowercase letters and digits"),
            "{text}"
        );
        assert!(
            PathProblem::Uppercase {
                lowercase: "app".into()
            }
            .to_string()
            .contains("must be lowercase")
        );
        assert!(
            TagProblem::TooLong { len: 130 }
                .to_string()
                .contains("at most 128")
        );
        assert!(TagProblem::BadChar { bad: '/' }.to_string().contains("'/'"));
    }
}
