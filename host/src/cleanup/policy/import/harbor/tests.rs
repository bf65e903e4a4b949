//! Harbor retention rules: each template, the selectors, the final delete
//! rule, warnings and refusals naming the field.

use std::time::Duration;

use crate::cleanup::policy::import::{ImportFormat, ImportOptions, import_with};
use crate::cleanup::policy::model::{Action, Policy};

fn import(json: &str) -> (Policy, Vec<String>) {
    import_with(ImportFormat::Harbor, json, ImportOptions::default())
        .expect("imports")
        .into_parts()
}

fn refuse_with(json: &str, options: ImportOptions) -> String {
    match import_with(ImportFormat::Harbor, json, options) {
        Ok(imported) => panic!("imported but should not: {imported:?}"),
        Err(e) => e.to_string(),
    }
}

fn refuse(json: &str) -> String {
    refuse_with(json, ImportOptions::default())
}

/// Compiled the way regent's selector compiles tag regexes: whole-tag.
fn re(pattern: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?:{pattern})$")).expect("regex compiles")
}

/// A policy with one rule of `template`, `params`, tag pattern and repository pattern.
fn one_rule(template: &str, params: &str, tags: &str, repos: &str) -> String {
    format!(
        r#"{{"algorithm": "or", "rules": [{{"disabled": false, "action": "retain",
            "template": "{template}", "params": {params},
            "tag_selectors": [{{"kind": "doublestar", "decoration": "matches", "pattern": "{tags}"}}],
            "scope_selectors": {{"repository": [{{"kind": "doublestar", "decoration": "repoMatches", "pattern": "{repos}"}}]}}}}],
            "trigger": {{"kind": "Schedule", "settings": {{"cron": "0 0 0 * * *"}}}}}}"#
    )
}

#[test]
fn latest_pushed_k_becomes_newest_and_the_rest_is_deleted() {
    let (policy, warnings) = import(&one_rule(
        "latestPushedK",
        r#"{"latestPushedK": 10}"#,
        "**",
        "**",
    ));
    let [keep, delete] = policy.rules.as_slice() else {
        panic!("two rules: {policy:?}")
    };
    assert_eq!(keep.action, Action::Keep);
    assert_eq!(keep.name, "harbor-1-retain-10-latest-pushed");
    assert_eq!(keep.newest, Some(10));
    assert_eq!(keep.tags.matches, None, "`**` selects every tag");
    assert_eq!(keep.repositories.include, vec!["**".to_owned()]);
    assert_eq!(delete.name, "not-retained");
    assert_eq!(delete.action, Action::Delete);
    assert_eq!(delete.tags.matches, None);
    assert_eq!(delete.newest, None);
    assert!(
        warnings.iter().any(|w| w.contains("counts artifacts")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("0 0 0 * * *")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("rules only retain")),
        "{warnings:?}"
    );
}

#[test]
fn day_templates_become_windows() {
    let (push, _) = import(&one_rule(
        "nDaysSinceLastPush",
        r#"{"nDaysSinceLastPush": 7}"#,
        "v*",
        "**",
    ));
    assert_eq!(
        push.rules[0].pushed_within.map(|d| d.0),
        Some(Duration::from_secs(7 * 86_400))
    );
    let tags = re(push.rules[0].tags.matches.as_deref().expect("a tag regex"));
    assert!(tags.is_match("v1.2"));
    assert!(!tags.is_match("dev"));
    let (pull, warnings) = import(&one_rule(
        "nDaysSinceLastPull",
        r#"{"nDaysSinceLastPull": 30.0}"#,
        "**",
        "**",
    ));
    assert_eq!(
        pull.rules[0].pulled_within.map(|d| d.0),
        Some(Duration::from_secs(30 * 86_400))
    );
    assert!(
        warnings.iter().any(|w| w.contains("pull times")),
        "{warnings:?}"
    );
}

#[test]
fn always_keeps_its_selection_without_conditions() {
    let (policy, _) = import(&one_rule("always", "{}", "{main,release-*}", "**"));
    let keep = &policy.rules[0];
    assert_eq!(keep.name, "harbor-1-retain-always");
    assert_eq!((keep.newest, keep.pushed_within), (None, None));
    let tags = re(keep.tags.matches.as_deref().expect("a tag regex"));
    assert!(tags.is_match("main"));
    assert!(tags.is_match("release-2"));
    assert!(!tags.is_match("feature"));
}

#[test]
fn latest_pulled_n_is_approximated_soundly_or_refused_when_exact() {
    let text = one_rule("latestPulledN", r#"{"latestPulledN": 5}"#, "**", "**");
    let (policy, warnings) = import(&text);
    let keep = &policy.rules[0];
    assert_eq!(keep.action, Action::Keep);
    assert_eq!(
        (keep.newest, keep.pulled_within),
        (None, None),
        "keeps every selected tag"
    );
    assert!(warnings.iter().any(|w| w.contains("sound")), "{warnings:?}");
    let exact = refuse_with(&text, ImportOptions { exact: true });
    assert!(exact.contains("rules[0] (latestPulledN)"), "{exact}");
    assert!(exact.contains("`template`"), "{exact}");
}

#[test]
fn repository_patterns_are_relative_to_the_project() {
    let (policy, warnings) = import(&one_rule("always", "{}", "**", "{app,web}/**"));
    assert_eq!(
        policy.rules[0].repositories.include,
        vec!["*/{app,web}/**".to_owned()]
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("relative to the project")),
        "{warnings:?}"
    );
}

