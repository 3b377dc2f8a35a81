//! The outcome of a check and its readable verdict: what a failing test prints, what the ledger
//! records.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;

use super::Check;
use vixens_ops::budget::{Phase, Timings, format_duration, millis};
use vixens_ops::env::Budgets;
use vixens_ops::evidence::{CycleRecord, Failure, SCHEMA_VERSION, Verdict};

/// Everything one check did: its phases with their timings, its failures and its evidence.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The check.
    pub check: Check,
    /// The environment's name.
    pub environment: String,
    /// Unique id of this run of the check (UTC start time and pid), its artifact folder's name.
    pub cycle_id: String,
    /// When it started.
    pub started_at: Timestamp,
    /// Every phase that ran, in order, with its duration and result.
    pub timings: Timings,
    /// Phases that did not run because an earlier one failed.
    pub not_run: Vec<Phase>,
    /// The environment's budgets.
    pub budgets: Budgets,
    /// Every failure, the first one first: each names its phase and culprit.
    pub failures: Vec<Failure>,
    /// The folder holding this run's artifacts, kept when the check failed.
    pub artifacts: Option<PathBuf>,
    /// Tool name → version, as the phases found them (`terraform` → `terraform v1.11.4`).
    pub tool_versions: BTreeMap<String, String>,
}

impl Outcome {
    /// True when every phase passed within budget.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The first failure, the one that stopped the check.
    #[must_use]
    pub fn first_failure(&self) -> Option<&Failure> {
        self.failures.first()
    }

    /// The sum of the phase durations.
    #[must_use]
    pub fn total(&self) -> Duration {
        self.timings.total()
    }

    /// The ledger record of this outcome, on infrastructure revision `revision` (`dirty` when
    /// it had uncommitted changes).
    #[must_use]
    pub fn to_record(&self, gitops: (&str, bool), terraform: (&str, bool)) -> CycleRecord {
        let phases = self.timings.ledger(&self.budgets);
        // The total is the sum of the recorded (millisecond) phases, so that readers can add up.
        let total_ms = phases.iter().map(|p| p.ms).sum();
        CycleRecord {
            schema: SCHEMA_VERSION,
            cycle_id: self.cycle_id.clone(),
            environment: self.environment.clone(),
            revision: gitops.0.to_owned(),
            revision_dirty: gitops.1,
            terraform_revision: Some(terraform.0.to_owned()),
            terraform_revision_dirty: terraform.1,
            harness_version: env!("CARGO_PKG_VERSION").to_owned(),
            tool_versions: self.tool_versions.clone(),
            started_at: self.started_at.to_string(),
            phases,
            total_ms,
            budget_ms: millis(self.budgets.recreate),
            verdict: if self.passed() { Verdict::Passed } else { Verdict::Failed },
            failures: self.failures.clone(),
            artifacts: self.artifacts.clone(),
        }
    }
}

