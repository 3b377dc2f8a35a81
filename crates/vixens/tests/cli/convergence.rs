//! Argo CD convergence against the lab's real API server: `vixens-lab up` runs as a process, and
//! the harness's kube client, wait and manual-intervention proof drive it exactly as a recreate
//! cycle drives the homelab. Each lab fault that concerns convergence fails with the app named;
//! an API restart does not fail a healthy wait.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use jiff::Timestamp;
use vixens_kube::Cluster;
use vixens_kube::argocd::SystemApps;
use vixens_kube::argocd::{Converged, SystemAppRules, wait_converged};
use vixens_kube::wait::{self, WaitConfig, WaitEvent};

/// A lab started for one test and stopped when the test ends.
struct Lab {
    dir: tempfile::TempDir,
    bin: PathBuf,
    started: Timestamp,
}

impl Lab {
    /// `vixens-lab up` with `VIXENS_LAB_FAULTS=faults`.
    fn up(faults: &str) -> Self {
        Self::up_as(faults, "3")
    }

    /// `vixens-lab up --argocd-version VERSION` with `VIXENS_LAB_FAULTS=faults`.
    fn up_as(faults: &str, argocd_version: &str) -> Self {
        let bin = vixens_ops::binaries::binaries().expect("vixens-lab builds").vixens_lab;
        let dir = tempfile::tempdir().expect("temp dir");
        let started = Timestamp::now();
        let output = Command::new(&bin)
            .args(["up", "--idle-timeout", "5m", "--argocd-version", argocd_version, "--state-dir"])
            .arg(dir.path().join("lab"))
            .arg("--nas-dir")
            .arg(dir.path().join("nas"))
            .env("VIXENS_LAB_FAULTS", faults)
            .output()
            .expect("vixens-lab runs");
        assert!(output.status.success(), "vixens-lab up failed: {}", String::from_utf8_lossy(&output.stderr));
        Self { dir, bin, started }
    }

    fn kubeconfig(&self, name: &str) -> PathBuf {
        self.dir.path().join("lab").join(name)
    }

    async fn cluster(&self, kubeconfig: &str) -> Cluster {
        Cluster::from_kubeconfig(&self.kubeconfig(kubeconfig)).await.expect("the lab's kubeconfig is usable")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new(&self.bin).arg("down").arg("--state-dir").arg(self.dir.path().join("lab")).output();
    }
}

/// The lab's system apps as an environment would define them: its tier label, or wave <= 2.
fn rules() -> SystemAppRules {
    let system_apps = SystemApps { selector: Some("vixens.io/tier=system".into()), max_sync_wave: Some(2), ..SystemApps::default() };
    SystemAppRules::new("vixens-app-of-apps", &system_apps).expect("valid rules")
}

/// The default lab tree bootstraps in about 5 s; these budgets leave room on a loaded machine.
fn config() -> WaitConfig {
    WaitConfig::default().timeout(Duration::from_secs(60)).progress_interval(Duration::from_secs(1))
}

async fn converge(cluster: &Cluster, config: &WaitConfig) -> (Result<Converged, wait::Error>, Vec<WaitEvent>) {
    let mut events = Vec::new();
    let result = wait_converged(cluster, "argocd", &rules(), config, |event| events.push(event)).await;
    (result, events)
}

fn names(converged: &Converged) -> Vec<&str> {
    converged.system_apps.iter().map(vixens_kube::argocd::Application::name).collect()
}

#[tokio::test]
async fn a_normal_bootstrap_converges_by_itself() {
    let lab = Lab::up("");
    let (result, events) = converge(&lab.cluster("kubeconfig").await, &config()).await;
    let converged = result.expect("the default tree converges");
    assert_eq!(converged.system_apps.len(), 15, "{:?}", names(&converged));
    assert!(names(&converged).contains(&"traefik"));
    assert!(!names(&converged).contains(&"vixens-app-of-apps"), "the root app is never evidence");
    assert_eq!(converged.manual_interventions(lab.started), []);
    assert!(events.iter().any(|e| matches!(e, WaitEvent::Listed { relist: false, .. })), "{events:?}");
}

#[tokio::test]
async fn the_read_only_identity_can_wait_for_convergence() {
    let lab = Lab::up("");
    let (result, _) = converge(&lab.cluster("kubeconfig-readonly").await, &config()).await;
    assert_eq!(result.expect("a read-only identity may list and watch").system_apps.len(), 15);
}

