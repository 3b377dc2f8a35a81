//! Repository-wide suites that need no environment: this project's own ADRs (`adr::*`),
//! docs/commands.md lint (`commands::lint`) and no secret in docs/ (`docs::secrets`), checked as
//! the specification asks.

use std::path::Path;

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut trials = vixens_docs::adr::trials(repo);
    trials.extend(vixens_docs::commands::lint_trials(repo));
    trials.extend(vixens_docs::secrets::trials(repo));
    libtest_mimic::run(&args, trials).exit_code()
}
