//! What every phase of an operation shares: how it reports progress, and how its failure names
//! the phase and the culprit.

use crate::budget::Phase;
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
