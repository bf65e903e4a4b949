//! What every import shares: the starting policy, empty rules, the note on
//! regent's safer defaults, and the final check that the result is usable.

use std::time::Duration;

use super::{ImportError, ImportFormat, ImportOptions};
use crate::cleanup::policy::model::{
    Action, POLICY_VERSION, Policy, PolicyDuration, RepositorySelector, Rule, TagSelector,
};

/// A policy with regent's defaults, or (with `--exact`) with the source
/// registry's: `source_protected` tags only and no freshness window. Built
/// through serde so the defaults stay the model's own.
pub fn base_policy(
    format: ImportFormat,
    options: ImportOptions,
    source_protected: &[&str],
) -> Result<Policy, ImportError> {
    let mut policy: Policy =
        serde_json::from_value(serde_json::json!({ "version": POLICY_VERSION })).map_err(|e| {
            ImportError::Invalid {
                format,
                message: format!("regent's default policy does not build: {e}"),
            }
        })?;
    if options.exact {
        policy.protected_tags = source_protected.iter().map(|t| (*t).to_owned()).collect();
        policy.freshness = PolicyDuration(Duration::ZERO);
    }
    Ok(policy)
}

/// The warning that names regent's defaults the source registry does not
/// have, so nobody wonders why a tag the source would delete survives.
/// `None` when `--exact` was given (then there is no difference).
pub fn defaults_warning(
    format: ImportFormat,
    policy: &Policy,
    options: ImportOptions,
    source_protected: &[&str],
) -> Option<String> {
    if options.exact {
        return None;
    }
    let extra: Vec<&str> = policy
        .protected_tags
        .iter()
        .map(String::as_str)
        .filter(|t| !source_protected.contains(t))
        .collect();
    let mut kept = Vec::new();
    if !extra.is_empty() {
        kept.push(format!(
            "protected-tags [{}] (never deleted)",
            extra.join(", ")
        ));
    }
    kept.push(format!(
        "freshness {} (nothing pushed that recently is deleted)",
        policy.freshness
    ));
    let exact = if source_protected.is_empty() {
        "protected-tags: [], freshness: 0s".to_owned()
    } else {
        format!(
            "protected-tags: [{}], freshness: 0s",
            source_protected.join(", ")
        )
    };
    Some(format!(
        "regent keeps safer defaults that {format} does not have: {}; pass --exact for {format}'s behaviour ({exact})",
        kept.join(" and ")
    ))
}

/// A rule that selects every tag of every repository and has no conditions.
pub fn new_rule(name: impl Into<String>, action: Action) -> Rule {
    Rule {
        name: name.into(),
        action,
        repositories: RepositorySelector::default(),
        tags: TagSelector::default(),
        newest: None,
        beyond_newest: None,
        pushed_within: None,
        pushed_older_than: None,
        pulled_within: None,
        not_pulled_for: None,
        semver: None,
    }
}

/// `n` days as a policy duration.
pub fn days(n: u64) -> PolicyDuration {
    PolicyDuration(Duration::from_secs(n.saturating_mul(86_400)))
}

/// Lowercase words joined by `-`, for rule names built from descriptions.
pub fn slug(text: &str, max_len: usize) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_ascii_lowercase();
        if !out.is_empty() && out.len() + 1 + word.len() > max_len {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word);
    }
    out.truncate(max_len);
    out
}

/// Parse JSON, with the format named in the error.
pub fn parse_json(format: ImportFormat, text: &str) -> Result<serde_json::Value, ImportError> {
    serde_json::from_str(text).map_err(|e| ImportError::Malformed {
        format,
        message: format!("not JSON: {e}"),
    })
}

/// Make sure the imported policy is usable: every regex compiles, every
/// repository glob parses, [`Policy::validate`] accepts it, and its YAML
/// reads back as the same policy.
pub fn check(format: ImportFormat, policy: &Policy) -> Result<(), ImportError> {
    let invalid = |message: String| ImportError::Invalid { format, message };
    for tag in &policy.protected_tags {
        regex::Regex::new(tag).map_err(|e| invalid(format!("protected tag `{tag}`: {e}")))?;
    }
    for rule in &policy.rules {
        for re in [&rule.tags.matches, &rule.tags.exclude]
            .into_iter()
            .flatten()
        {
            regex::Regex::new(re)
                .map_err(|e| invalid(format!("rule {}: tag regex `{re}`: {e}", rule.name)))?;
        }
        let repos = &rule.repositories;
        for glob in repos.include.iter().chain(&repos.exclude) {
            globset::Glob::new(glob).map_err(|e| {
                invalid(format!("rule {}: repository glob `{glob}`: {e}", rule.name))
            })?;
        }
    }
    policy.validate().map_err(invalid)?;
    let yaml = policy.to_yaml();
    let back = Policy::parse(&yaml, "the imported policy").map_err(|e| invalid(e.to_string()))?;
    if &back != policy {
        return Err(invalid(
            "its YAML does not read back as the same policy".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_keeps_words_within_the_limit() {
        assert_eq!(
            slug("Keep last 10 prod images!", 40),
            "keep-last-10-prod-images"
        );
        assert_eq!(slug("Keep last 10 prod images", 12), "keep-last-10");
        assert_eq!(slug("***", 10), "");
    }

    #[test]
    fn exact_takes_the_source_defaults() {
        let exact = ImportOptions { exact: true };
        let policy = base_policy(ImportFormat::Ecr, exact, &[]).expect("builds");
        assert!(policy.protected_tags.is_empty());
        assert_eq!(policy.freshness.0, Duration::ZERO);
        assert_eq!(
            defaults_warning(ImportFormat::Ecr, &policy, exact, &[]),
            None
        );
    }

    #[test]
    fn the_defaults_warning_names_what_differs() {
        let options = ImportOptions::default();
        let policy = base_policy(ImportFormat::Ecr, options, &[]).expect("builds");
        let ecr = defaults_warning(ImportFormat::Ecr, &policy, options, &[]).expect("warns");
        assert!(ecr.contains("protected-tags [latest]"), "{ecr}");
        assert!(ecr.contains("freshness 2h"), "{ecr}");
        assert!(ecr.contains("--exact"), "{ecr}");
        let gitlab =
            defaults_warning(ImportFormat::Gitlab, &policy, options, &["latest"]).expect("warns");
        assert!(!gitlab.contains("protected-tags [latest]"), "{gitlab}");
        assert!(
            gitlab.contains("protected-tags: [latest], freshness: 0s"),
            "{gitlab}"
        );
    }

    #[test]
    fn check_refuses_a_regex_that_does_not_compile() {
        let mut policy =
            base_policy(ImportFormat::Gitlab, ImportOptions::default(), &[]).expect("builds");
        let mut rule = new_rule("broken", Action::Delete);
        rule.tags.matches = Some("(".into());
        policy.rules.push(rule);
        let error = check(ImportFormat::Gitlab, &policy).expect_err("refused");
        assert!(error.to_string().contains("rule broken"), "{error}");
    }
}
