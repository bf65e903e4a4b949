//! Compiled selectors: repository globs and whole-tag regexes.
//!
//! Repository globs use `globset` with `literal_separator(true)`: `*`, `?`
//! and `[...]` stay within one path segment, `**` spans segments (`team/**`
//! matches `team/app` and `team/a/b`, `**/base` matches `base` and
//! `team/base`, `**` alone matches everything). A repository is selected
//! when any include glob matches and no exclude glob does.
//!
//! Tag regexes always match the whole tag: `feature-` selects only the tag
//! `feature-`, write `feature-.*` (or `^feature-.*`) for a prefix. Anchors
//! the author already wrote are harmless.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::Regex;

use super::model::{RepositorySelector, TagSelector};

/// Compile `raw` so it must match the whole text; the error quotes `raw` and
/// says where it came from (`what`), so a policy author can find and fix it.
pub fn whole_match_regex(raw: &str, what: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{raw})$")).map_err(|wrapped_error| {
        // Report the author's regex, not our anchored wrapper, when we can.
        let detail = match Regex::new(raw) {
            Err(e) => e.to_string(),
            Ok(_) => wrapped_error.to_string(),
        };
        format!("{what}: the regex `{raw}` does not compile; fix it ({detail})")
    })
}

/// Compile repository globs into one set; the error quotes the glob.
fn glob_set(patterns: &[String], what: &str) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                format!(
                    "{what}: the glob `{pattern}` does not compile; fix it ({})",
                    e.kind()
                )
            })?;
        builder.add(glob);
    }
    builder
        .build()
        .map_err(|e| format!("{what}: the globs do not compile together; fix them ({e})"))
}

/// Which repositories a rule applies to, compiled once per policy.
#[derive(Debug, Clone)]
pub struct RepositoryMatcher {
    include: GlobSet,
    exclude: GlobSet,
}

impl RepositoryMatcher {
    /// Compile a rule's `repositories`; `rule` names it in errors.
    pub fn compile(selector: &RepositorySelector, rule: &str) -> Result<Self, String> {
        Ok(Self {
            include: glob_set(
                &selector.include,
                &format!("rule `{rule}`, repositories.include"),
            )?,
            exclude: glob_set(
                &selector.exclude,
                &format!("rule `{rule}`, repositories.exclude"),
            )?,
        })
    }

    /// Whether the rule applies to this repository path (without registry).
    pub fn matches(&self, repository: &str) -> bool {
        self.include.is_match(repository) && !self.exclude.is_match(repository)
    }
}

/// Which tags a rule selects, compiled once per policy.
#[derive(Debug, Clone)]
pub struct TagMatcher {
    matches: Option<Regex>,
    exclude: Option<Regex>,
}

impl TagMatcher {
    /// Compile a rule's `tags`; `rule` names it in errors.
    pub fn compile(selector: &TagSelector, rule: &str) -> Result<Self, String> {
        let compile = |raw: &Option<String>, field: &str| {
            raw.as_deref()
                .map(|raw| whole_match_regex(raw, &format!("rule `{rule}`, {field}")))
                .transpose()
        };
        Ok(Self {
            matches: compile(&selector.matches, "tags.match")?,
            exclude: compile(&selector.exclude, "tags.exclude")?,
        })
    }

    /// Whether the tag is selected: `match` (if any) matches the whole tag
    /// and `exclude` (if any) does not.
    pub fn matches(&self, tag: &str) -> bool {
        self.matches.as_ref().is_none_or(|re| re.is_match(tag))
            && !self.exclude.as_ref().is_some_and(|re| re.is_match(tag))
    }
}

/// The policy's `protected-tags`, compiled once.
#[derive(Debug, Clone)]
pub struct ProtectedTags {
    patterns: Vec<(String, Regex)>,
}

impl ProtectedTags {
    /// Compile `protected-tags`; errors quote the regex.
    pub fn compile(patterns: &[String]) -> Result<Self, String> {
        let patterns = patterns
            .iter()
            .map(|raw| Ok((raw.clone(), whole_match_regex(raw, "protected-tags")?)))
            .collect::<Result<_, String>>()?;
        Ok(Self { patterns })
    }

