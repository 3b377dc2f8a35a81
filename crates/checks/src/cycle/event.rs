//! What a running check reports, as it happens: the runner emits [`CycleEvent`]s and never prints;
//! reporters ([`super::report`]) turn them into terminal progress and evidence, each matching
//! every variant.

use std::time::Duration;

use super::{Check, Outcome};
use vixens_ops::budget::Phase;
use vixens_ops::evidence::Failure;
use vixens_ops::phase::Progress;

/// One step of a running check. Reporters match every variant: a new one must fail to compile
/// until each reporter decides what to do with it.
#[derive(Debug, Clone, Copy)]
pub enum CycleEvent<'a> {
    /// The check starts.
    Started {
        /// Which check.
        check: Check,
        /// The environment's name.
        environment: &'a str,
        /// The cycle's id, also its artifact folder's name.
        cycle_id: &'a str,
        /// The budget of the whole check (env.yaml `budgets.recreate`).
        budget: Duration,
    },
    /// A phase starts.
    PhaseStarted {
        /// The phase.
        phase: Phase,
        /// Its budget (its deadline).
        budget: Duration,
    },
    /// Something happened inside a phase.
    PhaseProgress {
        /// The phase.
        phase: Phase,
        /// Time since the phase started.
        elapsed: Duration,
        /// What happened.
        progress: Progress<'a>,
    },
    /// A phase ended.
    PhaseFinished {
        /// The phase.
        phase: Phase,
        /// How long it took.
        elapsed: Duration,
        /// Why it failed, or `None` when it passed.
        failure: Option<&'a Failure>,
    },
    /// The check ended with this outcome (every phase run, its verdict, its evidence).
    Finished {
        /// The outcome.
        outcome: &'a Outcome,
    },
}

/// Receives the events of a check.
pub trait Reporter {
    /// Takes one event. Reporters never fail the check: one that cannot write keeps its error
    /// for its owner to ask about.
    fn report(&mut self, event: &CycleEvent<'_>);
}

/// Hands every event to each reporter in turn.
#[derive(Default)]
pub struct Reporters<'a>(Vec<&'a mut dyn Reporter>);

impl<'a> Reporters<'a> {
    /// No reporter yet.
    #[must_use]
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds `reporter`.
    #[must_use]
    pub fn with(mut self, reporter: &'a mut dyn Reporter) -> Self {
        self.0.push(reporter);
        self
    }
}

impl Reporter for Reporters<'_> {
    fn report(&mut self, event: &CycleEvent<'_>) {
        for reporter in &mut self.0 {
            reporter.report(event);
        }
    }
}
