//! The recreate cycle against private labs, one lab fault at a time: each fault that concerns
//! the fresh-cluster-validation scenario fails the right check, naming its phase and culprit,
//! and a healthy lab passes every check (the read-only ones with the read-only kubeconfig),
//! leaving one ledger record with every phase timed.

use std::time::Duration;

use vixens_checks::cycle::report::{Ledger, Terminal};
use vixens_checks::cycle::{self, Check, CycleEvent, Options, Outcome, Progress, Reporter, Reporters};
use vixens_ops::binaries;
use vixens_ops::budget::Phase;
use vixens_ops::env::Environment;
use vixens_ops::evidence::{self, Verdict};
use vixens_ops::instance::Instance;
use vixens_ops::lease::{self, Lease};
use vixens_testkit::lab_env;

/// A private lab with `faults`, up.
fn lab(faults: &[&str]) -> Instance {
    let builder = faults.iter().fold(Instance::builder(lab_env()), |b, f| b.fault(f));
    builder.up().unwrap_or_else(|e| panic!("{e}: {:?}", std::error::Error::source(&e).map(ToString::to_string)))
}

/// A private lab that behaves as Argo CD 2.10 (no initiator in history, health `{status}`), with
/// `faults`, up.
fn lab_on_argocd_2_10(faults: &[&str]) -> Instance {
    let builder = faults.iter().fold(Instance::builder(lab_env()).var("VIXENS_LAB_ARGOCD_VERSION", "2.10"), |b, f| b.fault(f));
    builder.up().unwrap_or_else(|e| panic!("{e}: {:?}", std::error::Error::source(&e).map(ToString::to_string)))
}

/// Progress every second; the documented commands find `vixens` and `vixens-lab` on PATH.
fn options() -> Options {
    let binaries = binaries::binaries().expect("the harness binaries build");
    Options::default().progress_interval(Duration::from_secs(1)).extra_path(binaries.folders())
}

/// The lease of `env`'s work dir, which a recreate cycle's destroy holds.
fn lease(env: &Environment) -> Lease {
    Lease::acquire(&env.work_dir, "cli::cycle", None, lease::DEFAULT_WAIT, |item, held| lease::cleanup::undo(env, held, item)).unwrap()
}

/// Runs `check` on `env`, holding its lease, progress on stderr (nextest shows it for a failing
/// test).
fn run(env: &Environment, check: Check) -> Outcome {
    let mut terminal = Terminal::new(std::io::stderr());
    let lease = lease(env);
    cycle::run(env, Some(lease.held()), check, &options(), &mut terminal)
}

/// Asserts that `outcome` failed first in `phase`, blaming `culprit`, and returns its message.
#[track_caller]
fn failed_in(outcome: &Outcome, phase: &str, culprit: &str) -> String {
    let failure = outcome.first_failure().unwrap_or_else(|| panic!("expected a failure in phase {phase}, the check passed:\n{outcome}"));
    assert_eq!((failure.phase.as_str(), failure.culprit.as_str()), (phase, culprit), "{outcome}");
    let verdict = outcome.to_string();
    assert!(verdict.contains(&format!("failed in phase {phase}: ")) && verdict.contains(&format!("culprit: {culprit}")), "{verdict}");
    failure.message.clone()
}

