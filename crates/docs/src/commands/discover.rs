//! Command discovery: the operations a repository actually runs that its `docs/commands.md` does
//! not document (`vixens commands discover`, the `commands::discovery` test, a promotion check).
//!
//! The specification asks that a new operation pattern be documented within 24 hours, with its
//! context, an example and its expected output. The lint checks the entries that exist; this
//! finds the operations that have none:
//!
//! 1. [`sources`] reads the repository's shell scripts, Justfile, Makefile and Taskfile recipes,
//!    workflow `run:` steps and the shell blocks of its runbooks, line for line;
//! 2. [`shell`] splits that text into simple commands, and [`pattern`] (with [`tools`]) reduces
//!    each to an operation pattern, skipping plumbing;
//! 3. each pattern is compared with the patterns of `docs/commands.md`'s examples, read the same
//!    way, and with the ignored patterns of [`config`] (`.config/commands.yaml`);
//! 4. [`history`] dates each use of an undocumented pattern by the commit that brought its line:
//!    a pattern is as old as its oldest use. Past the grace period (24 h) it is an error, before
//!    it a warning.
//!
//! [`output`] renders the result as `file:line: rule: message` lines or versioned JSON.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;

use super::parse::{LoadError, load};
use super::{DOC_PATH, Document, missing_document};

pub mod config;
pub mod history;
pub mod output;
pub mod pattern;
pub mod shell;
pub mod sources;
pub mod tools;

pub use config::{CONFIG_PATH, Config, ConfigError, Ignore};
pub use history::Dated;
pub use pattern::Pattern;

/// How long a new operation may stay undocumented: the specification's 24 hours.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);

/// `bash -c '…'` inside `bash -c '…'`: deeper nesting is not followed.
const MAX_NESTING: usize = 4;

/// What a discovery judges against.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long an undocumented pattern is a warning before it is an error.
    pub grace: Duration,
    /// The time ages are measured at (uncommitted lines are this old: not at all).
    pub now: Timestamp,
}

impl Default for Options {
    fn default() -> Self {
        Self { grace: DEFAULT_GRACE, now: Timestamp::now() }
    }
}

/// Why discovery cannot run.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The repository has no `docs/commands.md`.
    #[error("{0}")]
    MissingDocument(String),
    /// `docs/commands.md` cannot be read.
    #[error(transparent)]
    Document(#[from] LoadError),
    /// `.config/commands.yaml` cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// What discovery found.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The grace period judged against.
    pub grace: Duration,
    /// When ages were measured.
    pub now: Timestamp,
    /// How many files were read.
    pub files: usize,
    /// One finding per pattern: undocumented ones first (errors, then warnings, oldest first),
    /// then the documented and the ignored ones.
    pub findings: Vec<Finding>,
    /// Ignored patterns that cover no undocumented use: stale, to remove.
    pub unused_ignores: Vec<Ignore>,
    /// Files that could not be read, each `file:line:column: why`: discovery is incomplete.
    pub problems: Vec<String>,
    /// What limits the dating (no git history, a shallow clone).
    pub notes: Vec<String>,
}

/// One operation pattern, where it is used, and whether it is documented.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The pattern.
    pub pattern: Pattern,
    /// Documented, ignored, or not.
    pub status: Status,
    /// Every use, oldest first when dated.
    pub uses: Vec<Use>,
}

/// Whether a pattern is documented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// An entry's example runs it.
    Documented {
        /// The entry's id.
        entry: String,
    },
    /// `.config/commands.yaml` says it needs no entry.
    Ignored {
        /// Why.
        reason: String,
    },
    /// No entry runs it.
    Undocumented {
        /// How long since its oldest use entered the history.
        age: Duration,
        /// Past the grace period, an error; before it, a warning.
        severity: Severity,
    },
}

/// How an undocumented pattern counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Undocumented for longer than the grace period: discovery fails.
    Error,
    /// Undocumented for less: to document soon.
    Warning,
}

/// One place a pattern is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// The file, repository-relative.
    pub file: String,
    /// The line the command is on.
    pub line: usize,
    /// That line's text, trimmed.
    pub command: String,
    /// When the line entered the history (undocumented patterns only).
    pub dated: Option<Dated>,
}

impl Finding {
    /// The severity of an undocumented pattern.
    #[must_use]
    pub fn severity(&self) -> Option<Severity> {
        match self.status {
            Status::Undocumented { severity, .. } => Some(severity),
            _ => None,
        }
    }
}

impl Discovery {
    /// The undocumented patterns of `severity`.
    pub fn undocumented(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity() == Some(severity))
    }

    /// True when no pattern is undocumented past the grace period and every file was read.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.undocumented(Severity::Error).next().is_none() && self.problems.is_empty()
    }

    fn count(&self, documented: bool) -> usize {
        self.findings.iter().filter(|f| matches!(f.status, Status::Documented { .. }) == documented && f.severity().is_none()).count()
    }

    /// How many patterns an entry documents.
    #[must_use]
    pub fn documented(&self) -> usize {
        self.count(true)
    }

    /// How many patterns are ignored.
    #[must_use]
    pub fn ignored(&self) -> usize {
        self.count(false)
    }
}

