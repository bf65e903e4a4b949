//! Random access into a tar archive without extracting it: one pass records
//! where each member's data starts and how long it is, then members are
//! read by seeking. Layers can be gigabytes, and extraction would double the
//! disk use and leave files behind on failure.
//!
//! A gzip-compressed archive (`docker save | gzip`) cannot be seeked into,
//! so it is decompressed once into an anonymous temporary file under
//! `$TMPDIR`, removed when the source is dropped.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tar::EntryType;

use super::error::SourceError;

/// How many symlinks / hard links regent follows for one name before it
/// assumes a loop.
const MAX_LINK_HOPS: usize = 16;

/// Where a member's data lies in the (uncompressed) archive file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TarEntry {
    pub offset: u64,
    pub size: u64,
}

enum Backing {
    Plain(PathBuf),
    Decompressed(tempfile::NamedTempFile),
}

/// An indexed tar archive.
pub struct TarArchive {
    backing: Backing,
    files: HashMap<String, TarEntry>,
    /// Symlinks and hard links, already resolved to archive-root paths.
    links: HashMap<String, String>,
}

impl TarArchive {
    /// Index the archive at `path`; `source_name` names it in errors.
    pub fn open(path: &Path, source_name: &str) -> Result<Self, SourceError> {
        let io_error = |what: &str, error: io::Error| SourceError::Io {
            source_name: source_name.to_owned(),
            what: what.to_owned(),
            path: path.to_owned(),
            error,
        };
        let mut file = File::open(path).map_err(|e| io_error("the archive", e))?;
        let mut magic = [0u8; 6];
        let got = read_up_to(&mut file, &mut magic).map_err(|e| io_error("the archive", e))?;
        let magic = &magic[..got];
        file.seek(SeekFrom::Start(0))
            .map_err(|e| io_error("the archive", e))?;
        let backing = match Compression::sniff(magic) {
            Compression::None => Backing::Plain(path.to_owned()),
            Compression::Gzip => {
                let temp = decompress_gzip(file, source_name, path)?;
                file = temp
                    .reopen()
                    .map_err(|e| io_error("the decompressed archive", e))?;
                Backing::Decompressed(temp)
            }
            Compression::Other { name, tool } => {
                return Err(SourceError::Unsupported {
                    source_name: source_name.to_owned(),
                    what: format!("a {name}-compressed archive"),
                    hint: format!(
                        "decompress it first (`{tool} -d -k FILE`) and point docker-archive: at the .tar"
                    ),
                });
            }
        };
        let (files, links) = index(file).map_err(|e| SourceError::Invalid {
            source_name: source_name.to_owned(),
            file: "the archive".to_owned(),
            reason: format!("it is not a readable tar archive ({e}); docker-archive: reads what `docker save` writes"),
        })?;
        Ok(Self {
            backing,
            files,
            links,
        })
    }

    /// The member called `name` (after following links), if it is a
    /// regular file.
    pub fn find(&self, name: &str) -> Option<TarEntry> {
        let mut current = normalize(name)?;
        for _ in 0..=MAX_LINK_HOPS {
            if let Some(entry) = self.files.get(&current) {
                return Some(*entry);
            }
            current = self.links.get(&current)?.clone();
        }
        None
    }

    /// Whether a member called `name` exists (as a file or link).
    pub fn contains(&self, name: &str) -> bool {
        normalize(name).is_some_and(|n| self.files.contains_key(&n) || self.links.contains_key(&n))
    }

    /// A new handle on the archive file, positioned at `entry`'s data, so
    /// concurrent readers do not share a file offset.
    pub fn open_entry(&self, entry: TarEntry) -> io::Result<File> {
        let mut file = match &self.backing {
            Backing::Plain(path) => File::open(path)?,
            Backing::Decompressed(temp) => temp.reopen()?,
        };
        file.seek(SeekFrom::Start(entry.offset))?;
        Ok(file)
    }

    /// Read a whole (small) member.
    pub fn read_entry(&self, entry: TarEntry) -> io::Result<Vec<u8>> {
        let file = self.open_entry(entry)?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size).unwrap_or(0));
        file.take(entry.size).read_to_end(&mut bytes)?;
        if (bytes.len() as u64) < entry.size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive is shorter than its index",
            ));
        }
        Ok(bytes)
    }

    /// The path of the file backing the archive, for error messages.
    pub fn path(&self) -> &Path {
        match &self.backing {
            Backing::Plain(path) => path,
            Backing::Decompressed(temp) => temp.path(),
        }
    }
}

enum Compression {
    None,
    Gzip,
    Other {
        name: &'static str,
        tool: &'static str,
    },
}

impl Compression {
    fn sniff(magic: &[u8]) -> Self {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Other {
                name: "zstd",
                tool: "zstd",
            }
        } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Compression::Other {
                name: "xz",
                tool: "xz",
            }
        } else if magic.starts_with(b"BZh") {
            Compression::Other {
                name: "bzip2",
                tool: "bzip2",
            }
        } else {
            Compression::None
        }
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

