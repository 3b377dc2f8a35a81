//! Every fault of the simulators, visible where the harness looks for it: Applications
//! (`kubectl`), Nodes, `talosctl health`, the Talos logs, the NAS. And the other side of the
//! `talos-error` fault: a healthy boot prints the noise a real Talos boot prints (which the
//! harness's shared allow-list must explain; the harness's own tests prove that).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::Value;

use crate::talosctl::{booted_lab, run, talosctl};
use crate::{Lab, applications, stdout, text, vixens_lab, wait_converged};

/// Waits until `app` satisfies `done`, and returns it.
#[track_caller]
fn wait_for(lab: &Lab, app: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        if let Some(found) = applications(lab).remove(app).filter(|a| done(a)) {
            return found;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{app}: {what}: not within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn app_degraded_turns_the_app_degraded_after_its_sync_and_it_stays_so() {
    let lab = booted_lab(&[], "app-degraded=traefik");
    let degraded = wait_for(&lab, "traefik", "Degraded", |a| text(a, "/status/health/status") == "Degraded");
    // Stays so: once every other app converged and the root reconciled (the controller's last
    // writes), traefik is the very object it was when it turned Degraded.
    wait_converged(&lab, &["traefik"]);
    wait_for(&lab, "vixens-app-of-apps", "reconciled after its sync", |root| {
        root.pointer("/status/reconciledAt").and_then(Value::as_str) >= root.pointer("/status/operationState/finishedAt").and_then(Value::as_str)
            && root.pointer("/status/operationState/finishedAt").is_some()
    });
    let traefik = &applications(&lab)["traefik"];
    assert_eq!(traefik["metadata"]["resourceVersion"], degraded["metadata"]["resourceVersion"], "traefik changed after turning Degraded");
    assert_eq!(text(traefik, "/status/health/status"), "Degraded");
    assert!(traefik.pointer("/status/health/message").is_none(), "Argo CD never writes an app-level health message");
    assert_eq!(text(traefik, "/status/sync/status"), "Synced", "the sync itself succeeded");
    assert_eq!(text(traefik, "/status/operationState/phase"), "Succeeded");
    let table = stdout(&lab.kubectl(&["-n", "argocd", "get", "application", "traefik"]));
    assert!(table.lines().nth(1).unwrap().split_whitespace().collect::<Vec<_>>() == ["traefik", "Synced", "Degraded"], "{table}");
}

#[test]
fn app_stuck_keeps_the_apps_operation_running() {
    let lab = booted_lab(&[], "app-stuck=keda");
    wait_converged(&lab, &["keda"]);
    let keda = &applications(&lab)["keda"];
    assert_eq!(text(keda, "/status/operationState/phase"), "Running");
    assert_eq!(text(keda, "/status/operationState/message"), "waiting for healthy state of apps/Deployment/keda");
    assert!(keda.pointer("/status/operationState/finishedAt").is_none(), "a running operation has no finishedAt");
    assert_eq!((text(keda, "/status/sync/status"), text(keda, "/status/health/status")), ("OutOfSync", "Progressing"));
}

#[test]
fn manual_sync_records_the_user_instead_of_the_automated_policy() {
    let lab = booted_lab(&[], "manual-sync=cert-manager");
    let apps = wait_converged(&lab, &[]);
    let by_admin = serde_json::json!({"username": "admin"});
    let cert_manager = &apps["cert-manager"];
    assert_eq!(cert_manager["status"]["operationState"]["operation"]["initiatedBy"], by_admin);
    assert_eq!(cert_manager["status"]["history"][0]["initiatedBy"], by_admin);
    assert_eq!(apps["traefik"]["status"]["operationState"]["operation"]["initiatedBy"], serde_json::json!({"automated": true}));
}

#[test]
fn slow_bootstrap_delays_convergence_by_its_seconds() {
    let started = Instant::now();
    let lab = booted_lab(&[], "slow-bootstrap=3");
    wait_converged(&lab, &[]);
    // At time scale 0.2 the tree alone converges in about a second.
    assert!(started.elapsed() >= Duration::from_secs(3), "converged after {:?}", started.elapsed());
}

#[test]
fn node_not_ready_keeps_the_node_not_ready_and_health_never_passes() {
    let lab = booted_lab(&[], "node-not-ready=lab-controlplane-3");
    let nodes = stdout(&lab.kubectl(&["get", "nodes", "--no-headers"]));
    let status: BTreeMap<&str, &str> = nodes
        .lines()
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            (cells[0], cells[1])
        })
        .collect();
    assert_eq!(status, BTreeMap::from([("lab-controlplane-1", "Ready"), ("lab-controlplane-2", "Ready"), ("lab-controlplane-3", "NotReady")]));
    let health = run(&lab, &["health", "--wait-timeout", "2s"]);
    assert_eq!((health.code, health.stdout.as_str()), (1, ""), "{health}");
    assert!(health.stderr.contains("waiting for all k8s nodes to report ready: some nodes are not ready: [lab-controlplane-3]\n"), "{health}");
    assert!(health.stderr.ends_with("rpc error: code = DeadlineExceeded desc = context deadline exceeded\n"), "{health}");
}

