//! What every phase of an operation shares: its budget and deadline, the secrets kept out of what
//! it reports, where terraform's transcript goes, how it reports progress, and how its failure
//! names the phase and the culprit. The runner of a check builds one [`PhaseCtx`] per phase; a
//! phase takes nothing else from its caller.

use std::path::Path;
use std::time::{Duration, Instant};

use vixens_drivers::redact::Redactor;

use crate::budget::Phase;
use crate::env::Budgets;
use crate::evidence::Failure;

/// What happened inside a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// A line a tool printed (terraform, talosctl), already redacted.
    Output {
        /// The tool.
        tool: &'a str,
        /// The line.
        line: &'a str,
    },
    /// A summary at a steady interval: `12/16 system apps ready; waiting on traefik (Progressing)`.
    Status(&'a str),
}

/// Where a phase reports its progress.
pub type OnProgress<'a> = &'a mut dyn FnMut(Progress<'_>);

impl Phase {
    /// A failure of this phase, naming its culprit (the resource address, the node and log
    /// line, the app) and what happened.
    #[must_use]
    pub fn failure(self, culprit: impl Into<String>, message: impl Into<String>) -> Failure {
        Failure { phase: self.name().to_owned(), culprit: culprit.into(), message: message.into() }
    }
}

/// One phase under way: see the [module docs](self).
pub struct PhaseCtx<'a> {
    phase: Phase,
    started: Instant,
    budget: Duration,
    redactor: &'a Redactor,
    transcript: Option<&'a Path>,
    progress: OnProgress<'a>,
}

impl<'a> PhaseCtx<'a> {
    /// `phase`, starting now, under its budget in `budgets` ([`Phase::budget`]), keeping
    /// `redactor`'s secrets out of what it reports to `progress`.
    #[must_use]
    pub fn new(phase: Phase, budgets: &Budgets, redactor: &'a Redactor, progress: OnProgress<'a>) -> Self {
        Self { phase, started: Instant::now(), budget: phase.budget(budgets), redactor, transcript: None, progress }
    }

    /// Appends every terraform command of the phase, and what it printed, to `path`.
    #[must_use]
    pub fn transcript(mut self, path: Option<&'a Path>) -> Self {
        self.transcript = path;
        self
    }

    /// The phase.
    #[must_use]
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The phase's whole budget.
    #[must_use]
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// What is left of the budget (zero once it is spent).
    #[must_use]
    pub fn left(&self) -> Duration {
        self.budget.saturating_sub(self.started.elapsed())
    }

    /// The secrets kept out of everything the phase reports.
    #[must_use]
    pub fn redactor(&self) -> &'a Redactor {
        self.redactor
    }

    /// Where terraform's transcript goes, if anywhere.
    #[must_use]
    pub fn transcript_path(&self) -> Option<&'a Path> {
        self.transcript
    }

    /// Reports `progress`.
    pub fn report(&mut self, progress: Progress<'_>) {
        (self.progress)(progress);
    }

    /// Reports a status line.
    pub fn status(&mut self, text: &str) {
        self.report(Progress::Status(text));
    }

    /// The progress sink, for a callee that reports on its own.
    pub fn progress(&mut self) -> &mut dyn FnMut(Progress<'_>) {
        &mut *self.progress
    }

    /// A failure of this phase.
    #[must_use]
    pub fn failure(&self, culprit: impl Into<String>, message: impl Into<String>) -> Failure {
        self.phase.failure(culprit, message)
    }
}
