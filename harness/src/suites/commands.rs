//! The `commands` suite.

use libtest_mimic::Trial;

use crate::env::Environment;

/// The trials of this suite for `env`.
#[must_use]
pub fn trials(env: &Environment) -> Vec<Trial> {
    let _ = env;
    Vec::new()
}
