//! Harbor's tag and repository selectors as regent selectors.
//!
//! Harbor applies a rule's selectors one after the other (AND), matching
//! doublestar globs (`res/selectors/doublestar/selector.go`; an empty
//! pattern matches everything). `excludes` selectors combine into one
//! exclude regex (not matching any of them); two `matches` selectors would
//! need an intersection no single regex or include list says, so they are
//! refused.

use serde_json::{Map, Value};

use super::super::glob::{any_of, doublestar_body, doublestar_matches_everything};
use super::field_error;
use crate::cleanup::policy::import::ImportError;
use crate::cleanup::policy::model::{RepositorySelector, TagSelector};

/// One selector's fields.
struct Selector<'a> {
    kind: &'a str,
    decoration: &'a str,
    pattern: &'a str,
    extras: Option<&'a Value>,
}

fn selector<'a>(value: &'a Value, label: &str, path: &str) -> Result<Selector<'a>, ImportError> {
    let object = value
        .as_object()
        .ok_or_else(|| field_error(label, path, "each selector must be an object"))?;
    let text = |key: &str, required: bool| -> Result<&'a str, ImportError> {
        match object.get(key) {
            Some(Value::String(s)) => Ok(s.as_str()),
            None | Some(Value::Null) if !required => Ok(""),
            _ => Err(field_error(
                label,
                &format!("{path}.{key}"),
                "must be a string",
            )),
        }
    };
    Ok(Selector {
        kind: text("kind", true)?,
        decoration: text("decoration", true)?,
        pattern: text("pattern", false)?,
        extras: object.get("extras"),
    })
}

fn list<'a>(value: Option<&'a Value>, label: &str, path: &str) -> Result<&'a [Value], ImportError> {
    match value {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(field_error(label, path, "must be a list of selectors")),
    }
}

/// The rule's `tag_selectors` as a tag selector.
pub fn tags(
    rule: &Map<String, Value>,
    label: &str,
    warnings: &mut Vec<String>,
) -> Result<TagSelector, ImportError> {
    let mut out = TagSelector::default();
    let mut seen_matches = false;
    let mut excludes = Vec::new();
    for (index, value) in list(rule.get("tag_selectors"), label, "tag_selectors")?
        .iter()
        .enumerate()
    {
        let path = format!("tag_selectors[{index}]");
        let s = selector(value, label, &path)?;
        if s.kind == "label" {
            warnings.push(format!(
                "{label}: label selectors have no regent equivalent; dropped, so the rule retains \
                 regardless of labels (more than Harbor)"
            ));
            continue;
        }
        check_kind(&s, label, &path)?;
        if includes_untagged(s.extras) {
            warnings.push(format!(
                "{label} also retains untagged artifacts in Harbor; regent's rules see tags only"
            ));
        }
        let body = || {
            doublestar_body(s.pattern).map_err(|e| {
                field_error(
                    label,
                    &format!("{path}.pattern"),
                    format!("`{}`: {e}", s.pattern),
                )
            })
        };
        match s.decoration {
            "matches" if seen_matches => {
                return Err(field_error(
                    label,
                    &format!("{path}.decoration"),
                    "a second `matches` selector: Harbor requires a tag to match both, which \
                     regent cannot say in one regex; merge the patterns",
                ));
            }
            "matches" => {
                seen_matches = true;
                if !doublestar_matches_everything(s.pattern) {
                    out.matches = Some(body()?);
                }
            }
            "excludes" => excludes.push(if doublestar_matches_everything(s.pattern) {
                ".*".to_owned()
            } else {
                body()?
            }),
            other => {
                return Err(field_error(
                    label,
                    &format!("{path}.decoration"),
                    format!("`{other}` is not matches or excludes"),
                ));
            }
        }
    }
    if !excludes.is_empty() {
        out.exclude = Some(any_of(&excludes));
    }
    Ok(out)
}

/// The rule's `scope_selectors.repository` as repository globs relative to
/// any project (`*/PATTERN`); `None` when it selects every repository.
pub fn repositories(
    rule: &Map<String, Value>,
    label: &str,
) -> Result<Option<RepositorySelector>, ImportError> {
    let scopes = match rule.get("scope_selectors") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(scopes)) => scopes,
        Some(_) => {
            return Err(field_error(label, "scope_selectors", "must be an object"));
        }
    };
    if let Some(other) = scopes.keys().find(|k| k.as_str() != "repository") {
        return Err(field_error(
            label,
            &format!("scope_selectors.{other}"),
            "only `repository` selectors are supported (project-level policies)",
        ));
    }
    let mut out = RepositorySelector::default();
    let mut seen_matches = false;
    let mut narrowed = false;
    let path_of = |index: usize| format!("scope_selectors.repository[{index}]");
    for (index, value) in list(
        scopes.get("repository"),
        label,
        "scope_selectors.repository",
    )?
    .iter()
    .enumerate()
    {
        let path = path_of(index);
        let s = selector(value, label, &path)?;
        check_kind(&s, label, &path)?;
        let glob = if doublestar_matches_everything(s.pattern) {
            "**".to_owned()
        } else {
            format!("*/{}", s.pattern)
        };
        globset::Glob::new(&glob).map_err(|e| {
            field_error(
                label,
                &format!("{path}.pattern"),
                format!("`{}`: {e}", s.pattern),
            )
        })?;
        match s.decoration {
            "repoMatches" if seen_matches => {
                return Err(field_error(
                    label,
                    &format!("{path}.decoration"),
                    "a second `repoMatches` selector: Harbor requires a repository to match both, \
                     which regent's include list cannot say; merge the patterns with {a,b}",
                ));
            }
            "repoMatches" => {
                seen_matches = true;
                narrowed |= glob != "**";
                out.include = vec![glob];
            }
            "repoExcludes" => {
                narrowed = true;
                out.exclude.push(glob);
            }
            other => {
                return Err(field_error(
                    label,
                    &format!("{path}.decoration"),
                    format!("`{other}` is not repoMatches or repoExcludes"),
                ));
            }
        }
    }
    Ok(narrowed.then_some(out))
}

fn check_kind(s: &Selector<'_>, label: &str, path: &str) -> Result<(), ImportError> {
    if s.kind == "doublestar" {
        Ok(())
    } else {
        Err(field_error(
            label,
            &format!("{path}.kind"),
            format!(
                "`{}` is not doublestar, the pattern kind regent imports",
                s.kind
            ),
        ))
    }
}

/// Harbor's `extras` is a JSON string such as `{"untagged":true}` (or,
/// from some clients, the object itself).
fn includes_untagged(extras: Option<&Value>) -> bool {
    let parsed;
    let object = match extras {
        Some(Value::String(text)) => {
            parsed = serde_json::from_str::<Value>(text).ok();
            parsed.as_ref()
        }
        Some(value @ Value::Object(_)) => Some(value),
        _ => None,
    };
    object
        .and_then(|o| o.get("untagged"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}
