//! Time budgets of a recreate cycle: each phase's measured duration against its own budget, and
//! the total against the cycle's (30 minutes by default; the specification's limit).
//!
//! Pure: the cycle runner measures, this module judges. A verdict names its culprit and numbers:
//! `recreate took 31m12s, over its 30m budget; slowest phase argocd 22m5s of 20m`.
//!
//! ```
//! use std::time::Duration;
//! use crate::budget::{Phase, Timings};
//! # let budgets = crate::env::Budgets { recreate: Duration::from_secs(1800), phases: crate::env::PhaseBudgets {
//! #     destroy: Duration::from_secs(600), apply: Duration::from_secs(900), kubernetes_api: Duration::from_secs(300),
//! #     talos_health: Duration::from_secs(1200), argocd: Duration::from_secs(1200), logs: Duration::from_secs(120) },
//! #     destroy_ceiling: Duration::from_secs(2400) };
//! let mut timings = Timings::default();
//! timings.record(Phase::Apply, Duration::from_secs(300), true);
//! timings.record(Phase::Argocd, Duration::from_secs(1325), true);
//! let overruns = timings.judge(&budgets).unwrap_err();
//! assert_eq!(overruns[0].to_string(), "phase argocd took 22m5s, over its 20m budget");
//! ```

use std::time::Duration;

use crate::env::Budgets;
use crate::evidence::{Failure, PhaseTiming};

/// The phases of a recreate cycle, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// Safe destroy: confirmation, state backup, plan, guard, destroy.
    Destroy,
    /// `terraform apply`.
    Apply,
    /// The Kubernetes API answering.
    KubernetesApi,
    /// `talosctl health`.
    TalosHealth,
    /// Every system app converged in Argo CD.
    Argocd,
    /// Talos logs fetched and scanned.
    Logs,
    /// The documented commands run after the recreate.
    Commands,
}

/// One measured phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    /// The phase.
    pub phase: Phase,
    /// How long it took.
    pub elapsed: Duration,
    /// Whether it succeeded.
    pub ok: bool,
}

/// The measured phases of one cycle, in the order they ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timings {
    phases: Vec<Measured>,
}

/// A budget that was exceeded. Budgets are never retried: a slow cycle is a failed cycle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Overrun {
    /// The whole cycle took longer than its budget.
    #[error(
        "recreate took {}, over its {} budget; slowest phase {} {} of {}",
        over(*.total, *.budget), format_duration(*.budget), slowest.name(), format_duration(*.slowest_elapsed), format_duration(*.slowest_budget)
    )]
    Total {
        /// The sum of the phase durations.
        total: Duration,
        /// The cycle's budget.
        budget: Duration,
        /// The phase that took longest.
        slowest: Phase,
        /// How long it took.
        slowest_elapsed: Duration,
        /// Its own budget.
        slowest_budget: Duration,
    },
    /// One phase took longer than its own budget.
    #[error("phase {} took {}, over its {} budget", phase.name(), over(*.elapsed, *.budget), format_duration(*.budget))]
    Phase {
        /// The phase.
        phase: Phase,
        /// How long it took (all its runs together).
        elapsed: Duration,
        /// Its budget.
        budget: Duration,
    },
}

impl Phase {
    /// Every phase, in the order they run.
    pub const ALL: [Self; 7] = [Self::Destroy, Self::Apply, Self::KubernetesApi, Self::TalosHealth, Self::Argocd, Self::Logs, Self::Commands];

