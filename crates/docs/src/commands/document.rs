//! The commands document: what an entry of `docs/commands.md` is made of.
//!
//! The format reads as plain markdown and renders well on GitHub:
//!
//! ````markdown
//! ## Placeholders
//!
//! - `[NODE]` per environment: the first control-plane node, as `talosctl -n` takes it.
//! - `[AGE]` pattern `[0-9]+[smhd]`: an age as kubectl prints it.
//!
//! ### List the Argo CD applications
//!
//! Context: after a recreate, to see every application's sync and health. Needs read access.
//!
//! Converges: within 2m, every 5s
//!
//! ```console
//! $ kubectl -n argocd get applications
//! NAME        SYNC STATUS   HEALTH STATUS
//! ...
//! traefik     Synced        Healthy
//! ```
//!
//! Validated on:
//! - `lab` on 2026-11-26 with kubectl v1.34.1 (digest `3f9a1c2e4b5d`)
//! ````
//!
//! - Every `###` heading is an entry; its GitHub anchor (slug) is the entry's id.
//! - The first paragraph starts with `Context:`. Later paragraphs (or lines) may start with
//!   `Mutating:` (what the entry changes), `Converges:` (`within 2m`, optionally `, every 5s`:
//!   a mismatch is retried until then) and `Timeout:` (per command, instead of the
//!   environment's `commands.timeout`).
//! - One `console` block (backtick or tilde fence, also inside a list): `$ ` starts a command,
//!   `> ` continues it, an optional `? CODE` gives the expected exit status (0 by default),
//!   and the lines after it are the expected output. There, `[..]` matches any run of
//!   characters within a line, a line of `...` matches any run of lines, and `[NAME]` matches a
//!   placeholder. Output is what a terminal shows: stdout and stderr interleaved.
//! - Placeholders are defined once, in a `Placeholders` section: `per environment` takes the
//!   value from the environment (`commands.values.NAME` in env.yaml; the harness also provides
//!   `ENV`, `NODE` and `NODES`), which commands also read as `$NAME`; `pattern` takes a regex.
//! - `Validated on:` lists where the entry passed, one line per environment, written by
//!   `vixens commands run ENV --record` (see [`super::record`]).

use std::path::PathBuf;
use std::time::Duration;

use super::validation::{Digest, Validation};

/// A parsed commands document.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file it was read from (as given, for messages).
    pub path: PathBuf,
    /// Every `###` entry, in document order.
    pub entries: Vec<Entry>,
    /// The placeholders defined in the `Placeholders` section.
    pub placeholders: Vec<Placeholder>,
    /// Structural problems found while parsing (an unterminated block, a malformed marker).
    /// [`super::lint`] reports them along with its own rules.
    pub problems: Vec<Problem>,
    /// The credentials the document holds, found when it was read: the lint reports each as a
    /// `secrets` problem, unless `.config/secrets.yaml` accepts it ([`super::accept_secrets`]).
    pub secrets: Vec<crate::secrets::Finding>,
}

/// One documented command: a `###` heading and what follows it up to the next heading.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The heading's GitHub anchor: unique within the document, and the test name's last part.
    pub id: String,
    /// The heading's text.
    pub title: String,
    /// The heading's line (1-based).
    pub line: usize,
    /// The text after `Context:` in the entry's first paragraph, when it has one.
    pub context: Option<String>,
    /// The text after `Mutating:`: what the entry changes. `None` for a read-only entry.
    pub mutating: Option<String>,
    /// How long a mismatch may be retried before it counts.
    pub converges: Option<Convergence>,
    /// The per-command timeout, when the entry sets its own.
    pub timeout: Option<Duration>,
    /// The `console` block.
    pub example: Option<Example>,
    /// The `Validated on:` list, when there is one.
    pub validated_on: Option<ValidatedOn>,
}

impl Entry {
    /// True when the entry changes state (it has a `Mutating:` marker).
    #[must_use]
    pub fn is_mutating(&self) -> bool {
        self.mutating.is_some()
    }

    /// The records whose digest is the entry's current one: where the entry, as written now,
    /// passed.
    pub fn current_validations(&self) -> impl Iterator<Item = &Validation> {
        let digest = self.example.as_ref().map(|e| &e.digest);
        self.validated_on.iter().flat_map(|v| v.records.iter()).filter_map(|r| r.record.as_ref()).filter(move |r| Some(&r.digest) == digest)
    }
}

/// `Converges: within 2m, every 5s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Convergence {
    /// How long after the first attempt a step may still be retried.
    pub within: Duration,
    /// The pause between attempts.
    pub every: Duration,
}

impl Convergence {
    /// The pause between attempts when the entry does not say: short enough for the lab, and
    /// well under the 5 s that `talosctl health` polls at.
    pub const DEFAULT_EVERY: Duration = Duration::from_secs(2);
}

/// The `console` block of an entry.
#[derive(Debug, Clone)]
pub struct Example {
    /// The opening fence's line.
    pub line: usize,
    /// The closing fence's line; `None` when the block is unterminated.
    pub closing_line: Option<usize>,
    /// What precedes the fence on its line (list indentation, `> `): lines written after the
    /// block (the `Validated on:` list) get the same prefix.
    pub prefix: String,
    /// The commands, in order.
    pub steps: Vec<Step>,
    /// The digest of the block's content: a record is current only while it matches.
    pub digest: Digest,
}

