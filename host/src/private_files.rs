//! Folders only the user may read: credentials, the compile cache, the
//! audit log and installed adapters live in them.

use std::path::Path;

/// Create `dir` and any missing parents with mode 0700 (existing folders
/// are left as they are).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
