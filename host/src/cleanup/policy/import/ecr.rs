//! AWS ECR lifecycle policies.
//!
//! Shape and semantics from the ECR User Guide, "Lifecycle policy properties"
//! (`lifecycle_policy_parameters`) and "Examples of lifecycle policies"
//! (`lifecycle_policy_examples`), docs.aws.amazon.com/AmazonECR/latest/userguide/:
//! `{"rules":[{"rulePriority","description","selection":{"tagStatus",
//! "tagPrefixList"|"tagPatternList","storageClass","countType","countUnit",
//! "countNumber"},"action":{"type"}}]}`. The wrapper that
//! `GetLifecyclePolicy` returns (`lifecyclePolicyText` holding that JSON as a
//! string; `/work/shared/api-specs/ecr.service-2.json` names the operation
//! family) is accepted too.
//!
//! How ECR decides, and what the import does about each difference:
//!
//! - Rules run by `rulePriority`, lowest first, and an image whose tags a
//!   rule selects can never be expired by a later rule, even when the first
//!   rule does not expire it. regent applies every delete rule, so each rule
//!   here *excludes* the tags that higher-priority rules select (skipped
//!   only when the two selections provably cannot overlap) and a warning
//!   names them. ECR still counts those images toward a later rule's
//!   `countNumber`; regent's `beyond-newest` does not count excluded tags, so
//!   such a rule keeps a few more than ECR (the safe direction).
//! - A list with several entries selects only images that carry a tag for
//!   *every* entry. regent decides tag by tag and cannot express that; an
//!   "any of them" regex would delete more than ECR, so such rules are
//!   refused.
//! - ECR expires whole images and counts images; regent deletes tags (other
//!   tags keep the digest) and counts tags. A warning says so.
//! - `untagged` rules become `untagged: delete` (their count or age cannot be
//!   expressed); archive-tier rules (`storageClass: archive`,
//!   `sinceImageTransitioned`, action `transition`) delete nothing regent
//!   sees and are skipped with a warning, while still shielding what they
//!   select from later rules, as in ECR.

use serde::Deserialize;

use super::common::{base_policy, days, defaults_warning, new_rule, parse_json, slug};
use super::glob::any_of;
use super::{ImportError, ImportFormat, ImportOptions, Imported};
use crate::cleanup::policy::model::{Action, Rule, UntaggedRule};

mod selection;

use selection::{Selected, check_priorities, selection};

const FORMAT: ImportFormat = ImportFormat::Ecr;

