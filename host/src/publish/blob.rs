//! A blob handed to the copy engine: its size (for the upload's
//! Content-Length) and a streaming reader that verifies the digest as it
//! goes, so layers of any size never sit in memory.

use std::fmt;
use std::fs::File;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::verify::VerifyingReader;
use crate::registry::digest::Digest;

/// A streaming blob reader. Its final read fails with `InvalidData` when
/// the content does not match the digest it was opened for.
pub type BlobReader = Box<dyn AsyncRead + Send + Sync + Unpin>;

/// A blob ready to stream.
pub struct Blob {
    pub digest: Digest,
    pub size: u64,
    pub reader: BlobReader,
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blob")
            .field("digest", &self.digest)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A blob found and opened by a blocking reader, before it becomes async.
pub struct BlobFile {
    /// Positioned at the blob's first byte.
    pub file: File,
    pub size: u64,
    pub digest: Digest,
    /// Names the blob in a corruption error.
    pub label: String,
}

impl BlobFile {
    /// The async, verifying form. Needs a tokio runtime when read.
    pub fn into_blob(self) -> Blob {
        let limited = tokio::fs::File::from_std(self.file).take(self.size);
        let reader = VerifyingReader::new(limited, self.digest.clone(), self.size, self.label);
        Blob {
            digest: self.digest,
            size: self.size,
            reader: Box::new(reader),
        }
    }
}