#[tokio::test]
async fn a_degraded_app_fails_once_its_grace_runs_out_naming_it_and_where_its_reason_is() {
    let lab = Lab::up("app-degraded=traefik");
    let (result, _) = converge(&lab.cluster("kubeconfig").await, &config().failing_grace(Duration::from_secs(2))).await;
    let message = result.expect_err("traefik stays Degraded").to_string();
    assert!(message.starts_with("traefik has been Degraded for 2s"), "{message}");
    assert!(
        message.ends_with(
            "health is Degraded: no reason in the Application (resourceHealthSource: appTree: Argo CD 3 keeps resource health in its resource tree)"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn on_argo_cd_2_10_a_degraded_app_is_named_with_its_inline_resource_health() {
    let lab = Lab::up_as("app-degraded=traefik", "2.10");
    let (result, _) = converge(&lab.cluster("kubeconfig").await, &config().failing_grace(Duration::from_secs(2))).await;
    let message = result.expect_err("traefik stays Degraded").to_string();
    assert!(
        message.ends_with("health is Degraded: Deployment traefik is Degraded: Deployment \"traefik\" exceeded its progress deadline (from status.resources[].health)"),
        "{message}"
    );
}

#[tokio::test]
async fn a_2_10_bootstrap_is_proven_through_the_last_operations_and_a_3_one_through_history_initiators() {
    for (version, correlated) in [("2.10", true), ("3", false)] {
        let lab = Lab::up_as("", version);
        let (result, _) = converge(&lab.cluster("kubeconfig").await, &config()).await;
        let report = result.expect("converges").interventions(vixens_kube::argocd::Lookback::SinceRecreate(lab.started));
        assert_eq!(report.verdict(), vixens_kube::argocd::Verdict::Proven, "{version}: {}", report.summary());
        assert_eq!(report.evidence.correlated_history > 0, correlated, "{version}: {}", report.summary());
        assert_eq!(report.evidence.history_initiators == 0, correlated, "{version}: {}", report.summary());
    }
}

#[tokio::test]
async fn a_manual_sync_is_found_on_argo_cd_2_10_as_on_3() {
    for version in ["2.10", "3"] {
        let lab = Lab::up_as("manual-sync=cert-manager", version);
        let (result, _) = converge(&lab.cluster("kubeconfig").await, &config()).await;
        let report = result.expect("a manually synced app still converges").interventions(vixens_kube::argocd::Lookback::SinceRecreate(lab.started));
        assert_eq!(report.verdict(), vixens_kube::argocd::Verdict::Manual, "{version}");
        assert!(
            report.findings.iter().all(|f| f.to_string().starts_with("cert-manager: synced by user `admin`")),
            "{version}: {:?}",
            report.findings
        );
    }
}

#[tokio::test]
async fn a_stuck_app_times_out_naming_it_with_its_state() {
    let lab = Lab::up("app-stuck=keda");
    let (result, _) = converge(&lab.cluster("kubeconfig").await, &config().timeout(Duration::from_secs(15))).await;
    let message = result.expect_err("keda never finishes its sync").to_string();
    assert!(message.starts_with("timed out after 15s with 14/15 system apps ready; not ready:"), "{message}");
    assert!(message.contains("\n  keda: Progressing: health is Progressing: no reason in the Application"), "{message}");
    assert!(message.contains("; sync status is OutOfSync; the sync operation is Running and has not finished"), "{message}");
}

#[tokio::test]
async fn a_manual_sync_is_found_naming_the_app_and_the_user() {
    let lab = Lab::up("manual-sync=cert-manager");
    let (result, _) = converge(&lab.cluster("kubeconfig").await, &config()).await;
    let converged = result.expect("a manually synced app still converges");
    let found: Vec<String> = converged.manual_interventions(lab.started).iter().map(ToString::to_string).collect();
    assert!(!found.is_empty(), "the manual sync must be found");
    assert!(found.iter().all(|f| f.starts_with("cert-manager: synced by user `admin`")), "{found:?}");
}

#[tokio::test]
async fn an_api_restart_does_not_fail_a_healthy_wait() {
    // The bootstrap is slowed so that the restart lands while the wait watches, however long
    // the lab took to hand over on a loaded machine.
    let lab = Lab::up("api-restart=3,slow-bootstrap=6");
    let (result, events) = converge(&lab.cluster("kubeconfig").await, &config()).await;
    assert_eq!(result.expect("the wait survives the restart").system_apps.len(), 15);
    assert!(events.iter().any(|e| matches!(e, WaitEvent::WatchInterrupted { .. })), "the restart was seen: {events:?}");
}

#[tokio::test]
async fn the_kubernetes_api_of_the_lab_is_reachable_over_tls() {
    let lab = Lab::up("");
    let version = lab.cluster("kubeconfig").await.wait_reachable(Duration::from_secs(20)).await.expect("reachable");
    assert!(version.git_version.starts_with('v'), "{version:?}");
    assert!(Path::new(&lab.kubeconfig("kubeconfig-readonly")).is_file());
}

#[tokio::test]
async fn a_sync_that_fails_for_good_fails_the_wait_naming_the_app_and_argo_cds_message() {
    let lab = Lab::up("sync-fail=cert-manager-config");
    let (result, _) = converge(&lab.cluster("kubeconfig").await, &config().failing_grace(Duration::from_secs(2))).await;
    let message = result.expect_err("cert-manager-config never syncs").to_string();
    assert!(message.starts_with("cert-manager-config has been Missing for 2s"), "{message}");
    assert!(
        message.contains("the last sync operation ended Failed: one or more objects failed to apply") && message.contains("(retried 5 times)."),
        "{message}"
    );
}
