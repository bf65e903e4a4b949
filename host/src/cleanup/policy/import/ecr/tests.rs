//! ECR lifecycle rules, one mapping per test, through the public entry
//! point so every result also passes the final check.

use std::time::Duration;

use crate::cleanup::policy::import::{ImportError, ImportFormat, ImportOptions, import_with};
use crate::cleanup::policy::model::{Action, Policy, UntaggedRule};

fn import(json: &str) -> (Policy, Vec<String>) {
    import_with(ImportFormat::Ecr, json, ImportOptions::default())
        .expect("imports")
        .into_parts()
}

fn refuse(json: &str) -> String {
    match import_with(ImportFormat::Ecr, json, ImportOptions::default()) {
        Ok(imported) => panic!("imported but should not: {imported:?}"),
        Err(e) => e.to_string(),
    }
}

fn rule(priority: i64, selection: &str) -> String {
    format!(
        r#"{{"rulePriority": {priority}, "selection": {selection}, "action": {{"type": "expire"}}}}"#
    )
}

fn policy(rules: &[String]) -> String {
    format!(r#"{{"rules": [{}]}}"#, rules.join(","))
}

/// Compiled the way regent's selector compiles tag regexes: whole-tag.
fn re(pattern: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?:{pattern})$")).expect("regex compiles")
}

#[test]
fn tagged_count_rule_becomes_beyond_newest_with_a_prefix_regex() {
    let (policy, _) = import(&policy(&[rule(
        1,
        r#"{"tagStatus": "tagged", "tagPrefixList": ["prod"], "countType": "imageCountMoreThan", "countNumber": 10}"#,
    )]));
    let [only] = policy.rules.as_slice() else {
        panic!("one rule: {policy:?}")
    };
    assert_eq!(only.action, Action::Delete);
    assert_eq!(only.name, "ecr-1");
    assert_eq!(only.beyond_newest, Some(10));
    assert_eq!(only.tags.matches.as_deref(), Some("prod.*"));
    assert_eq!(only.tags.exclude, None);
}

#[test]
fn pattern_age_rule_becomes_pushed_older_than() {
    let (policy, _) = import(&policy(&[
        r#"{"rulePriority": 3, "description": "Expire old prod builds", "selection": {"tagStatus": "tagged", "tagPatternList": ["prod*-v?"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}, "action": {"type": "expire"}}"#.to_owned(),
    ]));
    let only = &policy.rules[0];
    assert_eq!(only.name, "ecr-3-expire-old-prod-builds");
    assert_eq!(
        only.pushed_older_than.map(|d| d.0),
        Some(Duration::from_secs(14 * 86_400))
    );
    let matches = re(only.tags.matches.as_deref().expect("a tag regex"));
    assert!(matches.is_match("prod-east-v?"));
    assert!(!matches.is_match("prod-east-v1"), "`?` is literal in ECR");
}

#[test]
fn since_image_pulled_becomes_not_pulled_for_with_a_warning() {
    let (policy, warnings) = import(&policy(&[rule(
        1,
        r#"{"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 30}"#,
    )]));
    assert_eq!(
        policy.rules[0].not_pulled_for.map(|d| d.0),
        Some(Duration::from_secs(30 * 86_400))
    );
    assert!(
        warnings.iter().any(|w| w.contains("not-pulled-for")),
        "{warnings:?}"
    );
}

#[test]
fn untagged_rule_sets_untagged_delete_and_warns() {
    let (policy, warnings) = import(&policy(&[rule(
        1,
        r#"{"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}"#,
    )]));
    assert!(policy.rules.is_empty(), "{policy:?}");
    assert_eq!(policy.untagged, UntaggedRule::Delete);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("untagged images by imageCountMoreThan")),
        "{warnings:?}"
    );
}

#[test]
fn any_rule_has_no_tag_selector_but_excludes_what_earlier_rules_select() {
    let (policy, warnings) = import(&policy(&[
        rule(
            1,
            r#"{"tagStatus": "tagged", "tagPrefixList": ["release"], "countType": "imageCountMoreThan", "countNumber": 5}"#,
        ),
        rule(
            2,
            r#"{"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30}"#,
        ),
    ]));
    let any = &policy.rules[1];
    assert_eq!(any.tags.matches, None);
    let exclude = re(any.tags.exclude.as_deref().expect("an exclude"));
    assert!(exclude.is_match("release-1.0"), "release tags are rule 1's");
    assert!(!exclude.is_match("feature-x"));
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("rulePriority 1") && w.contains("first rule")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("tagStatus any")),
        "{warnings:?}"
    );
    assert!(
        !warnings.iter().any(|w| w.contains("still counts")),
        "an age rule counts nothing: {warnings:?}"
    );
}

#[test]
fn overlapping_selections_are_shielded_and_disjoint_ones_are_not() {
    let (policy, _) = import(&policy(&[
        rule(
            1,
            r#"{"tagStatus": "tagged", "tagPrefixList": ["prod"], "countType": "imageCountMoreThan", "countNumber": 5}"#,
        ),
        rule(
            2,
            r#"{"tagStatus": "tagged", "tagPatternList": ["dev*"], "countType": "imageCountMoreThan", "countNumber": 3}"#,
        ),
        rule(
            3,
            r#"{"tagStatus": "tagged", "tagPatternList": ["pro*"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7}"#,
        ),
    ]));
    assert_eq!(
        policy.rules[1].tags.exclude, None,
        "dev* cannot overlap prod"
    );
    let exclude = re(policy.rules[2].tags.exclude.as_deref().expect("shielded"));
    assert!(exclude.is_match("prod-2"));
    assert!(!exclude.is_match("promo"));
    assert!(!exclude.is_match("dev-1"), "dev* cannot overlap pro*");
}

