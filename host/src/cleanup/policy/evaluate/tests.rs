//! Evaluation semantics, checked through policies parsed from YAML.

use super::*;

const NOW: i64 = 1_700_000_000;
const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

fn policy(yaml: &str) -> Policy {
    match Policy::parse(yaml, "test.yaml") {
        Ok(policy) => policy,
        Err(e) => panic!("test policy must be valid: {e}"),
    }
}

/// A candidate pushed / pulled that many seconds before `NOW`.
fn tag(name: &str, pushed_ago: Option<i64>, pulled_ago: Option<i64>) -> Candidate {
    Candidate {
        tag: name.to_owned(),
        digest: Some(format!("sha256:{name}")),
        pushed_at: pushed_ago.map(|ago| NOW - ago),
        last_pulled_at: pulled_ago.map(|ago| NOW - ago),
    }
}

fn pushed(name: &str, ago: i64) -> Candidate {
    tag(name, Some(ago), None)
}

/// `(tag, verdict, rule)` per decision, for compact assertions.
fn verdicts(
    p: &Policy,
    repository: &str,
    candidates: &[Candidate],
) -> Vec<(String, Verdict, String)> {
    evaluate(p, repository, candidates, NOW)
        .into_iter()
        .map(|d| (d.tag, d.verdict, d.rule))
        .collect()
}

fn one(p: &Policy, candidate: Candidate) -> Decision {
    let mut decisions = evaluate(p, "app", &[candidate], NOW);
    assert_eq!(decisions.len(), 1);
    decisions.remove(0)
}

fn expect(rows: &[(&str, Verdict, &str)]) -> Vec<(String, Verdict, String)> {
    rows.iter()
        .map(|(t, v, r)| ((*t).to_owned(), *v, (*r).to_owned()))
        .collect()
}

use Verdict::{Delete, Keep};

/// No protected tags and no freshness, so rules alone decide.
const BARE: &str = "version: 1\nprotected-tags: []\nfreshness: 0s\n";

#[test]
fn keep_beats_delete_regardless_of_rule_order() {
    let p = policy(&format!(
        "{BARE}rules:\n  - {{ name: delete-all, action: delete }}\n  - {{ name: keep-v, action: keep, tags: {{ match: 'v.*' }} }}\n  - {{ name: keep-v1, action: keep, tags: {{ match: 'v1' }} }}\n"
    ));
    let got = verdicts(
        &p,
        "app",
        &[pushed("v1", DAY), pushed("v2", DAY), pushed("x", DAY)],
    );
    assert_eq!(
        got,
        expect(&[
            ("v1", Keep, "keep-v"),
            ("v2", Keep, "keep-v"),
            ("x", Delete, "delete-all"),
        ])
    );
}

#[test]
fn first_matching_rule_of_the_winning_action_names_the_decision() {
    let p = policy(&format!(
        "{BARE}rules:\n  - {{ name: d-old, action: delete, pushed-older-than: 10d }}\n  - {{ name: d-all, action: delete }}\n  - {{ name: k-never, action: keep, tags: {{ match: nothing }} }}\n"
    ));
    let got = verdicts(&p, "app", &[pushed("a", 20 * DAY), pushed("b", DAY)]);
    assert_eq!(
        got,
        expect(&[("a", Delete, "d-old"), ("b", Delete, "d-all")])
    );
}

#[test]
fn newest_ranks_by_push_time_ties_by_name_unknown_last() {
    let candidates = [
        pushed("a", 10 * DAY),
        pushed("c", 5 * DAY),
        tag("f", None, None),
        pushed("b", 5 * DAY),
        tag("d", None, None),
        pushed("e", DAY),
    ];
    let kept = |n: usize| -> Vec<String> {
        let p = policy(&format!(
            "{BARE}rules:\n  - {{ name: keep-recent, action: keep, newest: {n} }}\n  - {{ name: rest, action: delete }}\n"
        ));
        let mut kept: Vec<String> = evaluate(&p, "app", &candidates, NOW)
            .into_iter()
            .filter(|d| d.verdict == Keep)
            .map(|d| {
                assert_eq!(d.rule, "keep-recent");
                d.tag
            })
            .collect();
        kept.sort();
        kept
    };
    assert_eq!(kept(1), ["e"]);
    assert_eq!(kept(2), ["b", "e"], "b beats c on the 5-day tie by name");
    assert_eq!(kept(3), ["b", "c", "e"]);
    assert_eq!(kept(4), ["a", "b", "c", "e"], "known times before unknown");
    assert_eq!(
        kept(5),
        ["a", "b", "c", "d", "e"],
        "d beats f among unknown"
    );
    assert_eq!(kept(6), ["a", "b", "c", "d", "e", "f"]);
    assert_eq!(kept(100).len(), 6);
}

