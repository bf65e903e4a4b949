//! Which tags an ECR rule selects, and ECR's own rules about priorities
//! and selections, checked the way ECR checks them when a policy is saved.

use super::super::glob::{ecr_literal_prefix, ecr_pattern_body, prefix_body};
use super::{EcrRule, field_error, rule_label};
use crate::cleanup::policy::import::ImportError;

/// Which tags a rule selects, in ECR's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Selected {
    /// Tags starting with this prefix.
    Prefix(String),
    /// Tags matching this `*` pattern.
    Pattern(String),
    /// `tagStatus: untagged`.
    Untagged,
    /// `tagStatus: any`.
    Any,
}

impl Selected {
    /// The regex body for tags this selection covers (`None`: not tags).
    pub(super) fn body(&self) -> Option<String> {
        match self {
            Self::Prefix(p) => Some(prefix_body(p)),
            Self::Pattern(p) => Some(ecr_pattern_body(p)),
            Self::Untagged | Self::Any => None,
        }
    }

    /// Whether some tag could be selected by both. Only literal starts are
    /// compared: two selections whose starts differ cannot share a tag.
    pub(super) fn may_overlap(&self, other: &Selected) -> bool {
        let start = |s: &Selected| match s {
            Self::Prefix(p) => Some(p.clone()),
            Self::Pattern(p) => Some(ecr_literal_prefix(p).to_owned()),
            Self::Untagged | Self::Any => None,
        };
        match (start(self), start(other)) {
            (Some(a), Some(b)) => a.starts_with(&b) || b.starts_with(&a),
            _ => !matches!(self, Self::Untagged) && !matches!(other, Self::Untagged),
        }
    }
}

/// ECR's own rules about priorities, which it enforces when a policy is
/// saved: unique, one `any` rule and it comes last, one `untagged` rule.
pub(super) fn check_priorities(rules: &[EcrRule]) -> Result<(), ImportError> {
    for pair in rules.windows(2) {
        if pair[0].rule_priority == pair[1].rule_priority {
            return Err(field_error(
                rule_label(&pair[1]),
                "rulePriority",
                "two rules have this priority; ECR requires unique priorities",
            ));
        }
    }
    let count = |status: &str| {
        rules
            .iter()
            .filter(|r| r.selection.tag_status == status)
            .count()
    };
    if count("untagged") > 1 {
        return Err(field_error(
            "policy",
            "selection.tagStatus",
            "more than one rule selects untagged images; ECR allows one",
        ));
    }
    if let Some(position) = rules.iter().position(|r| r.selection.tag_status == "any")
        && (position + 1 != rules.len() || count("any") > 1)
    {
        return Err(field_error(
            rule_label(&rules[position]),
            "rulePriority",
            "a tagStatus `any` rule must be the only one and have the highest rulePriority (ECR refuses this policy too)",
        ));
    }
    Ok(())
}

/// The rule's tag selection, refusing what ECR itself refuses and what
/// regent cannot express.
pub(super) fn selection(rule: &EcrRule) -> Result<Selected, ImportError> {
    let s = &rule.selection;
    let label = rule_label(rule);
    let prefixes = s.tag_prefix_list.as_deref().unwrap_or_default();
    let patterns = s.tag_pattern_list.as_deref().unwrap_or_default();
    match s.tag_status.as_str() {
        "tagged" => {
            let (field, list) = match (prefixes.is_empty(), patterns.is_empty()) {
                (false, false) => {
                    return Err(field_error(
                        label,
                        "selection.tagPatternList",
                        "give tagPrefixList or tagPatternList, not both (ECR refuses both)",
                    ));
                }
                (true, true) => {
                    return Err(field_error(
                        label,
                        "selection.tagPrefixList",
                        "tagStatus `tagged` needs tagPrefixList or tagPatternList",
                    ));
                }
                (false, true) => ("selection.tagPrefixList", prefixes),
                (true, false) => ("selection.tagPatternList", patterns),
            };
            if list.len() > 1 {
                return Err(field_error(
                    label,
                    field,
                    format!(
                        "{} entries: ECR selects only images carrying a tag for every entry, which \
                         regent (deciding tag by tag) cannot express, and matching any entry would \
                         delete more than ECR; split it into one rule per entry, or write the regent rule by hand",
                        list.len()
                    ),
                ));
            }
            let entry = list[0].clone();
            Ok(if field.ends_with("PrefixList") {
                Selected::Prefix(entry)
            } else {
                Selected::Pattern(entry)
            })
        }
        "untagged" | "any" if !prefixes.is_empty() || !patterns.is_empty() => Err(field_error(
            label,
            "selection.tagStatus",
            format!(
                "`{}` rules take no tagPrefixList or tagPatternList",
                s.tag_status
            ),
        )),
        "untagged" => Ok(Selected::Untagged),
        "any" => Ok(Selected::Any),
        other => Err(field_error(
            label,
            "selection.tagStatus",
            format!("`{other}` is not one of tagged, untagged, any"),
        )),
    }
}
