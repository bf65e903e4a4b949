//! The `regent` command.

fn main() -> std::process::ExitCode {
    regent::cli::main()
}