#[test]
fn several_list_entries_are_refused_naming_the_field() {
    let error = refuse(&policy(&[rule(
        7,
        r#"{"tagStatus": "tagged", "tagPrefixList": ["alpha", "beta"], "countType": "imageCountMoreThan", "countNumber": 1}"#,
    )]));
    assert!(error.contains("rulePriority 7"), "{error}");
    assert!(error.contains("selection.tagPrefixList"), "{error}");
    assert!(error.contains("every entry"), "{error}");
}

#[test]
fn malformed_rules_name_the_field() {
    let both = refuse(&policy(&[rule(
        1,
        r#"{"tagStatus": "tagged", "tagPrefixList": ["a"], "tagPatternList": ["b*"], "countType": "imageCountMoreThan", "countNumber": 1}"#,
    )]));
    assert!(both.contains("selection.tagPatternList"), "{both}");
    let no_unit = refuse(&policy(&[rule(
        1,
        r#"{"tagStatus": "any", "countType": "sinceImagePushed", "countNumber": 1}"#,
    )]));
    assert!(no_unit.contains("selection.countUnit"), "{no_unit}");
    let zero = refuse(&policy(&[rule(
        1,
        r#"{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 0}"#,
    )]));
    assert!(zero.contains("selection.countNumber"), "{zero}");
    let status = refuse(&policy(&[rule(
        1,
        r#"{"tagStatus": "all", "countType": "imageCountMoreThan", "countNumber": 1}"#,
    )]));
    assert!(status.contains("selection.tagStatus"), "{status}");
    let count_type = refuse(&policy(&[rule(
        1,
        r#"{"tagStatus": "any", "countType": "imageCountLessThan", "countNumber": 1}"#,
    )]));
    assert!(count_type.contains("selection.countType"), "{count_type}");
    let typo = refuse(
        r#"{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "tagged", "tagPrefixlist": ["a"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}"#,
    );
    assert!(typo.contains("tagPrefixlist"), "{typo}");
    assert!(refuse("rules:").contains("not JSON"));
}

#[test]
fn ecr_priority_rules_are_enforced() {
    let any = r#"{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}"#;
    let tagged = r#"{"tagStatus": "tagged", "tagPrefixList": ["a"], "countType": "imageCountMoreThan", "countNumber": 1}"#;
    let duplicate = refuse(&policy(&[rule(1, tagged), rule(1, any)]));
    assert!(duplicate.contains("rulePriority"), "{duplicate}");
    let any_first = refuse(&policy(&[rule(1, any), rule(2, tagged)]));
    assert!(any_first.contains("highest rulePriority"), "{any_first}");
}

#[test]
fn archive_rules_are_skipped_but_still_shield_later_rules() {
    let (policy, warnings) = import(&policy(&[
        r#"{"rulePriority": 1, "selection": {"tagStatus": "tagged", "tagPrefixList": ["old"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 90}, "action": {"type": "transition", "targetStorageClass": "archive"}}"#.to_owned(),
        rule(2, r#"{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50}"#),
    ]));
    assert_eq!(policy.rules.len(), 1, "{policy:?}");
    assert!(
        warnings.iter().any(|w| w.contains("skipped")),
        "{warnings:?}"
    );
    let exclude = re(policy.rules[0].tags.exclude.as_deref().expect("shielded"));
    assert!(exclude.is_match("old-1"));
}

#[test]
fn defaults_stay_safer_with_a_warning_unless_exact() {
    let text = policy(&[rule(
        1,
        r#"{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100}"#,
    )]);
    let (safe, warnings) = import(&text);
    assert_eq!(safe.protected_tags, vec!["latest".to_owned()]);
    assert!(
        warnings.iter().any(|w| w.contains("--exact")),
        "{warnings:?}"
    );
    let exact =
        import_with(ImportFormat::Ecr, &text, ImportOptions { exact: true }).expect("imports");
    assert!(exact.policy.protected_tags.is_empty());
    assert_eq!(exact.policy.freshness.0, Duration::ZERO);
    assert!(!exact.warnings.iter().any(|w| w.contains("--exact")));
}

#[test]
fn get_lifecycle_policy_output_is_accepted_and_the_yaml_reads_back() {
    let inner = policy(&[rule(
        1,
        r#"{"tagStatus": "tagged", "tagPatternList": ["*-rc*"], "countType": "imageCountMoreThan", "countNumber": 2}"#,
    )]);
    let wrapped = serde_json::json!({
        "registryId": "123456789012",
        "repositoryName": "team/app",
        "lifecyclePolicyText": inner,
    })
    .to_string();
    let (policy, _) = import(&wrapped);
    let back = Policy::parse(&policy.to_yaml(), "test").expect("reads back");
    assert_eq!(back, policy);
    assert_eq!(policy.rules[0].beyond_newest, Some(2));
}

#[test]
fn errors_are_field_errors_naming_the_format() {
    let error = import_with(
        ImportFormat::Ecr,
        r#"{"lifecyclePolicyText": 3}"#,
        ImportOptions::default(),
    )
    .expect_err("refused");
    assert!(
        matches!(&error, ImportError::Field { field, .. } if field == "lifecyclePolicyText"),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("ECR"), "{error}");
}

#[test]
fn shielded_count_rules_warn_that_ecr_counts_the_shielded_images() {
    let (_, warnings) = import(&policy(&[
        rule(
            1,
            r#"{"tagStatus": "tagged", "tagPrefixList": ["prod"], "countType": "imageCountMoreThan", "countNumber": 5}"#,
        ),
        rule(
            2,
            r#"{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10}"#,
        ),
    ]));
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("still counts those images")),
        "{warnings:?}"
    );
}
