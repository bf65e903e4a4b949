//! Reading a whole log: for `regent audit show`, `regent restore` and the
//! verifier. Reading never repairs or skips anything; a line that is not a
//! record is an error naming the file and line.

use std::path::Path;

use super::chain::split_lines;
use super::error::AuditError;
use super::record::AuditRecord;

/// The log's bytes; a missing file is [`AuditError::NotFound`].
pub(crate) fn read_log_bytes(path: &Path) -> Result<Vec<u8>, AuditError> {
    std::fs::read(path).map_err(|e| AuditError::io(path, "read", e))
}

/// Parse one line as a record; the error says why it is not one.
pub(crate) fn parse_line(line: &[u8]) -> Result<AuditRecord, String> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err("the line is empty".to_owned());
    }
    serde_json::from_slice(line).map_err(|e| e.to_string())
}

/// Every record of the log, in file order. Fails on the first line that is
/// not a record (naming it); does not check the hash chain — that is
/// [`super::verify`]'s job.
pub fn read_records(path: &Path) -> Result<Vec<AuditRecord>, AuditError> {
    let content = read_log_bytes(path)?;
    split_lines(&content)
        .into_iter()
        .enumerate()
        .map(|(index, line)| {
            parse_line(line).map_err(|reason| AuditError::InvalidRecord {
                path: path.to_path_buf(),
                line: index + 1,
                reason,
            })
        })
        .collect()
}
