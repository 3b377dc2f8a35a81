//! Every fault of the simulators, visible where the harness looks for it: Applications
//! (`kubectl`), Nodes, `talosctl health`, the Talos logs, the NAS. And the other side of the
//! `talos-error` fault: a healthy boot's noise, which a naive `grep -i error` flags, is all
//! explained by the lab's reviewed allow-list.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use regex::{Regex, RegexSet};

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
    assert_eq!(zap.stdout.matches("\x1b[31mERROR\x1b[0m controller failed").count(), 5, "{zap}");
    let machined = run(&lab, &["-n", "10.5.0.3", "logs", "machined"]);
    let console: Vec<&str> = machined.stdout.lines().filter(|l| l.contains("controller failed")).collect();
    assert_eq!(console.len(), 1, "the first four errors are suppressed on the console: {console:?}");
    let elsewhere = run(&lab, &["-n", "10.5.0.2,10.5.0.4", "logs", "machined"]);
    assert!(!elsewhere.stdout.contains("controller failed"), "{elsewhere}");
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

/// The error markers of reference/tool-formats.md, on a line without its node label and with
/// ANSI colour stripped: what a correct scanner flags.
static MARKERS: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"^\w+: +(emerg|alert|crit|err): ",
        r"\[talos\] (task \S+ \(\d+/\d+\): failed|phase \S+ \(\d+/\d+\): failed|\S+ sequence: failed|service\[[^\]]+\]\(Failed\)|controller failed|controller runtime goroutine error|error )",
        r#"\[talos\] .* \{.*"error": ""#,
        r"^\S+ (ERROR|DPANIC|PANIC|FATAL) ",
        r"(^| )level=(error|fatal|panic)( |$)",
        r#"^\{"level":"(error|dpanic|panic|fatal)""#,
        r"^[EF]\d{4} ",
    ])
    .unwrap()
});

/// The lab env.yaml's scanned services and allow-list.
fn lab_env() -> (Vec<String>, Vec<Regex>) {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(rename = "talos-logs")]
        talos_logs: TalosLogs,
    }
    #[derive(serde::Deserialize)]
    struct TalosLogs {
        services: Vec<String>,
        allow: Vec<Rule>,
    }
    #[derive(serde::Deserialize)]
    struct Rule {
        pattern: String,
        reason: String,
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../environments/lab/env.yaml");
    let file: File = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let rules = file.talos_logs.allow.iter().map(|r| {
        assert!(!r.reason.trim().is_empty(), "every allow rule says why");
        Regex::new(&r.pattern).unwrap()
    });
    (file.talos_logs.services, rules.collect())
}

/// Every scanned log and dmesg of every node, once the tree converged and every volume of the
/// default tree is attached (its iSCSI session recovered from the NAS's first drop), as
/// `(node, text)` with the node label removed and colour stripped.
fn all_lines(lab: &Lab, services: &[String]) -> Vec<(String, String)> {
    wait_converged(lab, &[]);
    let claims: usize = vixens_lab::argocd::default_apps().iter().map(|a| a.volumes.len()).sum();
    let started = Instant::now();
    loop {
        let lines = read_all_lines(lab, services);
        let attached = lines.iter().filter(|(_, t)| t.contains("is operational after recovery")).count();
        if attached >= claims {
            return lines;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{attached} of {claims} volumes attached after 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn read_all_lines(lab: &Lab, services: &[String]) -> Vec<(String, String)> {
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
                lines.push((node.to_owned(), ansi.replace_all(text, "").into_owned()));
            }
        }
    }
    lines
}

fn unexplained<'a>(lines: &'a [(String, String)], allow: &[Regex]) -> Vec<&'a (String, String)> {
    lines.iter().filter(|(_, text)| MARKERS.is_match(text) && !allow.iter().any(|r| r.is_match(text))).collect()
}

#[test]
fn a_healthy_boot_has_noise_that_grep_flags_and_the_allow_list_explains() {
    let (services, allow) = lab_env();
    let nas = tempfile::tempdir().unwrap();
    let lab = booted_lab(&["--nas-dir", nas.path().to_str().unwrap()], "");
    let lines = all_lines(&lab, &services);
    let grep = lines.iter().filter(|(_, t)| t.to_lowercase().contains("error") || t.to_lowercase().contains("fail")).count();
    let marked = lines.iter().filter(|(_, t)| MARKERS.is_match(t)).count();
    assert!(grep > marked && marked > 0, "noise that grep -i error flags ({grep} lines), error markers among them ({marked})");
    assert!(lines.iter().any(|(_, t)| t.contains("ISCSI_ERR_TCP_CONN_CLOSE")), "iSCSI session noise is there");
    assert!(lines.iter().any(|(_, t)| t.contains("Health check failed")), "transient health check failures are there");
    let left: Vec<_> = unexplained(&lines, &allow);
    assert!(left.is_empty(), "lines no allow rule explains:\n{left:#?}");
}

#[test]
fn the_talos_error_fault_is_flagged_and_no_allow_rule_explains_it() {
    let (services, allow) = lab_env();
    let lab = booted_lab(&[], "talos-error=lab-controlplane-2");
    let lines = all_lines(&lab, &services);
    let left: Vec<String> = unexplained(&lines, &allow)
        .iter()
        .map(|(node, text)| format!("{node}: {}", text.split_once("]: ").map_or(text.as_str(), |(_, m)| m)))
        .collect();
    assert!(!left.is_empty());
    assert!(left.iter().all(|l| l.starts_with("10.5.0.3: ")), "{left:#?}");
    assert!(left.iter().any(|l| l.contains("I/O error, dev sdb")), "{left:#?}");
    assert!(left.iter().any(|l| l.contains("controller failed")), "{left:#?}");
}
