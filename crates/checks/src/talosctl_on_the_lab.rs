//! The talosctl driver and the log scanner end to end against the lab's talosctl stand-in
//! (`vixens-lab up`), which prints what talosctl v1.13.9 prints: the parsers meet the real
//! formats, and the lab's Talos logs since boot scan clean against its reviewed allow-list
//! unless a fault puts an error in them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use vixens_drivers::process;
use vixens_drivers::talosctl::{CheckState, Error, ServiceHealth, ServiceRow, ServiceState, Talosctl};
use vixens_logscan::{Input, OwnedFinding, Scanner};
use vixens_ops::env::Environment;

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

    /// Every log the lab environment scans, from every node, through the scanner with the
    /// lab's own allow-list: what the cycle's logs phase does.
    fn scan_logs(&self) -> Vec<OwnedFinding> {
        let env_yaml = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> is two folders below the workspace")
            .join("environments/lab/env.yaml");
        let env = Environment::load(&env_yaml).expect("the lab env.yaml loads");
        let scanner = Scanner::new(&env.talos_logs.allow).unwrap();
        let talosctl = self.talosctl();
        let mut findings = Vec::new();
        for node in NODES {
            let sources = env.talos_logs.services.iter().map(String::as_str).chain(["dmesg"]);
            for source in sources {
                let name = format!("talosctl -n {node} {source}");
                let mut scan = scanner.lines(Input::new(&name, source));
                let mut on_line = |line: &str| {
                    scan.push(line, &mut findings).unwrap();
                };
                match source {
                    "dmesg" => talosctl.dmesg(node, MINUTE, &mut on_line),
                    service => talosctl.logs(node, service, MINUTE, &mut on_line),
                }
                .unwrap();
            }
        }
        findings
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
fn a_clean_lab_boot_leaves_only_allowed_lines_in_the_talos_logs() {
    let lab = Lab::up("");
    let findings = lab.scan_logs();
    let flagged: Vec<String> = findings.iter().filter(|f| f.is_flagged()).map(ToString::to_string).collect();
    assert!(flagged.is_empty(), "{flagged:#?}");
    assert!(!findings.is_empty(), "the boot noise the allow-list explains is there");
}

#[test]
fn the_talos_error_fault_is_found_on_its_node() {
    let lab = Lab::up("talos-error=lab-controlplane-2");
    let findings = lab.scan_logs();
    let flagged: Vec<&OwnedFinding> = findings.iter().filter(|f| f.is_flagged()).collect();
    assert!(!flagged.is_empty(), "the fault's error line is flagged");
    assert!(flagged.iter().all(|f| f.node.as_deref() == Some("10.5.0.3")), "{flagged:#?}");
}
