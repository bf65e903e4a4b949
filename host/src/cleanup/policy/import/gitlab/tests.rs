//! GitLab cleanup policies: each setting's mapping, the warnings, and
//! refusals naming the field.

use std::time::Duration;

use super::has_top_level_alternation;
use crate::cleanup::policy::import::{ImportFormat, ImportOptions, import_with};
use crate::cleanup::policy::model::{Action, Policy};

fn import(json: &str) -> (Policy, Vec<String>) {
    import_with(ImportFormat::Gitlab, json, ImportOptions::default())
        .expect("imports")
        .into_parts()
}

fn refuse(json: &str) -> String {
    match import_with(ImportFormat::Gitlab, json, ImportOptions::default()) {
        Ok(imported) => panic!("imported but should not: {imported:?}"),
        Err(e) => e.to_string(),
    }
}

/// Compiled the way regent's selector compiles tag regexes: whole-tag.
fn re(pattern: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?:{pattern})$")).expect("regex compiles")
}

const TYPICAL: &str = r#"{
    "cadence": "1d", "enabled": true, "keep_n": 10, "older_than": "14d",
    "name_regex": "feature-.*", "name_regex_keep": "feature-keep-.*",
    "next_run_at": "2024-05-01T00:00:00.000Z"
}"#;

#[test]
fn one_delete_rule_carries_every_setting() {
    let (policy, _) = import(TYPICAL);
    let [rule] = policy.rules.as_slice() else {
        panic!("one rule: {policy:?}")
    };
    assert_eq!(rule.name, "gitlab-cleanup");
    assert_eq!(rule.action, Action::Delete);
    assert_eq!(rule.tags.matches.as_deref(), Some("feature-.*"));
    assert_eq!(rule.beyond_newest, Some(10));
    assert_eq!(
        rule.pushed_older_than.map(|d| d.0),
        Some(Duration::from_secs(14 * 86_400))
    );
    let exclude = re(rule.tags.exclude.as_deref().expect("an exclude"));
    assert!(exclude.is_match("feature-keep-1"));
    assert!(
        exclude.is_match("latest"),
        "latest is not counted by keep_n"
    );
    assert!(!exclude.is_match("feature-2"));
    assert_eq!(policy.protected_tags, vec!["latest".to_owned()]);
}

#[test]
fn cadence_and_defaults_are_explained() {
    let (_, warnings) = import(TYPICAL);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("cadence 1d") && w.contains("CI")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("freshness")),
        "{warnings:?}"
    );
    assert!(
        !warnings.iter().any(|w| w.contains("next_run_at")),
        "{warnings:?}"
    );
}

#[test]
fn disabled_policy_warns() {
    let (policy, warnings) = import(r#"{"enabled": false, "name_regex": ".*", "keep_n": 5}"#);
    assert!(
        warnings.iter().any(|w| w.contains("enabled: false")),
        "{warnings:?}"
    );
    assert_eq!(policy.rules[0].tags.matches, None, "`.*` selects every tag");
}

#[test]
fn project_json_and_attributes_wrappers_are_accepted() {
    let project =
        format!(r#"{{"id": 7, "name": "app", "container_expiration_policy": {TYPICAL}}}"#);
    assert_eq!(import(&project).0, import(TYPICAL).0);
    let attributes = format!(r#"{{"container_expiration_policy_attributes": {TYPICAL}}}"#);
    assert_eq!(import(&attributes).0, import(TYPICAL).0);
}

#[test]
fn without_name_regex_nothing_is_deleted() {
    let (policy, warnings) = import(r#"{"keep_n": 5, "older_than": "7d", "name_regex": ""}"#);
    assert!(policy.rules.is_empty(), "{policy:?}");
    assert!(
        warnings.iter().any(|w| w.contains("deletes no tag")),
        "{warnings:?}"
    );
}

#[test]
fn name_regex_delete_wins_over_name_regex() {
    let (policy, warnings) =
        import(r#"{"name_regex": "old-.*", "name_regex_delete": "new-.*", "keep_n": 1}"#);
    assert_eq!(policy.rules[0].tags.matches.as_deref(), Some("new-.*"));
    assert!(
        warnings.iter().any(|w| w.contains("name_regex_delete")),
        "{warnings:?}"
    );
}

#[test]
fn top_level_alternation_keeps_gitlabs_anchoring() {
    let (policy, warnings) = import(r#"{"name_regex": "main|dev", "older_than": "30d"}"#);
    let matches = re(policy.rules[0].tags.matches.as_deref().expect("a regex"));
    assert!(matches.is_match("main-1"), "GitLab: starts with main");
    assert!(matches.is_match("my-dev"), "GitLab: ends with dev");
    assert!(!matches.is_match("x-main"));
    assert!(
        warnings.iter().any(|w| w.contains("top-level `|`")),
        "{warnings:?}"
    );
    assert!(has_top_level_alternation("a|b"));
    assert!(!has_top_level_alternation("(a|b)"));
    assert!(!has_top_level_alternation("[|]"));
    assert!(!has_top_level_alternation(r"a\|b"));
    assert!(!has_top_level_alternation("[[:alpha:]|]x"));
}

#[test]
fn no_keep_n_and_no_older_than_warn_that_all_matching_tags_go() {
    let (policy, warnings) = import(r#"{"name_regex": "tmp-.*"}"#);
    assert_eq!(policy.rules[0].beyond_newest, None);
    assert!(
        warnings.iter().any(|w| w.contains("neither keep_n")),
        "{warnings:?}"
    );
}

#[test]
fn exact_drops_freshness_but_keeps_latest() {
    let exact =
        import_with(ImportFormat::Gitlab, TYPICAL, ImportOptions { exact: true }).expect("imports");
    assert_eq!(exact.policy.freshness.0, Duration::ZERO);
    assert_eq!(exact.policy.protected_tags, vec!["latest".to_owned()]);
}

#[test]
fn bad_settings_are_refused_naming_the_field() {
    let keep = refuse(r#"{"name_regex": ".*", "keep_n": 0}"#);
    assert!(keep.contains("`keep_n`"), "{keep}");
    let older = refuse(r#"{"name_regex": ".*", "older_than": "soon"}"#);
    assert!(older.contains("`older_than`"), "{older}");
    let regex = refuse(r#"{"name_regex": "(unclosed"}"#);
    assert!(regex.contains("`name_regex`"), "{regex}");
    let keep_regex = refuse(r#"{"name_regex": ".*", "name_regex_keep": "[z-a]"}"#);
    assert!(keep_regex.contains("`name_regex_keep`"), "{keep_regex}");
    let kind = refuse(r#"{"name_regex": 5}"#);
    assert!(kind.contains("must be a string"), "{kind}");
    let shape = refuse(r#"{"rules": []}"#);
    assert!(shape.contains("container_expiration_policy"), "{shape}");
    assert!(shape.starts_with("not a valid GitLab policy"), "{shape}");
    let null = refuse(r#"{"container_expiration_policy": null}"#);
    assert!(null.contains("no cleanup policy"), "{null}");
}

#[test]
fn the_yaml_reads_back() {
    let (policy, _) = import(r#"{"name_regex": "a|b", "name_regex_keep": "v.+", "keep_n": "5"}"#);
    let back = Policy::parse(&policy.to_yaml(), "test").expect("reads back");
    assert_eq!(back, policy);
}