fn decompress_gzip(
    file: File,
    source_name: &str,
    path: &Path,
) -> Result<tempfile::NamedTempFile, SourceError> {
    let mut temp = tempfile::NamedTempFile::new().map_err(|error| SourceError::Io {
        source_name: source_name.to_owned(),
        what: "a temporary file to decompress the archive into (set TMPDIR to a roomier place)"
            .to_owned(),
        path: std::env::temp_dir(),
        error,
    })?;
    let mut decoder = flate2::read::MultiGzDecoder::new(io::BufReader::new(file));
    io::copy(&mut decoder, temp.as_file_mut()).map_err(|error| {
        if error.kind() == io::ErrorKind::InvalidInput
            || error.kind() == io::ErrorKind::InvalidData
            || error.kind() == io::ErrorKind::UnexpectedEof
        {
            SourceError::Invalid {
                source_name: source_name.to_owned(),
                file: "the archive".to_owned(),
                reason: format!(
                    "its gzip data is damaged ({error}); check it with `gzip -t {}`",
                    path.display()
                ),
            }
        } else {
            SourceError::Io {
                source_name: source_name.to_owned(),
                what: "the archive while decompressing it into $TMPDIR".to_owned(),
                path: path.to_owned(),
                error,
            }
        }
    })?;
    Ok(temp)
}

type Index = (HashMap<String, TarEntry>, HashMap<String, String>);

fn index(file: File) -> io::Result<Index> {
    let mut archive = tar::Archive::new(io::BufReader::new(file));
    let mut files = HashMap::new();
    let mut links = HashMap::new();
    for entry in archive.entries_with_seek()? {
        let entry = entry?;
        let Some(name) = std::str::from_utf8(&entry.path_bytes())
            .ok()
            .and_then(normalize)
        else {
            continue;
        };
        match entry.header().entry_type() {
            EntryType::Regular | EntryType::Continuous => {
                links.remove(&name);
                files.insert(
                    name,
                    TarEntry {
                        offset: entry.raw_file_position(),
                        size: entry.size(),
                    },
                );
            }
            kind @ (EntryType::Symlink | EntryType::Link) => {
                let Some(target) = entry.link_name_bytes() else {
                    continue;
                };
                let Ok(target) = std::str::from_utf8(&target) else {
                    continue;
                };
                // A symlink is relative to its directory; a hard link names
                // a member from the archive root. Absolute symlinks point
                // into the host, never into the archive: not followed.
                let resolved = if kind == EntryType::Symlink {
                    if target.starts_with('/') {
                        continue;
                    }
                    let dir = name.rsplit_once('/').map_or("", |(dir, _)| dir);
                    normalize(&format!("{dir}/{target}"))
                } else {
                    normalize(target)
                };
                if let Some(resolved) = resolved {
                    files.remove(&name);
                    links.insert(name, resolved);
                }
            }
            _ => {}
        }
    }
    Ok((files, links))
}

/// A member name as a clean archive-root path (`a/b`), or `None` when it
/// climbs out of the archive root or is empty.
fn normalize(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::testkit::TarWriter;

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize("./a//b/./c").as_deref(), Some("a/b/c"));
        assert_eq!(normalize("a/../b").as_deref(), Some("b"));
        assert_eq!(normalize("../etc/passwd"), None);
        assert_eq!(normalize("./"), None);
    }

    #[test]
    fn indexes_files_and_follows_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.tar");
        let mut tar = TarWriter::new();
        tar.file("./manifest.json", b"[]");
        tar.file("abc/layer.tar", b"layer one");
        tar.symlink("def/layer.tar", "../abc/layer.tar");
        tar.hardlink("hard", "abc/layer.tar");
        tar.symlink("loop1", "loop2");
        tar.symlink("loop2", "loop1");
        tar.symlink("escape", "../../etc/passwd");
        tar.symlink("absolute", "/etc/passwd");
        let long_name = format!("{}/long", "x".repeat(150));
        tar.file(&long_name, b"long name");
        tar.write_to(&path);

        let archive = TarArchive::open(&path, "test").expect("indexes");
        let read = |name: &str| {
            archive
                .find(name)
                .map(|e| archive.read_entry(e).expect("reads"))
        };
        assert_eq!(read("manifest.json").as_deref(), Some(&b"[]"[..]));
        assert_eq!(read("def/layer.tar").as_deref(), Some(&b"layer one"[..]));
        assert_eq!(read("hard").as_deref(), Some(&b"layer one"[..]));
        assert_eq!(read(&long_name).as_deref(), Some(&b"long name"[..]));
        assert_eq!(read("loop1"), None);
        assert_eq!(read("escape"), None);
        assert_eq!(read("absolute"), None);
        assert_eq!(read("missing"), None);
        assert!(archive.contains("def/layer.tar") && !archive.contains("nope"));
    }

    #[test]
    fn reads_gzip_and_refuses_other_compression() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut tar = TarWriter::new();
        tar.file("index.json", b"{}");
        let gz = dir.path().join("a.tar.gz");
        std::fs::write(&gz, crate::publish::testkit::gzip(&tar.bytes())).expect("write");
        let archive = TarArchive::open(&gz, "test").expect("gzip indexes");
        let entry = archive.find("index.json").expect("found");
        assert_eq!(archive.read_entry(entry).expect("reads"), b"{}");

        let mut truncated = crate::publish::testkit::gzip(&vec![1u8; 4096]);
        truncated.truncate(truncated.len() / 2);
        let cut = dir.path().join("cut.tar.gz");
        std::fs::write(&cut, truncated).expect("write");
        let err = TarArchive::open(&cut, "test")
            .err()
            .expect("truncated gzip refused");
        assert!(err.to_string().contains("gzip -t"), "{err}");

        let zst = dir.path().join("a.tar.zst");
        std::fs::write(&zst, [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]).expect("write");
        let err = TarArchive::open(&zst, "test").err().expect("zstd refused");
        assert!(err.to_string().contains("zstd -d"), "{err}");

        let junk = dir.path().join("junk.tar");
        std::fs::write(&junk, vec![7u8; 1024]).expect("write");
        let err = TarArchive::open(&junk, "test").err().expect("junk refused");
        assert!(matches!(err, SourceError::Invalid { .. }), "{err}");
    }
}
