//! Appending to the audit log. Each record goes out as one line in one write
//! followed by an fsync, under an exclusive file lock, and continues the
//! chain from whatever line is last *at that moment* — so two cleanups
//! appending at once still form one chain, and a crash leaves at worst a
//! partial last line that verification reports and appending refuses.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::chain::{GENESIS_PREV, line_hash};
use super::error::AuditError;
use super::read::parse_line;
use super::record::{Actor, AuditEntry, AuditRecord};
use super::time::now_rfc3339;

/// An audit log open for appending, on behalf of one actor.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    actor: Actor,
    file: File,
}

impl AuditLog {
    /// Open (creating parent dirs with 0700 and the file with 0600 if
    /// missing) for appending. Reads the last line to check the chain can
    /// be continued, and refuses a log whose last line is not a valid
    /// record, naming the file and the line.
    pub fn open(path: &Path, actor: Actor) -> Result<Self, AuditError> {
        let write_err = |action: &'static str| {
            move |source| AuditError::Io {
                path: path.to_path_buf(),
                action,
                source,
            }
        };
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(dir) = parent {
            crate::private_files::create_private_dir(dir)
                .map_err(write_err("create the directory of"))?;
        }
        let existed = path.exists();
        let file = open_private_append(path).map_err(write_err("open"))?;
        if !existed {
            // Make the new directory entry durable too; a log that vanishes
            // in a crash would look like one that was never written.
            sync_dir(parent.unwrap_or(Path::new(".")));
        }
        let log = AuditLog {
            path: path.to_path_buf(),
            actor,
            file,
        };
        {
            let _lock = log.lock()?;
            log.tail()?;
        }
        Ok(log)
    }

    /// Append one record for `entry`: seq = last + 1, time = now (UTC),
    /// prev = SHA-256 of the previous line's exact bytes (64 zeros for the
    /// first). Written as one line with a single write and an fsync.
    pub fn append(&mut self, entry: AuditEntry) -> Result<AuditRecord, AuditError> {
        let _lock = self.lock()?;
        let tail = self.tail()?;
        let (seq, prev, needs_newline) = match &tail {
            None => (1, GENESIS_PREV.to_owned(), false),
            Some(t) => {
                let seq = t.record.seq.checked_add(1).ok_or_else(|| {
                    self.broken_tail(t.line_start, "its seq is at the maximum".to_owned())
                })?;
                (seq, line_hash(&t.bytes), !t.ends_with_newline)
            }
        };
        let record = AuditRecord {
            seq,
            time: now_rfc3339(),
            actor: self.actor.clone(),
            entry,
            prev,
        };
        let json = serde_json::to_vec(&record).map_err(|source| AuditError::Encode {
            path: self.path.clone(),
            source,
        })?;
        let mut line = Vec::with_capacity(json.len() + 2);
        if needs_newline {
            // A last line without its newline (an editor dropped it): end it
            // first, in the same write. The hash covers the line without its
            // newline, so the chain is unaffected.
            line.push(b'\n');
        }
        line.extend_from_slice(&json);
        line.push(b'\n');
        let io = |source| AuditError::Io {
            path: self.path.clone(),
            action: "write to",
            source,
        };
        (&self.file).write_all(&line).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        Ok(record)
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The actor every appended record names.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Hold the exclusive lock until the guard drops: other regent
    /// processes appending to the same log wait their turn.
    fn lock(&self) -> Result<LockGuard<'_>, AuditError> {
        self.file.lock().map_err(|source| AuditError::Io {
            path: self.path.clone(),
            action: "lock",
            source,
        })?;
        Ok(LockGuard(&self.file))
    }

    /// The last line and its record; `None` for an empty log.
    fn tail(&self) -> Result<Option<Tail>, AuditError> {
        let io = |source| AuditError::Io {
            path: self.path.clone(),
            action: "read",
            source,
        };
        let Some((line_start, bytes, ends_with_newline)) =
            read_last_line(&self.file).map_err(io)?
        else {
            return Ok(None);
        };
        let record = parse_line(&bytes).map_err(|reason| self.broken_tail(line_start, reason))?;
        Ok(Some(Tail {
            record,
            bytes,
            ends_with_newline,
            line_start,
        }))
    }

    /// The refusal for a last line (starting at byte `line_start`) that is not a record.
    fn broken_tail(&self, line_start: u64, reason: String) -> AuditError {
        // Counting lines reads the whole file; only done on this error path.
        let line = std::fs::read(&self.path)
            .map(|content| {
                let start = usize::try_from(line_start).unwrap_or(content.len());
                content[..start.min(content.len())]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1
            })
            .unwrap_or(0);
        AuditError::BrokenTail {
            path: self.path.clone(),
            line,
            reason,
        }
    }
}

/// The last line of the log, as found under the lock.
struct Tail {
    record: AuditRecord,
    bytes: Vec<u8>,
    ends_with_newline: bool,
    line_start: u64,
}

/// Releases the file lock when dropped, on every path out of `append`.
struct LockGuard<'a>(&'a File);

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Closing the file would release it too; nothing to do on failure.
        let _ = self.0.unlock();
    }
}

/// The last line's start offset, bytes (without newline) and whether a
/// newline ends it; `None` for an empty file. Reads backwards in chunks so
/// appending stays cheap however long the log grows.
fn read_last_line(file: &File) -> std::io::Result<Option<(u64, Vec<u8>, bool)>> {
    const CHUNK: u64 = 64 * 1024;
    let mut reader = file;
    let len = reader.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(None);
    }
    let mut last = [0u8; 1];
    reader.seek(SeekFrom::Start(len - 1))?;
    reader.read_exact(&mut last)?;
    let ends_with_newline = last[0] == b'\n';
    let end = if ends_with_newline { len - 1 } else { len };
    // `tail` holds bytes [pos, end), growing backwards until a newline shows.
    let mut tail: Vec<u8> = Vec::new();
    let mut pos = end;
    while pos > 0 {
        let from = pos.saturating_sub(CHUNK);
        let mut chunk = vec![0u8; usize::try_from(pos - from).unwrap_or(0)];
        reader.seek(SeekFrom::Start(from))?;
        reader.read_exact(&mut chunk)?;
        if let Some(nl) = chunk.iter().rposition(|b| *b == b'\n') {
            chunk.drain(..=nl);
            chunk.extend_from_slice(&tail);
            let start = from + nl as u64 + 1;
            return Ok(Some((start, chunk, ends_with_newline)));
        }
        chunk.extend_from_slice(&tail);
        tail = chunk;
        pos = from;
    }
    Ok(Some((0, tail, ends_with_newline)))
}

/// Open for reading and appending, creating the file with mode 0600.
fn open_private_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Best-effort fsync of a directory, so a newly created entry survives a crash.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
