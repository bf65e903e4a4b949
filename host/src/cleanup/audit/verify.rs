//! Checking the chain: which record was edited, removed, inserted or
//! moved, by line number and seq.
//!
//! Each record stores the hash of the line before it, so:
//! - an edited record no longer hashes to what its successor stored;
//! - a removed record leaves a seq gap and a `prev` naming no line;
//! - an inserted record is one no other record vouches for, sitting
//!   between a record and the line that record's successor points to;
//! - a moved record points at a line that comes *after* it.
//!
//! A line is "vouched for" when some record's `prev` is its hash: its
//! successor saw exactly these bytes, so the line is unedited.
//!
//! Limitation: the last record has no successor, so an edit of it, or the
//! removal of the last records, is not visible in the chain alone (no
//! unkeyed scheme can do better: whoever edits the last line can recompute
//! anything derived from it). [`VerifyReport::head`] is the hash of the last
//! line; kept somewhere else (a CI log, a ticket) and passed back through
//! [`verify_with_anchor`], it closes that gap.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::chain::{GENESIS_PREV, line_hash, split_lines};
use super::error::AuditError;
use super::read::{parse_line, read_log_bytes};
use super::record::AuditRecord;

/// The result of checking a log's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// The log checked.
    pub path: PathBuf,
    /// Lines that are valid records.
    pub records: usize,
    /// SHA-256 of the last line: keep it elsewhere and pass it as the
    /// anchor later to detect an edit of the last record or a cut tail.
    pub head: Option<String>,
    /// Everything wrong, by line; empty when the chain is intact.
    pub problems: Vec<ChainProblem>,
}

impl VerifyReport {
    /// Whether the chain is intact (no problem found).
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One thing wrong with the chain, tied to the line it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainProblem {
    /// 1-based line the problem is about (the edited, inserted or moved
    /// record; the first record after a removal); `None` for the anchor.
    pub line: Option<usize>,
    /// That line's seq, where it has one.
    pub seq: Option<u64>,
    /// What kind of tampering or damage it looks like.
    pub kind: ProblemKind,
    /// The explanation, naming the lines involved.
    pub message: String,
}

/// What a chain problem looks like, as precisely as the chain allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The line does not parse as a record (truncated, hand-edited, empty).
    Invalid,
    /// The line repeats an earlier line byte for byte.
    Duplicate,
    /// The record's bytes changed after its successor was written.
    Edited,
    /// Records are missing (a seq gap where the chain breaks).
    Removed,
    /// The record is not part of the chain: nothing vouches for it.
    Inserted,
    /// The record sits before a record it was written after.
    Reordered,
    /// The hash link holds but the seq does not follow.
    Sequence,
    /// The chain breaks and the cause cannot be narrowed down.
    BrokenLink,
    /// No line hashes to the anchor given.
    Anchor,
}

/// Check the chain of the log at `path`.
pub fn verify(path: &Path) -> Result<VerifyReport, AuditError> {
    verify_with_anchor(path, None)
}

/// Check the chain, and that some line still hashes to `anchor` (a
/// [`VerifyReport::head`] kept from an earlier check).
pub fn verify_with_anchor(path: &Path, anchor: Option<&str>) -> Result<VerifyReport, AuditError> {
    let content = read_log_bytes(path)?;
    let mut report = verify_bytes(&content);
    report.path = path.to_path_buf();
    if let Some(anchor) =
        anchor.map(|a| a.trim().trim_start_matches("sha256:").to_ascii_lowercase())
    {
        let found = split_lines(&content).iter().any(|l| line_hash(l) == anchor);
        if !found {
            report.problems.push(ChainProblem {
                line: None,
                seq: None,
                kind: ProblemKind::Anchor,
                message: format!(
                    "no line hashes to the anchor {anchor}: the record that was last when the anchor was taken \
                     was edited, or it and the records after it were removed"
                ),
            });
        }
    }
    Ok(report)
}

/// Check a log's content (the path in the report is left empty).
pub fn verify_bytes(content: &[u8]) -> VerifyReport {
    let lines: Vec<Line> = split_lines(content)
        .into_iter()
        .map(|bytes| Line {
            hash: line_hash(bytes),
            record: parse_line(bytes),
            bytes,
        })
        .collect();
    let mut check = Check::new(&lines);
    check.run();
    let mut problems = check.problems;
    problems.sort_by_key(|p| p.line);
    VerifyReport {
        path: PathBuf::new(),
        records: lines.iter().filter(|l| l.record.is_ok()).count(),
        head: lines.last().map(|l| l.hash.clone()),
        problems,
    }
}

struct Line<'a> {
    bytes: &'a [u8],
    hash: String,
    record: Result<AuditRecord, String>,
}

/// Where a record's `prev` points.
#[derive(Clone, Copy)]
enum Origin {
    /// 64 zeros: the record claims to be first.
    Genesis,
    /// The hash of the line at this index.
    Line(usize),
    /// No line of the log.
    Nowhere,
}

