//! The talosctl driver and the log scanner end to end against the lab's talosctl stand-in
//! (`vixens-lab up`), which prints what talosctl v1.13.9 prints: the parsers meet the real
//! formats, and the lab's Talos logs since boot scan clean with the shared allow-list alone unless
//! a fault puts a failure in them: every `talos-error` kind is found by the cycle's logs phase,
//! naming node, service and line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use vixens_drivers::process;
use vixens_drivers::talosctl::{CheckState, Error, ServiceHealth, ServiceRow, ServiceState, Talosctl};
use vixens_logscan::Time;
use vixens_ops::env::Environment;

use crate::cycle::phases::logs::{self, Scanned};

const MINUTE: Duration = Duration::from_secs(60);

const NODES: [&str; 3] = ["10.5.0.2", "10.5.0.3", "10.5.0.4"];

/// A booted three-node lab in a temporary state folder, stopped on drop.
struct Lab {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Lab {
    fn up(faults: &str) -> Self {
        let bin = vixens_ops::binaries::binaries().expect("the harness binaries build").vixens_lab;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().to_str().unwrap().to_owned();
        let up = process::Command::new(&bin)
            .args(["up", "--state-dir", &state, "--name", "lab", "--time-scale", "0.2"])
            .env("VIXENS_LAB_FAULTS", faults)
            .timeout(Duration::from_secs(60))
            .run()
            .unwrap();
        assert!(up.success(), "vixens-lab up: {}", up.stderr);
        let lab = Self { dir, bin };
        lab.wait_booted();
        lab
    }

    fn talosctl(&self) -> Talosctl {
        Talosctl::new(self.dir.path().join("talosconfig")).tools_path(&[self.dir.path().join("bin")])
    }