impl fmt::Display for Outcome {
    /// The verdict as a failing test prints it:
    ///
    /// ```text
    /// recreate_cycle on lab failed in phase argocd: traefik has been Degraded for 3s, beyond its 3s grace: ...
    ///   culprit: traefik
    ///   phases: destroy 1.9s of 30s, apply 0.7s of 30s, kubernetes-api 15ms of 15s, talos-health 2.1s of 30s, argocd 5.2s of 30s (failed); not run: logs
    ///   artifacts: target/vixens/lab/artifacts/20261126T070102.123Z-4242
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.first_failure() {
            None => write!(
                f,
                "{} on {} passed in {} (budget {})",
                self.check,
                self.environment,
                format_duration(self.total()),
                format_duration(self.budgets.recreate)
            )?,
            Some(first) => {
                write!(f, "{} on {} failed in phase {}: {}", self.check, self.environment, first.phase, first.message)?;
                write!(f, "\n  culprit: {}", first.culprit)?;
                for other in &self.failures[1..] {
                    write!(f, "\n  also, in phase {}: {} (culprit: {})", other.phase, other.message, other.culprit)?;
                }
            }
        }
        let phases: Vec<String> = self
            .timings
            .phases()
            .iter()
            .map(|m| {
                let failed = if m.ok { "" } else { " (failed)" };
                format!("{} {} of {}{failed}", m.phase, format_duration(m.elapsed), format_duration(m.phase.budget(&self.budgets)))
            })
            .collect();
        write!(f, "\n  phases: {}", if phases.is_empty() { "none ran".to_owned() } else { phases.join(", ") })?;
        if !self.not_run.is_empty() {
            let names: Vec<&str> = self.not_run.iter().map(|p| p.name()).collect();
            write!(f, "; not run: {}", names.join(", "))?;
        }
        if let Some(dir) = &self.artifacts {
            write!(f, "\n  artifacts: {}", dir.display())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vixens_ops::env::PhaseBudgets;

    fn budgets() -> Budgets {
        let s = Duration::from_secs;
        Budgets {
            recreate: s(120),
            phases: PhaseBudgets { destroy: s(30), apply: s(30), kubernetes_api: s(15), talos_health: s(30), argocd: s(30), logs: s(30) },
            destroy_ceiling: s(120),
        }
    }

    fn outcome(failures: Vec<Failure>) -> Outcome {
        let mut timings = Timings::default();
        timings.record(Phase::Destroy, Duration::from_millis(1900), true);
        timings.record(Phase::Apply, Duration::from_millis(700), true);
        timings.record(Phase::Argocd, Duration::from_millis(5200), failures.is_empty());
        Outcome {
            check: Check::RecreateCycle,
            environment: "lab".into(),
            cycle_id: "20261126T070102.123Z-4242".into(),
            started_at: "2026-11-26T07:01:02.123Z".parse().unwrap(),
            timings,
            not_run: if failures.is_empty() { vec![] } else { vec![Phase::Logs] },
            budgets: budgets(),
            artifacts: (!failures.is_empty()).then(|| "/w/target/vixens/lab/artifacts/20261126T070102.123Z-4242".into()),
            failures,
            tool_versions: BTreeMap::from([("terraform".into(), "terraform v1.11.4".into())]),
        }
    }

    #[test]
    fn a_passing_cycle_reads_as_one_line_of_timings() {
        let text = outcome(vec![]).to_string();
        assert_eq!(text, "recreate_cycle on lab passed in 7.8s (budget 2m)\n  phases: destroy 1.9s of 30s, apply 700ms of 30s, argocd 5.2s of 30s");
    }

    #[test]
    fn a_failing_cycle_names_its_phase_culprit_and_artifacts() {
        let failure = Failure { phase: "argocd".into(), culprit: "traefik".into(), message: "traefik has been Degraded for 3s".into() };
        let text = outcome(vec![failure]).to_string();
        assert_eq!(
            text,
            "recreate_cycle on lab failed in phase argocd: traefik has been Degraded for 3s\n  culprit: traefik\n  \
             phases: destroy 1.9s of 30s, apply 700ms of 30s, argocd 5.2s of 30s (failed); not run: logs\n  \
             artifacts: /w/target/vixens/lab/artifacts/20261126T070102.123Z-4242"
        );
    }

    #[test]
    fn the_record_keeps_what_promotion_reads() {
        let failure = Failure { phase: "argocd".into(), culprit: "traefik".into(), message: "traefik has been Degraded".into() };
        let record = outcome(vec![failure.clone()])
            .to_record(("0123456789abcdef0123456789abcdef01234567", true), ("89abcdef0123456789abcdef0123456789abcdef", false));
        assert_eq!(record.verdict, Verdict::Failed);
        assert_eq!(record.failures, [failure]);
        assert_eq!((record.total_ms, record.budget_ms), (7800, 120_000));
        assert_eq!(
            record.phases.iter().map(|p| (p.phase.as_str(), p.ms, p.budget_ms, p.ok)).collect::<Vec<_>>(),
            [("destroy", 1900, 30_000, true), ("apply", 700, 30_000, true), ("argocd", 5200, 30_000, false)]
        );
        assert!(record.revision_dirty);
        assert_eq!(
            (record.terraform_revision.as_deref(), record.terraform_revision_dirty),
            (Some("89abcdef0123456789abcdef0123456789abcdef"), false)
        );
        assert_eq!(record.started_at, "2026-11-26T07:01:02.123Z");
        assert!(record.artifacts.is_some());
    }
}
