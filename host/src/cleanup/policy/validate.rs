//! Policy validation: everything that makes a policy unusable is refused
//! when it is read, with a message that names the rule and the fix.
//!
//! Checked: `version` is 1; every rule has a non-empty, unique name that is
//! not reserved ([`RESERVED_RULE_NAMES`]); `newest` and `beyond-newest` are
//! not both set in one rule and are at least 1; `pushed-older-than` is
//! shorter than `pushed-within` when both are set (otherwise no tag could
//! ever satisfy both), and likewise `not-pulled-for` shorter than
//! `pulled-within`; `repositories.include` is not empty (it would select no
//! repository; leave it out to mean every repository); every regex
//! (`protected-tags`, `tags.match`, `tags.exclude`) and glob
//! (`repositories.include`, `repositories.exclude`) compiles — see
//! [`Policy::compile`], which runs these checks before compiling.
//!
//! Allowed on purpose: `newest` on delete rules and `beyond-newest` on keep
//! rules, and a delete rule with no selector and no condition (it deletes
//! every tag nothing keeps; `protected-tags` and `freshness` still apply).

use std::collections::HashMap;

use super::model::{POLICY_VERSION, Policy, Rule};

/// Names the evaluator and the cleanup run use for decisions no policy rule
/// made (`protected`, `freshness`, `no-rule` from the evaluator;
/// `max-deletions` and `manual` from the caller). A rule may not take one,
/// or the plan and the audit log could not tell them apart.
pub const RESERVED_RULE_NAMES: [&str; 5] = [
    "protected",
    "freshness",
    "no-rule",
    "max-deletions",
    "manual",
];

impl Policy {
    /// Refuse a policy that cannot be applied as written; called by
    /// [`Policy::parse`], so a parsed policy always compiles.
    pub fn validate(&self) -> Result<(), String> {
        self.compile().map(|_| ())
    }
}

/// Every check except compiling patterns (which [`Policy::compile`] does
/// right after, reporting its own errors).
pub(super) fn check_structure(policy: &Policy) -> Result<(), String> {
    if policy.version != POLICY_VERSION {
        return Err(format!(
            "version {} is not supported; write `version: {POLICY_VERSION}`",
            policy.version
        ));
    }
    let mut first_use: HashMap<&str, usize> = HashMap::new();
    for (index, rule) in policy.rules.iter().enumerate() {
        let position = index + 1;
        let name = rule.name.as_str();
        if name.trim().is_empty() {
            return Err(format!(
                "rule #{position} has an empty name; give every rule a unique `name`"
            ));
        }
        if RESERVED_RULE_NAMES.contains(&name) {
            return Err(format!(
                "rule #{position} is named `{name}`, which regent reserves for its own decisions \
                 ({}); rename the rule",
                RESERVED_RULE_NAMES.join(", ")
            ));
        }
        if let Some(first) = first_use.insert(name, position) {
            return Err(format!(
                "rules #{first} and #{position} are both named `{name}`; rule names must be \
                 unique, rename one of them"
            ));
        }
        check_rule(rule)?;
    }
    Ok(())
}

