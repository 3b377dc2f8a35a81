//! What a run of documented commands found: one outcome per entry, and the readable failure
//! messages (in the style of snapbox: "Expected success, was exit 1 (talosctl health)", then
//! the fenced, redacted output, or a diff pointing at the document's lines).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use vixens_docs::commands::document::Convergence;
use vixens_docs::commands::record::{Passed, Recording};
use vixens_docs::commands::validation::Digest;

/// Output kept in a failure message: the end of it, which is what explains a failure.
const SHOWN_OUTPUT_LINES: usize = 200;

/// The outcome of running a document's entries on one environment.
#[derive(Debug, Clone)]
pub struct Report {
    /// The environment's name.
    pub env: String,
    /// True when the environment is simulated (the embedded lab): its records say so.
    pub simulated: bool,
    /// The document.
    pub doc: PathBuf,
    /// One outcome per entry run (or skipped), in document order.
    pub outcomes: Vec<EntryOutcome>,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
}

/// The outcome of one entry.
#[derive(Debug, Clone)]
pub struct EntryOutcome {
    /// The entry's id.
    pub id: String,
    /// Its heading's line.
    pub line: usize,
    /// The digest of the block that ran.
    pub digest: Option<Digest>,
    /// Passed, failed or skipped.
    pub verdict: Verdict,
    /// How long it took, retries included.
    pub elapsed: Duration,
    /// The versions of the tools it ran (only for a pass).
    pub tools: Vec<String>,
    /// The commands whose output held secrets the environment's redactor did not know,
    /// replaced by `[REDACTED:<rule>]` before it was matched or shown.
    pub scrubbed: Vec<ScrubbedStep>,
}

/// A command whose output held secrets the `secrets` rules found (never the secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrubbedStep {
    /// Its `$ ` line in the document.
    pub line: usize,
    /// Its first line, shortened.
    pub summary: String,
    /// The rule of each secret replaced.
    pub rules: Vec<&'static str>,
}

impl ScrubbedStep {
    /// `the output of `argocd admin initial-password` (docs/commands.md:58) held 1 secret the
    /// environment's redactor does not know (bare-secret-output): it was matched and shown as
    /// [REDACTED:bare-secret-output]`.
    #[must_use]
    pub fn note(&self, doc: &std::path::Path) -> String {
        let mut rules: Vec<&str> = self.rules.clone();
        rules.dedup();
        let placeholders: Vec<String> = rules.iter().map(|r| format!("[REDACTED:{r}]")).collect();
        let n = self.rules.len();
        format!(
            "the output of `{}` ({}:{}) held {n} secret{} the environment's redactor does not know ({}): it was matched and shown as {}, and is recorded nowhere",
            self.summary,
            doc.display(),
            self.line,
            if n == 1 { "" } else { "s" },
            rules.join(", "),
            placeholders.join(", ")
        )
    }
}

/// An entry's verdict.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Every command exited as expected and printed what the entry says.
    Passed {
        /// Attempts of the slowest step (more than 1 only for a converging entry).
        attempts: u32,
    },
    /// A command did not.
    Failed(Box<Failure>),
    /// Not run, and why.
    Skipped(Skip),
}

/// Why an entry was not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// A mutating entry, and mutating entries were not asked for.
    MutatingNotRequested,
    /// A mutating entry, and the environment is protected.
    ProtectedEnvironment,
    /// A mutating entry after another mutating entry failed: the environment's state is
    /// unknown.
    AfterMutatingFailure {
        /// The entry that failed.
        entry: String,
    },
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::MutatingNotRequested => f.write_str("mutating entry; run it with --mutating"),
            Skip::ProtectedEnvironment => f.write_str("mutating entry; the environment is protected"),
            Skip::AfterMutatingFailure { entry } => write!(f, "mutating entry after `{entry}` failed; the environment's state is unknown"),
        }
    }
}

/// Why an entry failed, with everything needed to explain it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The environment.
    pub env: String,
    /// The document.
    pub doc: PathBuf,
    /// The command that failed, when one did.
    pub step: Option<FailedStep>,
    /// Attempts made (more than 1 only for a converging entry).
    pub attempts: u32,
    /// The entry's convergence window, when it has one.
    pub converges: Option<Convergence>,
    /// What went wrong.
    pub kind: FailureKind,
}

/// The command a failure is about.
#[derive(Debug, Clone)]
pub struct FailedStep {
    /// Its `$ ` line.
    pub line: usize,
    /// Its first line, shortened.
    pub summary: String,
}

