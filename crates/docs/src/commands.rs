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
//! - [`versions`]: the tool versions a record names;
//! - [`starter`]: the document `vixens commands init` writes for a GitOps homelab;
//! - [`discover`]: the operations the repository runs that no entry documents.
//!
//! Running entries on an environment needs the environment and lives with the checks
//! (`vixens_checks::commands`); this crate never compiles a Kubernetes client.

use std::path::Path;

use libtest_mimic::{Failed, Trial};

use crate::secrets::Allow;

pub mod diff;
pub mod discover;
pub mod document;
pub mod lint;
pub mod matcher;
pub mod parse;
pub mod record;
pub mod starter;
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

/// The `commands::discovery` trial for `repo`: fails with every operation the repository runs
/// that `docs/commands.md` has not documented for longer than the grace period (24 h), one
/// `file:line: rule: message` per line; younger ones do not fail it.
#[must_use]
pub fn discovery_trials(repo: &Path) -> Vec<Trial> {
    let repo = repo.to_owned();
    vec![Trial::test("commands::discovery", move || {
        let discovery = discovery_repository(&repo, &discover::Options::default());
        if discovery.problems.is_empty() { Ok(()) } else { Err(Failed::from(discovery.problems.join("\n"))) }
    })]
}

/// Command discovery on a repository, as the promotion gate reads it: the undocumented patterns
/// past the grace period and the files that could not be read are its problems; the younger
/// ones are counted in the summary.
#[must_use]
pub fn discovery_repository(repo: &Path, options: &discover::Options) -> RepositoryLint {
    match discover::discover(repo, options) {
        Ok(discovery) => RepositoryLint { summary: discover::output::summary(&discovery), problems: discover::output::errors(&discovery) },
        Err(discover::DiscoverError::Config(e)) => RepositoryLint { summary: String::new(), problems: e.lines() },
        Err(e) => RepositoryLint { summary: String::new(), problems: vec![vixens_diagnostic::error_chain(&e)] },
    }
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

/// What to say when a repository has no commands document: how to start one.
#[must_use]
pub fn missing_document(path: &Path, repo: &Path) -> String {
    format!(
        "no commands document at {}: run `vixens commands init --repo {}` to write a starter one for a GitOps homelab, then validate each entry",
        path.display(),
        repo.display()
    )
}

/// Lints `repo`'s `docs/commands.md`, with the secrets `repo`'s `.config/secrets.yaml` accepts
/// left out (a broken allow file is a problem, and accepts nothing).
#[must_use]
pub fn lint_repository(repo: &Path) -> RepositoryLint {
    let path = repo.join(DOC_PATH);
    if !path.exists() {
        return RepositoryLint { summary: String::new(), problems: vec![missing_document(&path, repo)] };
    }
    let mut doc = match load(&path) {
        Ok(doc) => doc,
        Err(e) => return RepositoryLint { summary: String::new(), problems: vec![vixens_diagnostic::error_chain(&e)] },
    };
    let (allow, allow_problems) = match Allow::for_repo(repo) {
        Ok(allow) => (allow, Vec::new()),
        Err(e) => (Allow::default(), e.lines()),
    };
    accept_secrets(&mut doc, &allow, DOC_PATH);
    let problems = lint::lint(&doc);
    RepositoryLint {
        summary: summary(&doc),
        problems: allow_problems.into_iter().chain(lint::render(&doc, &problems).lines().map(str::to_owned)).collect(),
    }
}

/// Drops from `doc`'s secrets those `allow` accepts; `file` is the document's path relative to
/// the repository, as `.config/secrets.yaml` names it. Returns how many were accepted.
pub fn accept_secrets(doc: &mut Document, allow: &Allow, file: &str) -> usize {
    let before = doc.secrets.len();
    doc.secrets.retain(|finding| allow.entry_for(file, finding).is_none());
    before - doc.secrets.len()
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
        assert_eq!(
            lint.problems[0],
            format!(
                "no commands document at {0}/docs/commands.md: run `vixens commands init --repo {0}` to write a starter one for a GitOps homelab, then validate each entry",
                repo.path().display()
            )
        );
        std::fs::copy(fixture("lint/under-validated.md"), repo.path().join("docs/commands.md")).unwrap();
        let lint = lint_repository(repo.path());
        assert_eq!(lint.problems.len(), 1);
        assert!(lint.problems[0].contains("/docs/commands.md:16: under-validated: `say-hi` is validated on 1 environment"), "{:?}", lint.problems);
    }

    #[test]
    fn the_discovery_trial_fails_on_an_operation_undocumented_for_two_days_and_passes_once_it_is_documented() {
        let args = libtest_mimic::Arguments { test_threads: Some(1), ..Default::default() };
        let repo = discover::tests::repository();
        let trials = discovery_trials(repo.path());
        assert_eq!(trials[0].name(), "commands::discovery");
        assert_eq!(libtest_mimic::run(&args, trials).num_failed, 1);
        let discovery = discovery_repository(repo.path(), &discover::Options::default());
        assert_eq!(discovery.problems.len(), 1, "only the pattern past the grace period: {:?}", discovery.problems);
        assert!(
            discovery.problems[0].starts_with("scripts/upgrade.sh:4: undocumented-command: `talosctl upgrade --nodes`"),
            "{:?}",
            discovery.problems
        );
        let doc = std::fs::read_to_string(repo.path().join(DOC_PATH)).unwrap();
        let entry =
            "\n### Upgrade a node\n\nContext: a new Talos release.\n\n```console\n$ talosctl -n \"$NODE\" upgrade --image \"$IMAGE\"\n? 0\n```\n";
        std::fs::write(repo.path().join(DOC_PATH), doc + entry).unwrap();
        assert_eq!(libtest_mimic::run(&args, discovery_trials(repo.path())).num_passed, 1);
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