#[test]
fn a_healthy_lab_passes_a_recreate_cycle_and_the_read_only_checks_with_the_read_only_identity() {
    let lab = lab(&[]);
    let env = lab.env();
    let mut ledger = Ledger::for_env(env);
    let mut terminal = Terminal::new(std::io::stderr());
    let held = lease(env);
    let outcome = cycle::run(env, Some(held.held()), Check::RecreateCycle, &options(), &mut Reporters::new().with(&mut terminal).with(&mut ledger));
    drop(held);
    assert!(outcome.passed(), "{outcome}");
    assert_eq!(outcome.artifacts, None, "a passing cycle keeps no artifacts");

    let records = evidence::read(&env.evidence.ledger).unwrap();
    assert_eq!(ledger.finish().unwrap(), records, "the record appended is the one on disk");
    let [record] = records.as_slice() else { panic!("one cycle, one record: {records:?}") };
    assert_eq!(record.verdict, Verdict::Passed);
    let phases: Vec<&str> = record.phases.iter().map(|p| p.phase.as_str()).collect();
    assert_eq!(phases, ["destroy", "apply", "kubernetes-api", "talos-health", "argocd", "logs", "commands"]);
    assert!(record.phases.iter().all(|p| p.ok && p.ms <= p.budget_ms), "{:?}", record.phases);
    assert_eq!(record.total_ms, record.phases.iter().map(|p| p.ms).sum::<u64>());
    for tool in ["terraform", "talosctl", "talos", "kubernetes"] {
        assert!(record.tool_versions.contains_key(tool), "{tool} missing from {:?}", record.tool_versions);
    }
    let ledger_text = std::fs::read_to_string(&env.evidence.ledger).unwrap();
    let token = std::fs::read_to_string(&env.kubeconfig).unwrap();
    let token = token.lines().find_map(|l| l.trim().strip_prefix("token:")).unwrap().trim();
    assert!(!ledger_text.contains(token), "no secret in the evidence");

    // Without the admin kubeconfig, the read-only checks still pass: they use the read-only one.
    std::fs::remove_file(&env.kubeconfig).unwrap();
    for check in [Check::SystemAppsHealthy, Check::ArgocdBootstrappedWithoutManualIntervention, Check::TalosLogsClean] {
        let outcome = run(env, check);
        assert!(outcome.passed(), "{outcome}");
    }
    assert_eq!(evidence::read(&env.evidence.ledger).unwrap().len(), 1, "read-only checks record no cycle");
}

#[test]
fn a_degraded_app_fails_the_cycle_in_phase_argocd_naming_it_with_its_artifacts() {
    let lab = lab(&["app-degraded=traefik"]);
    let outcome = run(lab.env(), Check::RecreateCycle);
    let message = failed_in(&outcome, "argocd", "traefik");
    assert!(message.starts_with("traefik has been Degraded for"), "{message}");
    let artifacts = outcome.artifacts.clone().expect("a failed cycle keeps its artifacts");
    assert!(outcome.to_string().contains(&format!("artifacts: {}", artifacts.display())));
    let applications = std::fs::read_to_string(artifacts.join(cycle::artifacts::files::APPLICATIONS)).unwrap();
    assert!(applications.contains("name: traefik") && applications.contains("Degraded"), "{applications}");
    assert!(artifacts.join(cycle::artifacts::files::TERRAFORM).is_file());
    assert!(std::fs::read_to_string(artifacts.join(cycle::artifacts::files::EVENTS)).is_ok());
    assert_eq!(outcome.not_run, [vixens_ops::budget::Phase::Logs, vixens_ops::budget::Phase::Commands]);

    let healthy = run(lab.env(), Check::SystemAppsHealthy);
    failed_in(&healthy, "argocd", "traefik");
}

#[test]
fn a_stuck_app_times_the_argocd_phase_out_naming_it() {
    let lab = lab(&["app-stuck=keda"]);
    let mut env = lab.env().clone();
    env.budgets.phases.argocd = Duration::from_secs(8);
    let outcome = run(&env, Check::RecreateCycle);
    let message = failed_in(&outcome, "argocd", "keda");
    assert!(message.starts_with("timed out after 8s with 16/17 system apps ready; not ready:"), "{message}");
    assert!(message.contains("\n  keda: Progressing: "), "{message}");
}

#[test]
fn a_healthy_lab_on_argo_cd_2_10_passes_a_recreate_cycle_though_its_history_names_no_initiator() {
    let lab = lab_on_argocd_2_10(&[]);
    let outcome = run(lab.env(), Check::RecreateCycle);
    assert!(outcome.passed(), "{outcome}");
    let spec = std::fs::read_to_string(lab.env().work_dir.join("state/spec.json")).expect("the recreated lab's spec");
    assert!(spec.contains("\"argocd_version\": \"2.10\""), "the recreated lab is a 2.10 one: {spec}");
}

