//! Harbor tag retention policies.
//!
//! The object is Harbor's `RetentionPolicy` (`GET /api/v2.0/retentions/{id}`;
//! the `RetentionPolicy`/`RetentionRule`/`RetentionSelector` definitions of
//! goharbor/harbor `api/v2.0/swagger.yaml`, which the subset in
//! `/work/shared/api-specs/harbor.swagger.yaml` leaves out): `algorithm`,
//! `rules[]` of `{disabled, action: retain, template, params,
//! tag_selectors[], scope_selectors: {repository: [...]}}`, `trigger`.
//!
//! How Harbor decides (goharbor/harbor `src/pkg/retention`: `launcher.go`,
//! `policy/alg/or/processor.go`, `res/selectors/doublestar/selector.go`):
//! every rule *retains*; rules are OR-ed; the selectors of one rule are
//! AND-ed; whatever no enabled rule retains is deleted, and a repository no
//! enabled rule selects is deleted whole. So each enabled rule becomes a
//! regent keep rule and one final delete rule, `not-retained`, with no
//! selector deletes the rest (regent's keep beats delete, so order does not
//! matter). Templates: `latestPushedK` → `newest`, `nDaysSinceLastPush` →
//! `pushed-within`, `nDaysSinceLastPull` → `pulled-within`, `always` → no
//! condition. `latestPulledN` ("the N most recently pulled") has no regent
//! equivalent; the only sound approximation keeps every tag the rule
//! selects (a superset of what Harbor keeps), which the import does with a
//! warning, or refuses under `--exact`.

mod selectors;

use serde_json::{Map, Value};

use super::common::{base_policy, days, defaults_warning, new_rule, parse_json};
use super::{ImportError, ImportFormat, ImportOptions, Imported};
use crate::cleanup::policy::model::{Action, Rule};

const FORMAT: ImportFormat = ImportFormat::Harbor;

/// The delete rule that removes every tag no keep rule retains.
pub const NOT_RETAINED: &str = "not-retained";

/// Import a Harbor tag retention policy.
pub fn import(text: &str, options: ImportOptions) -> Result<Imported, ImportError> {
    let value = parse_json(FORMAT, text)?;
    let object = value
        .as_object()
        .ok_or_else(|| malformed("expected a JSON object"))?;
    match object.get("algorithm") {
        None | Some(Value::Null) => {}
        Some(Value::String(a)) if a == "or" => {}
        Some(other) => {
            return Err(field_error(
                "policy",
                "algorithm",
                format!("{other} is not `or`, the only algorithm Harbor has"),
            ));
        }
    }
    let rules = object
        .get("rules")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("expected a RetentionPolicy object with a `rules` array"))?;

    let mut policy = base_policy(FORMAT, options, &[])?;
    let mut warnings: Vec<String> = defaults_warning(FORMAT, &policy, options, &[])
        .into_iter()
        .collect();
    warnings.extend(trigger_warning(object));
    let mut notes = Notes::default();
    for (index, raw) in rules.iter().enumerate() {
        let label = format!("rules[{index}]");
        let rule = raw
            .as_object()
            .ok_or_else(|| field_error(&label, "rules", "each rule must be an object"))?;
        if let Some(converted) = convert(index, rule, options, &mut notes, &mut warnings)? {
            policy.rules.push(converted);
        }
    }
    if policy.rules.is_empty() {
        warnings.push(
            "no enabled rule: Harbor deletes nothing with this policy, and the imported policy \
             has no rule either"
                .into(),
        );
        return Ok(Imported { policy, warnings });
    }
    warnings.extend(notes.into_warnings());
    policy.rules.push(new_rule(NOT_RETAINED, Action::Delete));
    Ok(Imported { policy, warnings })
}

