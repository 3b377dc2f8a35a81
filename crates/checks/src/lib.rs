//! The specification's checks, on top of the operations they judge:
//!
//! - [`cycle`]: one destroy/recreate cycle phase by phase, each under its budget, and its
//!   reporters (terminal progress, the evidence ledger);
//! - [`commands`]: the documented commands run on an environment and matched against the
//!   document;
//! - [`promote`]: the promotion verdict over the ledger, the JUnit and the repository lints;
//! - [`report`]: the same evidence for people, as Markdown and HTML;
//! - [`doctor`]: the preflight of an environment.
//!
//! Checks never print or exit: they return typed verdicts; reporters and the `vixens` binary do
//! the output.

pub mod commands;
pub mod cycle;
pub mod doctor;
pub mod promote;
pub mod report;

#[cfg(test)]
mod talosctl_on_the_lab;