#[test]
fn newest_counts_only_what_the_rule_selects() {
    let p = policy(&format!(
        "{BARE}rules:\n  - {{ name: keep-rel, action: keep, newest: 1, semver: true, tags: {{ exclude: 'v9.*' }} }}\n  - {{ name: rest, action: delete }}\n"
    ));
    let got = verdicts(
        &p,
        "app",
        &[
            pushed("v1.0.0", 30 * DAY),
            pushed("v1.1.0", 20 * DAY),
            pushed("feature", DAY),
            pushed("v9.0.0", HOUR),
        ],
    );
    assert_eq!(
        got,
        expect(&[
            ("v1.0.0", Delete, "rest"),
            ("v1.1.0", Keep, "keep-rel"),
            ("feature", Delete, "rest"),
            ("v9.0.0", Delete, "rest"),
        ])
    );
}

#[test]
fn protected_and_fresh_tags_still_count_towards_newest() {
    let p = policy(
        "version: 1\nrules:\n  - { name: keep-one, action: keep, newest: 1 }\n  - { name: rest, action: delete }\n",
    );
    let got = verdicts(
        &p,
        "app",
        &[pushed("latest", 3 * DAY), pushed("old", 5 * DAY)],
    );
    assert_eq!(
        got,
        expect(&[("latest", Keep, "protected"), ("old", Delete, "rest")]),
        "the protected tag is the newest, so `old` is not"
    );
    let got = verdicts(
        &p,
        "app",
        &[pushed("fresh", MINUTE), pushed("old", 5 * DAY)],
    );
    assert_eq!(
        got,
        expect(&[("fresh", Keep, "freshness"), ("old", Delete, "rest")]),
        "the fresh tag is the newest, so `old` is not"
    );
    let got = verdicts(&p, "app", &[pushed("old", 5 * DAY)]);
    assert_eq!(got, expect(&[("old", Keep, "keep-one")]));
}

#[test]
fn beyond_newest_deletes_all_but_the_newest() {
    let p = policy(&format!(
        "{BARE}rules:\n  - {{ name: trim, action: delete, beyond-newest: 2 }}\n"
    ));
    let candidates = [
        pushed("t1", 4 * DAY),
        pushed("t2", 3 * DAY),
        tag("t0", None, None),
        pushed("t3", 2 * DAY),
        pushed("t4", DAY),
    ];
    let decisions = evaluate(&p, "app", &candidates, NOW);
    let got: Vec<_> = decisions
        .iter()
        .map(|d| (d.tag.as_str(), d.verdict))
        .collect();
    assert_eq!(
        got,
        [
            ("t1", Delete),
            ("t2", Delete),
            ("t0", Delete),
            ("t3", Keep),
            ("t4", Keep)
        ]
    );
    assert_eq!(decisions[0].rule, "trim");
    assert_eq!(
        decisions[0].reason,
        "beyond the 2 newest tags selected by trim"
    );
    assert_eq!(decisions[3].rule, "no-rule");
    assert_eq!(
        decisions[3].reason,
        "no rule's conditions hold (selected by trim)"
    );
}

fn holds(condition: &str, candidate: Candidate) -> bool {
    let p = policy(&format!(
        "{BARE}rules:\n  - {{ name: cond, action: delete, {condition} }}\n"
    ));
    let d = one(&p, candidate);
    match d.verdict {
        Delete => {
            assert_eq!(d.rule, "cond");
            true
        }
        Keep => {
            assert_eq!(d.rule, "no-rule");
            false
        }
    }
}

#[test]
fn pushed_within_includes_its_boundary() {
    let c = "pushed-within: 7d";
    assert!(holds(c, pushed("x", 0)));
    assert!(holds(c, pushed("x", 7 * DAY)));
    assert!(!holds(c, pushed("x", 7 * DAY + 1)));
    assert!(!holds(c, tag("x", None, Some(0))), "unknown push time");
}

