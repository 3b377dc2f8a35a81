//! Phase `commands`: the read-only entries of the environment's commands document run on the
//! fresh cluster ([`crate::commands::run_read_only`]), each against its expected output. The
//! phase has no budget of its own (each command has `commands.timeout`); the cycle's budget
//! bounds it. A failure names the first failing entry; every failure, with its output or diff,
//! goes to the artifact.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::commands::{self, Report, Verdict};
use vixens_ops::budget::Phase;
use vixens_ops::env::Environment;
use vixens_ops::evidence::Failure;
use vixens_ops::phase::PhaseCtx;

/// Runs the read-only entries with `extra_path` after the environment's tools on PATH. Returns
/// every failure in full, for the artifact, alongside the phase's verdict.
pub(crate) fn run(env: &Environment, extra_path: Vec<PathBuf>, ctx: &mut PhaseCtx<'_>) -> (Result<(), Failure>, String) {
    let report = match commands::run_read_only(env, extra_path) {
        Ok(report) => report,
        Err(e) => return (Err(Phase::Commands.failure(env.commands.doc.display().to_string(), vixens_diagnostic::error_chain(&e))), String::new()),
    };
    ctx.status(&summary(&report));
    (judge(&report), details(&report))
}

/// `14 passed, 3 skipped (mutating), 0 failed`.
fn summary(report: &Report) -> String {
    let count = |pick: fn(&Verdict) -> bool| report.outcomes.iter().filter(|o| pick(&o.verdict)).count();
    let passed = count(|v| matches!(v, Verdict::Passed { .. }));
    let skipped = count(|v| matches!(v, Verdict::Skipped(_)));
    let failed = count(|v| matches!(v, Verdict::Failed(_)));
    format!("{passed} documented commands passed, {skipped} skipped (mutating), {failed} failed")
}

/// The phase's verdict: the first failing entry is the culprit; every failure is listed by its
/// one-line headline.
fn judge(report: &Report) -> Result<(), Failure> {
    let failed: Vec<_> = report.failed().collect();
    let Some((first, _)) = failed.first() else { return Ok(()) };
    let mut message = format!("{} of {} documented commands failed on {}:", failed.len(), report.outcomes.len(), report.env);
    for (outcome, failure) in &failed {
        let _ = write!(message, "\n  {}: {}", outcome.id, failure.headline());
    }
    let _ = write!(message, "\nre-run: vixens commands run {} --entry {}", report.env, first.id);
    Err(Phase::Commands.failure(format!("{} ({}:{})", first.id, report.doc.display(), first.line), message))
}

/// Every failure in full (command, output or diff), for the artifact.
fn details(report: &Report) -> String {
    report.failed().fold(String::new(), |mut text, (outcome, failure)| {
        let _ = writeln!(text, "== {} ({}:{})\n{failure}\n", outcome.id, report.doc.display(), outcome.line);
        text
    })
}
