//! Appending and verifying together: every tampering the chain is meant to
//! catch, made on a real log file and checked for the right line and kind.

use std::path::{Path, PathBuf};

use super::*;

fn actor() -> Actor {
    Actor {
        user: "tester".to_owned(),
        host: Some("box".to_owned()),
        ci: None,
    }
}

fn entry(tag: &str) -> AuditEntry {
    AuditEntry {
        registry: "localhost:5000".to_owned(),
        implementation: "default".to_owned(),
        adapter: AdapterIdentity {
            name: "default".to_owned(),
            version: "0.1.0".to_owned(),
            component_digest: format!("sha256:{}", "a".repeat(64)),
        },
        repository: "team/app".to_owned(),
        tag: Some(tag.to_owned()),
        digest: format!("sha256:{}", "b".repeat(64)),
        media_type: Some("application/vnd.oci.image.manifest.v1+json".to_owned()),
        manifest: Some("e30=".to_owned()),
        rule: "keep-last-3".to_owned(),
        method: "tag-delete".to_owned(),
        outcome: AuditOutcome::Deleted,
    }
}

/// A log of `n` records in a temp dir; returns the dir guard and the path.
fn log_of(n: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state").join("regent").join("audit.jsonl");
    let mut log = AuditLog::open(&path, actor()).expect("open");
    for i in 1..=n {
        log.append(entry(&format!("v{i}"))).expect("append");
    }
    (dir, path)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").expect("write");
}

/// Verify and return (kind, line, seq) of each problem.
fn problems(path: &Path) -> Vec<(ProblemKind, Option<usize>, Option<u64>)> {
    let report = verify(path).expect("verify");
    report
        .problems
        .iter()
        .map(|p| (p.kind, p.line, p.seq))
        .collect()
}

#[test]
fn append_builds_a_chain() {
    let (_dir, path) = log_of(3);
    let records = read_records(&path).expect("read");
    let raw = lines(&path);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].seq, 1);
    assert_eq!(records[0].prev, GENESIS_PREV);
    assert_eq!(records[1].seq, 2);
    assert_eq!(records[1].prev, line_hash(raw[0].as_bytes()));
    assert_eq!(records[2].prev, line_hash(raw[1].as_bytes()));
    assert_eq!(records[2].entry.tag.as_deref(), Some("v3"));
    assert_eq!(records[0].actor, actor());
    let report = verify(&path).expect("verify");
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.records, 3);
    assert_eq!(
        report.head.as_deref(),
        Some(line_hash(raw[2].as_bytes()).as_str())
    );
}

#[test]
fn reopening_continues_the_chain() {
    let (_dir, path) = log_of(2);
    let mut log = AuditLog::open(&path, actor()).expect("reopen");
    let record = log.append(entry("v3")).expect("append");
    assert_eq!(record.seq, 3);
    assert_eq!(record.prev, line_hash(lines(&path)[1].as_bytes()));
    assert_eq!(log.path(), path.as_path());
    assert!(verify(&path).expect("verify").ok());
}

#[test]
fn two_handles_appending_share_one_chain() {
    let (_dir, path) = log_of(0);
    let mut a = AuditLog::open(&path, actor()).expect("a");
    let mut b = AuditLog::open(&path, actor()).expect("b");
    a.append(entry("a1")).expect("a1");
    b.append(entry("b1")).expect("b1");
    a.append(entry("a2")).expect("a2");
    let seqs: Vec<u64> = read_records(&path)
        .expect("read")
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert!(verify(&path).expect("verify").ok());
}

#[test]
fn concurrent_appends_from_threads_stay_intact() {
    let (_dir, path) = log_of(0);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut log = AuditLog::open(&path, actor()).expect("open");
                for i in 0..10 {
                    log.append(entry(&format!("t{t}-{i}"))).expect("append");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let report = verify(&path).expect("verify");
    assert_eq!(report.records, 40);
    assert!(report.ok(), "{:?}", report.problems);
}

#[cfg(unix)]
#[test]
fn creates_private_file_and_directories() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, path) = log_of(1);
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.path().join("state")), 0o700);
    assert_eq!(mode(&dir.path().join("state").join("regent")), 0o700);
}

#[test]
fn refuses_to_append_after_a_partial_last_line() {
    let (_dir, path) = log_of(3);
    let mut raw = lines(&path);
    raw[2].truncate(30);
    std::fs::write(&path, raw.join("\n")).expect("write");
    let err = AuditLog::open(&path, actor()).expect_err("must refuse");
    let text = err.to_string();
    assert!(
        matches!(err, AuditError::BrokenTail { line: 3, .. }),
        "{text}"
    );
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("last line (3)"), "{text}");
    assert!(text.contains("regent audit verify"), "{text}");
}

