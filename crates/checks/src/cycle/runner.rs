//! The runner: one check's phases in order, each under its budget, timed; the first failure stops
//! the check; the budgets are judged; artifacts are kept for a failure; every step is reported
//! as a [`CycleEvent`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::artifacts::{self, ArtifactDir, files};
use super::phases::{self, argocd::Intervention};
use super::{Check, CycleEvent, Outcome, Progress, Reporter};
use vixens_drivers::redact::Redactor;
use vixens_drivers::talosctl::Talosctl;
use vixens_kube::Cluster;
use vixens_ops::budget::{Overrun, Phase, Timings};
use vixens_ops::destroy::unattended;
use vixens_ops::env::Environment;
use vixens_ops::evidence::Failure;
use vixens_ops::lease::Held;
use vixens_ops::phase::{OnProgress, PhaseCtx};
use vixens_ops::provision;
use vixens_ops::runtime;

/// How checks run.
#[derive(Debug, Clone)]
pub struct Options {
    /// How often a long wait reports where it is.
    pub progress_interval: Duration,
    /// Secrets to keep out of every output, besides those the runner finds itself (the
    /// environment's kubeconfigs and talosconfig, terraform's environment).
    pub redactor: Redactor,
    /// Folders put on PATH after the environment's `tools-path` for the documented commands
    /// (where `vixens` and `vixens-lab` are).
    pub extra_path: Vec<PathBuf>,
}

impl Default for Options {
    /// Progress every 5 seconds: the cadence of the homelab's own poll and of `talosctl
    /// health`, as in [`vixens_kube::wait::WaitConfig`].
    fn default() -> Self {
        Self { progress_interval: Duration::from_secs(5), redactor: Redactor::new(), extra_path: Vec::new() }
    }
}

impl Options {
    /// Sets how often long waits report progress.
    #[must_use]
    pub fn progress_interval(mut self, interval: Duration) -> Self {
        self.progress_interval = interval;
        self
    }

    /// Puts `folders` on PATH for the documented commands, after the environment's tools.
    #[must_use]
    pub fn extra_path(mut self, folders: Vec<PathBuf>) -> Self {
        self.extra_path = folders;
        self
    }
}

/// Runs `check` on `env`, reporting to `reporter`, and returns its outcome. Never panics on a
/// failing environment: every failure is in the outcome, naming its phase and culprit.
///
/// The recreate cycle destroys `env`: call it only on a disposable environment you mean to
/// recreate (the destroy phase refuses a protected one), holding its `lease` (a recreate
/// [`Session`](vixens_ops::session::Session) holds it); without one, its destroy phase fails
/// naming the lease. The read-only checks need none.
#[must_use]
pub fn run(env: &Environment, lease: Option<Held<'_>>, check: Check, options: &Options, reporter: &mut dyn Reporter) -> Outcome {
    Runner::new(env, lease, check, options).run(reporter)
}

/// The id of a run started at `at`: its UTC time to the millisecond and this process's id,
/// unique across the processes of a nextest run and sorting by time.
#[must_use]
pub fn cycle_id(at: Timestamp) -> String {
    format!("{}-{}", at.strftime("%Y%m%dT%H%M%S%.3fZ"), std::process::id())
}

struct Runner<'a> {
    env: &'a Environment,
    lease: Option<Held<'a>>,
    check: Check,
    options: &'a Options,
    redactor: Redactor,
    started_at: Timestamp,
    cycle_id: String,
    artifacts: Option<ArtifactDir>,
    cluster: Option<Cluster>,
    tool_versions: BTreeMap<String, String>,
    /// When `talosctl health` passed: the end of the bootstrap window the logs are judged with.
    healthy_at: Option<Timestamp>,
}

impl<'a> Runner<'a> {
    fn new(env: &'a Environment, lease: Option<Held<'a>>, check: Check, options: &'a Options) -> Self {
        let started_at = Timestamp::now();
        let cycle_id = cycle_id(started_at);
        let mut redactor = options.redactor.clone();
        env.register_secrets(&mut redactor);
        let artifacts = match ArtifactDir::create(&env.evidence.artifacts, &cycle_id, &redactor) {
            Ok(dir) => Some(dir),
            Err(e) => {
                tracing::warn!(root = %env.evidence.artifacts.display(), "cannot create the artifact folder, the check runs without one: {e}");
                None
            }
        };
        Self {
            env,
            lease,
            check,
            options,
            redactor,
            started_at,
            cycle_id,
            artifacts,
            cluster: None,
            tool_versions: BTreeMap::new(),
            healthy_at: None,
        }
    }

