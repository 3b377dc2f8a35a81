//! Documented commands run on an environment: each entry of `docs/commands.md` executed with bash
//! (timeouts, retries until convergence, mutating entries only when asked), its output matched
//! against the document, and the outcomes reported.
//!
//! - [`runner`]: running entries, emitting [`Event`]s;
//! - [`report`]: outcomes and readable failure messages.
//!
//! Reading, linting and recording the document need no environment: `vixens_docs::commands`.

use std::path::PathBuf;

use vixens_docs::commands::{LoadError, load};
use vixens_ops::env::Environment;

pub mod report;
pub mod runner;

pub use report::{EntryOutcome, Failure, Report, Verdict};
pub use runner::{CONCURRENT_ENTRIES, Event, RunOptions, Runner};

/// Runs the read-only entries of `env`'s commands document on `env`: what the recreate cycle
/// does after each recreate. Mutating entries are reported as skipped.
///
/// `extra_path` holds folders to put on PATH after the environment's tools (where the
/// `vixens` and `vixens-lab` binaries are).
///
/// # Errors
/// [`LoadError`] when the document cannot be read. Failing entries are in the [`Report`].
pub fn run_read_only(env: &Environment, extra_path: Vec<PathBuf>) -> Result<Report, LoadError> {
    let doc = load(&env.commands.doc)?;
    let options = RunOptions { mutating: false, entries: Vec::new(), extra_path, jobs: 0 };
    Ok(Runner::new(env, &doc, options).run(&mut |_| {}))
}
