//! `vixens-lab up|down|status`: the daemon's life, as terraform and the harness rely on it.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};

use crate::{Lab, alive, stdout, vixens_lab};

fn state_arg(lab: &Lab) -> String {
    lab.dir().to_str().unwrap().to_owned()
}

#[track_caller]
fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "{what} did not happen within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn up_returns_only_once_the_api_serves_and_writes_the_client_files() {
    let lab = Lab::up(&["--name", "demo"]);
    // No retry: the first request after `up` must succeed.
    let namespaces: Api<Namespace> = Api::all(lab.client().await);
    namespaces.list(&ListParams::default()).await.expect("the API serves as soon as up returns");
    assert_eq!(lab.info["name"], "demo");
    let api_url = lab.info["api_url"].as_str().unwrap();
    assert!(api_url.starts_with("https://127.0.0.1:"), "{api_url}");
    assert_eq!(lab.info["talos_endpoint"].as_str().unwrap(), api_url.trim_start_matches("https://"));
    assert_eq!(lab.info["spec"]["nodes"][0]["name"], "demo-controlplane-1");
    let kubeconfig = std::fs::read_to_string(lab.path("kubeconfig")).unwrap();
    assert!(kubeconfig.contains("current-context: demo\n") && kubeconfig.contains(&format!("server: {api_url}\n")));
    let talosconfig = std::fs::read_to_string(lab.path("talosconfig")).unwrap();
    assert!(talosconfig.starts_with("context: demo\ncontexts:\n  demo:\n"), "{talosconfig}");
    assert!(talosconfig.contains("nodes: [\"10.5.0.2\"]"), "{talosconfig}");
    let shim = std::fs::read_to_string(lab.path("bin/talosctl")).unwrap();
    assert_eq!(shim, format!("#!/bin/sh\nexec '{}' talosctl \"$@\"\n", crate::lab_binary().display()));
}

#[test]
fn up_returns_at_once_with_the_daemon_detached_from_its_pipes() {
    // terraform's local-exec waits for every holder of the provisioner's stdout/stderr
    // (Terraform's local-exec provisioner reads them to their end): `up` must not leave the
    // daemon on them.
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(crate::lab_binary())
        .args(["up", "--state-dir", dir.path().to_str().unwrap()])
        .env("VIXENS_LAB_FAULTS", "")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "output() returned only when the pipes closed");
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("lab.json")).unwrap()).unwrap();
    let pid = info["pid"].as_i64().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    assert_eq!(fields[3], pid.to_string(), "the daemon leads its own session (field 6 of /proc/PID/stat)");
    stdout(&vixens_lab(&["down", "--state-dir", dir.path().to_str().unwrap()], ""));
}

#[test]
fn down_stops_the_daemon_and_leaves_no_process_behind() {
    let lab = Lab::up(&[]);
    let pid = lab.pid();
    assert!(alive(pid));
    let out = stdout(&vixens_lab(&["down", "--state-dir", &state_arg(&lab)], ""));
    assert_eq!(out, format!("lab `lab` stopped (pid {pid})\n"));
    assert!(!alive(pid), "down returns only once the process is gone");
    let out = vixens_lab(&["status", "--state-dir", &state_arg(&lab)], "");
    assert_eq!(out.status.code(), Some(3), "status says stopped with exit code 3");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("stopped: no lab runs in "));
    assert!(!lab.path("lab.json").exists(), "lab.json goes with the daemon");
}

#[test]
fn down_is_idempotent_on_a_stopped_or_never_started_lab() {
    let lab = Lab::up(&[]);
    stdout(&vixens_lab(&["down", "--state-dir", &state_arg(&lab)], ""));
    let again = stdout(&vixens_lab(&["down", "--state-dir", &state_arg(&lab)], ""));
    assert!(again.contains("is not running"), "{again}");
    let never = tempfile::tempdir().unwrap();
    let missing = never.path().join("nothing-here");
    let out = stdout(&vixens_lab(&["down", "--state-dir", missing.to_str().unwrap()], ""));
    assert!(out.starts_with("no lab in "), "{out}");
}

#[test]
fn status_reports_a_running_lab_with_its_pid_and_address() {
    let lab = Lab::up(&[]);
    let out = stdout(&vixens_lab(&["status", "--state-dir", &state_arg(&lab)], ""));
    let expected = format!("running: lab `lab`, pid {}, {}", lab.pid(), lab.info["api_url"].as_str().unwrap());
    assert!(out.starts_with(&expected), "{out}");
}

#[tokio::test]
async fn two_labs_with_different_state_folders_run_side_by_side() {
    let (one, two) = (Lab::up(&["--name", "one"]), Lab::up(&["--name", "two"]));
    assert_ne!(one.info["api_url"], two.info["api_url"]);
    for lab in [&one, &two] {
        let namespaces: Api<Namespace> = Api::all(lab.client().await);
        namespaces.list(&ListParams::default()).await.unwrap();
    }
    stdout(&vixens_lab(&["down", "--state-dir", &state_arg(&one)], ""));
    let namespaces: Api<Namespace> = Api::all(two.client().await);
    namespaces.list(&ListParams::default()).await.expect("stopping one lab leaves the other serving");
}

#[test]
fn up_on_a_running_lab_refuses_to_start_a_second_daemon() {
    let lab = Lab::up(&[]);
    let out = vixens_lab(&["up", "--state-dir", &state_arg(&lab)], "");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "vixens-lab: a lab is already running in {} (`lab`, pid {}, {}); run `vixens-lab down --state-dir {}` first\n",
        state_arg(&lab),
        lab.pid(),
        lab.info["api_url"].as_str().unwrap(),
        state_arg(&lab)
    );
    assert_eq!(stderr, expected);
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(lab.path("lab.json")).unwrap()).unwrap();
    assert_eq!(info["pid"], lab.info["pid"], "the running lab is untouched");
}

#[test]
fn the_daemon_stops_by_itself_after_its_idle_timeout() {
    let lab = Lab::up(&["--idle-timeout", "2s"]);
    let pid = lab.pid();
    wait_until("the idle shutdown", Duration::from_secs(15), || !alive(pid));
    let log = std::fs::read_to_string(lab.path("daemon.log")).unwrap();
    assert!(log.contains("stopping: no request for 2s"), "{log}");
}

#[test]
fn the_daemon_stops_when_its_state_folder_is_deleted() {
    let lab = Lab::up(&[]);
    let pid = lab.pid();
    std::fs::remove_dir_all(lab.dir()).unwrap();
    wait_until("the daemon's exit", Duration::from_secs(15), || !alive(pid));
}

#[test]
fn an_unknown_fault_is_a_clear_error_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = vixens_lab(&["up", "--state-dir", dir.path().to_str().unwrap()], "app-degraded=traefik,disk-full");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("vixens-lab: VIXENS_LAB_FAULTS: unknown fault `disk-full`; known faults: app-degraded=APP"), "{stderr}");
    assert!(!dir.path().join("lab.json").exists());
}

#[test]
fn the_apply_fail_fault_fails_up_naming_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    let out = vixens_lab(&["up", "--state-dir", dir.path().to_str().unwrap()], "apply-fail");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "vixens-lab: fault `apply-fail` injected through VIXENS_LAB_FAULTS: the lab refuses to start\n");
    assert!(!dir.path().join("lab.json").exists());
}
