//! How a policy decides, per tag.
//!
//! Every candidate tag of one repository gets exactly one [`Decision`], in
//! input order, from the first of these steps that applies:
//!
//! 1. **Protected** — the tag fully matches a `protected-tags` regex
//!    (whole-tag match, default `latest`): keep, rule `protected`.
//! 2. **Freshness** — the push time is known and `now - pushed_at` is less
//!    than `freshness` (default 2h; `0s` disables it): keep, rule
//!    `freshness`. A tag whose push time is unknown is not protected by
//!    freshness.
//! 3. **Rules** — a rule *selects* a tag when it selects the repository (an
//!    include glob matches and no exclude glob does), its `tags.match` regex
//!    (if any) matches the whole tag, its `tags.exclude` regex (if any) does
//!    not, and its `semver` condition (if any) holds. A rule *matches* a
//!    selected tag when all its conditions hold:
//!    - `newest: N` — the tag is among the N most recently pushed of the
//!      tags this rule selects in this repository (protected and fresh tags
//!      included: they count, they are just never deleted). Order: push
//!      time descending, unknown push time ranks as the oldest, ties by tag
//!      name ascending (`ranking.rs`).
//!    - `beyond-newest: N` — the tag is selected and not among those N.
//!    - `pushed-within: D` — push time known and `now - pushed_at <= D`.
//!    - `pushed-older-than: D` — push time known and `now - pushed_at > D`.
//!    - `pulled-within: D` — pull time known and `now - last_pulled_at <= D`.
//!    - `not-pulled-for: D` — pull time known and `now - last_pulled_at >
//!      D`; never pulled (`None`) but push time known: `now - pushed_at > D`;
//!      both unknown: does not hold.
//!    - `semver: true` / `false` — the tag is / is not a semantic version
//!      (`semver.rs`: an optional leading `v`, then SemVer 2.0.0).
//!    - no conditions — every selected tag matches.
//!
//!    Keep beats delete regardless of order: if any keep rule matches, keep
//!    with the first matching keep rule (file order); otherwise, if any
//!    delete rule matches, delete with the first matching delete rule;
//!    otherwise keep, rule `no-rule`.
//!
//! Each decision carries a one-sentence `reason` for the plan. Times are
//! Unix seconds; windows compare whole seconds. A push time after `now`
//! (clock skew) counts as age 0 or less: fresh, and within every
//! `pushed-within`. Rules that do not select the repository take no part,
//! so a repository no rule selects keeps every tag. The per-run deletion cap
//! (`max-deletions`) and digest-level survival (another kept tag on the same
//! digest) are the caller's job, not this module's.

use super::compiled::{CompiledPolicy, CompiledRule};
use super::model::{Action, Policy};
use super::ranking::newest_ranks;
use super::reason::{age, window};
use super::semver::is_semver_tag;

/// A tag as the policy sees it (times in Unix seconds; `None`: unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The tag name, matched by the tag regexes and shown in the plan.
    pub tag: String,
    /// The manifest digest, carried for the caller's digest-level checks.
    pub digest: Option<String>,
    /// When the tag was pushed, for freshness, ranking and push windows.
    pub pushed_at: Option<i64>,
    /// When the tag was last pulled, where the registry reports it.
    pub last_pulled_at: Option<i64>,
}

/// Keep or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The tag stays.
    Keep,
    /// The tag is planned for deletion (subject to the caller's cap and
    /// digest checks).
    Delete,
}

/// The decision for one tag and the rule that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The candidate's tag, so decisions read on their own.
    pub tag: String,
    /// What happens to the tag.
    pub verdict: Verdict,
    /// A rule name, or `protected`, `freshness`, `no-rule`.
    pub rule: String,
    /// One sentence a person reads in the plan.
    pub reason: String,
}

/// Decide every candidate of one repository (see the module docs), one
/// decision per candidate in input order. Compiles the policy on each call:
/// prefer [`Policy::compile`] and [`CompiledPolicy::evaluate`] when
/// evaluating many repositories. A policy that does not validate (only
/// possible when built by hand, since [`Policy::parse`] validates) keeps
/// every tag, so a broken policy never deletes.
pub fn evaluate(
    policy: &Policy,
    repository: &str,
    candidates: &[Candidate],
    now: i64,
) -> Vec<Decision> {
    match policy.compile() {
        Ok(compiled) => compiled.evaluate(repository, candidates, now),
        Err(message) => candidates
            .iter()
            .map(|c| Decision {
                tag: c.tag.clone(),
                verdict: Verdict::Keep,
                rule: "no-rule".into(),
                reason: format!("the policy is not valid, so nothing is deleted: {message}"),
            })
            .collect(),
    }
}

/// One rule's view of one repository: which candidates it selects and,
/// when it counts newest tags, their ranks.
struct RuleInRepository<'a> {
    rule: &'a CompiledRule,
    selected: Vec<bool>,
    ranks: Vec<Option<usize>>,
}

impl CompiledPolicy {
    /// Decide every candidate of `repository` (see the module docs): one
    /// decision per candidate, in input order.
    pub fn evaluate(&self, repository: &str, candidates: &[Candidate], now: i64) -> Vec<Decision> {
        let semver: Vec<bool> = if self.rules.iter().any(|r| r.semver.is_some()) {
            candidates.iter().map(|c| is_semver_tag(&c.tag)).collect()
        } else {
            vec![false; candidates.len()]
        };
        let rules: Vec<RuleInRepository> = self
            .rules
            .iter()
            .filter(|rule| rule.repositories.matches(repository))
            .map(|rule| {
                let selected: Vec<bool> = candidates
                    .iter()
                    .zip(&semver)
                    .map(|(c, &is_semver)| {
                        rule.tags.matches(&c.tag)
                            && rule.semver.is_none_or(|want| want == is_semver)
                    })
                    .collect();
                let ranks = if rule.ranks() {
                    let pool: Vec<usize> = (0..candidates.len()).filter(|&i| selected[i]).collect();
                    newest_ranks(candidates, &pool)
                } else {
                    Vec::new()
                };
                RuleInRepository {
                    rule,
                    selected,
                    ranks,
                }
            })
            .collect();
        candidates
            .iter()
            .enumerate()
            .map(|(index, candidate)| self.decide(&rules, index, candidate, now))
            .collect()
    }

