//! ADR checks: the specification's first requirement. Every decision is an ADR in `docs/adr/`
//! with context, decision and consequences (positive and negative), referencing its spec and
//! its implementation; a changed decision marks the old ADR Superseded, naming the new one.
//!
//! The pieces, one concern each:
//! - [`config`]: `.config/adr.yaml`, with a severity per rule;
//! - [`vocabulary`]: status spellings, headings and labels in English and French;
//! - [`markdown`], [`prose`] and [`record`]: reading one ADR (pulldown-cmark, with line numbers,
//!   and sentences across lines);
//! - [`references`]: links and path mentions, and what counts as a spec or implementation;
//! - [`rules`]: what one ADR is held to on its own; [`secrets`]: no credential in it;
//! - [`catalog`], [`numbering`], [`supersession`], [`index`]: the folder as a whole;
//! - [`repository`]: the whole lint; [`change`]: `check-change` against a git base, where
//!   [`bump`] tells a pure version bump from a change;
//! - [`diagnostic`] and [`output`]: what is reported and how it is printed.
//!
//! [`trials`] turns the lint into the `adr::*` tests of `tests/repository.rs`.

use std::path::Path;

use libtest_mimic::{Failed, Trial};

pub mod bump;
pub mod catalog;
pub mod change;
pub mod config;
pub mod diagnostic;
pub mod index;
pub mod markdown;
pub mod numbering;
pub mod output;
pub mod prose;
pub mod record;
pub mod references;
pub mod repository;
pub mod rules;
pub mod secrets;
pub mod supersession;
pub mod vocabulary;

pub use change::{Change, ChangeError, check_change};
pub use config::{Config, ConfigError};
pub use diagnostic::{Diagnostic, Location, Rule, Scope, Severity};
pub use repository::{Lint, lint};
pub use vocabulary::Status;

/// Why the ADRs of a repository could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The configuration file does not load (every problem is in the error).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The ADR folder is missing or cannot be listed.
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
}

/// Lints the ADRs of `repo` with its own configuration (`.config/adr.yaml`, else the defaults):
/// what `vixens adr lint` and the promotion gate run. The ADRs are clean when
/// [`Lint::errors`] is 0; each [`Diagnostic`] displays as `file:line: rule: message`.
///
/// # Errors
/// [`CheckError`] when the configuration does not load or the ADR folder is missing.
pub fn check(repo: &Path) -> Result<Lint, CheckError> {
    let config = Config::for_repo(repo)?;
    Ok(lint(repo, &config)?)
}

/// One trial per ADR of `repo`'s ADR folder (`adr::<file-stem>`), plus the repository-wide
/// `adr::numbering`, `adr::supersession` and `adr::index` (ignored when there is no index).
/// A failing trial's message lists its diagnostics as `file:line: rule: message`.
///
/// A configuration that does not load gives one failing `adr::config` trial; a missing ADR
/// folder gives one failing `adr::directory` trial.
#[must_use]
pub fn trials(repo: &Path) -> Vec<Trial> {
    let config = match Config::for_repo(repo) {
        Ok(config) => config,
        Err(e) => {
            let message = e.lines().join("\n");
            return vec![Trial::test("adr::config", move || Err(Failed::from(message)))];
        }
    };
    let lint = match lint(repo, &config) {
        Ok(lint) => lint,
        Err(e) => {
            let message = e.to_string();
            return vec![Trial::test("adr::directory", move || Err(Failed::from(message)))];
        }
    };
    let mut trials: Vec<Trial> =
        lint.adrs.iter().map(|adr| trial(format!("adr::{}", adr.stem), repository::in_scope(&lint, Scope::File, Some(&adr.path)))).collect();
    trials.push(trial("adr::numbering".into(), repository::in_scope(&lint, Scope::Numbering, None)));
    trials.push(trial("adr::supersession".into(), repository::in_scope(&lint, Scope::Supersession, None)));
    trials.push(trial("adr::index".into(), repository::in_scope(&lint, Scope::Index, None)).with_ignored_flag(lint.indexes.is_empty()));
    trials
}

/// A trial that fails when any of `diagnostics` is an error; its message lists them all.
fn trial<'a>(name: String, diagnostics: impl Iterator<Item = &'a Diagnostic>) -> Trial {
    let diagnostics: Vec<Diagnostic> = diagnostics.cloned().collect();
    Trial::test(
        name,
        move || {
            if diagnostics.iter().any(Diagnostic::is_error) { Err(Failed::from(output::lines(&diagnostics).trim_end())) } else { Ok(()) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> is two folders below the workspace")
            .join("tests/fixtures/adr")
            .join(name)
    }

    fn run(trials: Vec<Trial>) -> libtest_mimic::Conclusion {
        let args = libtest_mimic::Arguments { test_threads: Some(1), quiet: true, ..Default::default() };
        libtest_mimic::run(&args, trials)
    }

    #[test]
    fn one_trial_per_adr_plus_the_repository_wide_ones() {
        let trials = trials(&fixture("messy"));
        let names: Vec<&str> = trials.iter().map(Trial::name).collect();
        assert_eq!(names.len(), 12 + 3);
        assert_eq!(names[0], "adr::001-talos-linux");
        assert_eq!(&names[12..], ["adr::numbering", "adr::supersession", "adr::index"]);
        // 003 (Trade-offs without pros and cons), 005 and 008 fail on their own, then numbering
        // (004's title) and the index.
        let conclusion = run(trials);
        assert_eq!((conclusion.num_failed, conclusion.num_passed), (5, 10));
    }

    #[test]
    fn this_repositorys_adrs_pass_as_trials() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
        let conclusion = run(trials(repo));
        assert_eq!(conclusion.num_failed, 0);
        assert!(conclusion.num_passed >= 6 + 3);
    }

    #[test]
    fn a_bad_configuration_or_folder_is_one_failing_trial() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = trials(dir.path()).iter().map(|t| t.name().to_owned()).collect();
        assert_eq!(names, ["adr::directory"]);
        std::fs::create_dir_all(dir.path().join(".config")).unwrap();
        std::fs::write(dir.path().join(".config/adr.yaml"), "directroy: x\n").unwrap();
        let trials = trials(dir.path());
        assert_eq!(trials[0].name(), "adr::config");
        assert_eq!(run(trials).num_failed, 1);
    }

    #[test]
    fn check_uses_the_repositorys_configuration() {
        let lint = check(&fixture("en")).unwrap();
        assert_eq!((lint.errors(), lint.warnings()), (22, 1));
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(check(dir.path()), Err(CheckError::Catalog(_))));
    }

    #[test]
    fn a_failing_trial_lists_its_diagnostics_as_file_line_rule_message() {
        let lint = lint(&fixture("en"), &Config::default()).unwrap();
        let text = output::lines(&repository::in_scope(&lint, Scope::Supersession, None).cloned().collect::<Vec<_>>());
        assert_eq!(
            text.lines().map(|l| l.split(": ").nth(1).unwrap()).collect::<Vec<_>>(),
            ["successor", "supersession-cycle", "supersession-chain", "supersedes-backlink", "supersedes-target"]
        );
        assert!(
            text.starts_with("docs/adr/017-no-successor.md:4: successor: is Superseded but names no successor, and no ADR says it replaces ADR-017"),
            "{text}"
        );
    }
}
