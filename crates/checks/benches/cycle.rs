//! Harness overhead per lab cycle: how much of a recreate cycle is the harness's own work, beyond
//! terraform, the simulated bootstrap it waits for, and the documented commands it runs?
//!
//! A private lab is brought up, then recreated `--cycles` times with [`vixens_checks::cycle::run`]. For
//! each cycle:
//! - **terraform**: the time of every terraform process (a wrapper logs each one's wall time;
//!   the lab's `vixens-lab up`/`down` run inside them);
//! - **bootstrap wait**: `talosctl health` until its last check passed, and the whole Argo CD
//!   phase (the watch-based wait returns within ~100 ms of the last app becoming ready: see the
//!   "Readiness" section of docs/performance.md);
//! - **documented commands**: the `commands` phase (kubectl, talosctl and vixens processes the
//!   document asks for, with its own retry cadence);
//! - **overhead**: everything else, from `cycle::run` being called to its outcome being recorded
//!   in the ledger: backup and inventory around the destroy, the API probe, `talosctl version`,
//!   fetching and scanning every node's logs, artifacts, evidence.
//!
//! ```text
//! cargo bench -p vixens-checks --bench cycle --profile dev [-- --cycles 5]
//! ```
//! (`--profile dev` reuses the test build of `vixens-lab`; the figures are wall times.)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vixens_checks::cycle::report::Ledger;
use vixens_checks::cycle::{self, Check, CycleEvent, Options, Progress, Reporter, Reporters};
use vixens_ops::binaries;
use vixens_ops::budget::Phase;
use vixens_ops::instance::Instance;

/// When each phase started and ended, and when `talosctl health` printed its last line.
#[derive(Default)]
struct Timeline {
    phases: Vec<(Phase, Instant, Option<Instant>)>,
    last_health_line: Option<Instant>,
}

impl Reporter for Timeline {
    fn report(&mut self, event: &CycleEvent<'_>) {
        let now = Instant::now();
        match event {
            CycleEvent::PhaseStarted { phase, .. } => self.phases.push((*phase, now, None)),
            CycleEvent::PhaseFinished { phase, .. } => {
                if let Some(entry) = self.phases.iter_mut().rev().find(|(p, _, end)| p == phase && end.is_none()) {
                    entry.2 = Some(now);
                }
            }
            CycleEvent::PhaseProgress { phase: Phase::TalosHealth, progress: Progress::Output { tool: "talosctl", .. }, .. } => {
                self.last_health_line = Some(now)
            }
            CycleEvent::PhaseProgress { .. } | CycleEvent::Started { .. } | CycleEvent::Finished { .. } => {}
        }
    }
}

impl Timeline {
    fn phase(&self, phase: Phase) -> Duration {
        self.phases.iter().filter(|(p, ..)| *p == phase).map(|(_, start, end)| end.map_or(Duration::ZERO, |e| e - *start)).sum()
    }

    /// `talosctl health` from the phase's start to its last line, and the Argo CD phase.
    fn bootstrap_wait(&self) -> Duration {
        let health = self
            .phases
            .iter()
            .find(|(p, ..)| *p == Phase::TalosHealth)
            .and_then(|(_, start, _)| self.last_health_line.map(|l| l - *start))
            .unwrap_or_default();
        health + self.phase(Phase::Argocd)
    }
}

/// A terraform that logs the wall time of each run (nanoseconds, one per line) to `$LOG`.
fn timing_terraform(dir: &Path) -> (PathBuf, PathBuf) {
    let script = dir.join("terraform");
    let log = dir.join("terraform-times.log");
    let text =
        format!("#!/bin/sh\nstart=$(date +%s%N)\nterraform \"$@\"\nrc=$?\necho $(( $(date +%s%N) - start )) >> '{}'\nexit $rc\n", log.display());
    std::fs::write(&script, text).unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&script).status().unwrap();
    (script, log)
}

fn terraform_time(log: &Path) -> Duration {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let nanos: u64 = text.lines().filter_map(|l| l.trim().parse::<u64>().ok()).sum();
    std::fs::write(log, "").unwrap();
    Duration::from_nanos(nanos)
}

fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cycles: usize = args.iter().position(|a| a == "--cycles").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok()).unwrap_or(5);
    let tools = tempfile::tempdir().unwrap();
    let (terraform, log) = timing_terraform(tools.path());
    let env_file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/<crate> is two folders below the workspace")
        .join("environments/lab/env.yaml");
    let lab = Instance::builder(&env_file).var("VIXENS_TERRAFORM_BINARY", &terraform.display().to_string()).up().expect("a private lab comes up");
    let binaries = binaries::binaries().expect("the harness binaries build");
    let options = Options::default().extra_path(vec![binaries.vixens.parent().unwrap().to_owned()]);
    let lease = lab.lease("cycle benchmark").expect("the private lab's lease");
    terraform_time(&log);

    println!("{:>5}  {:>8}  {:>9}  {:>14}  {:>9}  {:>8}", "cycle", "total", "terraform", "bootstrap wait", "commands", "overhead");
    let mut rows = Vec::new();
    for i in 1..=cycles {
        let mut timeline = Timeline::default();
        let mut ledger = Ledger::for_env(lab.env());
        let started = Instant::now();
        let outcome =
            cycle::run(lab.env(), Some(lease.held()), Check::RecreateCycle, &options, &mut Reporters::new().with(&mut timeline).with(&mut ledger));
        let total = started.elapsed();
        assert!(outcome.passed(), "{outcome}");
        ledger.finish().expect("the evidence is recorded");
        let terraform = terraform_time(&log);
        let wait = timeline.bootstrap_wait();
        let commands = timeline.phase(Phase::Commands);
        let overhead = total.saturating_sub(terraform + wait + commands);
        println!("{i:>5}  {:>8}  {:>9}  {:>14}  {:>9}  {:>8}", secs(total), secs(terraform), secs(wait), secs(commands), secs(overhead));
        rows.push((total, overhead));
    }
    let sum: Duration = rows.iter().map(|r| r.0).sum();
    let max_overhead = rows.iter().map(|r| r.1).max().unwrap_or_default();
    let mean_overhead = rows.iter().map(|r| r.1).sum::<Duration>() / u32::try_from(rows.len().max(1)).unwrap();
    println!("{cycles} cycles in {}; harness overhead per cycle: mean {}, max {}", secs(sum), secs(mean_overhead), secs(max_overhead));
    lab.down().expect("the private lab is torn down");
}