#[test]
fn refuses_a_trailing_empty_line_and_appends_after_a_missing_newline() {
    let (_dir, path) = log_of(2);
    let content = std::fs::read(&path).expect("read");
    std::fs::write(&path, [&content[..], b"\n"].concat()).expect("write");
    assert!(matches!(
        AuditLog::open(&path, actor()),
        Err(AuditError::BrokenTail { line: 3, .. })
    ));
    // Without its final newline the last record is still whole: continue.
    std::fs::write(&path, &content[..content.len() - 1]).expect("write");
    let mut log = AuditLog::open(&path, actor()).expect("open");
    assert_eq!(log.append(entry("v3")).expect("append").seq, 3);
    assert!(verify(&path).expect("verify").ok());
}

#[test]
fn reading_a_missing_log_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope.jsonl");
    let err = read_records(&path).expect_err("missing");
    assert!(matches!(err, AuditError::NotFound { .. }));
    assert!(err.to_string().contains("nope.jsonl"), "{err}");
    assert!(matches!(verify(&path), Err(AuditError::NotFound { .. })));
}

#[test]
fn read_records_names_the_bad_line() {
    let (_dir, path) = log_of(3);
    let mut raw = lines(&path);
    raw[1] = "{not json".to_owned();
    write_lines(&path, &raw);
    let err = read_records(&path).expect_err("bad line");
    assert!(
        matches!(err, AuditError::InvalidRecord { line: 2, .. }),
        "{err}"
    );
}

#[test]
fn empty_log_is_intact() {
    let (_dir, path) = log_of(0);
    let report = verify(&path).expect("verify");
    assert!(report.ok());
    assert_eq!(report.records, 0);
    assert_eq!(report.head, None);
}

#[test]
fn edited_middle_record_is_named() {
    let (_dir, path) = log_of(5);
    let mut raw = lines(&path);
    raw[2] = raw[2].replace("\"v3\"", "\"v9\"");
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Edited, Some(3), Some(3))]
    );
    let report = verify(&path).expect("verify");
    assert!(
        report.problems[0]
            .message
            .contains("line 3 (seq 3) was edited")
    );
    assert!(report.problems[0].message.contains("line 4 (seq 4)"));
}

#[test]
fn edited_first_record_is_named() {
    let (_dir, path) = log_of(3);
    let mut raw = lines(&path);
    raw[0] = raw[0].replace("tester", "someone");
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Edited, Some(1), Some(1))]
    );
}

#[test]
fn edited_seq_is_an_edit_not_a_removal() {
    let (_dir, path) = log_of(5);
    let mut raw = lines(&path);
    raw[2] = raw[2].replace("\"seq\":3", "\"seq\":2");
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Edited, Some(3), Some(2))]
    );
}

#[test]
fn edited_last_record_needs_the_anchor() {
    let (_dir, path) = log_of(3);
    let head = verify(&path).expect("verify").head.expect("head");
    let mut raw = lines(&path);
    raw[2] = raw[2].replace("\"v3\"", "\"v9\"");
    write_lines(&path, &raw);
    assert!(
        verify(&path).expect("verify").ok(),
        "chain alone cannot see it"
    );
    let anchored = verify_with_anchor(&path, Some(&head)).expect("verify");
    assert_eq!(anchored.problems.len(), 1);
    assert_eq!(anchored.problems[0].kind, ProblemKind::Anchor);
    // An anchor taken earlier is still found after more appends.
    let (_d2, other) = log_of(2);
    let early = verify(&other).expect("verify").head.expect("head");
    AuditLog::open(&other, actor())
        .expect("open")
        .append(entry("v3"))
        .expect("append");
    assert!(
        verify_with_anchor(&other, Some(&format!("sha256:{early}")))
            .expect("v")
            .ok()
    );
}

#[test]
fn removed_middle_record_is_a_seq_gap() {
    let (_dir, path) = log_of(5);
    let mut raw = lines(&path);
    raw.remove(2);
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Removed, Some(3), Some(4))]
    );
    let message = &verify(&path).expect("verify").problems[0].message;
    assert!(message.contains("record seq 3 was removed"), "{message}");
}

#[test]
fn removed_records_at_the_start() {
    let (_dir, path) = log_of(5);
    let raw = lines(&path);
    write_lines(&path, &raw[2..]);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Removed, Some(1), Some(3))]
    );
    let message = &verify(&path).expect("verify").problems[0].message;
    assert!(
        message.contains("records seq 1 to 2 were removed"),
        "{message}"
    );
}

