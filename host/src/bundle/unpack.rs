//! Unpacking a bundle layer without ever writing outside the target:
//! absolute paths, `..`, links and device files are refused.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;

/// Largest unpacked bundle, against decompression bombs.
const MAX_UNPACKED: u64 = 1 << 30;

/// Unpack gzip tar `bytes` into `dir`, which must be empty or absent.
pub fn unpack_into(bytes: &[u8], dir: &Path) -> Result<Vec<PathBuf>, String> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
        if entries.next().is_some() {
            return Err(format!(
                "{} is not empty; pull into a new or empty directory",
                dir.display()
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    let mut written = Vec::new();
    let mut total = 0u64;
    for entry in archive
        .entries()
        .map_err(|e| format!("reading the bundle: {e}"))?
    {
        let mut entry = entry.map_err(|e| format!("reading the bundle: {e}"))?;
        let raw = entry
            .path()
            .map_err(|e| format!("bad entry name: {e}"))?
            .into_owned();
        let relative = safe_relative(&raw)?;
        let target = dir.join(&relative);
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target)
                    .map_err(|e| format!("creating {}: {e}", target.display()))?;
            }
            tar::EntryType::Regular => {
                total += entry.header().size().unwrap_or(0);
                if total > MAX_UNPACKED {
                    return Err("the bundle unpacks to more than 1 GiB; refusing".into());
                }
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("creating {}: {e}", parent.display()))?;
                }
                let mut content = Vec::new();
                entry
                    .read_to_end(&mut content)
                    .map_err(|e| format!("reading {}: {e}", raw.display()))?;
                std::fs::write(&target, content)
                    .map_err(|e| format!("writing {}: {e}", target.display()))?;
                #[cfg(unix)]
                if entry.header().mode().is_ok_and(|m| m & 0o111 != 0) {
                    use std::os::unix::fs::PermissionsExt;
                    let _ =
                        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755));
                }
                written.push(relative);
            }
            other => {
                return Err(format!(
                    "{} is a {other:?} entry; bundles hold regular files and folders only",
                    raw.display()
                ));
            }
        }
    }
    Ok(written)
}

fn safe_relative(path: &Path) -> Result<PathBuf, String> {
    let mut clean = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => clean.push(p),
            Component::CurDir => {}
            _ => {
                return Err(format!(
                    "the bundle entry {} points outside the bundle; refusing",
                    path.display()
                ));
            }
        }
    }
    if clean.as_os_str().is_empty() {
        return Err(format!("the bundle entry {:?} has no name", path.display()));
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::pack_dir;

    #[test]
    fn round_trip_is_exact_and_reproducible() {
        let src = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(src.path().join("charts/app")).expect("mkdir");
        std::fs::write(src.path().join("values.yaml"), "replicas: 2\n").expect("write");
        std::fs::write(src.path().join("charts/app/Chart.yaml"), "name: app\n").expect("write");
        let a = pack_dir(src.path()).expect("pack");
        let b = pack_dir(src.path()).expect("pack again");
        assert_eq!(a, b, "same files, same bytes");
        let out = tempfile::tempdir().expect("tempdir");
        let target = out.path().join("pulled");
        let mut files = unpack_into(&a, &target).expect("unpack");
        files.sort();
        assert_eq!(
            files,
            vec![
                PathBuf::from("charts/app/Chart.yaml"),
                PathBuf::from("values.yaml")
            ]
        );
        assert_eq!(
            std::fs::read_to_string(target.join("values.yaml")).expect("read"),
            "replicas: 2\n"
        );
        assert!(unpack_into(&a, &target).unwrap_err().contains("not empty"));
    }

    #[test]
    fn refuses_entries_that_escape() {
        let mut raw = Vec::new();
        {
            let mut tar = tar::Builder::new(&mut raw);
            let mut header = tar::Header::new_gnu();
            header.set_size(4);
            header.set_entry_type(tar::EntryType::Regular);
            // Write the name bytes directly: the tar crate refuses `..` in set_path.
            let name = b"../evil";
            header.as_gnu_mut().expect("gnu").name[..name.len()].copy_from_slice(name);
            header.set_cksum();
            tar.append(&header, &b"evil"[..]).expect("append");
            tar.finish().expect("finish");
        }
        let gz = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&raw).expect("gz");
            e.finish().expect("gz")
        };
        let out = tempfile::tempdir().expect("tempdir");
        let error = unpack_into(&gz, &out.path().join("x")).expect_err("escape refused");
        assert!(error.contains("points outside"), "{error}");
        assert!(!out.path().join("evil").exists());
    }
}