/// The lifecycle policy document.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LifecyclePolicy {
    rules: Vec<EcrRule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EcrRule {
    rule_priority: i64,
    #[serde(default)]
    description: Option<String>,
    selection: Selection,
    action: EcrAction,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Selection {
    tag_status: String,
    #[serde(default)]
    tag_prefix_list: Option<Vec<String>>,
    #[serde(default)]
    tag_pattern_list: Option<Vec<String>>,
    #[serde(default)]
    storage_class: Option<String>,
    count_type: String,
    #[serde(default)]
    count_unit: Option<String>,
    count_number: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EcrAction {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    target_storage_class: Option<String>,
}

/// What one ECR rule becomes.
enum Outcome {
    Delete(Rule),
    Untagged,
    Skipped(String),
}

/// Import an ECR lifecycle policy.
pub fn import(text: &str, options: ImportOptions) -> Result<Imported, ImportError> {
    let document = unwrap_get_lifecycle_policy(text)?;
    let parsed: LifecyclePolicy =
        serde_json::from_str(&document).map_err(|e| ImportError::Malformed {
            format: FORMAT,
            message: e.to_string(),
        })?;
    let mut rules = parsed.rules;
    rules.sort_by_key(|r| r.rule_priority);
    check_priorities(&rules)?;

    let mut policy = base_policy(FORMAT, options, &[])?;
    let mut warnings: Vec<String> = defaults_warning(FORMAT, &policy, options, &[])
        .into_iter()
        .collect();
    warnings.push(
        "ECR expires whole images (every tag of one) and counts images; regent deletes tags \
         (a digest stays while another tag points at it) and counts tags, so repositories \
         with several tags per image can come out differently: check with `regent cleanup --dry-run`"
            .into(),
    );
    let mut earlier: Vec<(i64, Selected)> = Vec::new();
    for rule in &rules {
        let selected = selection(rule)?;
        match convert(rule, &selected, &mut warnings)? {
            Outcome::Delete(mut converted) => {
                shield(&mut converted, &selected, &earlier, &mut warnings);
                policy.rules.push(converted);
            }
            Outcome::Untagged => policy.untagged = UntaggedRule::Delete,
            Outcome::Skipped(why) => warnings.push(why),
        }
        earlier.push((rule.rule_priority, selected));
    }
    Ok(Imported { policy, warnings })
}

/// The policy text itself, taken out of a `GetLifecyclePolicy` answer if
/// that is what was given.
fn unwrap_get_lifecycle_policy(text: &str) -> Result<String, ImportError> {
    let value = parse_json(FORMAT, text)?;
    match value.get("lifecyclePolicyText") {
        Some(serde_json::Value::String(inner)) => Ok(inner.clone()),
        Some(_) => Err(field_error(
            "document",
            "lifecyclePolicyText",
            "must be the policy JSON as a string",
        )),
        None => Ok(text.to_owned()),
    }
}

fn field_error(rule: impl Into<String>, field: &str, message: impl Into<String>) -> ImportError {
    ImportError::Field {
        format: FORMAT,
        rule: rule.into(),
        field: field.into(),
        message: message.into(),
    }
}

fn rule_label(rule: &EcrRule) -> String {
    format!("rule with rulePriority {}", rule.rule_priority)
}

/// One rule as a regent delete rule, or why it becomes none.
fn convert(
    rule: &EcrRule,
    selected: &Selected,
    warnings: &mut Vec<String>,
) -> Result<Outcome, ImportError> {
    let label = rule_label(rule);
    let s = &rule.selection;
    match rule.action.kind.as_str() {
        "expire" => {}
        "transition" => {
            return Ok(Outcome::Skipped(format!(
                "{label} moves images to the {} storage class, which regent does not do: skipped \
                 (later rules still leave its images alone, as in ECR)",
                rule.action
                    .target_storage_class
                    .as_deref()
                    .unwrap_or("archive")
            )));
        }
        other => {
            return Err(field_error(
                label,
                "action.type",
                format!("`{other}` is not expire or transition"),
            ));
        }
    }
    match s.storage_class.as_deref() {
        None | Some("standard") => {}
        Some("archive") => {
            return Ok(Outcome::Skipped(format!(
                "{label} expires archived images, which regent cannot tell apart: skipped"
            )));
        }
        Some(other) => {
            return Err(field_error(
                label,
                "selection.storageClass",
                format!("`{other}` is not standard or archive"),
            ));
        }
    }
    let count = u64::try_from(s.count_number)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            field_error(
                &label,
                "selection.countNumber",
                format!(
                    "must be a whole number of at least 1, not {}",
                    s.count_number
                ),
            )
        })?;
    let mut out = new_rule(rule_name(rule), Action::Delete);
    match s.count_type.as_str() {
        "imageCountMoreThan" => {
            if s.count_unit.is_some() {
                return Err(field_error(
                    label,
                    "selection.countUnit",
                    "imageCountMoreThan takes no countUnit",
                ));
            }
            out.beyond_newest = Some(usize::try_from(count).unwrap_or(usize::MAX));
        }
        "sinceImagePushed" => {
            days_unit(rule)?;
            out.pushed_older_than = Some(days(count));
        }
        "sinceImagePulled" => {
            days_unit(rule)?;
            out.not_pulled_for = Some(days(count));
            if *selected != Selected::Untagged {
                warnings.push(format!(
                "{label} (sinceImagePulled) became `not-pulled-for: {count}d`: it needs pull times \
                 from the registry (ECR's lastRecordedPullTime); where regent has none, the push time counts"
                ));
            }
        }
        "sinceImageTransitioned" => {
            return Ok(Outcome::Skipped(format!(
                "{label} expires images some time after they were archived, which regent cannot see: skipped"
            )));
        }
        other => {
            return Err(field_error(
                label,
                "selection.countType",
                format!(
                    "`{other}` is not imageCountMoreThan, sinceImagePushed, sinceImagePulled or sinceImageTransitioned"
                ),
            ));
        }
    }
    match selected {
        Selected::Untagged => {
            warnings.push(format!(
                "{label} expires untagged images by {}: regent cannot select untagged images by count or age; \
                 it became `untagged: delete`, which removes only manifests a cleanup run leaves untagged",
                s.count_type
            ));
            return Ok(Outcome::Untagged);
        }
        Selected::Any => warnings.push(format!(
            "{label} (tagStatus any) also expires untagged images in ECR; regent's rules see tags only, \
             and `untagged: delete` removes only manifests a cleanup run leaves untagged"
        )),
        Selected::Prefix(_) | Selected::Pattern(_) => {}
    }
    out.tags.matches = selected.body();
    Ok(Outcome::Delete(out))
}

fn days_unit(rule: &EcrRule) -> Result<(), ImportError> {
    match rule.selection.count_unit.as_deref() {
        Some("days") => Ok(()),
        Some(other) => Err(field_error(
            rule_label(rule),
            "selection.countUnit",
            format!("`{other}` is not `days`, the only unit ECR has"),
        )),
        None => Err(field_error(
            rule_label(rule),
            "selection.countUnit",
            format!("{} needs countUnit `days`", rule.selection.count_type),
        )),
    }
}

/// `ecr-<priority>` plus the description's words, so plans and the audit
/// log point back at the ECR rule.
fn rule_name(rule: &EcrRule) -> String {
    let words = rule
        .description
        .as_deref()
        .map(|d| slug(d, 40))
        .unwrap_or_default();
    if words.is_empty() {
        format!("ecr-{}", rule.rule_priority)
    } else {
        format!("ecr-{}-{words}", rule.rule_priority)
    }
}

/// Give `rule` ECR's priority semantics: exclude the tags that
/// higher-priority rules select, since in ECR those images are theirs.
fn shield(
    rule: &mut Rule,
    selected: &Selected,
    earlier: &[(i64, Selected)],
    warnings: &mut Vec<String>,
) {
    let claimed: Vec<&(i64, Selected)> = earlier
        .iter()
        .filter(|(_, e)| e.body().is_some() && e.may_overlap(selected))
        .collect();
    if claimed.is_empty() {
        return;
    }
    let bodies: Vec<String> = claimed.iter().filter_map(|(_, e)| e.body()).collect();
    let exclude = any_of(&bodies);
    let priorities: Vec<String> = claimed.iter().map(|(p, _)| p.to_string()).collect();
    let counting = if rule.beyond_newest.is_some() {
        "; ECR still counts those images toward countNumber and regent does not, so this rule \
         may keep a few more than ECR"
    } else {
        ""
    };
    warnings.push(format!(
        "rule {}: in ECR the first rule (by rulePriority) that selects an image decides, so images \
         selected by rulePriority {} are never expired by this one; regent applies every delete rule, \
         so this rule excludes their tags (`exclude: {exclude}`){counting}",
        rule.name,
        priorities.join(", ")
    ));
    rule.tags.exclude = Some(exclude);
}

#[cfg(test)]
mod tests;
