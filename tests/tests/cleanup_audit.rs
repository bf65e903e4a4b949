//! The deletion audit log end to end: a log written through the library
//! API the cleanup uses, then `regent audit verify` and `regent audit show`
//! as a user or CI script runs them — including every kind of tampering the
//! hash chain is there to catch, each named by line and seq.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use regent::cleanup::audit::{
    Actor, AdapterIdentity, AuditEntry, AuditLog, AuditOutcome, AuditRecord, line_hash,
};
use regent_tests::cli::{regent, shared_cache_dir, success};
use serde_json::Value;

fn entry(repository: &str, tag: &str) -> AuditEntry {
    AuditEntry {
        registry: "localhost:5000".to_owned(),
        implementation: "default".to_owned(),
        adapter: AdapterIdentity {
            name: "default".to_owned(),
            version: "0.1.0".to_owned(),
            component_digest: format!("sha256:{}", "a".repeat(64)),
        },
        repository: repository.to_owned(),
        tag: Some(tag.to_owned()),
        digest: format!("sha256:{}{tag}", "0123456789abcdef"),
        media_type: Some("application/vnd.oci.image.manifest.v1+json".to_owned()),
        manifest: Some("eyJzY2hlbWFWZXJzaW9uIjoyfQ==".to_owned()),
        rule: "keep-last-2".to_owned(),
        method: "tag-delete".to_owned(),
        outcome: AuditOutcome::Deleted,
    }
}

/// A log of five deletions (tags v1..v5 of team/app) written the way
/// `regent cleanup` writes it.
fn five_record_log() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("logs").join("audit.jsonl");
    let actor = Actor::from_env(
        |name| (name == "USER").then(|| "auditor".to_owned()),
        Some("ci-box".to_owned()),
    );
    let mut log = AuditLog::open(&path, actor).expect("open the log");
    for i in 1..=5 {
        let record = log
            .append(entry("team/app", &format!("v{i}")))
            .expect("append");
        assert_eq!(record.seq, i);
    }
    (dir, path)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read log")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").expect("write log");
}

/// `regent audit ARGS` with no audit log inherited from the environment.
fn audit(args: &[&str]) -> Command {
    let mut command = regent(&shared_cache_dir());
    command
        .arg("audit")
        .args(args)
        .env_remove("REGENT_AUDIT_LOG");
    command
}

