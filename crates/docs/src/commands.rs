//! Documented commands: `docs/commands.md` read, linted, executed on live environments,
//! matched against its expected output, and proven on at least 2 environments.
//!
//! One module per concern:
//! - [`document`]: the format (entries, examples, placeholders, validation records);
//! - [`parse`]: reading it with pulldown-cmark, with exact line numbers;
//! - [`lint`]: the rules of `vixens commands lint`, the gate a pull request runs;
//! - [`matcher`]: expected output (`[..]`, `...`, placeholders) against actual output;
//! - [`diff`]: the diff shown on a mismatch, with the document's line numbers;
//! - [`validation`]: one `Validated on:` line and its digest; [`record`]: their atomic rewrite;
//! - [`versions`]: the tool versions a record names.
//!
//! Running entries on an environment needs the environment and lives with the checks
//! (`vixens_checks::commands`); this crate never compiles a Kubernetes client.

use std::path::Path;

use libtest_mimic::{Failed, Trial};

pub mod diff;
pub mod document;
pub mod lint;
pub mod matcher;
pub mod parse;
pub mod record;
pub mod validation;
pub mod versions;

pub use document::{Document, Entry, Problem, Rule};
pub use parse::{LoadError, load};

/// Where a repository keeps its commands document.
pub const DOC_PATH: &str = "docs/commands.md";

/// The `commands::lint` trial for `repo`'s `docs/commands.md`: fails with every lint problem,
/// one `file:line: rule: message` per line.
#[must_use]
pub fn lint_trials(repo: &Path) -> Vec<Trial> {
    let repo = repo.to_owned();
    vec![Trial::test("commands::lint", move || {
        let lint = lint_repository(&repo);
        if lint.problems.is_empty() { Ok(()) } else { Err(Failed::from(lint.problems.join("\n"))) }
    })]
}

/// The documented-commands lint of a repository, as the promotion gate reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryLint {
    /// What was checked, when it passes: `12 entries, each validated on 2+ environments`.
    pub summary: String,
    /// Every problem as `file:line: rule: message` (or why the document cannot be read);
    /// empty when the lint passes.
    pub problems: Vec<String>,
}

/// Lints `repo`'s `docs/commands.md`.
#[must_use]
pub fn lint_repository(repo: &Path) -> RepositoryLint {
    let path = repo.join(DOC_PATH);
    match load(&path) {
        Ok(doc) => {
            let problems = lint::lint(&doc);
            RepositoryLint { summary: summary(&doc), problems: lint::render(&doc, &problems).lines().map(str::to_owned).collect() }
        }
        Err(e) => RepositoryLint { summary: String::new(), problems: vec![vixens_diagnostic::error_chain(&e)] },
    }
}

/// `12 entries, each validated on 2+ environments (12 on simulated environments only)`.
#[must_use]
pub fn summary(doc: &Document) -> String {
    let mut summary = format!("{} entries, each validated on {}+ environments", doc.entries.len(), lint::MIN_ENVIRONMENTS);
    match lint::simulated_only(doc) {
        0 => {}
        n => summary.push_str(&format!(" ({n} on simulated environments only)")),
    }
    summary
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> is two folders below the workspace")
            .join("tests/fixtures/commands")
            .join(name)
    }

    #[test]
    fn the_repository_lint_summarises_a_clean_document() {
        let lint = lint_repository(&fixture("ops"));
        assert_eq!(lint, RepositoryLint { summary: "6 entries, each validated on 2+ environments".into(), problems: vec![] });
    }

    #[test]
    fn the_repository_lint_names_each_problem_and_a_missing_document() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir(repo.path().join("docs")).unwrap();
        let lint = lint_repository(repo.path());
        assert_eq!(lint.problems.len(), 1);
        assert!(lint.problems[0].starts_with(&format!("cannot read {}/docs/commands.md: ", repo.path().display())), "{:?}", lint.problems);
        std::fs::copy(fixture("lint/under-validated.md"), repo.path().join("docs/commands.md")).unwrap();
        let lint = lint_repository(repo.path());
        assert_eq!(lint.problems.len(), 1);
        assert!(lint.problems[0].contains("/docs/commands.md:16: under-validated: `say-hi` is validated on 1 environment"), "{:?}", lint.problems);
    }

    #[test]
    fn the_lint_trial_fails_on_a_broken_document_and_passes_on_a_clean_one() {
        let args = libtest_mimic::Arguments { test_threads: Some(1), ..Default::default() };
        let broken = tempfile::tempdir().unwrap();
        let trials = lint_trials(broken.path());
        assert_eq!(trials[0].name(), "commands::lint");
        assert_eq!(libtest_mimic::run(&args, trials).num_failed, 1);
        assert_eq!(libtest_mimic::run(&args, lint_trials(&fixture("ops"))).num_passed, 1);
    }
}