/// What went wrong.
#[derive(Debug, Clone)]
pub enum FailureKind {
    /// The entry has no runnable `console` block.
    NoExample,
    /// The environment lacks a value the entry needs.
    MissingValue {
        /// Why, naming the placeholder and its line.
        message: String,
    },
    /// bash could not be started or its output could not be read.
    CannotRun {
        /// Why.
        message: String,
    },
    /// The command outlived its timeout; its process group was terminated.
    TimedOut {
        /// The timeout.
        timeout: Duration,
        /// What it printed until then (redacted).
        output: String,
    },
    /// The exit status differs from the expected one.
    Status {
        /// The expected exit code.
        expected: i32,
        /// What happened.
        actual: Exit,
        /// What it printed (redacted).
        output: String,
    },
    /// The output differs from the expected output.
    Output {
        /// The rendered diff (see [`vixens_docs::commands::diff`]).
        diff: String,
    },
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exit {code}"),
            Exit::Signal(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

impl Failure {
    /// Whether another attempt could change the verdict.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            FailureKind::TimedOut { .. } | FailureKind::Status { .. } | FailureKind::Output { .. } => true,
            FailureKind::NoExample | FailureKind::MissingValue { .. } | FailureKind::CannotRun { .. } => false,
        }
    }

    /// One line for a summary or a ledger: `exit 1 at docs/commands.md:58`.
    #[must_use]
    pub fn headline(&self) -> String {
        let at = self.step.as_ref().map(|s| format!("{}:{}", self.doc.display(), s.line)).unwrap_or_else(|| self.doc.display().to_string());
        match &self.kind {
            FailureKind::NoExample => format!("no runnable example at {at}"),
            FailureKind::MissingValue { message } => message.clone(),
            FailureKind::CannotRun { message } => format!("cannot run the command at {at}: {message}"),
            FailureKind::TimedOut { timeout, .. } => format!("timed out after {} at {at}", humantime::format_duration(*timeout)),
            FailureKind::Status { expected, actual, .. } => format!("expected {}, was {actual} at {at}", expectation(*expected)),
            FailureKind::Output { .. } => format!("output differs from {at}"),
        }
    }
}

fn expectation(code: i32) -> String {
    if code == 0 { "success".into() } else { format!("exit {code}") }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = self.converges
            && self.attempts > 1
        {
            writeln!(f, "Did not converge within {} ({} attempts); the last attempt:", humantime::format_duration(c.within), self.attempts)?;
        }
        let summary = self.step.as_ref().map_or_else(String::new, |s| s.summary.clone());
        let at = match &self.step {
            Some(s) => format!("{}:{}", self.doc.display(), s.line),
            None => self.doc.display().to_string(),
        };
        match &self.kind {
            FailureKind::NoExample => {
                writeln!(f, "Cannot run: the entry has no `console` block with a `$ ` command (see `vixens commands lint`)")
            }
            FailureKind::MissingValue { message } => writeln!(f, "Cannot run on {}: {message}", self.env),
            FailureKind::CannotRun { message } => writeln!(f, "Cannot run ({summary}) at {at}: {message}"),
            FailureKind::TimedOut { timeout, output } => {
                writeln!(f, "Expected success, timed out after {} ({summary})", humantime::format_duration(*timeout))?;
                writeln!(f, "at {at}, on {}", self.env)?;
                fenced(f, "output before it was stopped (stdout and stderr)", output)
            }
            FailureKind::Status { expected, actual, output } => {
                writeln!(f, "Expected {}, was {actual} ({summary})", expectation(*expected))?;
                writeln!(f, "at {at}, on {}", self.env)?;
                fenced(f, "output (stdout and stderr)", output)
            }
            FailureKind::Output { diff } => {
                writeln!(f, "Output differs from the document ({summary})")?;
                writeln!(f, "at {at}, on {}", self.env)?;
                writeln!(f)?;
                f.write_str(diff)
            }
        }
    }
}

/// Writes `output` in a fence longer than any backtick run inside it, keeping its end.
fn fenced(f: &mut fmt::Formatter<'_>, label: &str, output: &str) -> fmt::Result {
    writeln!(f)?;
    if output.trim().is_empty() {
        return writeln!(f, "{label}: (none)");
    }
    writeln!(f, "{label}:")?;
    let longest_run = output.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    writeln!(f, "{fence}")?;
    let lines: Vec<&str> = output.trim_end().lines().collect();
    let dropped = lines.len().saturating_sub(SHOWN_OUTPUT_LINES);
    if dropped > 0 {
        writeln!(f, "[... {dropped} earlier lines ...]")?;
    }
    for line in &lines[dropped..] {
        writeln!(f, "{line}")?;
    }
    writeln!(f, "{fence}")
}

