//! Documented commands: `docs/commands.md` read, linted, executed on live environments,
//! matched against its expected output, and proven on at least 2 environments.
//!
//! One module per concern:
//! - [`document`]: the format (entries, examples, placeholders, validation records);
//! - [`parse`]: reading it with pulldown-cmark, with exact line numbers;
//! - [`lint`]: the rules of `vixens commands lint`, the gate a pull request runs;
//! - [`matcher`]: expected output (`[..]`, `...`, placeholders) against actual output;
//! - [`diff`]: the diff shown on a mismatch, with the document's line numbers;
//! - [`runner`]: running entries on an environment (bash, timeouts, convergence, mutating
//!   entries only when asked), emitting events;
//! - [`report`]: outcomes and readable failure messages;
//! - [`record`]: the `Validated on:` lines, their digest, and their atomic rewrite;
//! - [`versions`]: the tool versions a record names.
//!
//! The nextest suite (`commands::<env>::<entry-id>`) is in [`crate::suites::commands`]; the
//! recreate cycle calls [`run_read_only`] after each recreate.

use std::path::{Path, PathBuf};

use libtest_mimic::{Failed, Trial};

use crate::env::Environment;

pub mod diff;
pub mod document;
pub mod lint;
pub mod matcher;
pub mod parse;
pub mod record;
pub mod report;
pub mod runner;
pub mod versions;

pub use document::{Document, Entry, Problem, Rule};
pub use parse::{LoadError, load};
pub use report::{EntryOutcome, Failure, Report, Verdict};
pub use runner::{Event, RunOptions, Runner};

/// Where a repository keeps its commands document.
pub const DOC_PATH: &str = "docs/commands.md";

/// The `commands::lint` trial for `repo`'s `docs/commands.md`: fails with every lint problem,
/// one `file:line: rule: message` per line.
#[must_use]
pub fn lint_trials(repo: &Path) -> Vec<Trial> {
    let path = repo.join(DOC_PATH);
    vec![Trial::test("commands::lint", move || lint_file(&path).map_err(Failed::from))]
}

/// Lints the document at `path`.
///
/// # Errors
/// The rendered problems, or why the file cannot be read.
pub fn lint_file(path: &Path) -> Result<(), String> {
    let doc = load(path).map_err(|e| error_chain(&e))?;
    let problems = lint::lint(&doc);
    if problems.is_empty() { Ok(()) } else { Err(lint::render(&doc, &problems)) }
}

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
    let options = RunOptions { mutating: false, entries: Vec::new(), extra_path };
    Ok(Runner::new(env, &doc, options).run(&mut |_| {}))
}

/// `error: cause: cause`, for one-line messages.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