#[test]
fn a_manual_sync_on_argo_cd_2_10_fails_the_proof_of_no_manual_intervention_too() {
    let lab = lab_on_argocd_2_10(&["manual-sync=cert-manager"]);
    let outcome = run(lab.env(), Check::RecreateCycle);
    let message = failed_in(&outcome, "argocd", "cert-manager");
    assert!(message.contains("\n  cert-manager: synced by user `admin` (last operation, started "), "{message}");
    assert!(
        message.contains("\nevidence since the recreate at ")
            && message.contains("newest history entry matched to the last operation by deployStartedAt"),
        "2.10's evidence is named: {message}"
    );
    assert!(!message.contains("history[].initiatedBy"), "2.10 writes no initiator in history: {message}");
}

#[test]
fn a_manual_sync_fails_the_proof_of_no_manual_intervention_naming_the_app_and_the_user() {
    let lab = lab(&["manual-sync=cert-manager"]);
    let outcome = run(lab.env(), Check::RecreateCycle);
    let message = failed_in(&outcome, "argocd", "cert-manager");
    assert!(message.starts_with("Argo CD did not bootstrap by itself: "), "{message}");
    assert!(message.contains("\n  cert-manager: synced by user `admin`"), "{message}");
    assert!(message.contains("\nevidence since the recreate at ") && message.contains("history[].initiatedBy ("), "3's evidence is named: {message}");

    let bootstrapped = run(lab.env(), Check::ArgocdBootstrappedWithoutManualIntervention);
    failed_in(&bootstrapped, "argocd", "cert-manager");
    let healthy = run(lab.env(), Check::SystemAppsHealthy);
    assert!(healthy.passed(), "a manually synced app is still healthy: {healthy}");
}

#[test]
fn an_error_in_the_talos_logs_fails_the_logs_phase_naming_node_source_and_line() {
    let lab = lab(&["talos-error=lab-controlplane-2"]);
    let outcome = run(lab.env(), Check::RecreateCycle);
    let failure = outcome.first_failure().unwrap_or_else(|| panic!("the error line must be found:\n{outcome}"));
    assert_eq!(failure.phase, "logs", "{outcome}");
    assert!(failure.culprit.starts_with("lab-controlplane-2 (10.5.0.3): "), "{outcome}");
    assert!(failure.message.contains("\n  10.5.0.3: "), "{}", failure.message);
    assert!(!failure.message.contains("10.5.0.2: ") && !failure.message.contains("10.5.0.4: "), "only the faulty node: {}", failure.message);
    let excerpts = std::fs::read_to_string(outcome.artifacts.clone().unwrap().join(cycle::artifacts::files::TALOS_LOGS)).unwrap();
    assert!(excerpts.contains("FINDING lab-controlplane-2 (10.5.0.3): 10.5.0.3: dmesg:"), "{excerpts}");
    assert!(excerpts.contains("== lab-controlplane-2 (10.5.0.3): ") && excerpts.contains("(ERROR disk-io-error (known failure F09))"), "{excerpts}");

    let clean = run(lab.env(), Check::TalosLogsClean);
    let message = failed_in(&clean, "logs", &failure.culprit);
    assert_eq!(message, failure.message);
}

/// Every `talos-error` kind the lab emits, on the node it is put on, as the logs phase must name
/// it: (kind, node, service, cause).
const TALOS_ERRORS: &[(&str, &str, &str, &str)] = &[
    ("disk-io", "10.5.0.2", "dmesg", "disk-io-error"),
    ("fs-error", "10.5.0.2", "dmesg", "fs-error"),
    ("crash-loop", "10.5.0.2", "machined", "crash-loop/ext-iscsid/exit-127"),
    ("etcd-oom", "10.5.0.2", "dmesg", "oom-kill/etcd"),
    ("image-pull", "10.5.0.2", "kubelet", "image-pull-failure"),
    ("certificate", "10.5.0.3", "kubelet", "certificate-error"),
    ("etcd-quorum", "10.5.0.3", "etcd", "etcd-quorum-loss"),
    ("extension", "10.5.0.3", "ext-iscsid", "extension-error"),
    ("kubelet-start", "10.5.0.3", "kubelet", "kubelet-cannot-start"),
    ("panic", "10.5.0.4", "etcd", "panic"),
    ("mount", "10.5.0.4", "kubelet", "mount-failure"),
    ("time-sync", "10.5.0.4", "controller-runtime", "time-sync-failure"),
    ("network", "10.5.0.4", "machined", "network-unreachable"),
    ("service-failed", "10.5.0.4", "machined", "service-failed/apid"),
];