    fn run(mut self, reporter: &mut dyn Reporter) -> Outcome {
        reporter.report(&CycleEvent::Started {
            check: self.check,
            environment: &self.env.name,
            cycle_id: &self.cycle_id,
            budget: self.env.budgets.recreate,
        });
        let mut timings = Timings::default();
        let mut failures: Vec<Failure> = Vec::new();
        let mut not_run = Vec::new();
        for &phase in self.check.phases() {
            if !failures.is_empty() {
                not_run.push(phase);
                continue;
            }
            reporter.report(&CycleEvent::PhaseStarted { phase, budget: phase.budget(&self.env.budgets) });
            let started = Instant::now();
            let mut on_progress =
                |progress: Progress<'_>| reporter.report(&CycleEvent::PhaseProgress { phase, elapsed: started.elapsed(), progress });
            // Whatever a tool or a log line put in a failure, no secret reaches a reporter.
            let result = self.phase(phase, &mut on_progress).map_err(|f| Failure {
                culprit: self.redactor.redact(&f.culprit),
                message: self.redactor.redact(&f.message),
                ..f
            });
            let elapsed = started.elapsed();
            timings.record(phase, elapsed, result.is_ok());
            reporter.report(&CycleEvent::PhaseFinished { phase, elapsed, failure: result.as_ref().err() });
            if let Err(failure) = result {
                failures.push(failure);
            }
        }
        failures.extend(overruns(&timings, &self.env.budgets));
        let artifacts = self.artifacts.take().and_then(|dir| {
            if failures.is_empty() {
                dir.discard();
                None
            } else {
                self.post_mortem(&dir);
                Some(dir.keep())
            }
        });
        let outcome = Outcome {
            check: self.check,
            environment: self.env.name.clone(),
            cycle_id: self.cycle_id,
            started_at: self.started_at,
            timings,
            not_run,
            budgets: self.env.budgets.clone(),
            failures,
            artifacts,
            tool_versions: self.tool_versions,
        };
        reporter.report(&CycleEvent::Finished { outcome: &outcome });
        outcome
    }

    /// Runs one phase.
    fn phase(&mut self, phase: Phase, on_progress: OnProgress<'_>) -> Result<(), Failure> {
        let env = self.env;
        let redactor = self.redactor.clone();
        let transcript = self.artifacts.as_ref().map(|dir| dir.file(files::TERRAFORM));
        let mut ctx = PhaseCtx::new(phase, &env.budgets, &redactor, on_progress).transcript(transcript.as_deref());
        match phase {
            Phase::Destroy => match self.lease {
                Some(lease) => unattended::run(env, lease, &mut ctx).map(drop),
                None => Err(phase.failure(
                    format!("the lease of {}", env.work_dir.display()),
                    "the recreate cycle destroys the environment: it runs only holding the environment's lease (a recreate session)".to_owned(),
                )),
            },
            Phase::Apply => {
                provision::apply(env, &mut ctx)?;
                // The recreated cluster has new credentials: keep them out of everything too.
                env.register_secrets(&mut self.redactor);
                if let Some(dir) = &mut self.artifacts {
                    dir.set_redactor(&self.redactor);
                }
                self.terraform_version();
                Ok(())
            }
            Phase::KubernetesApi => {
                let (cluster, version) = runtime::block_on(phases::kubernetes::reachable(env, self.check.access(), &ctx))?;
                if self.check.phases().contains(&Phase::Apply) {
                    // A recreated cluster signs tokens with a new key: the read-only identity is
                    // minted again, and its token kept out of everything.
                    provision::mint_read_only(env, &mut ctx)?;
                    env.register_secrets(&mut self.redactor);
                    if let Some(dir) = &mut self.artifacts {
                        dir.set_redactor(&self.redactor);
                    }
                }
                self.tool_versions.insert("kubernetes".into(), version.git_version);
                self.cluster = Some(cluster);
                Ok(())
            }
            Phase::TalosHealth => {
                let mut output = String::new();
                let mut artifact = |line: &str| {
                    output.push_str(line);
                    output.push('\n');
                };
                let result = phases::talos_health::run(env, &self.talosctl(), &mut artifact, &mut ctx);
                self.write_artifact(files::TALOS_HEALTH, &output);
                let versions = result?;
                self.healthy_at = Some(Timestamp::now());
                if let Some(client) = versions.client {
                    self.tool_versions.insert("talosctl".into(), client);
                }
                if !versions.nodes.is_empty() {
                    self.tool_versions.insert("talos".into(), versions.nodes.join(", "));
                }
                Ok(())
            }
            Phase::Argocd => {
                let cluster = self.cluster.clone().expect("the kubernetes-api phase runs before the argocd phase");
                let intervention = match self.check {
                    Check::RecreateCycle => Intervention::Since(self.started_at),
                    Check::ArgocdBootstrappedWithoutManualIntervention => Intervention::OfEnvironment,
                    Check::SystemAppsHealthy | Check::TalosLogsClean => Intervention::Ignored,
                };
                let interval = self.options.progress_interval;
                runtime::block_on(phases::argocd::converge(env, &cluster, interval, intervention, &mut ctx)).map(drop)
            }
            Phase::Logs => {
                let healthy_at = self.healthy_at.map(|t| vixens_logscan::Time::from_unix_micros(t.as_microsecond()));
                let scanned = phases::logs::scan(env, &self.talosctl(), ctx.left(), healthy_at)?;
                ctx.status(&phases::logs::status(&scanned));
                self.write_artifact(files::TALOS_LOGS, &scanned.excerpts);
                phases::logs::judge(env, &scanned)
            }
            Phase::Commands => {
                let (verdict, details) = phases::commands::run(env, self.options.extra_path.clone(), &mut ctx);
                self.write_artifact(files::COMMANDS, &details);
                verdict
            }
        }
    }

