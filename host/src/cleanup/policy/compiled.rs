//! A validated policy with its globs and regexes compiled once, so a run
//! over many repositories and tags does not recompile them per call.

use super::model::{Action, Policy, Rule};
use super::select::{ProtectedTags, RepositoryMatcher, TagMatcher};
use super::validate::check_structure;

/// A policy ready to evaluate: validated, patterns compiled. Build it with
/// [`Policy::compile`] once per run and reuse it for every repository.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(super) protected: ProtectedTags,
    /// Seconds; 0 disables the freshness window.
    pub(super) freshness: i64,
    pub(super) rules: Vec<CompiledRule>,
}

/// One rule with compiled selectors and its windows in seconds.
#[derive(Debug, Clone)]
pub(super) struct CompiledRule {
    pub(super) name: String,
    pub(super) action: Action,
    pub(super) repositories: RepositoryMatcher,
    pub(super) tags: TagMatcher,
    pub(super) newest: Option<usize>,
    pub(super) beyond_newest: Option<usize>,
    pub(super) pushed_within: Option<i64>,
    pub(super) pushed_older_than: Option<i64>,
    pub(super) pulled_within: Option<i64>,
    pub(super) not_pulled_for: Option<i64>,
    pub(super) semver: Option<bool>,
}

impl CompiledRule {
    fn compile(rule: &Rule) -> Result<Self, String> {
        Ok(Self {
            name: rule.name.clone(),
            action: rule.action,
            repositories: RepositoryMatcher::compile(&rule.repositories, &rule.name)?,
            tags: TagMatcher::compile(&rule.tags, &rule.name)?,
            newest: rule.newest,
            beyond_newest: rule.beyond_newest,
            pushed_within: rule.pushed_within.map(|d| d.as_secs()),
            pushed_older_than: rule.pushed_older_than.map(|d| d.as_secs()),
            pulled_within: rule.pulled_within.map(|d| d.as_secs()),
            not_pulled_for: rule.not_pulled_for.map(|d| d.as_secs()),
            semver: rule.semver,
        })
    }

    /// Whether `newest` / `beyond-newest` needs the rule's tags ranked.
    pub(super) fn ranks(&self) -> bool {
        self.newest.is_some() || self.beyond_newest.is_some()
    }
}

impl Policy {
    /// Validate the policy and compile its patterns, so evaluation cannot
    /// fail later; the error names the rule, the field and the fix.
    pub fn compile(&self) -> Result<CompiledPolicy, String> {
        check_structure(self)?;
        Ok(CompiledPolicy {
            protected: ProtectedTags::compile(&self.protected_tags)?,
            freshness: self.freshness.as_secs(),
            rules: self
                .rules
                .iter()
                .map(CompiledRule::compile)
                .collect::<Result<_, _>>()?,
        })
    }
}

impl CompiledPolicy {
    /// Whether any rule selects this repository (path without registry).
    /// A repository no rule selects would get only `no-rule` keeps, so a
    /// run can skip listing its tags.
    pub fn applies_to(&self, repository: &str) -> bool {
        self.rules
            .iter()
            .any(|rule| rule.repositories.matches(repository))
    }
}

/// [`CompiledPolicy::applies_to`] without keeping the compiled form; an
/// invalid policy (only possible when built by hand, since
/// [`Policy::parse`] validates) applies to nothing, so nothing is deleted.
pub fn applies_to(policy: &Policy, repository: &str) -> bool {
    policy
        .compile()
        .is_ok_and(|compiled| compiled.applies_to(repository))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(yaml: &str) -> Policy {
        Policy::parse(yaml, "test").expect("valid policy")
    }

    #[test]
    fn applies_to_follows_include_and_exclude() {
        let p = policy(
            "version: 1\nrules:\n  - name: a\n    action: delete\n    repositories: { include: ['team/*'], exclude: ['team/base'] }\n  - name: b\n    action: keep\n    repositories: { include: ['infra/**'] }\n",
        );
        let compiled = p.compile().expect("compiles");
        assert!(compiled.applies_to("team/app"));
        assert!(!compiled.applies_to("team/base"));
        assert!(!compiled.applies_to("team/a/b"));
        assert!(compiled.applies_to("infra/a/b"));
        assert!(!compiled.applies_to("other"));
        assert!(applies_to(&p, "team/app"));
        assert!(!applies_to(&p, "other"));
    }

    #[test]
    fn a_policy_without_rules_applies_to_nothing() {
        let p = policy("version: 1\n");
        assert!(!applies_to(&p, "app"));
    }

    #[test]
    fn default_repositories_select_every_repository() {
        let p = policy("version: 1\nrules:\n  - name: a\n    action: delete\n");
        assert!(applies_to(&p, "app"));
        assert!(applies_to(&p, "a/b/c"));
    }

    #[test]
    fn an_invalid_hand_built_policy_applies_to_nothing() {
        let mut p = policy("version: 1\nrules:\n  - name: a\n    action: delete\n");
        p.version = 7;
        assert!(!applies_to(&p, "app"));
    }
}
