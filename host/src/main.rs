//! The `regent` command.

fn main() -> std::process::ExitCode {
    restore_default_sigpipe();
    regent::cli::main()
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`regent tags R |
/// head`) would panic; a command-line tool should just stop quietly, as
/// other Unix tools do.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
