//! Repository-wide suites that need no environment: this project's own ADRs (`adr::*`),
//! docs/commands.md lint (`commands::lint`) and the operations it runs that no entry documents
//! (`commands::discovery`), no secret in docs/ (`docs::secrets`), checked as the specification
//! asks, and the workspace's floors (`layout::*`).

use std::path::Path;

#[path = "layout/floors.rs"]
mod floors;

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut trials = vixens_docs::adr::trials(repo);
    trials.extend(vixens_docs::commands::lint_trials(repo));
    trials.extend(vixens_docs::commands::discovery_trials(repo));
    trials.extend(floors::trials(repo));
    trials.extend(vixens_docs::secrets::trials(repo));
    libtest_mimic::run(&args, trials).exit_code()
}
