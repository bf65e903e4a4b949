//! The files of an OCI image layout, wherever they are: a directory on disk
//! or the members of a tar (`docker save` since Docker 25 writes a layout
//! inside its archive). The layout logic reads through this and never
//! builds a host path itself.
//!
//! A directory is opened as a cap-std `Dir`, so no name read from
//! `index.json` or a manifest (nor a symlink inside the layout) can reach a
//! file outside it. Blob names are built only from validated [`Digest`]s.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use super::error::SourceError;
use super::tar_index::TarArchive;
use crate::registry::digest::Digest;

/// Where a layout's files live.
pub enum Store {
    Dir { dir: Dir, path: PathBuf },
    Tar(Arc<TarArchive>),
}

/// A member opened for streaming: positioned at its first byte.
pub struct OpenedFile {
    pub file: File,
    pub size: u64,
}

impl Store {
    /// Open the layout directory at `path`.
    pub fn open_dir(path: &Path, source_name: &str) -> Result<Self, SourceError> {
        let dir =
            Dir::open_ambient_dir(path, ambient_authority()).map_err(|error| SourceError::Io {
                source_name: source_name.to_owned(),
                what: "the layout directory".to_owned(),
                path: path.to_owned(),
                error,
            })?;
        Ok(Store::Dir {
            dir,
            path: path.to_owned(),
        })
    }

    /// The name of a blob inside the layout: `blobs/<algorithm>/<hex>`.
    /// Safe as a path because a [`Digest`] is only `sha256`/`sha512` and hex.
    pub fn blob_name(digest: &Digest) -> String {
        format!("blobs/{}/{}", digest.algorithm(), digest.hex())
    }

    /// A host path for messages about `name`.
    pub fn describe(&self, name: &str) -> PathBuf {
        match self {
            Store::Dir { path, .. } => path.join(name),
            Store::Tar(archive) => PathBuf::from(format!("{}!{name}", archive.path().display())),
        }
    }

    /// Open `name` for reading; `None` when there is no such file.
    pub fn open(&self, name: &str) -> io::Result<Option<OpenedFile>> {
        match self {
            Store::Dir { dir, .. } => {
                // Check the kind first: opening a FIFO would block forever.
                match dir.metadata(name) {
                    Ok(meta) if meta.is_file() => {}
                    Ok(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "not a regular file",
                        ));
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e),
                }
                let file = match dir.open(name) {
                    Ok(file) => file.into_std(),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e),
                };
                let size = file.metadata()?.len();
                Ok(Some(OpenedFile { file, size }))
            }
            Store::Tar(archive) => match archive.find(name) {
                Some(entry) => Ok(Some(OpenedFile {
                    file: archive.open_entry(entry)?,
                    size: entry.size,
                })),
                None => Ok(None),
            },
        }
    }

    /// Read all of a small file, refusing one over `limit` bytes (`kind`
    /// says what it is for the message). `None` when absent.
    pub fn read(
        &self,
        source_name: &str,
        name: &str,
        limit: u64,
        kind: &'static str,
    ) -> Result<Option<Vec<u8>>, SourceError> {
        let io_error = |error| SourceError::Io {
            source_name: source_name.to_owned(),
            what: name.to_owned(),
            path: self.describe(name),
            error,
        };
        let Some(opened) = self.open(name).map_err(io_error)? else {
            return Ok(None);
        };
        if opened.size > limit {
            return Err(SourceError::TooLarge {
                source_name: source_name.to_owned(),
                file: name.to_owned(),
                kind,
                size: opened.size,
                limit,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(opened.size).unwrap_or(0));
        // Exactly the size: a tar member is followed by other members, and
        // a file that changed size is caught by the digest check.
        opened
            .file
            .take(opened.size)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        Ok(Some(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_reads_stay_inside() {
        let root = tempfile::tempdir().expect("tempdir");
        let layout = root.path().join("layout");
        std::fs::create_dir_all(layout.join("blobs/sha256")).expect("mkdir");
        std::fs::write(root.path().join("secret"), b"outside").expect("write");
        std::fs::write(layout.join("inside"), b"inside").expect("write");
        std::os::unix::fs::symlink("../../../secret", layout.join("blobs/sha256/escape"))
            .expect("symlink");
        std::os::unix::fs::symlink("../../inside", layout.join("blobs/sha256/ok"))
            .expect("symlink");

        let store = Store::open_dir(&layout, "test").expect("opens");
        assert_eq!(
            store
                .read("test", "blobs/sha256/ok", 100, "test")
                .expect("reads"),
            Some(b"inside".to_vec())
        );
        assert!(
            store
                .read("test", "blobs/sha256/escape", 100, "test")
                .is_err(),
            "a symlink out of the layout is refused"
        );
        assert!(
            store.read("test", "../secret", 100, "test").is_err(),
            "a name out of the layout is refused"
        );
        assert_eq!(
            store
                .read("test", "absent", 100, "test")
                .expect("absent is not an error"),
            None
        );
        let err = store
            .read("test", "inside", 3, "test files")
            .expect_err("too large");
        assert!(
            matches!(
                err,
                SourceError::TooLarge {
                    size: 6,
                    limit: 3,
                    ..
                }
            ),
            "{err}"
        );
    }
}
