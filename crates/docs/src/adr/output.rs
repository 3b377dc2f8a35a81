//! Rendering what the ADR checks found: `file:line: rule: message` lines with a summary, or
//! one JSON document for tools.

use std::fmt::Write as _;

use serde::Serialize;

use super::change::Change;
use super::diagnostic::Diagnostic;
use super::repository::Lint;

/// Output formats of `vixens adr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `file:line: rule: message`, one problem a line.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// The diagnostics as text, one a line.
#[must_use]
pub fn lines(diagnostics: &[Diagnostic]) -> String {
    diagnostics.iter().fold(String::new(), |mut out, d| {
        let _ = writeln!(out, "{d}");
        out
    })
}

/// The closing line of `vixens adr lint`: `3 errors, 1 warning in 12 ADRs (docs/adr)`.
#[must_use]
pub fn lint_summary(lint: &Lint) -> String {
    let index = match lint.indexes.as_slice() {
        [] => String::new(),
        indexes => format!(", index {}", indexes.join(", ")),
    };
    format!(
        "{}, {} in {} ({}{index})",
        count(lint.errors(), "error"),
        count(lint.warnings(), "warning"),
        count(lint.adrs.len(), "ADR"),
        lint.directory
    )
}

/// The closing line of `vixens adr check-change`.
#[must_use]
pub fn change_summary(change: &Change) -> String {
    let short: String = change.merge_base.chars().take(12).collect();
    format!("{} in {} since {} (merge base {short})", count(change.errors(), "error"), count(change.changed.len(), "changed path"), change.base)
}

fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

#[derive(Serialize)]
struct LintJson<'a> {
    directory: &'a str,
    adrs: usize,
    indexes: &'a [String],
    errors: usize,
    warnings: usize,
    diagnostics: &'a [Diagnostic],
}

/// `vixens adr lint --format json`.
#[must_use]
pub fn lint_json(lint: &Lint) -> String {
    let doc = LintJson {
        directory: &lint.directory,
        adrs: lint.adrs.len(),
        indexes: &lint.indexes,
        errors: lint.errors(),
        warnings: lint.warnings(),
        diagnostics: &lint.diagnostics,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

#[derive(Serialize)]
struct ChangeJson<'a> {
    base: &'a str,
    merge_base: &'a str,
    changed: &'a [String],
    errors: usize,
    diagnostics: &'a [Diagnostic],
}

/// `vixens adr check-change --format json`.
#[must_use]
pub fn change_json(change: &Change) -> String {
    let doc = ChangeJson {
        base: &change.base,
        merge_base: &change.merge_base,
        changed: &change.changed,
        errors: change.errors(),
        diagnostics: &change.diagnostics,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