/// The checks that concern one rule on its own.
fn check_rule(rule: &Rule) -> Result<(), String> {
    let name = &rule.name;
    if rule.newest.is_some() && rule.beyond_newest.is_some() {
        return Err(format!(
            "rule `{name}` sets both `newest` and `beyond-newest`, which no tag can satisfy \
             together; keep one of them (or split the rule in two)"
        ));
    }
    for (field, value) in [
        ("newest", rule.newest),
        ("beyond-newest", rule.beyond_newest),
    ] {
        if value == Some(0) {
            return Err(format!(
                "rule `{name}`: `{field}: 0` is not allowed; use a count of at least 1 \
                 (or remove `{field}`)"
            ));
        }
    }
    if let (Some(within), Some(older)) = (rule.pushed_within, rule.pushed_older_than)
        && older >= within
    {
        return Err(format!(
            "rule `{name}`: `pushed-older-than: {older}` and `pushed-within: {within}` can \
             never both hold; pushed-older-than must be shorter than pushed-within"
        ));
    }
    if let (Some(within), Some(not_for)) = (rule.pulled_within, rule.not_pulled_for)
        && not_for >= within
    {
        return Err(format!(
            "rule `{name}`: `not-pulled-for: {not_for}` and `pulled-within: {within}` can never \
             both hold; not-pulled-for must be shorter than pulled-within"
        ));
    }
    if rule.repositories.include.is_empty() {
        return Err(format!(
            "rule `{name}`: `repositories.include` is empty, so the rule selects no \
             repository; list globs such as `team/**`, or remove `include` to select every \
             repository"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::model::PolicyError;
    use super::*;

    /// The validation message for policy YAML that must be refused.
    fn refused(yaml: &str) -> String {
        match Policy::parse(yaml, "policy.yaml") {
            Err(PolicyError::Invalid { message, .. }) => message,
            Err(other) => panic!("expected a validation error, got {other}"),
            Ok(policy) => panic!("expected a validation error, got {policy:?}"),
        }
    }

    fn accepted(yaml: &str) -> Policy {
        match Policy::parse(yaml, "policy.yaml") {
            Ok(policy) => policy,
            Err(e) => panic!("expected a valid policy, got {e}"),
        }
    }

    fn assert_mentions(message: &str, needles: &[&str]) {
        for needle in needles {
            assert!(
                message.contains(needle),
                "`{message}` should mention `{needle}`"
            );
        }
    }

    #[test]
    fn the_documented_example_is_valid() {
        let policy = accepted(
            r#"
version: 1
protected-tags: ["latest"]
freshness: 2h
max-deletions: 500
untagged: delete
referrers: with-subject
rules:
  - name: keep-releases
    action: keep
    tags: { match: '^v[0-9]+\.[0-9]+\.[0-9]+$' }
  - name: old-branches
    action: delete
    repositories: { include: ["team/**"], exclude: ["team/base"] }
    tags: { match: '^feature-' }
    pushed-older-than: 14d
"#,
        );
        assert_eq!(policy.rules.len(), 2);
    }

    #[test]
    fn only_version_1() {
        let message = refused("version: 2\n");
        assert_mentions(&message, &["version 2", "version: 1"]);
    }

    #[test]
    fn rule_names_must_not_be_empty() {
        let message = refused(
            "version: 1\nrules:\n  - { name: a, action: keep }\n  - { name: ' ', action: delete }\n",
        );
        assert_mentions(&message, &["rule #2", "empty name"]);
    }

    #[test]
    fn rule_names_must_be_unique() {
        let message = refused(
            "version: 1\nrules:\n  - { name: dup, action: keep }\n  - { name: b, action: keep }\n  - { name: dup, action: delete }\n",
        );
        assert_mentions(&message, &["`dup`", "#1 and #3", "unique"]);
    }

    #[test]
    fn reserved_names_are_refused() {
        for name in RESERVED_RULE_NAMES {
            let message = refused(&format!(
                "version: 1\nrules:\n  - {{ name: {name}, action: keep }}\n"
            ));
            assert_mentions(&message, &[&format!("`{name}`"), "reserves", "rename"]);
        }
    }

    #[test]
    fn tag_regexes_must_compile() {
        let message = refused(
            "version: 1\nrules:\n  - name: old-branches\n    action: delete\n    tags: { match: 'feature-(' }\n",
        );
        assert_mentions(&message, &["`old-branches`", "tags.match", "`feature-(`"]);
        let message = refused(
            "version: 1\nrules:\n  - name: keep-some\n    action: keep\n    tags: { exclude: '[z-a]' }\n",
        );
        assert_mentions(&message, &["`keep-some`", "tags.exclude", "`[z-a]`"]);
    }

    #[test]
    fn protected_regexes_must_compile() {
        let message = refused("version: 1\nprotected-tags: ['latest', 'rel(']\n");
        assert_mentions(&message, &["protected-tags", "`rel(`"]);
    }

    #[test]
    fn repository_globs_must_compile() {
        let message = refused(
            "version: 1\nrules:\n  - name: r1\n    action: delete\n    repositories: { include: ['team/[ab'] }\n",
        );
        assert_mentions(&message, &["`r1`", "repositories.include", "`team/[ab`"]);
        let message = refused(
            "version: 1\nrules:\n  - name: r2\n    action: delete\n    repositories: { exclude: ['{a,b'] }\n",
        );
        assert_mentions(&message, &["`r2`", "repositories.exclude", "`{a,b`"]);
    }

    #[test]
    fn newest_and_beyond_newest_exclude_each_other() {
        let message = refused(
            "version: 1\nrules:\n  - { name: both, action: delete, newest: 3, beyond-newest: 5 }\n",
        );
        assert_mentions(&message, &["`both`", "`newest`", "`beyond-newest`"]);
    }

    #[test]
    fn counts_are_at_least_one() {
        let message = refused("version: 1\nrules:\n  - { name: n0, action: keep, newest: 0 }\n");
        assert_mentions(&message, &["`n0`", "`newest: 0`", "at least 1"]);
        let message =
            refused("version: 1\nrules:\n  - { name: b0, action: delete, beyond-newest: 0 }\n");
        assert_mentions(&message, &["`b0`", "`beyond-newest: 0`", "at least 1"]);
    }

    #[test]
    fn push_windows_must_overlap() {
        let message = refused(
            "version: 1\nrules:\n  - { name: never, action: delete, pushed-within: 7d, pushed-older-than: 14d }\n",
        );
        assert_mentions(
            &message,
            &["`never`", "pushed-older-than", "pushed-within", "shorter"],
        );
        let message = refused(
            "version: 1\nrules:\n  - { name: equal, action: delete, pushed-within: 7d, pushed-older-than: 7d }\n",
        );
        assert_mentions(&message, &["`equal`"]);
        accepted(
            "version: 1\nrules:\n  - { name: band, action: delete, pushed-within: 7d, pushed-older-than: 1d }\n",
        );
    }

    #[test]
    fn pull_windows_must_overlap() {
        let message = refused(
            "version: 1\nrules:\n  - { name: never, action: keep, pulled-within: 7d, not-pulled-for: 7d }\n",
        );
        assert_mentions(&message, &["`never`", "not-pulled-for", "pulled-within"]);
        accepted(
            "version: 1\nrules:\n  - { name: band, action: keep, pulled-within: 30d, not-pulled-for: 7d }\n",
        );
    }

    #[test]
    fn an_empty_include_is_refused() {
        let message = refused(
            "version: 1\nrules:\n  - name: nowhere\n    action: delete\n    repositories: { include: [] }\n",
        );
        assert_mentions(
            &message,
            &["`nowhere`", "repositories.include", "remove `include`"],
        );
    }

    #[test]
    fn permissive_shapes_are_allowed() {
        accepted("version: 1\nrules:\n  - { name: everything, action: delete }\n");
        accepted("version: 1\nrules:\n  - { name: n, action: delete, newest: 2 }\n");
        accepted("version: 1\nrules:\n  - { name: b, action: keep, beyond-newest: 2 }\n");
        accepted("version: 1\nprotected-tags: []\nfreshness: 0s\n");
    }

    #[test]
    fn validate_agrees_with_compile_on_hand_built_policies() {
        let mut policy = accepted("version: 1\nrules:\n  - { name: a, action: delete }\n");
        assert!(policy.validate().is_ok());
        policy.rules[0].tags.matches = Some("(".into());
        let message = policy.validate().expect_err("bad regex");
        assert_mentions(&message, &["`a`", "`(`"]);
    }
}
