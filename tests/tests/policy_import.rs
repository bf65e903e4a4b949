//! `regent policy import` and `regent policy check` as a platform team runs
//! them: each registry's sample policy (`tests/fixtures/policy-import/`)
//! through the binary, the YAML read back with regent's own parser, the
//! JSON form, refusals, and the --out / --force / --exact choices.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use regent::cleanup::policy::{Action, Policy, UntaggedRule};
use regent_tests::cli::{regent, shared_cache_dir, success};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/policy-import")
        .join(name)
}

fn policy_cmd(args: &[&str]) -> Command {
    let mut command = regent(&shared_cache_dir());
    command.arg("policy").args(args);
    command
}

fn import(from: &str, file: &str, extra: &[&str]) -> Output {
    let path = fixture(file);
    let path = path.to_str().expect("fixture path is UTF-8");
    let mut args = vec!["import", "--from", from, path];
    args.extend_from_slice(extra);
    success(&mut policy_cmd(&args))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Run expecting failure; returns stderr, and checks stdout stayed empty.
fn failure(command: &mut Command) -> String {
    let output = command.output().expect("run regent");
    assert!(
        !output.status.success(),
        "regent succeeded but should not have:\n{}",
        stdout(&output)
    );
    assert!(output.stdout.is_empty(), "stdout: {}", stdout(&output));
    stderr(&output)
}

/// The YAML on stdout, parsed and validated as `regent cleanup` would.
fn parsed(output: &Output) -> Policy {
    Policy::parse(&stdout(output), "stdout").expect("the imported YAML is a valid policy")
}

fn rule<'a>(policy: &'a Policy, name: &str) -> &'a regent::cleanup::policy::Rule {
    policy
        .rules
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no rule {name} in {policy:?}"))
}

#[test]
fn ecr_lifecycle_policy_imports_with_priorities_kept() {
    let output = import("ecr", "ecr-lifecycle.json", &[]);
    let text = stdout(&output);
    assert!(
        text.starts_with("# regent retention policy imported from ECR"),
        "{text}"
    );
    let policy = parsed(&output);
    assert_eq!(policy.rules.len(), 3, "{policy:?}");
    assert!(policy.rules.iter().all(|r| r.action == Action::Delete));
    let releases = rule(&policy, "ecr-1-keep-the-30-newest-release-images");
    assert_eq!(releases.beyond_newest, Some(30));
    assert_eq!(releases.tags.matches.as_deref(), Some(r"v.*\..*\..*"));
    let feature = rule(&policy, "ecr-10-expire-feature-branch-builds-after-14");
    assert_eq!(feature.tags.matches.as_deref(), Some("feature-.*"));
    assert!(feature.pushed_older_than.is_some());
    let cap = rule(&policy, "ecr-100-keep-at-most-200-images");
    assert_eq!(cap.tags.matches, None);
    assert_eq!(cap.tags.exclude.as_deref(), Some(r"v.*\..*\..*|feature-.*"));
    assert_eq!(policy.untagged, UntaggedRule::Delete);
    assert_eq!(policy.protected_tags, vec!["latest".to_owned()]);
    let warnings = stderr(&output);
    assert!(warnings.contains("regent: warning: "), "{warnings}");
    assert!(warnings.contains("rulePriority 1, 10"), "{warnings}");
    assert!(
        text.contains("#   - rule with rulePriority 20 expires untagged"),
        "{text}"
    );
}

#[test]
fn ecr_get_lifecycle_policy_output_and_exact() {
    let output = import("ecr", "ecr-get-lifecycle-policy.json", &["--exact"]);
    let policy = parsed(&output);
    assert!(policy.protected_tags.is_empty());
    assert_eq!(policy.freshness.0, std::time::Duration::ZERO);
    assert_eq!(policy.rules[0].tags.matches.as_deref(), Some("prod.*"));
    assert!(!stderr(&output).contains("--exact"), "{}", stderr(&output));
}

#[test]
fn ecr_rule_regent_cannot_express_is_refused_naming_the_field() {
    let path = fixture("ecr-multiple-prefixes.json");
    let path = path.to_str().expect("UTF-8");
    let error = failure(&mut policy_cmd(&["import", "--from", "ecr", path]));
    assert!(error.contains("ecr-multiple-prefixes.json"), "{error}");
    assert!(error.contains("rulePriority 1"), "{error}");
    assert!(error.contains("`selection.tagPrefixList`"), "{error}");
}

