//! Progress for people: one line per phase start and end, status lines of long waits, and
//! (unless turned off) every line the tools print, prefixed by the phase.
//!
//! ```text
//! lab: recreate_cycle 20261126T070102.123Z-4242 started (budget 2m)
//!   destroy: started (budget 30s)
//!   destroy | terraform: terraform_data.lab: Destroying... [id=5c1f...]
//!   destroy: passed in 1.9s
//!   argocd 3s: 12/16 system apps ready; waiting on traefik (Progressing), keda (OutOfSync)
//!   argocd: FAILED in 5.2s (culprit traefik)
//! lab: recreate_cycle failed in 9.8s
//! ```

use std::io::Write;

use crate::cycle::{CycleEvent, Progress, Reporter};
use vixens_ops::budget::format_duration;

/// Writes progress lines to `W` (stderr, or a buffer in tests). Write errors are ignored: a
/// closed terminal must not fail a check.
#[derive(Debug)]
pub struct Terminal<W: Write> {
    out: W,
    tool_output: bool,
}

impl<W: Write> Terminal<W> {
    /// Progress to `out`, tool output included.
    pub fn new(out: W) -> Self {
        Self { out, tool_output: true }
    }

    /// Shows (`true`, the default) or hides the lines the tools print.
    #[must_use]
    pub fn tool_output(mut self, shown: bool) -> Self {
        self.tool_output = shown;
        self
    }

    /// The writer, back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Reporter for Terminal<W> {
    fn report(&mut self, event: &CycleEvent<'_>) {
        let out = &mut self.out;
        let _ = match event {
            CycleEvent::Started { check, environment, cycle_id, budget } => {
                writeln!(out, "{environment}: {check} {cycle_id} started (budget {})", format_duration(*budget))
            }
            CycleEvent::PhaseStarted { phase, budget } => writeln!(out, "  {phase}: started (budget {})", format_duration(*budget)),
            CycleEvent::PhaseProgress { phase, progress: Progress::Output { tool, line }, .. } => {
                if self.tool_output {
                    writeln!(out, "  {phase} | {tool}: {line}")
                } else {
                    Ok(())
                }
            }
            CycleEvent::PhaseProgress { phase, elapsed, progress: Progress::Status(status) } => {
                writeln!(out, "  {phase} {}: {status}", format_duration(*elapsed))
            }
            CycleEvent::PhaseFinished { phase, elapsed, failure: None } => writeln!(out, "  {phase}: passed in {}", format_duration(*elapsed)),
            CycleEvent::PhaseFinished { phase, elapsed, failure: Some(failure) } => {
                writeln!(out, "  {phase}: FAILED in {} (culprit {})", format_duration(*elapsed), failure.culprit)
            }
            CycleEvent::Finished { outcome } => {
                let verdict = if outcome.passed() { "passed" } else { "failed" };
                writeln!(out, "{}: {} {verdict} in {}", outcome.environment, outcome.check, format_duration(outcome.total()))
            }
        };
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cycle::Check;
    use vixens_ops::budget::Phase;
    use vixens_ops::evidence::Failure;

    fn render(tool_output: bool) -> String {
        let mut terminal = Terminal::new(Vec::new()).tool_output(tool_output);
        let failure = Failure { phase: "argocd".into(), culprit: "traefik".into(), message: "traefik has been Degraded".into() };
        let events = [
            CycleEvent::Started {
                check: Check::RecreateCycle,
                environment: "lab",
                cycle_id: "20261126T070102.123Z-42",
                budget: Duration::from_secs(120),
            },
            CycleEvent::PhaseStarted { phase: Phase::Destroy, budget: Duration::from_secs(30) },
            CycleEvent::PhaseProgress {
                phase: Phase::Destroy,
                elapsed: Duration::from_millis(300),
                progress: Progress::Output { tool: "terraform", line: "terraform_data.lab: Destroying..." },
            },
            CycleEvent::PhaseFinished { phase: Phase::Destroy, elapsed: Duration::from_millis(1900), failure: None },
            CycleEvent::PhaseProgress {
                phase: Phase::Argocd,
                elapsed: Duration::from_secs(3),
                progress: Progress::Status("12/16 system apps ready; waiting on traefik (Progressing)"),
            },
            CycleEvent::PhaseFinished { phase: Phase::Argocd, elapsed: Duration::from_millis(5200), failure: Some(&failure) },
        ];
        for event in &events {
            terminal.report(event);
        }
        String::from_utf8(terminal.into_inner()).unwrap()
    }

    #[test]
    fn progress_names_each_phase_and_the_culprit() {
        assert_eq!(
            render(true),
            "lab: recreate_cycle 20261126T070102.123Z-42 started (budget 2m)\n  destroy: started (budget 30s)\n  \
             destroy | terraform: terraform_data.lab: Destroying...\n  destroy: passed in 1.9s\n  \
             argocd 3s: 12/16 system apps ready; waiting on traefik (Progressing)\n  argocd: FAILED in 5.2s (culprit traefik)\n"
        );
    }

    #[test]
    fn tool_output_can_be_hidden() {
        assert!(!render(false).contains("terraform:"));
    }
}