#[test]
fn talos_error_puts_error_lines_in_that_nodes_logs_only() {
    let lab = booted_lab(&[], "talos-error=lab-controlplane-2");
    let dmesg = run(&lab, &["-n", "10.5.0.2,10.5.0.3,10.5.0.4", "dmesg"]);
    let errors: Vec<&str> = dmesg.stdout.lines().filter(|l| l.contains(":     err: ")).collect();
    assert_eq!(errors, ["10.5.0.3: kern:     err: [[TIME]]: I/O error, dev sdb, sector 2048 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2"]);
    let zap = run(&lab, &["-n", "10.5.0.3", "logs", "controller-runtime"]);
    let mount = "\x1b[31mERROR\x1b[0m controller failed {\"component\": \"controller-runtime\", \"controller\": \"block.MountController\"";
    assert_eq!(zap.stdout.matches(mount).count(), 5, "{zap}");
    let machined = run(&lab, &["-n", "10.5.0.3", "logs", "machined"]);
    let console: Vec<&str> = machined.stdout.lines().filter(|l| l.contains("\"block.MountController\"")).collect();
    assert_eq!(console.len(), 1, "the first four errors are suppressed on the console: {console:?}");
    let elsewhere = run(&lab, &["-n", "10.5.0.2,10.5.0.4", "logs", "machined"]);
    assert!(!elsewhere.stdout.contains("block.MountController"), "{elsewhere}");
}

/// Each `talos-error` kind, the node it is put on, and a line (a fragment of it) that real Talos,
/// its kernel or its services print for it, in the log they print it in.
const KINDS: &[(&str, &str, &str, &str)] = &[
    ("fs-error", "10.5.0.2", "dmesg", "kern:   alert: [[TIME]]: XFS (sda6): Metadata corruption detected at xfs_dinode_verify+0x1c4/0x8b0"),
    (
        "crash-loop",
        "10.5.0.2",
        "machined",
        "[talos] service[ext-iscsid](Waiting): Error running Containerd(ext-iscsid), going to restart forever: task \"ext-iscsid\" failed: exit code 127",
    ),
    (
        "crash-loop",
        "10.5.0.2",
        "ext-iscsid",
        "Error loading shared library libisns.so.0: No such file or directory (needed by /usr/local/sbin/iscsid)",
    ),
    ("etcd-oom", "10.5.0.2", "dmesg", "kern:     err: [[TIME]]: Out of memory: Killed process"),
    (
        "image-pull",
        "10.5.0.2",
        "kubelet",
        "] \"PullImage from image service failed\" err=\"rpc error: code = NotFound desc = failed to pull and unpack image",
    ),
    ("image-pull", "10.5.0.2", "cri", "level=error msg=\"PullImage \\\"ghcr.io/charlesbaudin/whoami:v9.9.9\\\" failed\""),
    ("certificate", "10.5.0.3", "kubelet", "tls: failed to verify certificate: x509: certificate signed by unknown authority"),
    ("certificate", "10.5.0.3", "etcd", "\"msg\":\"rejected connection on client endpoint\""),
    ("etcd-quorum", "10.5.0.3", "etcd", "stepped down to follower since quorum is not active"),
    ("extension", "10.5.0.3", "ext-iscsid", "iscsid: can not bind NETLINK_ISCSI socket"),
    ("kubelet-start", "10.5.0.3", "kubelet", "run.go:72] \"command failed\" err=\"failed to run Kubelet: running with swap on is not supported"),
    ("panic", "10.5.0.4", "etcd", "10.5.0.4: panic: freepages: failed to get all reachable pages"),
    ("mount", "10.5.0.4", "kubelet", "Error: MountVolume.MountDevice failed for volume"),
    ("time-sync", "10.5.0.4", "controller-runtime", "time query error with server \"162.159.200.1\""),
    ("network", "10.5.0.4", "machined", "[talos] retrying error: failed to pull image \"ghcr.io/siderolabs/kubelet:v1.35.2\""),
    ("service-failed", "10.5.0.4", "machined", "[talos] service[apid](Failed): Failed to run pre stage: failed to import image"),
];

