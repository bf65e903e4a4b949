//! Packing a directory into a reproducible gzip tar: sorted entries, zeroed
//! times and owners, so the same files always give the same digest.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

/// Pack `dir` (regular files and folders; links are refused: their targets
/// would not travel) into gzip tar bytes.
pub fn pack_dir(dir: &Path) -> Result<Vec<u8>, String> {
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let mut entries = Vec::new();
    collect(dir, dir, &mut entries)?;
    entries.sort();
    let encoder = GzEncoder::new(Vec::new(), Compression::default());
    let mut tar = tar::Builder::new(encoder);
    tar.mode(tar::HeaderMode::Deterministic);
    for relative in entries {
        let path = dir.join(&relative);
        let name = relative.to_string_lossy().replace('\\', "/");
        if path.is_dir() {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            header.set_mtime(0);
            tar.append_data(&mut header, format!("{name}/"), std::io::empty())
                .map_err(|e| format!("packing {name}: {e}"))?;
        } else {
            let content =
                std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if is_executable(&path) { 0o755 } else { 0o644 });
            header.set_size(content.len() as u64);
            header.set_mtime(0);
            tar.append_data(&mut header, &name, content.as_slice())
                .map_err(|e| format!("packing {name}: {e}"))?;
        }
    }
    let encoder = tar
        .into_inner()
        .map_err(|e| format!("finishing the tar: {e}"))?;
    let mut bytes = encoder
        .finish()
        .map_err(|e| format!("finishing gzip: {e}"))?;
    bytes.flush().map_err(|e| e.to_string())?;
    Ok(bytes)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), String> {
    let read = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in read {
        let entry = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let relative = path
            .strip_prefix(root)
            .map_err(|e| e.to_string())?
            .to_path_buf();
        if kind.is_symlink() {
            return Err(format!(
                "{} is a symbolic link; bundles hold regular files and folders only",
                path.display()
            ));
        }
        if kind.is_dir() {
            out.push(relative);
            collect(root, &path, out)?;
        } else if kind.is_file() {
            out.push(relative);
        } else {
            return Err(format!(
                "{} is not a regular file or folder",
                path.display()
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    false
}
