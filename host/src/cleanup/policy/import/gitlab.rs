//! GitLab container registry cleanup policies.
//!
//! The object is the project API's `container_expiration_policy` (read) or
//! `container_expiration_policy_attributes` (write): `cadence, enabled,
//! keep_n, older_than, name_regex, name_regex_keep` (`name_regex_delete` is
//! accepted as GitLab's newer name for `name_regex`). The bare object, or a
//! project JSON holding it under either key, is accepted.
//!
//! GitLab applies it per container repository like this
//! (`Projects::ContainerRepository::CleanupTagsBaseService` in gitlab-org/gitlab;
//! the bulk-delete API with the same parameters is G8 in
//! `/work/shared/api-specs/gitlab.endpoints.md`): drop `latest`; keep tags
//! whose name matches `\A(name_regex)\z` and not `\A(name_regex_keep)\z`;
//! of those, spare the `keep_n` most recent; delete the rest that are older
//! than `older_than`. That is one regent delete rule: `tags.match`,
//! `tags.exclude` (plus `latest`, so `keep_n` counts the same tags GitLab
//! counts), `beyond-newest`, `pushed-older-than`; and `protected-tags:
//! [latest]`. Without `name_regex` GitLab deletes nothing, and so does the
//! import.

use std::time::Duration;

use serde_json::{Map, Value};

use super::common::{base_policy, defaults_warning, new_rule, parse_json};
use super::glob::any_of;
use super::{ImportError, ImportFormat, ImportOptions, Imported};
use crate::cleanup::policy::model::{Action, PolicyDuration};

const FORMAT: ImportFormat = ImportFormat::Gitlab;

/// Keys of GitLab's cleanup policy object; at least one marks a bare object.
const KNOWN_KEYS: [&str; 8] = [
    "cadence",
    "enabled",
    "keep_n",
    "older_than",
    "name_regex",
    "name_regex_delete",
    "name_regex_keep",
    "next_run_at",
];

/// The tag GitLab never deletes.
const LATEST: &str = "latest";

/// The regent rule's name, shown in plans and the audit log.
pub const RULE_NAME: &str = "gitlab-cleanup";

/// Import a GitLab cleanup policy.
pub fn import(text: &str, options: ImportOptions) -> Result<Imported, ImportError> {
    let value = parse_json(FORMAT, text)?;
    let object = locate(&value)?;
    let mut policy = base_policy(FORMAT, options, &[LATEST])?;
    let mut warnings: Vec<String> = defaults_warning(FORMAT, &policy, options, &[LATEST])
        .into_iter()
        .collect();

    if let Some(false) = bool_field(object, "enabled")? {
        warnings.push(
            "the GitLab policy is disabled (enabled: false), so GitLab never ran it; the imported \
             policy deletes as soon as `regent cleanup` applies it"
                .into(),
        );
    }
    if let Some(cadence) = string_field(object, "cadence")? {
        warnings.push(format!(
            "cadence {cadence}: GitLab runs the policy on that schedule, regent runs when you run \
             it; schedule `regent cleanup` in CI (a scheduled pipeline every {cadence}, say)"
        ));
    }
    for key in object.keys().filter(|k| !KNOWN_KEYS.contains(&k.as_str())) {
        warnings.push(format!(
            "`{key}` is not a cleanup policy setting regent knows: ignored"
        ));
    }

    let Some(delete) = delete_regex(object, &mut warnings)? else {
        warnings.push(
            "name_regex is empty, so GitLab deletes no tag; the imported policy has no rule either"
                .into(),
        );
        return Ok(Imported { policy, warnings });
    };
    let mut rule = new_rule(RULE_NAME, Action::Delete);
    rule.tags.matches =
        (delete != ".*").then(|| gitlab_regex("name_regex", &delete, &mut warnings));
    let mut exclude = vec![LATEST.to_owned()];
    if let Some(keep) = string_field(object, "name_regex_keep")? {
        check_compiles("name_regex_keep", &keep)?;
        exclude.push(gitlab_regex("name_regex_keep", &keep, &mut warnings));
    }
    rule.tags.exclude = Some(any_of(&exclude));
    rule.beyond_newest = keep_n(object)?;
    rule.pushed_older_than = older_than(object)?;
    if rule.beyond_newest.is_none() && rule.pushed_older_than.is_none() {
        warnings.push(
            "neither keep_n nor older_than is set: every tag name_regex selects (but \
             name_regex_keep and latest) is deleted, as in GitLab"
                .into(),
        );
    }
    policy.rules.push(rule);
    Ok(Imported { policy, warnings })
}

/// The policy object: the document itself, or the one a project JSON holds.
fn locate(value: &Value) -> Result<&Map<String, Value>, ImportError> {
    let malformed = |message: &str| ImportError::Malformed {
        format: FORMAT,
        message: message.into(),
    };
    let object = value
        .as_object()
        .ok_or_else(|| malformed("expected a JSON object"))?;
    for key in [
        "container_expiration_policy_attributes",
        "container_expiration_policy",
    ] {
        if let Some(inner) = object.get(key) {
            return inner.as_object().ok_or_else(|| {
                field_error(
                    key,
                    "must be an object (null: the project has no cleanup policy)",
                )
            });
        }
    }
    if object.keys().any(|k| KNOWN_KEYS.contains(&k.as_str())) {
        Ok(object)
    } else {
        Err(malformed(
            "expected a container_expiration_policy object (cadence, enabled, keep_n, \
             older_than, name_regex, name_regex_keep) or a project JSON holding one",
        ))
    }
}