/// Discovers the operations of `repo` that its `docs/commands.md` does not document.
///
/// # Errors
/// [`DiscoverError`] when the document or the configuration cannot be used; files that cannot be
/// read are [`Discovery::problems`].
pub fn discover(repo: &Path, options: &Options) -> Result<Discovery, DiscoverError> {
    let config = Config::for_repo(repo)?;
    let doc_path = repo.join(DOC_PATH);
    if !doc_path.exists() {
        return Err(DiscoverError::MissingDocument(missing_document(&doc_path, repo)));
    }
    let documented = documented(&load(&doc_path)?);
    let sources = sources::read(repo, &config);
    let mut uses: BTreeMap<Pattern, Vec<Use>> = BTreeMap::new();
    for snippet in &sources.snippets {
        for (line, pattern) in patterns(&snippet.text, snippet.line, 0) {
            let command = sources.line_text(&snippet.file, line);
            let entry = uses.entry(pattern).or_default();
            if !entry.iter().any(|u| u.file == snippet.file && u.line == line) {
                entry.push(Use { file: snippet.file.clone(), line, command, dated: None });
            }
        }
    }
    let mut history = history::History::open(repo, options.now);
    let mut used_ignores = vec![false; config.ignore.len()];
    let mut findings: Vec<Finding> = uses
        .into_iter()
        .map(|(pattern, uses)| {
            if let Some((_, entry)) = documented.iter().find(|(p, _)| p.covers(&pattern)) {
                return Finding { pattern, status: Status::Documented { entry: entry.clone() }, uses };
            }
            if let Some(i) = config.ignore.iter().position(|i| i.pattern.covers(&pattern)) {
                used_ignores[i] = true;
                return Finding { pattern, status: Status::Ignored { reason: config.ignore[i].reason.clone() }, uses };
            }
            undocumented(pattern, uses, &mut history, options)
        })
        .collect();
    findings.sort_by_key(|f| (rank(f), std::cmp::Reverse(age(f)), f.pattern.clone()));
    let unused_ignores = config.ignore.iter().zip(used_ignores).filter(|(_, used)| !used).map(|(i, _)| i.clone()).collect();
    Ok(Discovery {
        grace: options.grace,
        now: options.now,
        files: sources.files.len(),
        findings,
        unused_ignores,
        problems: sources.problems,
        notes: notes(&history),
    })
}

/// Errors, warnings, documented, ignored.
fn rank(finding: &Finding) -> u8 {
    match finding.status {
        Status::Undocumented { severity: Severity::Error, .. } => 0,
        Status::Undocumented { severity: Severity::Warning, .. } => 1,
        Status::Documented { .. } => 2,
        Status::Ignored { .. } => 3,
    }
}

fn age(finding: &Finding) -> Duration {
    match finding.status {
        Status::Undocumented { age, .. } => age,
        _ => Duration::ZERO,
    }
}

/// Dates every use; the pattern is as old as its oldest.
fn undocumented(pattern: Pattern, mut uses: Vec<Use>, history: &mut history::History, options: &Options) -> Finding {
    for u in &mut uses {
        u.dated = Some(history.date(&u.file, u.line));
    }
    uses.sort_by_key(|u| (u.dated.as_ref().map(|d| d.time), u.file.clone(), u.line));
    let oldest = uses.first().and_then(|u| u.dated.as_ref()).map_or(options.now, |d| d.time);
    let age = Duration::from_secs(u64::try_from(options.now.as_second() - oldest.as_second()).unwrap_or(0));
    let severity = if age > options.grace { Severity::Error } else { Severity::Warning };
    Finding { pattern, status: Status::Undocumented { age, severity }, uses }
}

fn notes(history: &history::History) -> Vec<String> {
    if !history.is_git() {
        vec!["no git history here: every command counts as written now, so none is past the grace period".into()]
    } else if history.is_shallow() {
        vec![
            "the history is shallow: commands older than its oldest commit are dated by it and look younger (`git fetch --unshallow` reads them all)"
                .into(),
        ]
    } else {
        Vec::new()
    }
}

/// The patterns `doc`'s examples run, each with its entry's id.
#[must_use]
pub fn documented(doc: &Document) -> Vec<(Pattern, String)> {
    let mut documented = Vec::new();
    for entry in &doc.entries {
        for step in entry.example.iter().flat_map(|e| &e.steps) {
            for (_, pattern) in patterns(&step.command, step.line, 0) {
                documented.push((pattern, entry.id.clone()));
            }
        }
    }
    documented
}

/// The operation patterns of shell `text` whose first line is `line`, each with its line.
#[must_use]
pub fn patterns(text: &str, line: usize, depth: usize) -> Vec<(usize, Pattern)> {
    let script = shell::parse(text, line);
    let mut found = Vec::new();
    for command in &script.commands {
        match pattern::read(&command.words, &script.functions) {
            pattern::Reading::Operation(pattern) => found.push((command.line, pattern)),
            pattern::Reading::Shell(inner) if depth < MAX_NESTING => {
                found.extend(patterns(&inner, command.line, depth + 1).into_iter().map(|(_, p)| (command.line, p)))
            }
            pattern::Reading::Shell(_) | pattern::Reading::Plumbing => {}
        }
    }
    found
}

#[cfg(test)]
pub(crate) mod tests;