    /// The name used in env.yaml (`budgets.phases`), messages and the evidence ledger.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Destroy => "destroy",
            Self::Apply => "apply",
            Self::KubernetesApi => "kubernetes-api",
            Self::TalosHealth => "talos-health",
            Self::Argocd => "argocd",
            Self::Logs => "logs",
            Self::Commands => "commands",
        }
    }

    /// The phase called `name`, if any.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The phase's budget. env.yaml gives no budget to `commands` (each command has its own
    /// timeout), so it is bounded only by the whole cycle's budget.
    #[must_use]
    pub fn budget(self, budgets: &Budgets) -> Duration {
        let p = &budgets.phases;
        match self {
            Self::Destroy => p.destroy,
            Self::Apply => p.apply,
            Self::KubernetesApi => p.kubernetes_api,
            Self::TalosHealth => p.talos_health,
            Self::Argocd => p.argocd,
            Self::Logs => p.logs,
            Self::Commands => budgets.recreate,
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Timings {
    /// Records one phase's run.
    pub fn record(&mut self, phase: Phase, elapsed: Duration, ok: bool) {
        self.phases.push(Measured { phase, elapsed, ok });
    }

    /// Every recorded run, in order.
    #[must_use]
    pub fn phases(&self) -> &[Measured] {
        &self.phases
    }

    /// The sum of the phase durations.
    #[must_use]
    pub fn total(&self) -> Duration {
        self.phases.iter().map(|m| m.elapsed).sum()
    }

    /// The phases run so far and how long each took (a phase run twice counts once, summed).
    fn per_phase(&self) -> Vec<(Phase, Duration)> {
        let mut out: Vec<(Phase, Duration)> = Vec::new();
        for m in &self.phases {
            match out.iter_mut().find(|(p, _)| *p == m.phase) {
                Some((_, total)) => *total += m.elapsed,
                None => out.push((m.phase, m.elapsed)),
            }
        }
        out
    }

    /// Judges the cycle against `budgets`.
    ///
    /// # Errors
    /// Every [`Overrun`]: the total first (naming the slowest phase), then each phase over its own
    /// budget in the order the phases ran.
    pub fn judge(&self, budgets: &Budgets) -> Result<(), Vec<Overrun>> {
        let per_phase = self.per_phase();
        let mut overruns = Vec::new();
        let total = self.total();
        if total > budgets.recreate {
            // The first of equally slow phases is named: it is where the time went first.
            let (slowest, slowest_elapsed) =
                per_phase.iter().copied().fold((Phase::Destroy, Duration::ZERO), |best, p| if p.1 > best.1 { p } else { best });
            overruns.push(Overrun::Total { total, budget: budgets.recreate, slowest, slowest_elapsed, slowest_budget: slowest.budget(budgets) });
        }
        for (phase, elapsed) in per_phase {
            let budget = phase.budget(budgets);
            if elapsed > budget {
                overruns.push(Overrun::Phase { phase, elapsed, budget });
            }
        }
        if overruns.is_empty() { Ok(()) } else { Err(overruns) }
    }

    /// The ledger form: one [`PhaseTiming`] per recorded run, in milliseconds.
    #[must_use]
    pub fn ledger(&self, budgets: &Budgets) -> Vec<PhaseTiming> {
        self.phases
            .iter()
            .map(|m| PhaseTiming { phase: m.phase.name().to_owned(), ms: millis(m.elapsed), budget_ms: millis(m.phase.budget(budgets)), ok: m.ok })
            .collect()
    }
}

impl Overrun {
    /// The phase the overrun is charged to: the slowest phase for the total.
    #[must_use]
    pub fn phase(&self) -> Phase {
        match self {
            Self::Total { slowest, .. } => *slowest,
            Self::Phase { phase, .. } => *phase,
        }
    }

    /// The ledger form: phase `budget` for the total, the phase itself otherwise; the culprit
    /// names the phase.
    #[must_use]
    pub fn to_failure(&self) -> Failure {
        let phase = match self {
            Self::Total { .. } => "budget".to_owned(),
            Self::Phase { phase, .. } => phase.name().to_owned(),
        };
        Failure { phase, culprit: format!("phase {}", self.phase().name()), message: self.to_string() }
    }
}

/// Milliseconds, saturating.
#[must_use]
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A duration as people read budgets: `31m12s`, `30m`, `1h0m5s`, `12.3s`, `250ms`. From one minute
/// up, seconds are truncated; below, tenths of a second are kept.
#[must_use]
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        return match (h, m, s) {
            (0, m, 0) => format!("{m}m"),
            (0, m, s) => format!("{m}m{s}s"),
            (h, 0, 0) => format!("{h}h"),
            (h, m, 0) => format!("{h}h{m}m"),
            (h, m, s) => format!("{h}h{m}m{s}s"),
        };
    }
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    let tenths = d.as_millis() / 100;
    if tenths.is_multiple_of(10) { format!("{}s", tenths / 10) } else { format!("{}.{}s", tenths / 10, tenths % 10) }
}

