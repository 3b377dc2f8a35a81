//! Documented commands (issue: documented commands). Placeholder until it lands.

use std::path::Path;

use libtest_mimic::Trial;

/// The `commands::lint` trial for `repo`'s `docs/commands.md`.
#[must_use]
pub fn lint_trials(repo: &Path) -> Vec<Trial> {
    let _ = repo;
    Vec::new()
}
