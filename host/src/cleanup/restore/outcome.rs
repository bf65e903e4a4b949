//! What restoring one audit entry ended in, and why: the per-entry report
//! `regent restore` prints and scripts read.

use serde::{Serialize, Serializer};

use crate::cleanup::audit::AuditRecord;

/// Content a manifest needs that the registry no longer has (its garbage
/// collector removed it after the deletion), so restoring would produce a
/// broken image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingContent {
    /// `config`, `layer` (blobs of an image) or `manifest` (child of an index).
    pub kind: &'static str,
    /// The digest that is gone.
    pub digest: String,
}

/// Why an entry was not restored. Each message names what is wrong and
/// what to do, since the reader is often a CI log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `--entry` named a sequence number the log does not have.
    #[error(
        "the audit log has no entry {seq} (it holds {held}); check the number with `regent audit show`"
    )]
    NoSuchEntry {
        /// The requested sequence number.
        seq: u64,
        /// `entries 1 to N`, or `no entries`.
        held: String,
    },
    /// The logged deletion itself failed, so there is nothing to undo.
    #[error(
        "the deletion had failed ({error}), so nothing was deleted and there is nothing to restore"
    )]
    DeletionFailed {
        /// The error the deletion met, as logged.
        error: String,
    },
    /// The record has no manifest bytes (the registry did not serve them
    /// when the tag was deleted).
    #[error(
        "the record carries no manifest bytes, so it cannot be restored from the log; push the image again from its source"
    )]
    NoManifest,
    /// The recorded bytes do not decode or do not hash to the recorded
    /// digest: the log was damaged or edited.
    #[error(
        "the audit log is corrupt: {why}; nothing was pushed. Run `regent audit verify` to see what else is damaged"
    )]
    CorruptLog {
        /// What does not match.
        why: String,
    },
    /// A manifest regent cannot check or push (unknown media type, schema 1).
    #[error("the manifest cannot be restored: {why}")]
    Unsupported {
        /// What is unsupported.
        why: String,
    },
    /// Blobs or child manifests are gone from the registry.
    #[error("{}", gone_text(missing, reference))]
    ContentGone {
        /// Where they were looked for.
        reference: String,
        /// What is gone.
        missing: Vec<MissingContent>,
    },
    /// The tag exists again and points at another manifest.
    #[error(
        "{reference} now points at {current}, not the deleted {recorded}; it was left alone. Pass --force to overwrite it"
    )]
    TagMoved {
        /// The tag's full reference.
        reference: String,
        /// What the tag points at now.
        current: String,
        /// What the record deleted.
        recorded: String,
    },
    /// A later selected entry deleted the same tag; restoring both would
    /// leave the tag at whichever ran last.
    #[error(
        "entry {by} (also selected) deleted the same tag later and is restored instead; to restore this one, run with --entry {seq} alone (and --force)"
    )]
    Superseded {
        /// This entry.
        seq: u64,
        /// The later entry.
        by: u64,
    },
    /// The registry failed to answer or refused the push.
    #[error("{0}")]
    Registry(String),
    /// The registry stored the bytes under another digest than recorded.
    #[error(
        "{reference}: the registry stored the manifest as {stored}, not the recorded {recorded}; check the registry for manifest rewriting"
    )]
    DigestChanged {
        /// Where it was pushed.
        reference: String,
        /// The digest the push returned.
        stored: String,
        /// The digest the log recorded.
        recorded: String,
    },
}

fn gone_text(missing: &[MissingContent], reference: &str) -> String {
    let list: Vec<String> = missing
        .iter()
        .map(|m| format!("{} {}", m.kind, m.digest))
        .collect();
    let (noun, verb) = if missing.len() == 1 {
        ("it", "was")
    } else {
        ("they", "were")
    };
    format!(
        "{} {verb} garbage-collected from {reference} after the deletion, so {noun} cannot be restored from the log; push the image again from its source",
        list.join(", ")
    )
}

/// How one entry ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The manifest is back under its tag (or digest).
    Restored,
    /// The tag (or digest) already points at the recorded manifest.
    AlreadyPresent,
    /// `--dry-run`: every check passed and it would be restored.
    WouldRestore,
    /// Not restored, and why.
    NotRestored(Refusal),
}

impl Outcome {
    /// `restored`, `already-present`, `would-restore` or `not-restored`:
    /// the stable word scripts match on.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Restored => "restored",
            Self::AlreadyPresent => "already-present",
            Self::WouldRestore => "would-restore",
            Self::NotRestored(_) => "not-restored",
        }
    }

    /// Whether the entry is (or, in a dry run, would be) in place: what the
    /// exit code is decided by.
    pub fn is_success(&self) -> bool {
        !matches!(self, Self::NotRestored(_))
    }
}

/// One selected entry and how it ended: a row of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryReport {
    /// The record's sequence number in the log.
    pub seq: u64,
    /// `registry/repository:tag`, or `@digest` for an untagged record.
    pub reference: String,
    /// The recorded digest, when the record was found.
    pub digest: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
}

impl EntryReport {
    /// A report row for `record`.
    pub fn new(record: &AuditRecord, outcome: Outcome) -> Self {
        Self {
            seq: record.seq,
            reference: reference_of(record),
            digest: Some(record.entry.digest.clone()),
            outcome,
        }
    }
}

/// `registry/repository:tag`, or `registry/repository@digest` when the
/// record has no tag: how people name what the entry deleted.
pub(crate) fn reference_of(record: &AuditRecord) -> String {
    let e = &record.entry;
    match &e.tag {
        Some(tag) => format!("{}/{}:{tag}", e.registry, e.repository),
        None => format!("{}/{}@{}", e.registry, e.repository, e.digest),
    }
}

impl Serialize for EntryReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Row<'a> {
            seq: u64,
            reference: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            digest: Option<&'a str>,
            outcome: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            reason: Option<String>,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            missing: &'a [MissingContent],
        }
        let (reason, missing): (Option<String>, &[MissingContent]) = match &self.outcome {
            Outcome::NotRestored(refusal) => (
                Some(refusal.to_string()),
                match refusal {
                    Refusal::ContentGone { missing, .. } => missing,
                    _ => &[],
                },
            ),
            _ => (None, &[]),
        };
        Row {
            seq: self.seq,
            reference: &self.reference,
            digest: self.digest.as_deref(),
            outcome: self.outcome.word(),
            reason,
            missing,
        }
        .serialize(serializer)
    }
}