/// A forged record that copies line 2's successor shape: correct `prev`
/// (the hash of line 2) and the plausible seq 3.
fn forged_after_line_2(raw: &[String]) -> String {
    let mut record: AuditRecord = serde_json::from_str(&raw[2]).expect("record");
    record.entry.tag = Some("forged".to_owned());
    record.prev = line_hash(raw[1].as_bytes());
    serde_json::to_string(&record).expect("json")
}

#[test]
fn inserted_record_with_a_correct_prev_is_named() {
    let (_dir, path) = log_of(5);
    let mut raw = lines(&path);
    let forged = forged_after_line_2(&raw);
    raw.insert(2, forged);
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Inserted, Some(3), Some(3))]
    );
}

#[test]
fn inserted_record_with_a_wrong_prev_is_named() {
    let (_dir, path) = log_of(5);
    let mut raw = lines(&path);
    let forged = forged_after_line_2(&raw).replace(&line_hash(raw[1].as_bytes()), &"f".repeat(64));
    raw.insert(2, forged);
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Inserted, Some(3), Some(3))]
    );
}

#[test]
fn inserted_record_with_a_wrong_seq_is_named_once() {
    let (_dir, path) = log_of(5);
    let mut raw = lines(&path);
    let forged = forged_after_line_2(&raw).replace("\"seq\":3", "\"seq\":7");
    raw.insert(2, forged);
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Inserted, Some(3), Some(7))]
    );
}

#[test]
fn inserted_first_record_is_named() {
    let (_dir, path) = log_of(3);
    let mut raw = lines(&path);
    let mut record: AuditRecord = serde_json::from_str(&raw[0]).expect("record");
    record.entry.tag = Some("forged".to_owned());
    raw.insert(0, serde_json::to_string(&record).expect("json"));
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Inserted, Some(1), Some(1))]
    );
}

#[test]
fn swapped_neighbours_are_reordered() {
    let (_dir, path) = log_of(5);
    let mut raw = lines(&path);
    raw.swap(1, 2);
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Reordered, Some(2), Some(3))]
    );
    let message = &verify(&path).expect("verify").problems[0].message;
    assert!(message.contains("line 3 (seq 2)"), "{message}");
}

#[test]
fn record_moved_to_the_end_is_reordered() {
    let (_dir, path) = log_of(5);
    let mut raw = lines(&path);
    let moved = raw.remove(2);
    raw.push(moved);
    write_lines(&path, &raw);
    let found = problems(&path);
    assert_eq!(found, vec![(ProblemKind::Reordered, Some(3), Some(4))]);
}

#[test]
fn truncated_middle_line_is_invalid_with_its_apparent_seq() {
    let (_dir, path) = log_of(5);
    let mut raw = lines(&path);
    raw[2].truncate(40);
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Invalid, Some(3), Some(3))]
    );
}

#[test]
fn partial_last_line_is_invalid() {
    let (_dir, path) = log_of(3);
    let mut raw = lines(&path);
    raw[2].truncate(5);
    write_lines(&path, &raw);
    let report = verify(&path).expect("verify");
    assert_eq!(report.records, 2);
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].kind, ProblemKind::Invalid);
    assert_eq!(report.problems[0].line, Some(3));
    assert!(report.problems[0].message.contains("interrupted write"));
}

#[test]
fn duplicated_record_is_named() {
    let (_dir, path) = log_of(4);
    let mut raw = lines(&path);
    let copy = raw[1].clone();
    raw.insert(2, copy);
    write_lines(&path, &raw);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Duplicate, Some(3), Some(2))]
    );
}

#[test]
fn empty_line_in_the_middle_is_invalid() {
    let (_dir, path) = log_of(3);
    let mut raw = lines(&path);
    raw.insert(1, String::new());
    write_lines(&path, &raw);
    assert_eq!(problems(&path), vec![(ProblemKind::Invalid, Some(2), None)]);
}

#[test]
fn wrong_seq_with_a_correct_prev_is_a_sequence_problem() {
    // Hand-made chain: record 2 says seq 5 but links correctly; record 3
    // links to it and carries seq 6.
    let (_dir, path) = log_of(1);
    let raw = lines(&path);
    let mut second: AuditRecord = serde_json::from_str(&raw[0]).expect("r");
    second.seq = 5;
    second.prev = line_hash(raw[0].as_bytes());
    let second = serde_json::to_string(&second).expect("json");
    let mut third: AuditRecord = serde_json::from_str(&raw[0]).expect("r");
    third.seq = 6;
    third.prev = line_hash(second.as_bytes());
    let third = serde_json::to_string(&third).expect("json");
    write_lines(&path, &[raw[0].clone(), second, third]);
    assert_eq!(
        problems(&path),
        vec![(ProblemKind::Sequence, Some(2), Some(5))]
    );
}