fn field_error(field: &str, message: impl Into<String>) -> ImportError {
    ImportError::Field {
        format: FORMAT,
        rule: "cleanup policy".into(),
        field: field.into(),
        message: message.into(),
    }
}

/// A string setting; absent, null and empty all mean "not set".
fn string_field(object: &Map<String, Value>, key: &str) -> Result<Option<String>, ImportError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(field_error(key, format!("must be a string, not {other}"))),
    }
}

fn bool_field(object: &Map<String, Value>, key: &str) -> Result<Option<bool>, ImportError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(field_error(
            key,
            format!("must be true or false, not {other}"),
        )),
    }
}

/// `name_regex_delete`, else `name_regex` (GitLab's own precedence).
fn delete_regex(
    object: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<Option<String>, ImportError> {
    let newer = string_field(object, "name_regex_delete")?;
    let older = string_field(object, "name_regex")?;
    if let (Some(n), Some(o)) = (&newer, &older)
        && n != o
    {
        warnings.push(format!(
            "both name_regex_delete (`{n}`) and name_regex (`{o}`) are set: GitLab uses \
             name_regex_delete, and so does the import"
        ));
    }
    let (field, regex) = match (newer, older) {
        (Some(n), _) => ("name_regex_delete", n),
        (None, Some(o)) => ("name_regex", o),
        (None, None) => return Ok(None),
    };
    check_compiles(field, &regex)?;
    Ok(Some(regex))
}

/// Refuse a regex regent's regex engine (close to GitLab's RE2) rejects.
fn check_compiles(field: &str, raw: &str) -> Result<(), ImportError> {
    regex::Regex::new(raw)
        .map(|_| ())
        .map_err(|e| field_error(field, format!("`{raw}` is not a regex regent can use: {e}")))
}

/// GitLab matches `\A` + regex + `\z` as text, so a top-level `|` splits the
/// anchors between the branches (`a|b` means "starts with a, or ends with
/// b"). regent matches whole tags, which equals GitLab's reading except in
/// that case; there the regex is wrapped so it still means what GitLab does.
fn gitlab_regex(field: &str, raw: &str, warnings: &mut Vec<String>) -> String {
    if !has_top_level_alternation(raw) {
        return raw.to_owned();
    }
    let wrapped = format!(r".*(?:\A{raw}\z).*");
    warnings.push(format!(
        "{field} `{raw}` has a top-level `|`: GitLab anchors it as `\\A{raw}\\z`, so the first \
         branch only has to match the start of a tag and the last only its end; imported as \
         `{wrapped}` to keep that. Write `({raw})` in GitLab and here if you meant whole tags"
    ));
    wrapped
}

/// Whether `raw` has a `|` outside every group and class.
fn has_top_level_alternation(raw: &str) -> bool {
    let mut depth = 0usize;
    let mut in_class = false;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' if !in_class => {
                in_class = true;
                chars.next_if_eq(&'^');
                chars.next_if_eq(&']');
            }
            '[' if chars.peek() == Some(&':') => {
                while let Some(inner) = chars.next() {
                    if inner == ':' && chars.next_if_eq(&']').is_some() {
                        break;
                    }
                }
            }
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => depth = depth.saturating_sub(1),
            '|' if !in_class && depth == 0 => return true,
            _ => {}
        }
    }
    false
}

/// `keep_n`: a whole number of at least 1 (GitLab offers 1, 5, 10, 25, 50, 100).
fn keep_n(object: &Map<String, Value>) -> Result<Option<usize>, ImportError> {
    let n = match object.get("keep_n") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    match n.filter(|n| *n >= 1).map(usize::try_from) {
        Some(Ok(n)) => Ok(Some(n)),
        _ => Err(field_error(
            "keep_n",
            format!(
                "must be a whole number of at least 1 (GitLab offers 1, 5, 10, 25, 50, 100), not {}",
                object
                    .get("keep_n")
                    .map(Value::to_string)
                    .unwrap_or_default()
            ),
        )),
    }
}

/// `older_than`: `7d`, `14d`, `30d`, `90d` and the like.
fn older_than(object: &Map<String, Value>) -> Result<Option<PolicyDuration>, ImportError> {
    let Some(text) = string_field(object, "older_than")? else {
        return Ok(None);
    };
    let duration = humantime::parse_duration(text.trim()).map_err(|e| {
        field_error(
            "older_than",
            format!("`{text}` is not a duration like 7d, 14d, 30d or 90d: {e}"),
        )
    })?;
    if duration == Duration::ZERO {
        return Err(field_error("older_than", "must be longer than 0"));
    }
    Ok(Some(PolicyDuration(duration)))
}

#[cfg(test)]
mod tests;
