//! Where the audit log lives when no `--audit-log` is given: one per user,
//! in the XDG state directory, so every cleanup on a machine extends the
//! same chain.

use std::path::PathBuf;

/// The environment variable naming the audit log explicitly.
pub const AUDIT_LOG_ENV: &str = "REGENT_AUDIT_LOG";

/// `$REGENT_AUDIT_LOG`, else `$XDG_STATE_HOME/regent/audit.jsonl`, else
/// `~/.local/state/regent/audit.jsonl`; `None` only without a home directory.
pub fn default_audit_log_path() -> Option<PathBuf> {
    audit_log_path_from(
        |name| std::env::var_os(name).map(PathBuf::from),
        dirs::home_dir(),
    )
}

/// [`default_audit_log_path`] for a given environment and home directory
/// (separate so it is testable without touching the real environment).
pub fn audit_log_path_from(
    env: impl Fn(&str) -> Option<PathBuf>,
    home: Option<PathBuf>,
) -> Option<PathBuf> {
    let set = |name: &str| env(name).filter(|p| !p.as_os_str().is_empty());
    if let Some(explicit) = set(AUDIT_LOG_ENV) {
        return Some(explicit);
    }
    // The XDG spec says relative values are to be ignored.
    let state = set("XDG_STATE_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".local").join("state")))?;
    Some(state.join("regent").join("audit.jsonl"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn path(vars: &[(&str, &str)], home: Option<&str>) -> Option<PathBuf> {
        audit_log_path_from(
            |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| PathBuf::from(v))
            },
            home.map(PathBuf::from),
        )
    }

    #[test]
    fn explicit_variable_wins() {
        let p = path(
            &[("REGENT_AUDIT_LOG", "/x/a.jsonl"), ("XDG_STATE_HOME", "/s")],
            Some("/home/u"),
        );
        assert_eq!(p.as_deref(), Some(Path::new("/x/a.jsonl")));
    }

    #[test]
    fn xdg_state_home_then_home() {
        assert_eq!(
            path(&[("XDG_STATE_HOME", "/s")], Some("/home/u")).as_deref(),
            Some(Path::new("/s/regent/audit.jsonl"))
        );
        assert_eq!(
            path(&[("XDG_STATE_HOME", "relative")], Some("/home/u")).as_deref(),
            Some(Path::new("/home/u/.local/state/regent/audit.jsonl"))
        );
        assert_eq!(
            path(&[("REGENT_AUDIT_LOG", "")], Some("/home/u")).as_deref(),
            Some(Path::new("/home/u/.local/state/regent/audit.jsonl"))
        );
        assert_eq!(path(&[], None), None);
    }
}