    /// The talosctl driver for this environment, with every secret known so far.
    fn talosctl(&self) -> Talosctl {
        self.env.talosctl_driver(&self.redactor)
    }

    /// Records terraform's version for the evidence; a failure to read it is not the cycle's.
    fn terraform_version(&mut self) {
        let tf = self.env.terraform_driver(&self.redactor, None);
        match tf.version(vixens_drivers::terraform::Run::within(Duration::from_secs(30))) {
            Ok(version) => {
                self.tool_versions.insert("terraform".into(), version.line(&self.env.terraform.binary));
            }
            Err(e) => tracing::warn!("cannot read terraform's version for the evidence: {e}"),
        }
    }

    fn write_artifact(&self, name: &str, text: &str) {
        if let Some(dir) = &self.artifacts
            && !text.is_empty()
            && let Err(e) = dir.write(name, text)
        {
            tracing::warn!(artifact = name, "cannot write an artifact: {e}");
        }
    }

    /// What explains a failure, from the cluster when it answers: every Application and the
    /// events. Best effort, under a short deadline: the failure itself is already recorded.
    fn post_mortem(&mut self, dir: &ArtifactDir) {
        let cluster = match self.cluster.clone() {
            Some(cluster) => cluster,
            None => match runtime::block_on(self.env.cluster(self.check.access())) {
                Ok(cluster) => cluster,
                Err(_) => return,
            },
        };
        let namespace = &self.env.argocd.namespace;
        runtime::block_on(artifacts::collect_cluster(&cluster, namespace, dir, POST_MORTEM_TIMEOUT));
    }
}

/// How long the post-mortem may take to fetch Applications and events.
const POST_MORTEM_TIMEOUT: Duration = Duration::from_secs(10);

/// The budget failures of `timings`: the total, and each phase over its own budget unless that
/// phase already failed (a phase that ran out of time has said so itself).
fn overruns(timings: &Timings, budgets: &vixens_ops::env::Budgets) -> Vec<Failure> {
    let Err(overruns) = timings.judge(budgets) else { return Vec::new() };
    let failed: Vec<Phase> = timings.phases().iter().filter(|m| !m.ok).map(|m| m.phase).collect();
    overruns
        .iter()
        .filter(|o| match o {
            Overrun::Total { .. } => true,
            Overrun::Phase { phase, .. } => !failed.contains(phase),
        })
        .map(Overrun::to_failure)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vixens_ops::env::{Budgets, PhaseBudgets};

    fn budgets(recreate: u64) -> Budgets {
        let s = Duration::from_secs;
        Budgets {
            recreate: s(recreate),
            phases: PhaseBudgets { destroy: s(30), apply: s(30), kubernetes_api: s(15), talos_health: s(30), argocd: s(30), logs: s(30) },
            destroy_ceiling: s(120),
        }
    }

    #[test]
    fn a_cycle_id_sorts_by_time_and_names_its_process() {
        let id = cycle_id("2026-11-26T07:01:02.123456Z".parse().unwrap());
        assert_eq!(id, format!("20261126T070102.123Z-{}", std::process::id()));
    }

    #[test]
    fn a_slow_cycle_fails_on_its_total_naming_the_slowest_phase() {
        let mut timings = Timings::default();
        timings.record(Phase::Apply, Duration::from_secs(20), true);
        timings.record(Phase::Argocd, Duration::from_secs(29), true);
        let failures = overruns(&timings, &budgets(40));
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].phase, "budget");
        assert_eq!(failures[0].culprit, "phase argocd");
        assert_eq!(failures[0].message, "recreate took 49s, over its 40s budget; slowest phase argocd 29s of 30s");
    }

    #[test]
    fn a_phase_that_timed_out_is_not_blamed_twice() {
        let mut timings = Timings::default();
        timings.record(Phase::Argocd, Duration::from_millis(30_100), false);
        timings.record(Phase::Logs, Duration::from_secs(31), true);
        let failures = overruns(&timings, &budgets(120));
        assert_eq!(failures.iter().map(|f| f.phase.as_str()).collect::<Vec<_>>(), ["logs"]);
    }
}
