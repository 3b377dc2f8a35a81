//! ADR checks: the specification's first requirement. Every decision is an ADR in `docs/adr/`
//! with context, decision and consequences (positive and negative), referencing its spec and
//! its implementation; a changed decision marks the old ADR Superseded, naming the new one.
//!
//! The pieces, one concern each:
//! - [`config`]: `.config/adr.yaml`, with a severity per rule;
//! - [`vocabulary`]: status spellings, headings and labels in English and French;
//! - [`markdown`] and [`record`]: reading one ADR (pulldown-cmark, with line numbers);
//! - [`references`]: links and path mentions, and what counts as a spec or implementation;
//! - [`rules`]: what one ADR is held to on its own;
//! - [`catalog`], [`numbering`], [`supersession`], [`index`]: the folder as a whole;
//! - [`repository`]: the whole lint; [`change`]: `check-change` against a git base;
//! - [`diagnostic`] and [`output`]: what is reported and how it is printed.
//!
//! [`trials`] turns the lint into the `adr::*` tests of `tests/repository.rs`.

use std::path::Path;

use libtest_mimic::{Failed, Trial};

pub mod catalog;
pub mod change;
pub mod config;
pub mod diagnostic;
pub mod index;
pub mod markdown;
pub mod numbering;
pub mod output;
pub mod record;
pub mod references;
pub mod repository;
pub mod rules;
pub mod supersession;
pub mod vocabulary;

pub use change::{Change, ChangeError, check_change};
pub use config::{Config, ConfigError};
pub use diagnostic::{Diagnostic, Rule, Scope, Severity};
pub use repository::{Lint, lint};
pub use vocabulary::Status;

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
    let mut trials: Vec<Trial> = lint
        .adrs
        .iter()
        .map(|adr| trial(format!("adr::{}", adr.stem), repository::in_scope(&lint, Scope::File, Some(&adr.path))))
        .collect();
    trials.push(trial("adr::numbering".into(), repository::in_scope(&lint, Scope::Numbering, None)));
    trials.push(trial("adr::supersession".into(), repository::in_scope(&lint, Scope::Supersession, None)));
    trials.push(trial("adr::index".into(), repository::in_scope(&lint, Scope::Index, None)).with_ignored_flag(lint.indexes.is_empty()));
    trials
}

/// A trial that fails when any of `diagnostics` is an error; its message lists them all.
fn trial<'a>(name: String, diagnostics: impl Iterator<Item = &'a Diagnostic>) -> Trial {
    let diagnostics: Vec<Diagnostic> = diagnostics.cloned().collect();
    Trial::test(name, move || {
        if diagnostics.iter().any(Diagnostic::is_error) {
            Err(Failed::from(output::lines(&diagnostics).trim_end()))
        } else {
            Ok(())
        }
    })
}