    fn wait_booted(&self) {
        let started = std::time::Instant::now();
        loop {
            let mut done = 0;
            for node in NODES {
                let _ = self.talosctl().dmesg(node, MINUTE, &mut |l| done += usize::from(l.contains("[talos] boot sequence: done")));
            }
            if done == NODES.len() {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the lab did not boot");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every log the lab environment scans, from every node, scanned by the cycle's logs phase
    /// with the bootstrap window ending now (the lab booted and is healthy).
    fn scan_logs(&self) -> (Environment, Scanned) {
        let env_yaml = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> is two folders below the workspace")
            .join("environments/lab/env.yaml");
        let env = Environment::load(&env_yaml).expect("the lab env.yaml loads");
        let now = Time::from_unix_micros(jiff::Timestamp::now().as_microsecond());
        let scanned = logs::scan(&env, &self.talosctl(), MINUTE, Some(now)).expect("the logs phase reads every log");
        (env, scanned)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = process::Command::new(&self.bin).args(["down", "--state-dir", self.dir.path().to_str().unwrap_or_default()]).run();
    }
}

#[test]
fn health_of_a_booted_lab_passes_every_check() {
    let lab = Lab::up("");
    let report = lab.talosctl().health("10.5.0.2", MINUTE, &mut |_| {}).unwrap();
    assert_eq!(report.discovered, NODES);
    assert!(report.checks.len() > 10, "{report:?}");
    assert!(report.checks.iter().all(|c| matches!(c.state, CheckState::Ok | CheckState::Skip)), "{report:?}");
}

#[test]
fn health_of_a_lab_with_a_node_not_ready_fails_naming_the_check() {
    let lab = Lab::up("node-not-ready=lab-controlplane-3");
    let err = lab.talosctl().health("10.5.0.2", Duration::from_secs(5), &mut |_| {}).unwrap_err();
    let Error::Unhealthy { node, unhealthy } = &err else { panic!("{err:?}") };
    assert_eq!(node, "10.5.0.2");
    assert!(unhealthy.check.as_deref().is_some_and(|c| c.contains("ready")), "{err}");
    assert!(err.to_string().contains("lab-controlplane-3"), "{err}");
}

#[test]
fn services_versions_and_one_service_parse_on_every_node() {
    let lab = Lab::up("");
    let talosctl = lab.talosctl();
    let rows = talosctl.services(&NODES, MINUTE).unwrap();
    let etcd: Vec<&ServiceRow> = rows.iter().filter(|r| r.id == "etcd").collect();
    assert_eq!(etcd.len(), 3, "{rows:?}");
    assert!(etcd.iter().all(|r| r.state == ServiceState::Running && r.health == ServiceHealth::Ok));
    let details = talosctl.service(&NODES, "etcd", MINUTE).unwrap();
    assert_eq!(details.len(), 3);
    assert!(details.iter().all(|d| d.id == "etcd" && !d.events.is_empty()));
    let versions = talosctl.version(&NODES, MINUTE).unwrap();
    assert_eq!(versions.servers.iter().map(|s| s.node.as_str()).collect::<Vec<_>>(), NODES);
    assert!(versions.client.is_some_and(|c| c.tag.starts_with('v')));
}

#[test]
fn a_node_that_does_not_answer_is_a_partial_failure() {
    let lab = Lab::up("");
    let err = lab.talosctl().version(&["10.5.0.2", "10.5.0.99"], MINUTE).unwrap_err();
    assert!(matches!(err, Error::Partial { .. }), "{err:?}");
    assert!(err.to_string().contains("10.5.0.99: rpc error"), "{err}");
}

#[test]
fn an_unknown_service_fails_with_talosctl_s_message() {
    let lab = Lab::up("");
    let err = lab.talosctl().service(&["10.5.0.2"], "nope", MINUTE).unwrap_err();
    assert!(err.to_string().ends_with("failed with exit code 1: service \"nope\" is not registered on any nodes"), "{err}");
}

#[test]
fn a_clean_lab_boot_is_explained_by_the_shared_allow_list_alone() {
    let lab = Lab::up("");
    let (env, scanned) = lab.scan_logs();
    assert!(env.talos_logs.allow.is_empty(), "the lab's env.yaml adds no rule of its own");
    assert!(scanned.report.findings.is_empty(), "{:#?}", scanned.report.findings);
    assert!(logs::judge(&env, &scanned).is_ok());
    let explained: Vec<&str> = scanned.report.explained.keys().map(String::as_str).collect();
    for rule in ["A01", "A02", "A03", "A04", "A05", "A07", "A08", "A10", "A11"] {
        assert!(explained.contains(&rule), "the boot noise {rule} explains is there: {explained:?}");
    }
    assert!(scanned.report.tolerated > 0, "the boot's one failed NTP lookup is tolerated");
}

/// What each `talos-error` kind must be found as: (kind, node, source, cause).
const KINDS: &[(&str, &str, &str, &str)] = &[
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
fn every_talos_error_kind_is_found_by_the_logs_phase_naming_node_service_and_line() {
    let faults: Vec<String> = KINDS.iter().map(|(kind, node, _, _)| format!("talos-error={node}:{kind}")).collect();
    let lab = Lab::up(&faults.join(","));
    let (env, scanned) = lab.scan_logs();
    let failure = logs::judge(&env, &scanned).unwrap_err();
    let first = &scanned.report.findings[0];
    assert_eq!(failure.culprit, format!("{}: {}:{}", env.node_label(&first.label), first.source, first.line));
    for (kind, node, source, cause) in KINDS {
        let finding = scanned.report.findings.iter().find(|f| f.label == *node && f.source == *source && f.cause == *cause);
        let finding = finding.unwrap_or_else(|| panic!("{kind}: no {cause} finding in {node}'s {source}: {:#?}", scanned.report.findings));
        // What the failure message and the artifact print for it: node, service and line first.
        let shown = finding.to_string();
        assert!(shown.starts_with(&format!("{node}: {source}:{}: ", finding.line)) && finding.line > 0, "{kind}: {shown}");
        assert!(scanned.excerpts.contains(&format!("FINDING {}: {shown}", env.node_label(node))), "{kind}: not in the artifact");
    }
    let unexpected: Vec<String> =
        scanned.report.findings.iter().filter(|f| !KINDS.iter().any(|(_, node, _, _)| f.label == *node)).map(ToString::to_string).collect();
    assert!(unexpected.is_empty(), "only the faulty nodes: {unexpected:#?}");
}