#[test]
fn pushed_older_than_excludes_its_boundary() {
    let c = "pushed-older-than: 14d";
    assert!(!holds(c, pushed("x", 14 * DAY)));
    assert!(holds(c, pushed("x", 14 * DAY + 1)));
    assert!(!holds(c, pushed("x", 0)));
    assert!(
        !holds(c, tag("x", None, Some(100 * DAY))),
        "unknown push time"
    );
}

#[test]
fn pulled_within_includes_its_boundary() {
    let c = "pulled-within: 30d";
    assert!(holds(c, tag("x", Some(90 * DAY), Some(30 * DAY))));
    assert!(!holds(c, tag("x", Some(90 * DAY), Some(30 * DAY + 1))));
    assert!(!holds(c, tag("x", Some(0), None)), "never pulled");
}

#[test]
fn not_pulled_for_counts_never_pulled_from_the_push() {
    let c = "not-pulled-for: 30d";
    assert!(!holds(c, tag("x", Some(90 * DAY), Some(30 * DAY))));
    assert!(holds(c, tag("x", Some(90 * DAY), Some(30 * DAY + 1))));
    assert!(
        !holds(c, tag("x", None, Some(30 * DAY))),
        "pull time wins when known"
    );
    assert!(
        holds(c, tag("x", None, Some(31 * DAY))),
        "push time not needed"
    );
    assert!(
        !holds(c, tag("x", Some(30 * DAY), None)),
        "never pulled, boundary"
    );
    assert!(holds(c, tag("x", Some(30 * DAY + 1), None)), "never pulled");
    assert!(!holds(c, tag("x", None, None)), "both unknown");
}

#[test]
fn a_rule_without_conditions_matches_every_selected_tag() {
    assert!(holds("tags: { match: 'b-.*' }", pushed("b-1", 0)));
    assert!(!holds("tags: { match: 'b-.*' }", pushed("a-1", 0)));
    assert!(holds("tags: {}", tag("anything", None, None)));
}

#[test]
fn all_conditions_must_hold() {
    let c = "pushed-older-than: 7d, not-pulled-for: 30d, semver: false";
    assert!(holds(c, tag("dev", Some(40 * DAY), None)));
    assert!(
        !holds(c, tag("dev", Some(40 * DAY), Some(DAY))),
        "recently pulled"
    );
    assert!(!holds(c, tag("dev", Some(DAY), None)), "recently pushed");
    assert!(
        !holds(c, tag("1.0.0", Some(40 * DAY), None)),
        "a semantic version"
    );
}

#[test]
fn semver_true_and_false() {
    let p = policy(&format!(
        "{BARE}rules:\n  - {{ name: releases, action: keep, semver: true }}\n  - {{ name: others, action: delete, semver: false }}\n"
    ));
    let got = verdicts(
        &p,
        "app",
        &[
            pushed("v1.2.3", DAY),
            pushed("1.2.3-rc.1", DAY),
            pushed("1.2", DAY),
            pushed("latest", DAY),
            pushed("1.2.3", DAY),
        ],
    );
    assert_eq!(
        got,
        expect(&[
            ("v1.2.3", Keep, "releases"),
            ("1.2.3-rc.1", Keep, "releases"),
            ("1.2", Delete, "others"),
            ("latest", Delete, "others"),
            ("1.2.3", Keep, "releases"),
        ])
    );
}

#[test]
fn latest_is_protected_by_default() {
    let p = policy("version: 1\nrules:\n  - { name: all, action: delete }\n");
    let d = one(&p, pushed("latest", 100 * DAY));
    assert_eq!((d.verdict, d.rule.as_str()), (Keep, "protected"));
    assert_eq!(d.reason, "protected tag (matches `latest`)");
    let d = one(&p, pushed("latest-1", 100 * DAY));
    assert_eq!(
        (d.verdict, d.rule.as_str()),
        (Delete, "all"),
        "whole-tag match"
    );
}

#[test]
fn custom_protected_tags_replace_the_default() {
    let p = policy(
        "version: 1\nprotected-tags: ['stable-.*', 'prod']\nrules:\n  - { name: all, action: delete }\n  - { name: keep-stable, action: keep, tags: { match: 'stable-.*' } }\n",
    );
    let d = one(&p, pushed("stable-3", 100 * DAY));
    assert_eq!(
        (d.verdict, d.rule.as_str()),
        (Keep, "protected"),
        "protected before keep rules"
    );
    assert_eq!(d.reason, "protected tag (matches `stable-.*`)");
    assert_eq!(one(&p, pushed("prod", 100 * DAY)).rule, "protected");
    assert_eq!(one(&p, pushed("production", 100 * DAY)).verdict, Delete);
    assert_eq!(one(&p, pushed("latest", 100 * DAY)).verdict, Delete);
}