    /// The first protected-tags regex (as written) that matches the whole
    /// tag, so the plan can say why the tag is protected.
    pub fn matching(&self, tag: &str) -> Option<&str> {
        self.patterns
            .iter()
            .find(|(_, re)| re.is_match(tag))
            .map(|(raw, _)| raw.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repos(include: &[&str], exclude: &[&str]) -> RepositoryMatcher {
        let selector = RepositorySelector {
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        };
        RepositoryMatcher::compile(&selector, "r").expect("globs compile")
    }

    fn tags(matches: Option<&str>, exclude: Option<&str>) -> TagMatcher {
        let selector = TagSelector {
            matches: matches.map(str::to_owned),
            exclude: exclude.map(str::to_owned),
        };
        TagMatcher::compile(&selector, "r").expect("regexes compile")
    }

    #[test]
    fn single_star_stays_within_a_segment() {
        let m = repos(&["team/*"], &[]);
        assert!(m.matches("team/app"));
        assert!(!m.matches("team/a/b"));
        assert!(!m.matches("team"));
        assert!(!m.matches("other/app"));
    }

    #[test]
    fn double_star_spans_segments() {
        let m = repos(&["team/**"], &[]);
        assert!(m.matches("team/app"));
        assert!(m.matches("team/a/b/c"));
        assert!(!m.matches("teamx/app"));
        let m = repos(&["**/base"], &[]);
        assert!(m.matches("base"));
        assert!(m.matches("team/base"));
        assert!(m.matches("a/b/base"));
        assert!(!m.matches("team/base2"));
    }

    #[test]
    fn default_include_selects_everything() {
        let m = RepositoryMatcher::compile(&RepositorySelector::default(), "r").expect("compiles");
        assert!(m.matches("app"));
        assert!(m.matches("team/a/b"));
    }

    #[test]
    fn exclude_wins_over_include() {
        let m = repos(&["team/**"], &["team/base", "team/legacy/*"]);
        assert!(m.matches("team/app"));
        assert!(!m.matches("team/base"));
        assert!(!m.matches("team/legacy/x"));
        assert!(
            m.matches("team/legacy/x/y"),
            "`*` in exclude stays in one segment"
        );
    }

    #[test]
    fn empty_include_selects_nothing() {
        assert!(!repos(&[], &[]).matches("app"));
    }

    #[test]
    fn tag_regex_must_match_the_whole_tag() {
        let m = tags(Some("feature-"), None);
        assert!(m.matches("feature-"));
        assert!(!m.matches("feature-x"));
        let m = tags(Some("feature-.*"), None);
        assert!(m.matches("feature-x"));
        assert!(!m.matches("my-feature-x"));
        let m = tags(Some("a|b"), None);
        assert!(m.matches("a"));
        assert!(!m.matches("ab"), "alternation is anchored as a whole");
        let m = tags(Some("^v[0-9]+$"), None);
        assert!(m.matches("v12"));
    }

    #[test]
    fn tag_exclude_removes_from_selection() {
        let m = tags(Some("feature-.*"), Some("feature-keep.*"));
        assert!(m.matches("feature-x"));
        assert!(!m.matches("feature-keep-me"));
        let m = tags(None, Some("latest"));
        assert!(m.matches("anything"));
        assert!(!m.matches("latest"));
        assert!(m.matches("latest2"), "exclude is anchored too");
    }

    #[test]
    fn protected_names_the_matching_regex() {
        let p = ProtectedTags::compile(&["latest".into(), "stable-.*".into()]).expect("compiles");
        assert_eq!(p.matching("latest"), Some("latest"));
        assert_eq!(p.matching("stable-1"), Some("stable-.*"));
        assert_eq!(p.matching("latest-1"), None);
    }

    #[test]
    fn errors_quote_the_pattern_and_the_field() {
        let e = TagMatcher::compile(
            &TagSelector {
                matches: None,
                exclude: Some("feat(".into()),
            },
            "old",
        )
        .expect_err("bad regex");
        assert!(e.contains("rule `old`, tags.exclude"), "{e}");
        assert!(e.contains("`feat(`"), "{e}");
        let e = RepositoryMatcher::compile(
            &RepositorySelector {
                include: vec!["team/[".into()],
                exclude: vec![],
            },
            "old",
        )
        .expect_err("bad glob");
        assert!(e.contains("rule `old`, repositories.include"), "{e}");
        assert!(e.contains("`team/[`"), "{e}");
    }
}