#[test]
fn every_talos_error_kind_prints_its_failure_as_talos_does_on_its_node_only() {
    let faults: Vec<String> = KINDS.iter().map(|(kind, node, _, _)| format!("talos-error={node}:{kind}")).collect();
    let lab = booted_lab(&[], &faults.join(","));
    for (kind, node, source, fragment) in KINDS {
        let args: Vec<&str> = if *source == "dmesg" {
            vec!["-n", "10.5.0.2,10.5.0.3,10.5.0.4", "dmesg"]
        } else {
            vec!["-n", "10.5.0.2,10.5.0.3,10.5.0.4", "logs", source]
        };
        let out = run(&lab, &args);
        let nodes: Vec<&str> = out.stdout.lines().filter(|l| l.contains(fragment)).map(|l| l.split(": ").next().unwrap()).collect();
        assert!(!nodes.is_empty(), "{kind}: no `{fragment}` in {source}:\n{}", out.stdout);
        assert!(nodes.iter().all(|n| n == node), "{kind}: on {nodes:?}, expected {node} only");
    }
}

#[test]
fn an_etcd_failure_on_a_worker_is_refused_by_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = vixens_lab(&["up", "--state-dir", dir.path().to_str().unwrap(), "--workers", "1"], "talos-error=lab-worker-1:etcd-oom");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`talos-error=lab-worker-1:etcd-oom`: lab-worker-1 is a worker; etcd runs on control planes only"),
        "{out:?}"
    );
}

#[test]
fn a_fault_naming_an_unknown_app_or_node_is_refused_by_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = vixens_lab(&["up", "--state-dir", dir.path().to_str().unwrap()], "app-degraded=nope");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`app-degraded=nope`: no such app; the apps are priority-classes, shared-namespaces"), "{stderr}");
    let out = vixens_lab(&["up", "--state-dir", dir.path().to_str().unwrap()], "talos-error=lab-worker-9");
    assert!(String::from_utf8_lossy(&out.stderr).contains("`talos-error=lab-worker-9`: no such node"), "{out:?}");
    assert!(!dir.path().join("lab.json").exists(), "nothing started");
}

/// The lab env.yaml's scanned services.
fn lab_services() -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(rename = "talos-logs")]
        talos_logs: TalosLogs,
    }
    #[derive(serde::Deserialize)]
    struct TalosLogs {
        services: Vec<String>,
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../environments/lab/env.yaml");
    let file: File = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    file.talos_logs.services
}