#[test]
fn freshness_window_is_exclusive_at_its_end() {
    let p = policy("version: 1\nrules:\n  - { name: all, action: delete }\n");
    let d = one(&p, pushed("x", 2 * HOUR - 1));
    assert_eq!((d.verdict, d.rule.as_str()), (Keep, "freshness"));
    let d = one(&p, pushed("x", 2 * HOUR));
    assert_eq!((d.verdict, d.rule.as_str()), (Delete, "all"));
    let d = one(&p, pushed("x", -MINUTE));
    assert_eq!(d.rule, "freshness", "a push after now is fresh");
    let d = one(&p, tag("x", None, None));
    assert_eq!(d.verdict, Delete, "unknown push time is not fresh");
}

#[test]
fn freshness_zero_disables_the_window() {
    let p = policy("version: 1\nfreshness: 0s\nrules:\n  - { name: all, action: delete }\n");
    assert_eq!(one(&p, pushed("x", 0)).verdict, Delete);
    assert_eq!(one(&p, pushed("x", -MINUTE)).verdict, Delete);
    let p = policy("version: 1\nfreshness: 1d\nrules:\n  - { name: all, action: delete }\n");
    assert_eq!(one(&p, pushed("x", DAY - 1)).rule, "freshness");
    assert_eq!(one(&p, pushed("x", DAY)).rule, "all");
}

#[test]
fn repositories_single_and_double_star() {
    let p = policy(&format!(
        "{BARE}rules:\n  - name: one-level\n    action: delete\n    repositories: {{ include: ['team/*'], exclude: ['team/base'] }}\n  - name: deep\n    action: delete\n    repositories: {{ include: ['infra/**'] }}\n"
    ));
    let rule_for = |repository: &str| {
        evaluate(&p, repository, &[pushed("t", DAY)], NOW)
            .remove(0)
            .rule
    };
    assert_eq!(rule_for("team/app"), "one-level");
    assert_eq!(rule_for("team/base"), "no-rule");
    assert_eq!(rule_for("team/a/b"), "no-rule");
    assert_eq!(rule_for("infra/a"), "deep");
    assert_eq!(rule_for("infra/a/b/c"), "deep");
    assert_eq!(rule_for("other"), "no-rule");
    let d = evaluate(&p, "other", &[pushed("t", DAY)], NOW).remove(0);
    assert_eq!(d.reason, "no rule selects it");
}

#[test]
fn rules_for_other_repositories_do_not_rank_or_keep() {
    let p = policy(&format!(
        "{BARE}rules:\n  - {{ name: keep-team, action: keep, repositories: {{ include: ['team/**'] }} }}\n  - {{ name: all, action: delete }}\n"
    ));
    assert_eq!(
        verdicts(&p, "other/app", &[pushed("x", DAY)]),
        expect(&[("x", Delete, "all")])
    );
    assert_eq!(
        verdicts(&p, "team/app", &[pushed("x", DAY)]),
        expect(&[("x", Keep, "keep-team")])
    );
}

#[test]
fn output_follows_input_order() {
    let p = policy(
        "version: 1\nrules:\n  - { name: keep-two, action: keep, newest: 2 }\n  - { name: rest, action: delete }\n",
    );
    let names = ["m", "latest", "a", "z", "fresh", "b", "a"];
    let candidates: Vec<Candidate> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if *n == "fresh" {
                pushed(n, 1)
            } else {
                pushed(n, (i as i64 + 1) * DAY)
            }
        })
        .collect();
    let decisions = evaluate(&p, "app", &candidates, NOW);
    let got: Vec<&str> = decisions.iter().map(|d| d.tag.as_str()).collect();
    assert_eq!(got, names);
    assert!(evaluate(&p, "app", &[], NOW).is_empty());
}

#[test]
fn delete_everything_rule_still_spares_protected_and_fresh() {
    let p = policy("version: 1\nrules:\n  - { name: everything, action: delete }\n");
    let got = verdicts(
        &p,
        "a/b",
        &[
            pushed("latest", 9 * DAY),
            pushed("new", MINUTE),
            pushed("old", 9 * DAY),
            tag("unknown", None, None),
        ],
    );
    assert_eq!(
        got,
        expect(&[
            ("latest", Keep, "protected"),
            ("new", Keep, "freshness"),
            ("old", Delete, "everything"),
            ("unknown", Delete, "everything"),
        ])
    );
}