/// One pass over the lines; indices are 0-based, messages 1-based.
struct Check<'a> {
    lines: &'a [Line<'a>],
    /// Line index by hash (first occurrence).
    by_hash: HashMap<&'a str, usize>,
    /// For each line, the lines whose `prev` is its hash.
    vouched_by: Vec<Vec<usize>>,
    /// Lines a problem already explains.
    blamed: Vec<bool>,
    /// Lines whose `prev` matches but whose seq does not follow:
    /// (line, good line before it, expected seq).
    seq_suspects: Vec<(usize, Option<usize>, u64)>,
    problems: Vec<ChainProblem>,
}

impl<'a> Check<'a> {
    fn new(lines: &'a [Line<'a>]) -> Self {
        let mut by_hash = HashMap::new();
        for (i, line) in lines.iter().enumerate() {
            by_hash.entry(line.hash.as_str()).or_insert(i);
        }
        let mut vouched_by = vec![Vec::new(); lines.len()];
        for (v, line) in lines.iter().enumerate() {
            if let Ok(r) = &line.record
                && let Some(&x) = by_hash.get(r.prev.as_str())
                && x != v
            {
                vouched_by[x].push(v);
            }
        }
        Check {
            lines,
            by_hash,
            vouched_by,
            blamed: vec![false; lines.len()],
            seq_suspects: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn seq(&self, i: usize) -> Option<u64> {
        self.lines[i].record.as_ref().ok().map(|r| r.seq)
    }

    /// `line 3 (seq 3)`.
    fn name(&self, i: usize) -> String {
        match self.seq(i) {
            Some(seq) => format!("line {} (seq {seq})", i + 1),
            None => format!("line {}", i + 1),
        }
    }

    fn report(&mut self, i: usize, kind: ProblemKind, message: String) {
        self.blamed[i] = true;
        self.problems.push(ChainProblem {
            line: Some(i + 1),
            seq: self.seq(i),
            kind,
            message,
        });
    }

    fn origin(&self, prev: &str) -> Origin {
        if prev == GENESIS_PREV {
            Origin::Genesis
        } else {
            self.by_hash
                .get(prev)
                .map_or(Origin::Nowhere, |&o| Origin::Line(o))
        }
    }

    fn run(&mut self) {
        self.report_unreadable();
        // The last good line before the current one, and whether an
        // unreadable line sits between them.
        let mut last: Option<usize> = None;
        let mut after_invalid = false;
        for j in 0..self.lines.len() {
            let Ok(record) = &self.lines[j].record else {
                after_invalid = true;
                continue;
            };
            if self.blamed[j] {
                continue; // a duplicate: the chain runs past it
            }
            if after_invalid {
                // The unreadable line explains a broken link here.
                after_invalid = false;
                last = Some(j);
                continue;
            }
            let (expected_prev, expected_seq) = match last {
                None => (GENESIS_PREV, 1),
                Some(i) => (self.lines[i].hash.as_str(), self.seq(i).unwrap_or(0) + 1),
            };
            if record.prev == expected_prev {
                if record.seq != expected_seq {
                    self.seq_suspects.push((j, last, expected_seq));
                }
            } else {
                self.broken_link(j, last, record.seq, expected_seq, self.origin(&record.prev));
            }
            last = Some(j);
        }
        for (j, last, expected) in std::mem::take(&mut self.seq_suspects) {
            if self.blamed[j] {
                continue;
            }
            let after = last.map_or("the start of the log".to_owned(), |i| self.name(i));
            let message = format!(
                "{}: its seq should be {expected}, following {after}; its `prev` does match, so it was written \
                 out of sequence, or forged with a correct `prev`",
                self.name(j)
            );
            self.report(j, ProblemKind::Sequence, message);
        }
    }

    /// Invalid and duplicate lines, reported before the chain is walked.
    fn report_unreadable(&mut self) {
        for j in 0..self.lines.len() {
            match &self.lines[j].record {
                Err(reason) => {
                    let seq = apparent_seq(self.lines[j].bytes);
                    let who = match seq {
                        Some(s) => format!("line {} (apparently seq {s})", j + 1),
                        None => format!("line {}", j + 1),
                    };
                    let hint = if j + 1 == self.lines.len() {
                        " — an interrupted write leaves a partial last line; so does an edit"
                    } else {
                        " — it was edited or damaged"
                    };
                    self.blamed[j] = true;
                    self.problems.push(ChainProblem {
                        line: Some(j + 1),
                        seq,
                        kind: ProblemKind::Invalid,
                        message: format!("{who} is not a valid audit record ({reason}){hint}"),
                    });
                }
                Ok(_) => {
                    let first = self.by_hash[self.lines[j].hash.as_str()];
                    if first != j {
                        let message = format!(
                            "{} repeats line {} byte for byte: a record was copied into the log",
                            self.name(j),
                            first + 1
                        );
                        self.report(j, ProblemKind::Duplicate, message);
                    }
                }
            }
        }
    }

    /// Line `j`'s `prev` is not the hash of `last` (the good line before it).
    fn broken_link(
        &mut self,
        j: usize,
        last: Option<usize>,
        seq: u64,
        expected_seq: u64,
        origin: Origin,
    ) {
        let this = self.name(j);
        match origin {
            Origin::Line(o) if o > j => {
                let message = format!(
                    "{this} is out of order: its `prev` is the hash of {}, which comes after it — records were \
                     moved or swapped",
                    self.name(o)
                );
                self.report(j, ProblemKind::Reordered, message);
            }
            Origin::Line(o) if o == j => self.generic(j, last),
            Origin::Line(o) => self.skipped_lines(j, Some(o), last),
            Origin::Genesis => self.skipped_lines(j, None, last),
            Origin::Nowhere => {
                let Some(i) = last else {
                    if seq > 1 {
                        let message = format!(
                            "{this} is the first record but its seq is {seq}: {} removed from the start of the log",
                            missing(1, seq)
                        );
                        self.report(j, ProblemKind::Removed, message);
                    } else {
                        let message = format!(
                            "{this}: its `prev` should be 64 zeros for the first record — it was edited, \
                             or records before it were removed"
                        );
                        self.report(j, ProblemKind::BrokenLink, message);
                    }
                    return;
                };
                let voucher = self.vouched_by[i].iter().copied().find(|&v| v != j);
                let i_seq_wrong = self.seq_suspects.iter().any(|(k, _, _)| *k == i);
                if let Some(v) = voucher {
                    let message = format!(
                        "{this} does not belong to the chain: its `prev` names no line of the log, while {} is \
                         intact ({} chains to it) — it was inserted, or its `prev` was edited",
                        self.name(i),
                        self.name(v)
                    );
                    self.report(j, ProblemKind::Inserted, message);
                } else if i_seq_wrong && !self.blamed[i] {
                    let message = format!(
                        "{} was edited (its seq among others): {this} recorded a different hash for it",
                        self.name(i)
                    );
                    self.report(i, ProblemKind::Edited, message);
                } else if seq > expected_seq {
                    let message = format!(
                        "{this}: {} removed between {} and it (its `prev` names no line of the log)",
                        missing(expected_seq, seq),
                        self.name(i)
                    );
                    self.report(j, ProblemKind::Removed, message);
                } else if seq == expected_seq && !self.blamed[i] {
                    let message = format!(
                        "{} was edited: {this} recorded a different hash for it",
                        self.name(i)
                    );
                    self.report(i, ProblemKind::Edited, message);
                } else {
                    self.generic(j, last);
                }
            }
        }
    }

    /// Line `j` chains to `origin` (a line before `last`, or the start):
    /// the lines in between were inserted, or are moved records.
    fn skipped_lines(&mut self, j: usize, origin: Option<usize>, last: Option<usize>) {
        let first = origin.map_or(0, |o| o + 1);
        let explained_from = origin.unwrap_or(0);
        if (explained_from..=j).any(|k| self.blamed[k]) {
            return; // a move or insertion already reported accounts for it
        }
        let between: Vec<usize> = (first..j)
            .filter(|&k| self.lines[k].record.is_ok())
            .collect();
        let target = origin.map_or("the start of the log".to_owned(), |o| self.name(o));
        let this = self.name(j);
        let mut genuine = false;
        let mut reported = false;
        for k in between {
            if self.vouched_by[k].is_empty() {
                let message = format!(
                    "{} was inserted: nothing chains to it, and {this} chains directly to {target}",
                    self.name(k)
                );
                self.report(k, ProblemKind::Inserted, message);
                reported = true;
            } else {
                genuine = true;
            }
        }
        if genuine {
            let message = format!(
                "{this} is out of order: it chains to {target}, so the records between them belong elsewhere"
            );
            self.report(j, ProblemKind::Reordered, message);
        } else if !reported {
            self.generic(j, last);
        }
    }

    /// A break whose cause the chain cannot narrow down.
    fn generic(&mut self, j: usize, last: Option<usize>) {
        let message = match last {
            Some(i) => format!(
                "{}: its `prev` does not match line {} — line {} was edited, or a record between them was \
                 removed or inserted",
                self.name(j),
                i + 1,
                i + 1
            ),
            None => format!(
                "{}: its `prev` does not match the start of the log",
                self.name(j)
            ),
        };
        self.report(j, ProblemKind::BrokenLink, message);
    }
}

/// "record seq 3 was" / "records seq 3 to 5 were", for seqs `from..to`.
fn missing(from: u64, to: u64) -> String {
    if to - from == 1 {
        format!("record seq {from} was")
    } else {
        format!("records seq {from} to {} were", to - 1)
    }
}

/// The seq an unreadable line seems to carry, to help find it.
fn apparent_seq(bytes: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(bytes);
    let at = text.find("\"seq\"")? + 5;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}