    fn decide(
        &self,
        rules: &[RuleInRepository],
        index: usize,
        candidate: &Candidate,
        now: i64,
    ) -> Decision {
        let decision = |verdict, rule: &str, reason: String| Decision {
            tag: candidate.tag.clone(),
            verdict,
            rule: rule.to_owned(),
            reason,
        };
        if let Some(pattern) = self.protected.matching(&candidate.tag) {
            return decision(
                Verdict::Keep,
                "protected",
                format!("protected tag (matches `{pattern}`)"),
            );
        }
        if let Some(pushed_at) = candidate.pushed_at {
            let pushed_ago = now.saturating_sub(pushed_at);
            if self.freshness > 0 && pushed_ago < self.freshness {
                return decision(
                    Verdict::Keep,
                    "freshness",
                    format!(
                        "{}, inside the {} freshness window",
                        pushed_phrase(pushed_ago),
                        window(self.freshness)
                    ),
                );
            }
        }
        for (action, verdict) in [
            (Action::Keep, Verdict::Keep),
            (Action::Delete, Verdict::Delete),
        ] {
            for view in rules.iter().filter(|v| v.rule.action == action) {
                if let Some(reason) = matching_reason(view, index, candidate, now) {
                    return decision(verdict, &view.rule.name, reason);
                }
            }
        }
        let selecting: Vec<&str> = rules
            .iter()
            .filter(|v| v.selected[index])
            .map(|v| v.rule.name.as_str())
            .collect();
        let reason = if selecting.is_empty() {
            "no rule selects it".to_owned()
        } else {
            format!(
                "no rule's conditions hold (selected by {})",
                selecting.join(", ")
            )
        };
        decision(Verdict::Keep, "no-rule", reason)
    }
}

/// "pushed 3d 4h ago", or the clock-skew case of a push after `now`.
fn pushed_phrase(pushed_ago: i64) -> String {
    if pushed_ago < 0 {
        "pushed after the evaluation time".to_owned()
    } else {
        format!("pushed {} ago", age(pushed_ago))
    }
}

/// `Some(reason)` when the rule selects the candidate and all its conditions
/// hold; the reason names the rule and the conditions that made it match.
fn matching_reason(
    view: &RuleInRepository,
    index: usize,
    candidate: &Candidate,
    now: i64,
) -> Option<String> {
    if !view.selected[index] {
        return None;
    }
    let rule = view.rule;
    let name = &rule.name;
    let mut parts: Vec<String> = Vec::new();
    let mut names_rule = false;
    let rank = view.ranks.get(index).copied().flatten();
    if let Some(n) = rule.newest {
        // A selected tag of a rule with `newest` always has a rank.
        rank.filter(|&r| r < n)?;
        parts.push(if n == 1 {
            format!("the newest tag selected by {name}")
        } else {
            format!("among the {n} newest tags selected by {name}")
        });
        names_rule = true;
    }
    if let Some(n) = rule.beyond_newest {
        rank.filter(|&r| r >= n)?;
        parts.push(if n == 1 {
            format!("beyond the newest tag selected by {name}")
        } else {
            format!("beyond the {n} newest tags selected by {name}")
        });
        names_rule = true;
    }
    let pushed_ago = candidate.pushed_at.map(|t| now.saturating_sub(t));
    let pulled_ago = candidate.last_pulled_at.map(|t| now.saturating_sub(t));
    if let Some(limit) = rule.pushed_within {
        let ago = pushed_ago.filter(|&ago| ago <= limit)?;
        parts.push(format!("{}, within {}", pushed_phrase(ago), window(limit)));
    }
    if let Some(limit) = rule.pushed_older_than {
        let ago = pushed_ago.filter(|&ago| ago > limit)?;
        parts.push(format!(
            "{}, more than {}",
            pushed_phrase(ago),
            window(limit)
        ));
    }
    if let Some(limit) = rule.pulled_within {
        let ago = pulled_ago.filter(|&ago| ago <= limit)?;
        let when = if ago < 0 {
            "pulled after the evaluation time".to_owned()
        } else {
            format!("pulled {} ago", age(ago))
        };
        parts.push(format!("{when}, within {}", window(limit)));
    }
    if let Some(limit) = rule.not_pulled_for {
        let part = match (pulled_ago, pushed_ago) {
            (Some(ago), _) if ago > limit => {
                format!("last pulled {} ago, more than {}", age(ago), window(limit))
            }
            (None, Some(ago)) if ago > limit => format!(
                "never pulled and pushed {} ago, more than {}",
                age(ago),
                window(limit)
            ),
            _ => return None,
        };
        parts.push(part);
    }
    match rule.semver {
        Some(true) => parts.push("a semantic version".to_owned()),
        Some(false) => parts.push("not a semantic version".to_owned()),
        None => {}
    }
    if parts.is_empty() {
        return Some(format!("selected by {name}"));
    }
    let sentence = parts.join("; ");
    Some(if names_rule {
        sentence
    } else {
        format!("{sentence} ({name})")
    })
}

#[cfg(test)]
mod tests;
