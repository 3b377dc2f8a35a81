//! The `iscsiadm` stand-in on the lab's tools PATH: open-iscsi's output for discovery, node
//! records and sessions, and its failures (NAS unreachable, not root, nothing found) with its
//! exit codes and messages.

use std::process::Output;

use crate::talosctl::booted_lab;
use crate::{Lab, Nas, stdout, wait_converged};

/// `DIR/bin/iscsiadm ARGS`.
fn iscsiadm(lab: &Lab, args: &[&str]) -> Output {
    std::process::Command::new(lab.path("bin/iscsiadm")).args(args).output().expect("the iscsiadm shim runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const DISCOVERY: &[&str] = &["-m", "discovery", "-t", "sendtargets", "-p", "10.5.255.10"];

/// A converged lab of the built-in tree (4 iSCSI claims) on `nas`.
fn lab_on(nas: &Nas, faults: &str) -> Lab {
    let lab = booted_lab(&["--nas-dir", nas.dir_str()], faults);
    wait_converged(&lab, &[]);
    lab
}

fn luns(nas: &Nas) -> Vec<String> {
    let mut iqns: Vec<String> = std::fs::read_dir(nas.dir().join("dsm/luns"))
        .unwrap()
        .map(|e| {
            let lun: serde_json::Value = serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
            lun["iqn"].as_str().unwrap().to_owned()
        })
        .collect();
    iqns.sort();
    iqns
}

#[test]
fn discovery_lists_every_target_on_the_nas_in_open_iscsi_format_and_records_them_as_nodes() {
    let nas = Nas::up();
    let lab = lab_on(&nas, "");
    let out = iscsiadm(&lab, DISCOVERY);
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    let expected: Vec<String> = luns(&nas).iter().map(|iqn| format!("10.5.255.10:3260,1 {iqn}")).collect();
    assert_eq!(lines, expected);
    assert!(lines.iter().all(|l| l.starts_with("10.5.255.10:3260,1 iqn.2000-01.com.synology:synelia.pvc-")), "{lines:?}");
    assert_eq!(stdout(&iscsiadm(&lab, &["-m", "node"])).lines().count(), 4);
}

#[test]
fn sessions_are_listed_while_the_lab_runs_and_there_are_none_once_it_is_down() {
    let nas = Nas::up();
    let lab = lab_on(&nas, "");
    let sessions = stdout(&iscsiadm(&lab, &["-m", "session"]));
    let lines: Vec<&str> = sessions.lines().collect();
    assert_eq!(lines.len(), 4, "{sessions}");
    for (i, line) in lines.iter().enumerate() {
        assert!(line.starts_with(&format!("tcp: [{}] 10.5.255.10:3260,1 iqn.2000-01.com.synology:synelia.pvc-", i + 1)), "{line}");
        assert!(line.ends_with(" (non-flash)"), "{line}");
    }
    let tree = stdout(&iscsiadm(&lab, &["-m", "session", "-P", "1"]));
    assert!(tree.starts_with("Target: iqn.2000-01.com.synology:synelia.pvc-") && tree.contains("\tiSCSI Connection State: LOGGED IN"), "{tree}");
    let down = crate::vixens_lab(&["down", "--state-dir", lab.dir().to_str().unwrap()], "");
    assert!(down.status.success());
    let none = iscsiadm(&lab, &["-m", "session"]);
    assert_eq!((none.status.code(), stderr(&none).as_str(), none.stdout.as_slice()), (Some(21), "iscsiadm: No active sessions.\n", &b""[..]));
}

#[test]
fn a_nas_that_is_not_running_fails_discovery_like_an_unreachable_portal() {
    let nas = Nas::up();
    let lab = lab_on(&nas, "");
    assert!(Nas::command(nas.dir(), &["down"]).output().unwrap().status.success());
    let out = iscsiadm(&lab, DISCOVERY);
    assert_eq!(out.status.code(), Some(4), "ISCSI_ERR_TRANS");
    let refused = "iscsiadm: cannot make connection to 10.5.255.10: Connection refused\n";
    let expected = format!(
        "{}iscsiadm: connection login retries (reopen_max) 5 exceeded\niscsiadm: Could not perform SendTargets discovery: encountered connection failure\n",
        refused.repeat(6)
    );
    assert_eq!(stderr(&out), expected);
    assert!(out.stdout.is_empty());
}

#[test]
fn the_nas_unreachable_fault_refuses_discovery_while_the_nas_runs() {
    let nas = Nas::up();
    let lab = lab_on(&nas, "nas-unreachable");
    let out = iscsiadm(&lab, DISCOVERY);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).ends_with("iscsiadm: Could not perform SendTargets discovery: encountered connection failure\n"), "{}", stderr(&out));
}

#[test]
fn not_root_fails_discovery_on_the_node_database_and_finds_no_node_record() {
    let nas = Nas::up();
    let lab = lab_on(&nas, "iscsiadm-not-root");
    let out = iscsiadm(&lab, DISCOVERY);
    assert_eq!(out.status.code(), Some(6), "ISCSI_ERR_IDBM");
    assert_eq!(
        stderr(&out),
        "iscsiadm: Maybe you are not root?\niscsiadm: Could not lock discovery DB: /run/lock/iscsi/lock.write: Permission denied\niscsiadm: Could not add new discovery record.\n"
    );
    let nodes = iscsiadm(&lab, &["-m", "node"]);
    assert_eq!((nodes.status.code(), stderr(&nodes).as_str()), (Some(21), "iscsiadm: No records found\n"));
}

#[test]
fn an_unknown_portal_times_out_and_a_nas_without_luns_has_no_portals() {
    let nas = Nas::up();
    let apps = nas.dir().join("no-apps.yaml");
    std::fs::write(&apps, "[]\n").unwrap();
    let lab = booted_lab(&["--nas-dir", nas.dir_str(), "--apps", apps.to_str().unwrap()], "");
    let out = iscsiadm(&lab, &["-m", "discovery", "-t", "st", "-p", "10.5.255.99"]);
    assert_eq!(out.status.code(), Some(11), "ISCSI_ERR_PDU_TIMEOUT");
    assert!(stderr(&out).starts_with("iscsiadm: cannot make connection to 10.5.255.99: No route to host\n"), "{}", stderr(&out));
    let empty = iscsiadm(&lab, DISCOVERY);
    assert_eq!((empty.status.code(), stderr(&empty).as_str()), (Some(21), "iscsiadm: No portals found\n"));
}