/// `elapsed` formatted so that it never reads equal to the `budget` it exceeds (`30m0.4s`, not `30m`).
fn over(elapsed: Duration, budget: Duration) -> String {
    let plain = format_duration(elapsed);
    if plain != format_duration(budget) {
        return plain;
    }
    // Equal at the usual precision: show the milliseconds that make the difference.
    let secs = elapsed.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let seconds = format!("{s}.{:03}", elapsed.subsec_millis());
    let seconds = seconds.trim_end_matches('0').trim_end_matches('.');
    match (h, m) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::PhaseBudgets;

    const fn min(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }

    fn ms(m: u64, s: u64) -> Duration {
        min(m) + Duration::from_secs(s)
    }

    /// The defaults env.yaml loading gives a real environment.
    fn homelab() -> Budgets {
        Budgets {
            recreate: min(30),
            phases: PhaseBudgets { destroy: min(10), apply: min(15), kubernetes_api: min(5), talos_health: min(20), argocd: min(20), logs: min(2) },
            destroy_ceiling: min(40),
        }
    }

    fn timings(phases: &[(Phase, Duration)]) -> Timings {
        let mut t = Timings::default();
        for (phase, elapsed) in phases {
            t.record(*phase, *elapsed, true);
        }
        t
    }

    #[test]
    fn a_cycle_within_every_budget_passes() {
        let t = timings(&[
            (Phase::Destroy, ms(2, 0)),
            (Phase::Apply, ms(6, 10)),
            (Phase::TalosHealth, ms(2, 30)),
            (Phase::Argocd, ms(12, 0)),
            (Phase::Logs, ms(0, 40)),
        ]);
        assert_eq!(t.judge(&homelab()), Ok(()));
        assert_eq!(t.total(), ms(23, 20));
    }

    #[test]
    fn over_the_total_budget_fails_naming_the_slowest_phase_and_the_numbers() {
        let t = timings(&[
            (Phase::Destroy, ms(2, 0)),
            (Phase::Apply, ms(5, 0)),
            (Phase::KubernetesApi, ms(0, 30)),
            (Phase::TalosHealth, ms(1, 0)),
            (Phase::Argocd, ms(22, 5)),
            (Phase::Logs, ms(0, 37)),
        ]);
        let overruns = t.judge(&homelab()).unwrap_err();
        assert_eq!(overruns[0].to_string(), "recreate took 31m12s, over its 30m budget; slowest phase argocd 22m5s of 20m");
        assert_eq!(overruns[1].to_string(), "phase argocd took 22m5s, over its 20m budget");
        assert_eq!(overruns.len(), 2);
    }

    #[test]
    fn over_the_total_with_every_phase_within_its_own_budget_still_fails() {
        let t = timings(&[(Phase::Destroy, ms(9, 0)), (Phase::Apply, ms(14, 0)), (Phase::Argocd, ms(8, 0))]);
        let overruns = t.judge(&homelab()).unwrap_err();
        assert_eq!(
            overruns,
            [Overrun::Total { total: min(31), budget: min(30), slowest: Phase::Apply, slowest_elapsed: min(14), slowest_budget: min(15) }]
        );
        assert_eq!(overruns[0].to_string(), "recreate took 31m, over its 30m budget; slowest phase apply 14m of 15m");
    }

    #[test]
    fn a_phase_over_its_own_budget_fails_naming_it() {
        let t = timings(&[(Phase::Apply, ms(3, 0)), (Phase::Logs, ms(2, 15))]);
        let overruns = t.judge(&homelab()).unwrap_err();
        assert_eq!(overruns, [Overrun::Phase { phase: Phase::Logs, elapsed: ms(2, 15), budget: min(2) }]);
        assert_eq!(overruns[0].to_string(), "phase logs took 2m15s, over its 2m budget");
    }

    #[test]
    fn a_phase_run_twice_is_judged_on_its_sum() {
        let t = timings(&[(Phase::Logs, ms(1, 10)), (Phase::Logs, ms(1, 0))]);
        assert_eq!(t.judge(&homelab()).unwrap_err()[0].to_string(), "phase logs took 2m10s, over its 2m budget");
        assert_eq!(t.ledger(&homelab()).len(), 2, "the ledger keeps every run");
    }

    #[test]
    fn just_over_a_budget_never_reads_as_equal_to_it() {
        let t = timings(&[(Phase::Argocd, min(20) + Duration::from_millis(400))]);
        assert_eq!(t.judge(&homelab()).unwrap_err()[0].to_string(), "phase argocd took 20m0.4s, over its 20m budget");
        let exactly = timings(&[(Phase::Argocd, min(20))]);
        assert_eq!(exactly.judge(&homelab()), Ok(()), "a budget is inclusive");
    }

    #[test]
    fn a_small_lab_budget_reads_in_seconds() {
        let lab = Budgets {
            recreate: Duration::from_secs(20),
            phases: PhaseBudgets {
                destroy: Duration::from_secs(5),
                apply: Duration::from_secs(5),
                kubernetes_api: Duration::from_secs(2),
                talos_health: Duration::from_secs(5),
                argocd: Duration::from_secs(8),
                logs: Duration::from_secs(2),
            },
            destroy_ceiling: Duration::from_secs(20),
        };
        let t = timings(&[(Phase::Apply, Duration::from_millis(4_200)), (Phase::Argocd, Duration::from_millis(17_350))]);
        let overruns = t.judge(&lab).unwrap_err();
        assert_eq!(overruns[0].to_string(), "recreate took 21.5s, over its 20s budget; slowest phase argocd 17.3s of 8s");
        assert_eq!(overruns[1].to_string(), "phase argocd took 17.3s, over its 8s budget");
    }

    #[test]
    fn commands_are_bounded_by_the_whole_cycle_budget() {
        assert_eq!(Phase::Commands.budget(&homelab()), min(30));
        let t = timings(&[(Phase::Commands, min(31))]);
        let overruns = t.judge(&homelab()).unwrap_err();
        assert_eq!(overruns[1].to_string(), "phase commands took 31m, over its 30m budget");
    }

    #[test]
    fn the_ledger_form_is_milliseconds_with_each_phase_budget() {
        let mut t = Timings::default();
        t.record(Phase::KubernetesApi, Duration::from_millis(1_234), true);
        t.record(Phase::TalosHealth, ms(3, 0), false);
        assert_eq!(
            t.ledger(&homelab()),
            [
                PhaseTiming { phase: "kubernetes-api".into(), ms: 1_234, budget_ms: 300_000, ok: true },
                PhaseTiming { phase: "talos-health".into(), ms: 180_000, budget_ms: 1_200_000, ok: false },
            ]
        );
    }

    #[test]
    fn an_overrun_becomes_a_ledger_failure_naming_its_phase() {
        let overrun = Overrun::Phase { phase: Phase::Argocd, elapsed: ms(22, 5), budget: min(20) };
        let failure = overrun.to_failure();
        assert_eq!((failure.phase.as_str(), failure.culprit.as_str()), ("argocd", "phase argocd"));
        assert_eq!(failure.message, "phase argocd took 22m5s, over its 20m budget");
    }

    #[test]
    fn phase_names_match_env_yaml_and_round_trip() {
        let names: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["destroy", "apply", "kubernetes-api", "talos-health", "argocd", "logs", "commands"]);
        assert!(Phase::ALL.iter().all(|p| Phase::from_name(p.name()) == Some(*p)));
        assert_eq!(Phase::from_name("coffee"), None);
    }

    #[test]
    fn durations_read_like_budgets() {
        let cases = [
            (Duration::from_millis(250), "250ms"),
            (Duration::from_millis(12_340), "12.3s"),
            (Duration::from_secs(45), "45s"),
            (Duration::from_secs(90), "1m30s"),
            (min(30), "30m"),
            (ms(31, 12), "31m12s"),
            (min(60), "1h"),
            (min(65), "1h5m"),
            (min(60) + Duration::from_secs(5), "1h0m5s"),
        ];
        for (d, text) in cases {
            assert_eq!(format_duration(d), text);
        }
        assert_eq!(over(min(60) + Duration::from_millis(300), min(60)), "1h0m0.3s");
        assert_eq!(over(Duration::from_millis(8_030), Duration::from_secs(8)), "8.03s");
    }
}
