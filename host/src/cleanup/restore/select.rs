//! Which audit records a restore works on: the ones named by sequence
//! number, or every one since a time; and the order they are restored in.

use std::collections::HashMap;
use std::time::SystemTime;

use super::manifest::looks_like_index;
use super::outcome::{EntryReport, Outcome, Refusal, reference_of};
use crate::cleanup::audit::time::parse_time;
use crate::cleanup::audit::{AuditOutcome, AuditRecord};

/// What the user asked to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// `--entry SEQ...`: these sequence numbers.
    Entries(Vec<u64>),
    /// `--since T`: every record logged at or after this time.
    Since(SystemTime),
}

/// A selected entry: a record to restore, or a report saying at once why
/// it cannot be (a sequence number the log lacks, a damaged record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected {
    /// A record to try.
    Record(Box<AuditRecord>),
    /// Refused already at selection.
    Refused(EntryReport),
}

/// The entries `selection` picks from `records` (the whole log, in file
/// order), each sequence number once, in ascending order. When two selected
/// records deleted the same tag, only the later one is restored (the
/// earlier is refused as superseded): restoring both would leave the tag
/// wherever the last push happened to put it.
pub fn select(records: &[AuditRecord], selection: &Selection) -> Vec<Selected> {
    let mut picked = match selection {
        Selection::Entries(seqs) => by_seq(records, seqs),
        Selection::Since(since) => by_time(records, *since),
    };
    mark_superseded(&mut picked);
    picked
}

fn by_seq(records: &[AuditRecord], seqs: &[u64]) -> Vec<Selected> {
    let mut wanted = seqs.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let held = match (records.first(), records.last()) {
        (Some(first), Some(last)) => format!("entries {} to {}", first.seq, last.seq),
        _ => "no entries".to_owned(),
    };
    wanted
        .into_iter()
        .map(|seq| {
            let matching: Vec<&AuditRecord> = records.iter().filter(|r| r.seq == seq).collect();
            match matching.as_slice() {
                [record] => Selected::Record(Box::new((*record).clone())),
                [] => Selected::Refused(EntryReport {
                    seq,
                    reference: "-".to_owned(),
                    digest: None,
                    outcome: Outcome::NotRestored(Refusal::NoSuchEntry {
                        seq,
                        held: held.clone(),
                    }),
                }),
                [first, ..] => Selected::Refused(EntryReport::new(
                    first,
                    Outcome::NotRestored(Refusal::CorruptLog {
                        why: format!(
                            "{} records carry sequence number {seq}, so `--entry {seq}` is ambiguous",
                            matching.len()
                        ),
                    }),
                )),
            }
        })
        .collect()
}

fn by_time(records: &[AuditRecord], since: SystemTime) -> Vec<Selected> {
    let mut picked: Vec<Selected> = records
        .iter()
        .filter_map(|record| match parse_time(&record.time) {
            Ok(at) if at >= since => Some(Selected::Record(Box::new(record.clone()))),
            Ok(_) => None,
            Err(why) => Some(Selected::Refused(EntryReport::new(
                record,
                Outcome::NotRestored(Refusal::CorruptLog {
                    why: format!("its time is unreadable: {why}"),
                }),
            ))),
        })
        .collect();
    picked.sort_by_key(seq_of);
    picked
}

fn seq_of(selected: &Selected) -> u64 {
    match selected {
        Selected::Record(r) => r.seq,
        Selected::Refused(report) => report.seq,
    }
}

/// Refuse every selected deletion of a tag that a later selected record
/// deleted again.
fn mark_superseded(picked: &mut [Selected]) {
    let mut latest: HashMap<(String, String, String), u64> = HashMap::new();
    for selected in picked.iter() {
        if let Some(key) = tag_key(selected) {
            let seq = seq_of(selected);
            let entry = latest.entry(key).or_insert(seq);
            *entry = (*entry).max(seq);
        }
    }
    for selected in picked.iter_mut() {
        let Some(key) = tag_key(selected) else {
            continue;
        };
        let Selected::Record(record) = &*selected else {
            continue;
        };
        if let Some(&by) = latest.get(&key)
            && by != record.seq
        {
            let report = EntryReport {
                seq: record.seq,
                reference: reference_of(record),
                digest: Some(record.entry.digest.clone()),
                outcome: Outcome::NotRestored(Refusal::Superseded {
                    seq: record.seq,
                    by,
                }),
            };
            *selected = Selected::Refused(report);
        }
    }
}

/// `(registry, repository, tag)` of a selected, successful tag deletion.
fn tag_key(selected: &Selected) -> Option<(String, String, String)> {
    let Selected::Record(record) = selected else {
        return None;
    };
    let e = &record.entry;
    match (&e.tag, &e.outcome) {
        (Some(tag), AuditOutcome::Deleted) => {
            Some((e.registry.clone(), e.repository.clone(), tag.clone()))
        }
        _ => None,
    }
}

/// Put records in the order they can be restored in: image manifests (and
/// anything else that is not an index) first, then indexes, each group by
/// sequence number, so the children an index needs are back before it is.
pub fn order_for_restore(records: &mut [AuditRecord]) {
    records.sort_by_key(|r| (looks_like_index(r), r.seq));
}