/// One `$ ` command of an example, with what it is expected to print.
#[derive(Debug, Clone)]
pub struct Step {
    /// The `$ ` line.
    pub line: usize,
    /// The command, continuation lines joined with newlines, as bash receives it.
    pub command: String,
    /// The expected exit status (`? CODE`); 0 when absent.
    pub status: Option<i32>,
    /// The expected output, trailing blank lines removed.
    pub expected: Vec<ExpectedLine>,
}

impl Step {
    /// The expected exit status.
    #[must_use]
    pub fn expected_status(&self) -> i32 {
        self.status.unwrap_or(0)
    }

    /// The command's first line, shortened for messages: `talosctl -n "$NODE" health`. A
    /// credential written in it shows as `[REDACTED:<rule>]`: messages end up in terminals,
    /// JUnit and reports.
    #[must_use]
    pub fn summary(&self) -> String {
        let first = self.command.lines().next().unwrap_or_default().trim_end_matches('\\').trim();
        let first = crate::secrets::scrub(first, crate::secrets::Kind::Text).text;
        let first = first.as_str();
        const MAX: usize = 60;
        if first.chars().count() > MAX { format!("{}…", first.chars().take(MAX).collect::<String>()) } else { first.to_owned() }
    }
}

/// One line of expected output and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLine {
    /// Its line in the document.
    pub line: usize,
    /// The text, trailing whitespace removed.
    pub text: String,
}

/// The `Validated on:` list of an entry.
#[derive(Debug, Clone)]
pub struct ValidatedOn {
    /// The `Validated on:` line.
    pub line: usize,
    /// Each item of the list after it.
    pub records: Vec<RecordLine>,
    /// What precedes `Validated on:` on its line; new items get it too.
    pub prefix: String,
}

/// One item of a `Validated on:` list.
#[derive(Debug, Clone)]
pub struct RecordLine {
    /// Its line.
    pub line: usize,
    /// The record, or `None` when the line could not be read (reported as a problem).
    pub record: Option<Validation>,
}

/// A placeholder defined in the `Placeholders` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// `NODE` for `[NODE]`.
    pub name: String,
    /// Where it is defined.
    pub line: usize,
    /// What it matches.
    pub value: PlaceholderValue,
}

/// What a placeholder matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceholderValue {
    /// The environment's value (`commands.values.NAME`), also given to commands as `$NAME`.
    PerEnvironment,
    /// A regular expression, matched within the line.
    Pattern(String),
}

/// A problem in the document, at a line, under a named rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line it is about (1-based).
    pub line: usize,
    /// The rule it breaks.
    pub rule: Rule,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The rules of `vixens commands lint`; each is printed by its kebab-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// The entry's first paragraph does not start with `Context:`.
    MissingContext,
    /// The entry has no `console` block with a `$ ` command.
    MissingExample,
    /// A command has neither expected output nor an explicit `? CODE`.
    MissingExpectedOutput,
    /// Two entries have the same id.
    DuplicateId,
    /// `[NAME]` in expected output, never defined.
    UnknownPlaceholder,
    /// A fence never closes.
    UnterminatedBlock,
    /// Validated with the current digest on fewer than 2 environments.
    UnderValidated,
    /// A `console` block that cannot be read (output before the first command, an empty
    /// command, a bad `? CODE`, a second block).
    BadExample,
    /// A `Mutating:`, `Converges:` or `Timeout:` marker that cannot be read.
    BadMarker,
    /// A placeholder definition that cannot be read, is repeated, or has a bad pattern.
    BadPlaceholder,
    /// A `Validated on:` line that cannot be read, or two lines for one environment.
    BadRecord,
    /// A credential written in the document (the rule `vixens docs secrets` shares).
    Secrets,
}

impl Rule {
    /// The rule's name as printed: `missing-context`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Rule::MissingContext => "missing-context",
            Rule::MissingExample => "missing-example",
            Rule::MissingExpectedOutput => "missing-expected-output",
            Rule::DuplicateId => "duplicate-id",
            Rule::UnknownPlaceholder => "unknown-placeholder",
            Rule::UnterminatedBlock => "unterminated-block",
            Rule::UnderValidated => "under-validated",
            Rule::BadExample => "bad-example",
            Rule::BadMarker => "bad-marker",
            Rule::BadPlaceholder => "bad-placeholder",
            Rule::BadRecord => "bad-record",
            Rule::Secrets => "secrets",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A heading's GitHub anchor: lower case, punctuation dropped, spaces as hyphens.
#[must_use]
pub fn slug(title: &str) -> String {
    title
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_github_anchors() {
        assert_eq!(slug("Check `talosctl health` in the lab"), "check-talosctl-health-in-the-lab");
        assert_eq!(slug("Bring a lab up (and down)!"), "bring-a-lab-up-and-down");
        assert_eq!(slug("kubectl: list apps_v2"), "kubectl-list-apps_v2");
    }

    #[test]
    fn a_long_command_is_shortened_for_messages() {
        let step = Step { line: 1, command: format!("echo {}", "x".repeat(100)), status: None, expected: vec![] };
        assert_eq!(step.summary().chars().count(), 61);
        let step = Step { line: 1, command: "talosctl health \\\n  --wait-timeout 1m".into(), status: None, expected: vec![] };
        assert_eq!(step.summary(), "talosctl health");
    }
}