impl Report {
    /// The entries that failed.
    pub fn failed(&self) -> impl Iterator<Item = (&EntryOutcome, &Failure)> {
        self.outcomes.iter().filter_map(|o| match &o.verdict {
            Verdict::Failed(failure) => Some((o, failure.as_ref())),
            Verdict::Passed { .. } | Verdict::Skipped(_) => None,
        })
    }

    /// True when no entry failed (skipped entries do not fail a run).
    #[must_use]
    pub fn success(&self) -> bool {
        self.failed().next().is_none()
    }

    /// The passed entries, as a recording for [`vixens_docs::commands::record::record`].
    #[must_use]
    pub fn recording(&self, date: &str) -> Recording {
        let passed = self
            .outcomes
            .iter()
            .filter(|o| matches!(o.verdict, Verdict::Passed { .. }))
            .filter_map(|o| Some(Passed { id: o.id.clone(), digest: o.digest.clone()?, tools: o.tools.clone() }))
            .collect();
        Recording { env: self.env.clone(), simulated: self.simulated, date: date.to_owned(), passed }
    }

    /// `2 of 12 entries failed on lab (3 skipped)`, or `all 12 entries passed on lab`.
    #[must_use]
    pub fn summary(&self) -> String {
        let total = self.outcomes.len();
        let failed = self.failed().count();
        let skipped = self.outcomes.iter().filter(|o| matches!(o.verdict, Verdict::Skipped(_))).count();
        let ran = total - skipped;
        let skipped = if skipped > 0 { format!(" ({skipped} skipped)") } else { String::new() };
        let elapsed = humantime::format_duration(Duration::from_millis(self.elapsed.as_millis() as u64));
        if failed > 0 {
            format!("{failed} of {ran} entries failed on {}{skipped} in {elapsed}", self.env)
        } else {
            format!("{ran} of {ran} entries passed on {}{skipped} in {elapsed}", self.env)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: FailureKind) -> Failure {
        Failure {
            env: "lab".into(),
            doc: "docs/commands.md".into(),
            step: Some(FailedStep { line: 58, summary: "talosctl health".into() }),
            attempts: 1,
            converges: None,
            kind,
        }
    }

    #[test]
    fn a_run_on_a_simulated_environment_records_that_it_is_simulated() {
        let passed = EntryOutcome {
            id: "check-talos-health".into(),
            line: 58,
            digest: Some(Digest::of("$ talosctl health\n")),
            verdict: Verdict::Passed { attempts: 1 },
            elapsed: Duration::from_millis(10),
            tools: vec!["talosctl v1.13.9".into()],
            scrubbed: Vec::new(),
        };
        let report = Report { env: "lab".into(), simulated: true, doc: "docs/commands.md".into(), outcomes: vec![passed], elapsed: Duration::ZERO };
        let recording = report.recording("2026-11-26");
        assert!(recording.simulated);
        assert_eq!(recording.passed.len(), 1);
        let real = Report { env: "dev".into(), simulated: false, ..report };
        assert!(!real.recording("2026-11-26").simulated);
    }

    #[test]
    fn a_failed_command_reads_like_snapbox() {
        let f = failure(FailureKind::Status { expected: 0, actual: Exit::Code(1), output: "error: connection refused\n".into() });
        assert_eq!(
            f.to_string(),
            "Expected success, was exit 1 (talosctl health)\nat docs/commands.md:58, on lab\n\noutput (stdout and stderr):\n```\nerror: connection refused\n```\n"
        );
        assert_eq!(f.headline(), "expected success, was exit 1 at docs/commands.md:58");
    }

    #[test]
    fn output_with_backticks_gets_a_longer_fence() {
        let f = failure(FailureKind::Status { expected: 2, actual: Exit::Signal(9), output: "```\n".into() });
        let text = f.to_string();
        assert!(text.starts_with("Expected exit 2, was killed by signal 9 (talosctl health)"), "{text}");
        assert!(text.contains("\n````\n```\n````\n"), "{text}");
    }

    #[test]
    fn a_converging_entry_says_how_long_it_tried() {
        let mut f = failure(FailureKind::Output { diff: "--- expected\n+++ actual\n".into() });
        f.attempts = 7;
        f.converges = Some(Convergence { within: Duration::from_secs(60), every: Duration::from_secs(5) });
        assert!(
            f.to_string()
                .starts_with("Did not converge within 1m (7 attempts); the last attempt:\nOutput differs from the document (talosctl health)\n")
        );
    }

    #[test]
    fn long_output_keeps_its_end() {
        let output: String = (1..=250).map(|i| format!("line {i}\n")).collect();
        let text = failure(FailureKind::TimedOut { timeout: Duration::from_secs(60), output }).to_string();
        assert!(text.contains("[... 50 earlier lines ...]\nline 51\n"), "{text}");
        assert!(text.contains("line 250\n```\n"));
    }
}