/// Every scanned log and dmesg of every node, once the tree converged and every volume of the
/// default tree is attached (its iSCSI session recovered from the NAS's first drop), as
/// `(node, source, text)` with the node label removed and colour stripped.
fn all_lines(lab: &Lab, services: &[String]) -> Vec<(String, String, String)> {
    wait_converged(lab, &[]);
    let claims: usize = vixens_lab::argocd::default_apps().iter().map(|a| a.volumes.len()).sum();
    let started = Instant::now();
    loop {
        let lines = read_all_lines(lab, services);
        let attached = lines.iter().filter(|(_, _, t)| t.contains("is operational after recovery")).count();
        if attached >= claims {
            return lines;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{attached} of {claims} volumes attached after 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn read_all_lines(lab: &Lab, services: &[String]) -> Vec<(String, String, String)> {
    let ansi = Regex::new("\x1b\\[[0-9;]*m").unwrap();
    let mut lines = Vec::new();
    for node in ["10.5.0.2", "10.5.0.3", "10.5.0.4"] {
        let mut sources = vec![vec!["dmesg".to_owned()]];
        sources.extend(services.iter().map(|s| vec!["logs".to_owned(), s.clone()]));
        for args in sources {
            let mut all = vec!["-n", node];
            all.extend(args.iter().map(String::as_str));
            let out = talosctl(lab, &all);
            assert!(out.status.success(), "{all:?}: {out:?}");
            for line in String::from_utf8(out.stdout).unwrap().lines() {
                let text = line.strip_prefix(&format!("{node}: ")).expect("every line has its node");
                lines.push((node.to_owned(), args.last().unwrap().clone(), ansi.replace_all(text, "").into_owned()));
            }
        }
    }
    lines
}

#[test]
fn a_healthy_boot_prints_the_noise_a_real_talos_boot_prints() {
    let nas = tempfile::tempdir().unwrap();
    let lab = booted_lab(&["--nas-dir", nas.path().to_str().unwrap()], "");
    let lines = all_lines(&lab, &lab_services());
    let has = |node: &str, source: &str, fragment: &str| lines.iter().any(|(n, s, t)| n == node && s == source && t.contains(fragment));
    for node in ["10.5.0.2", "10.5.0.3", "10.5.0.4"] {
        // The static pod controller polls the kubelet before it listens: ERROR, not a retry at INFO.
        assert!(
            has(
                node,
                "controller-runtime",
                "ERROR controller failed {\"component\": \"controller-runtime\", \"controller\": \"k8s.KubeletStaticPodController\""
            ),
            "{node}"
        );
        // Its fifth error passes the console's suppression, and dmesg escapes its quotes.
        assert!(
            has(
                node,
                "dmesg",
                "[talos] controller failed {\"component\": \"controller-runtime\", \"controller\": \"k8s.KubeletStaticPodController\", \"error\": \"error refreshing pod status: error fetching pod status: Get \\x5c\"https://"
            ),
            "{node}"
        );
        assert!(has(node, "controller-runtime", "ERROR failed looking up \"time.cloudflare.com\", ignored"), "{node}: ntp.go logs it at ERROR");
        assert!(has(node, "controller-runtime", "ERROR kubernetes endpoint watch error"), "{node}");
        assert!(has(node, "kubelet", "\"Unable to register node with API server\" err=\"Post"), "{node}");
        assert!(has(node, "kubelet", "\"Container runtime network not ready\""), "{node}");
        assert!(has(node, "cri", "level=error msg=\"failed to load cni during init"), "{node}");
        assert!(has(node, "machined", "[talos] service[kubelet](Running): Health check failed: "), "{node}");
        assert!(
            !has(node, "machined", "[initramfs]") && has(node, "dmesg", "[initramfs] booting Talos"),
            "{node}: the initramfs writes to the kernel log only"
        );
    }
    assert!(has("10.5.0.2", "machined", "[talos] etcd is waiting to join the cluster, if this node is the first node in the cluster"));
    assert!(has("10.5.0.3", "machined", "[talos] retrying error: etcdserver: rpc not supported for learner"));
    assert!(lines.iter().any(|(_, _, t)| t.contains("ISCSI_ERR_TCP_CONN_CLOSE")), "iSCSI session noise is there");
    assert!(has("10.5.0.2", "dmesg", "[talos] task setupLogger (1/1): done, 118.34\\xc2\\xb5s"), "dmesg escapes bytes as /dev/kmsg does");
}