#[test]
fn gitlab_project_json_imports_as_one_delete_rule() {
    let output = import("gitlab", "gitlab-project.json", &[]);
    let policy = parsed(&output);
    let [cleanup] = policy.rules.as_slice() else {
        panic!("one rule: {policy:?}")
    };
    assert_eq!(cleanup.name, "gitlab-cleanup");
    assert_eq!(
        cleanup.tags.matches, None,
        "name_regex `.*` selects every tag"
    );
    assert_eq!(
        cleanup.tags.exclude.as_deref(),
        Some("latest|(?:v.+|main|stable)")
    );
    assert_eq!(cleanup.beyond_newest, Some(10));
    assert_eq!(
        cleanup.pushed_older_than.map(|d| d.0.as_secs()),
        Some(14 * 86_400)
    );
    assert_eq!(policy.protected_tags, vec!["latest".to_owned()]);
    assert!(
        stderr(&output).contains("cadence 1d"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn gitlab_attributes_from_stdin_keep_gitlabs_anchoring() {
    let file = std::fs::File::open(fixture("gitlab-attributes.json")).expect("fixture");
    let output = success(policy_cmd(&["import", "--from", "gitlab", "-"]).stdin(Stdio::from(file)));
    let text = stdout(&output);
    assert!(text.contains("(standard input)"), "{text}");
    let policy = parsed(&output);
    let matches = policy.rules[0]
        .tags
        .matches
        .as_deref()
        .expect("a tag regex");
    assert_eq!(matches, r".*(?:\Afeature-.*|mr-[0-9]+\z).*");
    let warnings = stderr(&output);
    assert!(warnings.contains("enabled: false"), "{warnings}");
    assert!(warnings.contains("top-level `|`"), "{warnings}");
}

#[test]
fn harbor_retention_policy_becomes_keep_rules_and_not_retained() {
    let output = import("harbor", "harbor-retention.json", &[]);
    let policy = parsed(&output);
    let names: Vec<&str> = policy.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "harbor-1-retain-10-latest-pushed",
            "harbor-2-retain-pushed-within-90d",
            "harbor-3-retain-always",
            "not-retained"
        ],
        "the disabled rule is skipped"
    );
    let pushed = rule(&policy, "harbor-2-retain-pushed-within-90d");
    assert_eq!(pushed.action, Action::Keep);
    assert_eq!(pushed.repositories.include, vec!["*/backend/**".to_owned()]);
    assert_eq!(pushed.tags.matches.as_deref(), Some("(?:v.*|release-.*)"));
    assert_eq!(
        pushed.pushed_within.map(|d| d.0.as_secs()),
        Some(90 * 86_400)
    );
    let always = rule(&policy, "harbor-3-retain-always");
    assert_eq!(always.repositories.exclude, vec!["*/sandbox-*".to_owned()]);
    let rest = rule(&policy, "not-retained");
    assert_eq!(rest.action, Action::Delete);
    assert_eq!((rest.tags.matches.as_ref(), rest.newest), (None, None));
    let warnings = stderr(&output);
    assert!(
        warnings.contains("rules[3] (nDaysSinceLastPull) is disabled"),
        "{warnings}"
    );
    assert!(warnings.contains("relative to the project"), "{warnings}");
}

#[test]
fn json_output_carries_policy_and_warnings() {
    let output = import("harbor", "harbor-retention.json", &["--output", "json"]);
    let json: Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(json["policy"]["version"], 1);
    assert_eq!(json["policy"]["rules"][3]["name"], "not-retained");
    let warnings = json["warnings"].as_array().expect("warnings array");
    assert!(!warnings.is_empty());
    assert!(stderr(&output).contains("regent: warning: "));
}

#[test]
fn out_file_is_never_overwritten_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("policy.yaml");
    let out_arg = out.to_str().expect("UTF-8");
    let written = import("gitlab", "gitlab-project.json", &["--out", out_arg]);
    assert!(stdout(&written).contains("wrote"), "{}", stdout(&written));
    let first = std::fs::read_to_string(&out).expect("written");
    Policy::parse(&first, "policy.yaml").expect("valid");

    std::fs::write(&out, "precious\n").expect("overwrite for the test");
    let source = fixture("gitlab-project.json");
    let source = source.to_str().expect("UTF-8");
    let error = failure(&mut policy_cmd(&[
        "import", "--from", "gitlab", source, "--out", out_arg,
    ]));
    assert!(error.contains("--force"), "{error}");
    assert_eq!(std::fs::read_to_string(&out).expect("kept"), "precious\n");

    import(
        "gitlab",
        "gitlab-project.json",
        &["--out", out_arg, "--force"],
    );
    assert_eq!(std::fs::read_to_string(&out).expect("replaced"), first);
}

#[test]
fn check_summarises_a_valid_policy_and_refuses_an_invalid_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        stdout(&import("harbor", "harbor-retention.json", &[])),
    )
    .expect("write");
    let good_arg = good.to_str().expect("UTF-8");
    let summary = stdout(&success(&mut policy_cmd(&["check", good_arg])));
    assert!(summary.contains("is valid: 4 rules"), "{summary}");
    let keep = summary
        .lines()
        .find(|l| l.contains("harbor-1-retain-10-latest-pushed"))
        .expect("one line per rule");
    assert!(
        keep.starts_with("keep") && keep.contains("10 newest"),
        "{keep}"
    );
    let json = success(&mut policy_cmd(&["check", good_arg, "--output", "json"]));
    let value: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value["rules"][0]["newest"], 10);

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "version: 1\nrules:\n  - name: a\n    action: keep\n    newest: 0\n",
    )
    .expect("write");
    let error = failure(&mut policy_cmd(&["check", bad.to_str().expect("UTF-8")]));
    assert!(error.contains("bad.yaml is not valid"), "{error}");
    assert!(error.contains("rule `a`"), "{error}");
}

#[test]
fn help_teaches_the_differences() {
    let help = stdout(&success(&mut policy_cmd(&["import", "--help"])));
    for needle in [
        "Examples:",
        "rulePriority",
        "not-retained",
        "--exact",
        "name_regex",
    ] {
        assert!(help.contains(needle), "`{needle}` missing from:\n{help}");
    }
    let check = stdout(&success(&mut policy_cmd(&["check", "--help"])));
    assert!(check.contains("exits 1"), "{check}");
}