fn verify(path: &Path, json: bool) -> Output {
    let mut command = audit(&["verify", "--audit-log"]);
    command.arg(path);
    if json {
        command.args(["--output", "json"]);
    }
    command.output().expect("run regent")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Verify a tampered log: exit code 1, the table names `expect` (e.g.
/// `line 3 (seq 3)`), and the JSON has exactly one problem of `kind` at
/// `line`/`seq`.
fn assert_tampered(path: &Path, expect: &str, kind: &str, line: u64, seq: u64) {
    let table = verify(path, false);
    assert_eq!(
        table.status.code(),
        Some(1),
        "verify must fail:\n{}{}",
        stdout(&table),
        String::from_utf8_lossy(&table.stderr)
    );
    let text = stdout(&table);
    assert!(text.contains("1 problem:"), "{text}");
    assert!(text.contains(expect), "expected `{expect}` in:\n{text}");

    let json = verify(path, true);
    assert_eq!(json.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    assert_eq!(report["intact"], false);
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{report:#}");
    assert_eq!(problems[0]["kind"], kind, "{report:#}");
    assert_eq!(problems[0]["line"], line, "{report:#}");
    assert_eq!(problems[0]["seq"], seq, "{report:#}");
    assert!(
        problems[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(expect)),
        "{report:#}"
    );
}

#[test]
fn intact_log_verifies() {
    let (_dir, path) = five_record_log();
    let out = verify(&path, false);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "audit log {}: 5 records, chain intact\n",
            path.display()
        )),
        "{text}"
    );
    let head = line_hash(lines(&path)[4].as_bytes());
    assert!(text.contains(&head), "the head hash is printed: {text}");

    let json = verify(&path, true);
    assert_eq!(json.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(report["path"], path.display().to_string());
    assert_eq!(report["records"], 5);
    assert_eq!(report["intact"], true);
    assert_eq!(report["head"], head);
    assert_eq!(report["problems"], serde_json::json!([]));
}

#[test]
fn edited_middle_record_is_named() {
    let (_dir, path) = five_record_log();
    let mut raw = lines(&path);
    raw[2] = raw[2].replace("keep-last-2", "manual");
    write_lines(&path, &raw);
    assert_tampered(&path, "line 3 (seq 3) was edited", "edited", 3, 3);
}

#[test]
fn dropped_record_is_named() {
    let (_dir, path) = five_record_log();
    let mut raw = lines(&path);
    raw.remove(2);
    write_lines(&path, &raw);
    assert_tampered(&path, "record seq 3 was removed", "removed", 3, 4);
}

#[test]
fn inserted_forged_record_is_named() {
    let (_dir, path) = five_record_log();
    let mut raw = lines(&path);
    // A careful forger: seq 3 and a correct `prev` (the hash of line 2).
    let mut forged: AuditRecord = serde_json::from_str(&raw[2]).expect("record");
    forged.entry.tag = Some("release-1.0".to_owned());
    forged.prev = line_hash(raw[1].as_bytes());
    raw.insert(2, serde_json::to_string(&forged).expect("JSON"));
    write_lines(&path, &raw);
    assert_tampered(&path, "line 3 (seq 3) was inserted", "inserted", 3, 3);
}

#[test]
fn swapped_records_are_named() {
    let (_dir, path) = five_record_log();
    let mut raw = lines(&path);
    raw.swap(1, 2);
    write_lines(&path, &raw);
    assert_tampered(&path, "line 2 (seq 3) is out of order", "reordered", 2, 3);
    let text = stdout(&verify(&path, false));
    assert!(text.contains("line 3 (seq 2)"), "{text}");
}

#[test]
fn truncated_line_is_named() {
    let (_dir, path) = five_record_log();
    let mut raw = lines(&path);
    let half = raw[3].len() / 2;
    raw[3].truncate(half);
    write_lines(&path, &raw);
    assert_tampered(
        &path,
        "line 4 (apparently seq 4) is not a valid audit record",
        "invalid",
        4,
        4,
    );
    // Appending to a log with a cut last line is refused; in the middle it
    // is the verifier's business.
    let mut raw = lines(&path);
    raw.truncate(4);
    std::fs::write(&path, raw.join("\n")).expect("write");
    let err = AuditLog::open(&path, Actor::detect()).expect_err("must refuse");
    assert!(err.to_string().contains("last line (4)"), "{err}");
}

#[test]
fn anchor_catches_an_edit_of_the_last_record() {
    let (_dir, path) = five_record_log();
    let head = line_hash(lines(&path)[4].as_bytes());
    let mut raw = lines(&path);
    raw[4] = raw[4].replace("\"v5\"", "\"v6\"");
    write_lines(&path, &raw);
    assert_eq!(
        verify(&path, false).status.code(),
        Some(0),
        "the chain alone cannot see it"
    );
    let out = audit(&["verify", "--anchor", &head, "--audit-log"])
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains(&head), "{}", stdout(&out));
}

#[test]
fn missing_log_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("never-written.jsonl");
    let out = verify(&path, false);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

/// A valid chain whose first three records are dated 2020, the last two
/// now: rewrite the times and recompute every `prev`.
fn log_with_old_records() -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = five_record_log();
    let mut prev = "0".repeat(64);
    let mut out = Vec::new();
    for (i, line) in lines(&path).iter().enumerate() {
        let mut record: AuditRecord = serde_json::from_str(line).expect("record");
        if i < 3 {
            record.time = format!("2020-01-0{}T00:00:00Z", i + 1);
        }
        if i == 4 {
            record.entry.repository = "team/other".to_owned();
        }
        record.prev = prev;
        let text = serde_json::to_string(&record).expect("JSON");
        prev = line_hash(text.as_bytes());
        out.push(text);
    }
    write_lines(&path, &out);
    assert_eq!(
        verify(&path, false).status.code(),
        Some(0),
        "rechained log is intact"
    );
    (dir, path)
}

