//! Rendering what the ADR checks found: `file:line: rule: message` lines with a summary, or
//! one JSON document for tools.
//!
//! The JSON documents carry `"version": 2`: version 2 added `also` to every diagnostic (the
//! other places of the same cause, each `{"file", "line"}`), and `architecture` and `bumps` to
//! check-change's document. Version 1 had no `version` field.

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

/// The version of the JSON documents (see the module documentation).
pub const JSON_VERSION: u32 = 2;

/// The closing line of `vixens adr check-change`: the count, which architecture paths were in
/// force, and the version bumps that needed no ADR.
#[must_use]
pub fn change_summary(change: &Change) -> String {
    let short: String = change.merge_base.chars().take(12).collect();
    let mut line = format!(
        "{} in {} since {} (merge base {short}); architecture paths: {}",
        count(change.errors(), "error"),
        count(change.changed.len(), "changed path"),
        change.base,
        change.architecture
    );
    if !change.bumps.is_empty() {
        let bumped: Vec<String> = change
            .bumps
            .iter()
            .map(|b| {
                let moved: Vec<String> = b.bumps.iter().map(|v| format!("{} {} → {}", v.key, v.from, v.to)).collect();
                format!("{} ({})", b.path, moved.join(", "))
            })
            .collect();
        let _ = write!(line, "; version bumps only, no ADR needed: {}", bumped.join("; "));
    }
    line
}

fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

#[derive(Serialize)]
struct LintJson<'a> {
    version: u32,
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
        version: JSON_VERSION,
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
    version: u32,
    base: &'a str,
    merge_base: &'a str,
    changed: &'a [String],
    architecture: &'a str,
    bumps: &'a [super::change::BumpedPath],
    errors: usize,
    diagnostics: &'a [Diagnostic],
}

/// `vixens adr check-change --format json`.
#[must_use]
pub fn change_json(change: &Change) -> String {
    let doc = ChangeJson {
        version: JSON_VERSION,
        base: &change.base,
        merge_base: &change.merge_base,
        changed: &change.changed,
        architecture: &change.architecture,
        bumps: &change.bumps,
        errors: change.errors(),
        diagnostics: &change.diagnostics,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