#[test]
fn every_talos_failure_kind_fails_the_talos_logs_check_naming_node_service_and_line() {
    let faults: Vec<String> = TALOS_ERRORS.iter().map(|(kind, node, _, _)| format!("talos-error={node}:{kind}")).collect();
    let lab = lab(&faults.iter().map(String::as_str).collect::<Vec<_>>());
    let outcome = run(lab.env(), Check::TalosLogsClean);
    let failure = outcome.first_failure().unwrap_or_else(|| panic!("the failures must be found:\n{outcome}"));
    assert_eq!(failure.phase, "logs", "{outcome}");
    assert!(failure.message.contains(" errors in the Talos logs since boot that no allow rule explains"), "{}", failure.message);
    let artifact = std::fs::read_to_string(outcome.artifacts.clone().unwrap().join(cycle::artifacts::files::TALOS_LOGS)).unwrap();
    for (kind, node, service, cause) in TALOS_ERRORS {
        // `FINDING <node name (address)>: <address>: <service>:<line>: <text> (<cause>, ...`
        let found = artifact
            .lines()
            .find(|l| l.starts_with("FINDING ") && l.contains(&format!(": {node}: {service}:")) && l.contains(&format!(" ({cause}, ")));
        let found = found.unwrap_or_else(|| panic!("{kind}: no {cause} finding in {node}'s {service}:\n{artifact}"));
        let line: u64 =
            found.split(&format!(": {node}: {service}:")).nth(1).and_then(|r| r.split(':').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
        assert!(line > 0, "{kind}: the finding names its line: {found}");
    }
}

#[test]
fn a_node_that_never_gets_ready_fails_talos_health_naming_it() {
    let lab = lab(&["node-not-ready=lab-controlplane-3"]);
    let mut env = lab.env().clone();
    env.budgets.phases.talos_health = Duration::from_secs(6);
    let outcome = run(&env, Check::RecreateCycle);
    let message = failed_in(&outcome, "talos-health", "lab-controlplane-3 (10.5.0.4)");
    assert!(message.contains("waiting for all k8s nodes to report ready: some nodes are not ready: [lab-controlplane-3]"), "{message}");
    let health = std::fs::read_to_string(outcome.artifacts.clone().unwrap().join(cycle::artifacts::files::TALOS_HEALTH)).unwrap();
    assert!(health.contains("discovered nodes: "), "{health}");
}

#[test]
fn a_slow_bootstrap_overruns_a_small_recreate_budget_naming_the_slowest_phase() {
    let lab = lab(&["slow-bootstrap=6"]);
    // The cycle starts from a settled cluster, as on a homelab: otherwise the destroy's wait for
    // the fresh lab's storage to settle would be the slowest phase.
    vixens_ops::destroy::volumes::settle(lab.env(), Duration::from_secs(60)).unwrap();
    let mut env = lab.env().clone();
    env.budgets.recreate = Duration::from_secs(8);
    // One quick documented command: the slowest phase must be the bootstrap whatever the number
    // of entries docs/commands.md grows to.
    let doc = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(doc.path(), "# Operations\n\n### Say hi\n\nContext: a test.\n\n```console\n$ echo hi\nhi\n```\n").unwrap();
    env.commands.doc = doc.path().to_owned();
    let outcome = run(&env, Check::RecreateCycle);
    let message = failed_in(&outcome, "budget", "phase argocd");
    assert!(message.starts_with("recreate took ") && message.contains(", over its 8s budget; slowest phase argocd "), "{message}");
    assert!(outcome.timings.phases().iter().all(|m| m.ok), "every phase passed on its own: {outcome}");
}

#[test]
fn a_destroy_over_its_budget_runs_to_its_end_and_fails_the_cycle_naming_the_overrun() {
    // `vixens-lab down`, run by the destroy-time provisioner, takes 14 s: past the 10 s budget
    // (which leaves a loaded machine room for the steps before the apply).
    let lab = lab(&["slow-destroy=14"]);
    let mut env = lab.env().clone();
    env.budgets.phases.destroy = Duration::from_secs(10);
    // One quick documented command: the documented ones that stop a lab would wait out the fault.
    let doc = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(doc.path(), "# Operations\n\n### Say hi\n\nContext: a test.\n\n```console\n$ echo hi\nhi\n```\n").unwrap();
    env.commands.doc = doc.path().to_owned();
    let outcome = run(&env, Check::RecreateCycle);
    let message = failed_in(&outcome, "destroy", "phase destroy");
    assert!(message.starts_with("phase destroy took 1") && message.ends_with("s, over its 10s budget"), "{message}");
    // The apply of the checked plan ran to its end, and the cycle went on to recreate the lab.
    let transcript = std::fs::read_to_string(outcome.artifacts.clone().unwrap().join(cycle::artifacts::files::TERRAFORM)).unwrap();
    assert!(transcript.contains("Apply complete! Resources: 0 added, 0 changed, 1 destroyed."), "{transcript}");
    assert!(!transcript.contains("Interrupt received"), "{transcript}");
    assert!(outcome.timings.phases().iter().all(|m| m.ok), "every phase succeeded; only the destroy's time fails: {outcome}");
}

#[test]
fn a_recreate_cycle_without_the_lease_destroys_nothing_and_names_the_lease() {
    let lab = lab(&[]);
    let mut terminal = Terminal::new(std::io::stderr());
    let outcome = cycle::run(lab.env(), None, Check::RecreateCycle, &options(), &mut terminal);
    let message = failed_in(&outcome, "destroy", &format!("the lease of {}", lab.env().work_dir.display()));
    assert!(message.contains("it runs only holding the environment's lease"), "{message}");
    assert!(vixens_ops::provision::is_up(lab.env()), "the lab is still up");
}

#[test]
fn a_failed_apply_names_the_resource_and_terraforms_explanation() {
    let lab = lab(&[]);
    let mut env = lab.env().clone();
    // The recreate's apply starts a lab that refuses to start.
    env.terraform.vars.insert("faults".into(), "apply-fail".into());
    let outcome = run(&env, Check::RecreateCycle);
    let message = failed_in(&outcome, "apply", "module.lab.terraform_data.lab");
    assert!(message.contains("failed with exit code 1: local-exec provisioner error"), "{message}");
    assert!(message.contains("fault `apply-fail` injected through VIXENS_LAB_FAULTS: the lab refuses to start"), "{message}");
    let transcript = std::fs::read_to_string(outcome.artifacts.clone().unwrap().join(cycle::artifacts::files::TERRAFORM)).unwrap();
    assert!(transcript.contains("$ terraform apply -auto-approve"), "{transcript}");
}

#[test]
fn an_api_restart_does_not_fail_a_healthy_cycle() {
    // A slower bootstrap keeps the Argo CD wait open when the API restarts, 3 s after the
    // recreated lab came up: the restart lands inside the watch, not before it, even on a loaded
    // machine.
    let lab = lab(&["api-restart=3", "slow-bootstrap=6"]);
    let mut argocd_lines = ArgocdLines::default();
    let mut terminal = Terminal::new(std::io::stderr());
    let held = lease(lab.env());
    let outcome =
        cycle::run(lab.env(), Some(held.held()), Check::RecreateCycle, &options(), &mut Reporters::new().with(&mut terminal).with(&mut argocd_lines));
    assert!(outcome.passed(), "{outcome}");
    assert!(
        argocd_lines.0.iter().any(|line| line.starts_with("watch interrupted, resuming after backoff")),
        "the restart did not reach the Argo CD watch: {:?}",
        argocd_lines.0
    );
}

/// The Argo CD phase's progress lines.
#[derive(Default)]
struct ArgocdLines(Vec<String>);

impl Reporter for ArgocdLines {
    fn report(&mut self, event: &CycleEvent<'_>) {
        if let CycleEvent::PhaseProgress { phase: Phase::Argocd, progress: Progress::Status(line), .. } = event {
            self.0.push((*line).to_owned());
        }
    }
}
