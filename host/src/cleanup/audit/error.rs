//! What can go wrong reading or writing the audit log. Every message names
//! the file and says what to do, since the reader is usually a CI log.

use std::path::PathBuf;

/// An audit log that cannot be read, written or continued.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The log file is not there: nothing was recorded at this path (or it was removed).
    #[error(
        "audit log {} does not exist: nothing has been recorded there. Pass --audit-log FILE \
         (or set REGENT_AUDIT_LOG) to the log `regent cleanup` wrote",
        path.display()
    )]
    NotFound {
        /// The missing file.
        path: PathBuf,
    },
    /// Reading, creating, locking or writing the file failed.
    #[error("cannot {action} audit log {}: {source}. Check the path and its permissions", path.display())]
    Io {
        /// The log file.
        path: PathBuf,
        /// What was being done: `read`, `create the directory of`, `write to`, ...
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A line that is not a valid audit record, met while reading records.
    #[error(
        "audit log {}, line {line}: not a valid audit record ({reason}). \
         Run `regent audit verify --audit-log {}` to see every problem in the log",
        path.display(), path.display()
    )]
    InvalidRecord {
        /// The log file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why the line does not parse.
        reason: String,
    },
    /// The last line is not a valid record, so the chain cannot be continued
    /// without hiding the damage.
    #[error(
        "refusing to append to audit log {}: its last line ({line}) is not a valid record ({reason}). \
         An interrupted write or an edit left it so. Run `regent audit verify --audit-log {}`, \
         then move the log aside (keep it as evidence) so a new one is started",
        path.display(), path.display()
    )]
    BrokenTail {
        /// The log file.
        path: PathBuf,
        /// 1-based number of the last line.
        line: usize,
        /// Why the line does not parse.
        reason: String,
    },
    /// A record could not be encoded as JSON (not expected to happen).
    #[error("cannot encode an audit record for {}: {source}", path.display())]
    Encode {
        /// The log file.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
}

impl AuditError {
    /// An I/O error, turned into [`AuditError::NotFound`] when the file is missing.
    pub(crate) fn io(path: &std::path::Path, action: &'static str, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            Self::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            Self::Io {
                path: path.to_path_buf(),
                action,
                source,
            }
        }
    }
}
