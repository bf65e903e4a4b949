//! Running the `regent` binary the way a user or a CI script would.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `regent` binary: `$REGENT_BIN`, else `target/<profile>/regent` next to
/// this test executable (`just test` builds it first).
pub fn regent_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("REGENT_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let bin = profile_dir.join("regent");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p regent` (just test does)",
        bin.display()
    );
    bin
}

/// A `regent` command with no inherited registry settings.
///
/// Every test's regent shares one compile cache (`target/<profile>/regent-test-cache`):
/// entries are keyed by component digest, so sharing is safe, and compiling
/// every bundled adapter again for each test would cost seconds per test.
/// The rest of the cache (which registries asked for Basic credentials) and
/// the installed adapters with their grants (`dir/config`) are private to
/// the test: a loopback port reused by another test's server must not
/// inherit them, and the user's own `~/.config/regent` is never touched.
pub fn regent(dir: &std::path::Path) -> Command {
    let mut command = Command::new(regent_bin());
    command
        .env("REGENT_CACHE_DIR", private_cache_dir(dir))
        .env("REGENT_CONFIG_DIR", dir.join("config"))
        .env_remove("REGENT_REPO_CONTAINER_REGISTRY");
    command
}

/// `dir/regent-cache`, whose `components` folder links to the shared
/// compile cache.
fn private_cache_dir(dir: &std::path::Path) -> PathBuf {
    let shared = shared_cache_dir().join("components");
    let private = dir.join("regent-cache");
    std::fs::create_dir_all(&shared).expect("create the shared compile cache");
    std::fs::create_dir_all(&private).expect("create the test's cache dir");
    let link = private.join("components");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink(&shared, &link).expect("link the shared compile cache");
    }
    private
}

/// The compile cache shared by all tests' regent runs.
pub fn shared_cache_dir() -> PathBuf {
    regent_bin()
        .parent()
        .map(|p| p.join("regent-test-cache"))
        .unwrap_or_else(|| std::env::temp_dir().join("regent-test-cache"))
}

/// Run and return the output, failing the test with stderr if it did not succeed.
pub fn success(command: &mut Command) -> Output {
    let output = command.output().expect("run regent");
    assert!(
        output.status.success(),
        "regent failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