fn malformed(message: &str) -> ImportError {
    ImportError::Malformed {
        format: FORMAT,
        message: message.into(),
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

/// Differences worth one warning each however many rules show them.
#[derive(Default)]
struct Notes {
    counts_artifacts: bool,
    relative_repositories: bool,
}

impl Notes {
    fn into_warnings(self) -> Vec<String> {
        let mut out = vec![
            format!(
                "Harbor rules only retain: whatever no enabled rule retains is deleted, and a \
                 repository no enabled rule selects is deleted whole; the final `{NOT_RETAINED}` \
                 rule does the same for tags (keep rules beat it): check with `regent cleanup --dry-run`"
            ),
            "Harbor also deletes untagged artifacts no rule retains; regent's rules see tags \
             only, and `untagged: delete` removes only manifests a cleanup run leaves untagged"
                .into(),
            "Harbor never deletes artifacts protected by tag immutability rules (set outside the \
             retention policy); add those tags to protected-tags"
                .into(),
        ];
        if self.counts_artifacts {
            out.push(
                "latestPushedK counts artifacts (an image with three tags counts once); regent's \
                 `newest` counts tags, so where images carry several tags fewer images are kept: \
                 raise `newest` accordingly"
                    .into(),
            );
        }
        if self.relative_repositories {
            out.push(
                "Harbor repository patterns are relative to the project (`app/**` means \
                 PROJECT/app/**); regent's repository paths include the project, so the patterns \
                 were prefixed with `*/` (any project): replace `*` with the project's name to \
                 narrow them"
                    .into(),
            );
        }
        out
    }
}

/// The schedule Harbor runs the policy on, which regent leaves to CI.
fn trigger_warning(object: &Map<String, Value>) -> Option<String> {
    let trigger = object.get("trigger")?.as_object()?;
    let cron = trigger
        .get("settings")
        .and_then(|s| s.get("cron"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())?;
    Some(format!(
        "Harbor runs this policy on the schedule `{cron}`; regent runs when you run it: \
         schedule `regent cleanup` in CI"
    ))
}

/// One Harbor rule as a regent keep rule; `None` when it is disabled.
fn convert(
    index: usize,
    rule: &Map<String, Value>,
    options: ImportOptions,
    notes: &mut Notes,
    warnings: &mut Vec<String>,
) -> Result<Option<Rule>, ImportError> {
    let label = format!("rules[{index}]");
    let template = match rule.get("template") {
        Some(Value::String(t)) => t.as_str(),
        _ => return Err(field_error(&label, "template", "must be a string")),
    };
    let label = format!("{label} ({template})");
    match rule.get("disabled") {
        None | Some(Value::Null | Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            warnings.push(format!("{label} is disabled: skipped, as Harbor does"));
            return Ok(None);
        }
        Some(other) => {
            return Err(field_error(
                &label,
                "disabled",
                format!("must be true or false, not {other}"),
            ));
        }
    }
    match rule.get("action") {
        None | Some(Value::Null) => {}
        Some(Value::String(a)) if a == "retain" => {}
        Some(other) => {
            return Err(field_error(
                &label,
                "action",
                format!("{other} is not `retain`"),
            ));
        }
    }
    let number = |what: &str| param(rule, template, &label, what);
    let (name, mut out) = match template {
        "latestPushedK" => {
            let k = number("count")?;
            notes.counts_artifacts = true;
            let mut out = new_rule("", Action::Keep);
            out.newest = Some(usize::try_from(k).unwrap_or(usize::MAX));
            (format!("retain-{k}-latest-pushed"), out)
        }
        "latestPulledN" => {
            let n = number("count")?;
            if options.exact {
                return Err(field_error(
                    &label,
                    "template",
                    "\"the N most recently pulled\" has no regent equivalent (regent keeps by pull \
                     window, `pulled-within`, or by push order, `newest`); --exact refuses \
                     approximations: use nDaysSinceLastPull or latestPushedK in Harbor, or drop --exact",
                ));
            }
            warnings.push(format!(
                "{label}: \"the {n} most recently pulled\" has no regent equivalent; the only sound \
                 approximation keeps every tag the rule selects (more than Harbor keeps). Replace it \
                 by `pulled-within` or `newest` once you know what you need"
            ));
            (
                format!("retain-latest-{n}-pulled-approximated"),
                new_rule("", Action::Keep),
            )
        }
        "nDaysSinceLastPush" => {
            let n = number("days")?;
            let mut out = new_rule("", Action::Keep);
            out.pushed_within = Some(days(n));
            (format!("retain-pushed-within-{n}d"), out)
        }
        "nDaysSinceLastPull" => {
            let n = number("days")?;
            warnings.push(format!(
                "{label} became `pulled-within: {n}d`: it needs pull times from the registry; \
                 where regent has none the rule retains nothing and `{NOT_RETAINED}` deletes those tags"
            ));
            let mut out = new_rule("", Action::Keep);
            out.pulled_within = Some(days(n));
            (format!("retain-pulled-within-{n}d"), out)
        }
        "always" => ("retain-always".to_owned(), new_rule("", Action::Keep)),
        other => {
            return Err(field_error(
                &label,
                "template",
                format!(
                    "`{other}` is not one of latestPushedK, latestPulledN, nDaysSinceLastPush, \
                     nDaysSinceLastPull, always"
                ),
            ));
        }
    };
    out.name = format!("harbor-{}-{name}", index + 1);
    out.tags = selectors::tags(rule, &label, warnings)?;
    if let Some(repositories) = selectors::repositories(rule, &label)? {
        notes.relative_repositories = true;
        out.repositories = repositories;
    }
    Ok(Some(out))
}

/// `params[template]`: a whole number of at least 1 (Harbor stores it as a
/// JSON number, sometimes as `10.0`).
fn param(
    rule: &Map<String, Value>,
    template: &str,
    label: &str,
    what: &str,
) -> Result<u64, ImportError> {
    let field = format!("params.{template}");
    let value = rule
        .get("params")
        .and_then(|p| p.get(template))
        .ok_or_else(|| {
            field_error(
                label,
                &field,
                format!("missing: the {what} this rule keeps"),
            )
        })?;
    let number = match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f <= 1e9)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    number.filter(|n| *n >= 1).ok_or_else(|| {
        field_error(
            label,
            &field,
            format!("must be a whole number of at least 1, not {value}"),
        )
    })
}

#[cfg(test)]
mod tests;
