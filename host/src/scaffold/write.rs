//! Writing the crate all at once: into a hidden directory beside the target,
//! renamed into place only when every file is written.

use std::fs;
use std::path::{Path, PathBuf};

use super::ScaffoldError;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ScaffoldError + '_ {
    move |source| ScaffoldError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Refuse a target that exists and is not an empty directory.
pub fn check_target(dir: &Path) -> Result<(), ScaffoldError> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(dir)(e)),
    };
    if !meta.is_dir() {
        return Err(ScaffoldError::Invalid(format!(
            "{} exists and is not a directory; choose another directory with --dir",
            dir.display()
        )));
    }
    let mut entries = fs::read_dir(dir).map_err(io(dir))?;
    if entries.next().is_some() {
        return Err(ScaffoldError::Invalid(format!(
            "{} already exists and is not empty; choose another directory with --dir, \
             or remove it first",
            dir.display()
        )));
    }
    Ok(())
}

/// Write `files` (paths relative to `dir`) and move them into `dir`, which
/// must be absent or empty. On failure nothing is left behind but parent
/// directories that had to be created.
pub fn write_all(dir: &Path, files: &[(String, String)]) -> Result<Vec<PathBuf>, ScaffoldError> {
    check_target(dir)?;
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let leaf = dir.file_name().ok_or_else(|| {
        ScaffoldError::Invalid(format!("{} does not name a directory", dir.display()))
    })?;
    fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = staging_dir(parent, &leaf.to_string_lossy())?;
    let result = write_files(&staging, files).and_then(|()| {
        // An empty target directory is replaced (rename cannot replace it everywhere).
        if dir.is_dir() {
            fs::remove_dir(dir).map_err(io(dir))?;
        }
        fs::rename(&staging, dir).map_err(io(dir))
    });
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    Ok(files.iter().map(|(rel, _)| dir.join(rel)).collect())
}

/// A fresh hidden directory beside the target.
fn staging_dir(parent: &Path, leaf: &str) -> Result<PathBuf, ScaffoldError> {
    let mut attempt = 0u32;
    loop {
        let candidate = parent.join(format!(
            ".{leaf}.regent-new-{}-{attempt}",
            std::process::id()
        ));
        match fs::create_dir(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(io(&candidate)(e)),
        }
    }
}

fn write_files(root: &Path, files: &[(String, String)]) -> Result<(), ScaffoldError> {
    for (rel, text) in files {
        let path = root.join(rel);
        if let Some(folder) = path.parent() {
            fs::create_dir_all(folder).map_err(io(folder))?;
        }
        fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(())
}

/// `to` relative to `from` (both absolute), with `/` separators; `None`
/// when they share no root (another drive).
pub fn relative_path(from: &Path, to: &Path) -> Option<String> {
    use std::path::Component;
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if !from[..common]
        .iter()
        .any(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    for c in &to[common..] {
        parts.push(c.as_os_str().to_str()?.to_owned());
    }
    Some(if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let r = |a: &str, b: &str| relative_path(Path::new(a), Path::new(b));
        assert_eq!(
            r("/w/tests/adapters/x", "/w/adapters/sdk").as_deref(),
            Some("../../../adapters/sdk")
        );
        assert_eq!(r("/w/x", "/w/x/vendor").as_deref(), Some("vendor"));
        assert_eq!(r("/w/x", "/w/x").as_deref(), Some("."));
        assert_eq!(
            r("/tmp/x", "/w/sdk"),
            None,
            "only the root in common: absolute"
        );
    }

    #[test]
    fn writes_everything_or_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("new");
        let files = vec![
            ("a/b.txt".to_owned(), "b".to_owned()),
            ("c.txt".to_owned(), "c".to_owned()),
        ];
        let written = write_all(&dir, &files).expect("written");
        assert_eq!(written, [dir.join("a/b.txt"), dir.join("c.txt")]);
        assert_eq!(fs::read_to_string(dir.join("a/b.txt")).expect("read"), "b");

        // A second time: refused, and nothing beside it.
        let e = write_all(&dir, &files).expect_err("not empty");
        assert!(e.to_string().contains("not empty"), "{e}");

        // A file path that cannot be written: no staging directory remains.
        let broken = vec![
            ("ok.txt".to_owned(), String::new()),
            ("ok.txt/x".to_owned(), String::new()),
        ];
        let other = tmp.path().join("other");
        assert!(write_all(&other, &broken).is_err());
        let left: Vec<_> = fs::read_dir(tmp.path())
            .expect("ls")
            .map(|e| e.expect("e").file_name())
            .collect();
        assert_eq!(left, ["new"], "{left:?}");

        // An empty existing directory is fine.
        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).expect("mkdir");
        write_all(&empty, &files).expect("empty dir accepted");
        assert!(empty.join("c.txt").is_file());
    }
}