#[test]
fn excludes_combine_and_disabled_rules_are_skipped() {
    let (policy, warnings) = import(
        r#"{"rules": [
            {"template": "always", "params": {},
             "tag_selectors": [
                {"kind": "doublestar", "decoration": "excludes", "pattern": "*-rc*"},
                {"kind": "doublestar", "decoration": "excludes", "pattern": "tmp-?"}],
             "scope_selectors": {"repository": [
                {"kind": "doublestar", "decoration": "repoExcludes", "pattern": "sandbox/**"}]}},
            {"disabled": true, "template": "latestPushedK", "params": {"latestPushedK": 3}}
        ]}"#,
    );
    assert_eq!(
        policy.rules.len(),
        2,
        "one keep rule and not-retained: {policy:?}"
    );
    let keep = &policy.rules[0];
    let exclude = re(keep.tags.exclude.as_deref().expect("an exclude"));
    assert!(exclude.is_match("1.0-rc1"));
    assert!(exclude.is_match("tmp-1"));
    assert!(!exclude.is_match("1.0"));
    assert_eq!(keep.repositories.include, vec!["**".to_owned()]);
    assert_eq!(keep.repositories.exclude, vec!["*/sandbox/**".to_owned()]);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("rules[1] (latestPushedK) is disabled")),
        "{warnings:?}"
    );
}

#[test]
fn no_enabled_rule_deletes_nothing() {
    let (policy, warnings) =
        import(r#"{"rules": [{"disabled": true, "template": "always", "params": {}}]}"#);
    assert!(policy.rules.is_empty(), "{policy:?}");
    assert!(
        warnings.iter().any(|w| w.contains("no enabled rule")),
        "{warnings:?}"
    );
}

#[test]
fn untagged_extras_and_label_selectors_warn() {
    let (policy, warnings) = import(
        r#"{"rules": [{"template": "always", "params": {}, "tag_selectors": [
            {"kind": "doublestar", "decoration": "matches", "pattern": "**", "extras": "{\"untagged\":true}"},
            {"kind": "label", "decoration": "withLabels", "pattern": "keep"}]}]}"#,
    );
    assert_eq!(policy.rules[0].tags.matches, None);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("untagged artifacts in Harbor")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("label selectors")),
        "{warnings:?}"
    );
}

#[test]
fn exact_drops_regent_defaults() {
    let text = one_rule("latestPushedK", r#"{"latestPushedK": 10}"#, "**", "**");
    let exact =
        import_with(ImportFormat::Harbor, &text, ImportOptions { exact: true }).expect("imports");
    assert!(exact.policy.protected_tags.is_empty());
    assert_eq!(exact.policy.freshness.0, Duration::ZERO);
}

#[test]
fn malformed_rules_are_refused_naming_the_field() {
    let template = refuse(&one_rule(
        "latestActiveK",
        r#"{"latestActiveK": 1}"#,
        "**",
        "**",
    ));
    assert!(template.contains("`template`"), "{template}");
    let param = refuse(&one_rule(
        "latestPushedK",
        r#"{"latestPushedK": 0}"#,
        "**",
        "**",
    ));
    assert!(param.contains("`params.latestPushedK`"), "{param}");
    let missing = refuse(&one_rule("nDaysSinceLastPush", "{}", "**", "**"));
    assert!(missing.contains("`params.nDaysSinceLastPush`"), "{missing}");
    let pattern = refuse(&one_rule("always", "{}", "{a,b", "**"));
    assert!(pattern.contains("`tag_selectors[0].pattern`"), "{pattern}");
    let kind = refuse(
        r#"{"rules": [{"template": "always", "tag_selectors": [{"kind": "regularExpression", "decoration": "matches", "pattern": "x"}]}]}"#,
    );
    assert!(kind.contains("`tag_selectors[0].kind`"), "{kind}");
    let two = refuse(
        r#"{"rules": [{"template": "always", "tag_selectors": [
            {"kind": "doublestar", "decoration": "matches", "pattern": "a*"},
            {"kind": "doublestar", "decoration": "matches", "pattern": "*b"}]}]}"#,
    );
    assert!(two.contains("`tag_selectors[1].decoration`"), "{two}");
    let action = refuse(r#"{"rules": [{"template": "always", "action": "delete"}]}"#);
    assert!(action.contains("`action`"), "{action}");
    let algorithm = refuse(r#"{"algorithm": "and", "rules": []}"#);
    assert!(algorithm.contains("`algorithm`"), "{algorithm}");
    let scope =
        refuse(r#"{"rules": [{"template": "always", "scope_selectors": {"project": []}}]}"#);
    assert!(scope.contains("scope_selectors.project"), "{scope}");
    let shape = refuse(r#"{"policy": {}}"#);
    assert!(shape.starts_with("not a valid Harbor policy"), "{shape}");
}

#[test]
fn the_yaml_reads_back() {
    let (policy, _) = import(&one_rule(
        "latestPushedK",
        r#"{"latestPushedK": 10}"#,
        "v[0-9]*",
        "team/*",
    ));
    let back = Policy::parse(&policy.to_yaml(), "test").expect("reads back");
    assert_eq!(back, policy);
}