#[test]
fn reasons_read_as_sentences() {
    let p = policy(
        "version: 1\nrules:\n  - { name: keep-recent, action: keep, newest: 4 }\n  - { name: old-branches, action: delete, tags: { match: 'feature-.*' }, pushed-older-than: 14d }\n  - { name: stale, action: delete, not-pulled-for: 30d }\n  - { name: rc, action: delete, semver: true, tags: { match: '.*-rc.*' } }\n  - { name: all-dev, action: delete, tags: { match: 'dev-.*' } }\n",
    );
    let candidates = [
        pushed("n1", 3 * HOUR),
        pushed("n2", 4 * HOUR),
        pushed("n3", 5 * HOUR),
        pushed("feature-x", 20 * DAY + 3 * HOUR + 5 * MINUTE),
        pushed("cold", 40 * DAY),
        tag("pulled-long-ago", Some(90 * DAY), Some(31 * DAY)),
        pushed("1.0.0-rc.1", 6 * HOUR),
        pushed("dev-1", 6 * HOUR),
        pushed("fresh", 35 * MINUTE),
        pushed("feature-y", 6 * HOUR),
        pushed("other", 6 * HOUR),
    ];
    let decisions = evaluate(&p, "app", &candidates, NOW);
    let reasons: Vec<&str> = decisions.iter().map(|d| d.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "among the 4 newest tags selected by keep-recent",
            "among the 4 newest tags selected by keep-recent",
            "among the 4 newest tags selected by keep-recent",
            "pushed 20d 3h ago, more than 14d (old-branches)",
            "never pulled and pushed 40d ago, more than 30d (stale)",
            "last pulled 31d ago, more than 30d (stale)",
            "a semantic version (rc)",
            "selected by all-dev",
            "pushed 35m ago, inside the 2h freshness window",
            "no rule's conditions hold (selected by keep-recent, old-branches, stale)",
            "no rule's conditions hold (selected by keep-recent, stale)",
        ]
    );
}

#[test]
fn combined_conditions_list_each_one() {
    let p = policy(&format!(
        "{BARE}rules:\n  - {{ name: trim, action: delete, beyond-newest: 1, pushed-within: 30d, pulled-within: 7d }}\n"
    ));
    let decisions = evaluate(
        &p,
        "app",
        &[pushed("new", DAY), tag("old", Some(2 * DAY), Some(HOUR))],
        NOW,
    );
    assert_eq!(decisions[1].verdict, Delete);
    assert_eq!(
        decisions[1].reason,
        "beyond the newest tag selected by trim; pushed 2d ago, within 30d; pulled 1h ago, within 7d"
    );
}

#[test]
fn compiled_and_free_evaluation_agree() {
    let p = policy(
        "version: 1\nrules:\n  - { name: keep-two, action: keep, newest: 2 }\n  - { name: rest, action: delete, pushed-older-than: 1d }\n",
    );
    let candidates = [
        pushed("a", 5 * DAY),
        pushed("b", 4 * DAY),
        pushed("c", 3 * DAY),
        pushed("d", HOUR),
    ];
    let compiled = p.compile().expect("valid");
    assert_eq!(
        compiled.evaluate("app", &candidates, NOW),
        evaluate(&p, "app", &candidates, NOW)
    );
}

#[test]
fn an_invalid_hand_built_policy_deletes_nothing() {
    let mut p = policy("version: 1\nrules:\n  - { name: all, action: delete }\n");
    p.rules[0].tags.matches = Some("(".into());
    let decisions = evaluate(&p, "app", &[pushed("x", 100 * DAY)], NOW);
    assert_eq!(decisions.len(), 1);
    assert_eq!(
        (decisions[0].verdict, decisions[0].rule.as_str()),
        (Keep, "no-rule")
    );
    assert!(
        decisions[0].reason.contains("not valid"),
        "{}",
        decisions[0].reason
    );
}

#[test]
fn verdicts_serialize_kebab_case() {
    assert_eq!(
        serde_json::to_string(&Keep).expect("serializes"),
        "\"keep\""
    );
    assert_eq!(
        serde_json::to_string(&Delete).expect("serializes"),
        "\"delete\""
    );
}