fn show(path: &Path, args: &[&str]) -> String {
    let out = success(audit(&["show"]).args(args).arg("--audit-log").arg(path));
    stdout(&out)
}

fn seqs_of(table: &str) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn show_lists_records_as_a_table() {
    let (_dir, path) = log_with_old_records();
    let table = show(&path, &[]);
    let header: Vec<&str> = table
        .lines()
        .next()
        .expect("header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "SEQ",
            "TIME",
            "ACTOR",
            "REPOSITORY",
            "TAG",
            "DIGEST",
            "RULE",
            "OUTCOME"
        ]
    );
    assert_eq!(seqs_of(&table), ["1", "2", "3", "4", "5"]);
    let first = table.lines().nth(1).expect("row");
    for cell in [
        "2020-01-01T00:00:00Z",
        "auditor@ci-box",
        "localhost:5000/team/app",
        "v1",
        "sha256:0123456789ab",
        "keep-last-2",
        "deleted",
    ] {
        assert!(first.contains(cell), "`{cell}` missing from `{first}`");
    }
    assert!(
        !first.contains("sha256:0123456789abcdef"),
        "digest is shortened: {first}"
    );
}

#[test]
fn show_since_filters_by_duration_and_time() {
    let (_dir, path) = log_with_old_records();
    assert_eq!(seqs_of(&show(&path, &["--since", "24h"])), ["4", "5"]);
    assert_eq!(
        seqs_of(&show(&path, &["--since", "2020-01-02T00:00:00Z"])),
        ["2", "3", "4", "5"]
    );
    assert_eq!(
        seqs_of(&show(&path, &["--since", "2020-01-02T01:00:00+02:00"])),
        ["2", "3", "4", "5"]
    );
    let bad = audit(&["show", "--since", "last tuesday", "--audit-log"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--since"));
}

#[test]
fn show_repo_filters() {
    let (_dir, path) = log_with_old_records();
    assert_eq!(seqs_of(&show(&path, &["--repo", "team/other"])), ["5"]);
    assert_eq!(
        seqs_of(&show(&path, &["--repo", "localhost:5000/team/app"])),
        ["1", "2", "3", "4"]
    );
    assert_eq!(
        seqs_of(&show(&path, &["--repo", "localhost:5000/team"])).len(),
        5
    );
}

#[test]
fn show_json_omits_manifests_unless_asked() {
    let (_dir, path) = log_with_old_records();
    let records: Value =
        serde_json::from_str(&show(&path, &["--since", "24h", "--output", "json"])).expect("JSON");
    let records = records.as_array().expect("array");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["seq"], 4);
    assert_eq!(records[0]["tag"], "v4");
    assert_eq!(records[0]["actor"]["user"], "auditor");
    assert_eq!(records[0]["outcome"]["status"], "deleted");
    assert!(records[0].get("manifest").is_none(), "{:#}", records[0]);
    assert_eq!(records[0]["prev"], line_hash(lines(&path)[2].as_bytes()));

    let with: Value = serde_json::from_str(&show(&path, &["--output", "json", "--with-manifests"]))
        .expect("JSON");
    assert_eq!(with[0]["manifest"], "eyJzY2hlbWFWZXJzaW9uIjoyfQ==");
    // As stored: each JSON record parses back into the library type.
    let parsed: AuditRecord = serde_json::from_value(with[4].clone()).expect("record");
    assert_eq!(parsed.seq, 5);
}

#[test]
fn audit_log_comes_from_the_environment() {
    let (_dir, path) = five_record_log();
    let out = success(audit(&["verify"]).env("REGENT_AUDIT_LOG", &path));
    assert!(
        stdout(&out).contains("5 records, chain intact"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn help_teaches_with_examples() {
    for sub in ["verify", "show"] {
        let out = success(&mut audit(&[sub, "--help"]));
        let help = stdout(&out);
        assert!(help.contains("Examples:"), "{help}");
        assert!(help.contains("--audit-log"), "{help}");
        assert!(help.contains("REGENT_AUDIT_LOG"), "{help}");
    }
}
