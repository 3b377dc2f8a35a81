//! The driver against a scripted talosctl that prints the fixtures: arguments, streaming, exit
//! codes and `WARNING:` partial failures. (End-to-end tests against the lab's stand-in live with
//! the suites that bring the lab up.)

use std::path::Path;

use super::fixtures::{DMESG, HEALTH_PASSED, HEALTH_TIMED_OUT, LOGS_MACHINED, SERVICE_DETAIL, SERVICE_TABLE, VERSION_LONG};
use super::*;

/// A tools folder with a `talosctl` script: for each call it appends its arguments to `calls`,
/// then prints `<name>.stdout` / `<name>.stderr` and exits with `<name>.rc`, where the name is
/// the subcommand and its first argument (`logs_machined`, `service_etcd`, `health`).
struct FakeTalosctl {
    dir: tempfile::TempDir,
}

const SCRIPT: &str = r#"#!/bin/sh
dir=$(dirname "$0")
printf '%s\n' "$*" >> "$dir/calls"
while [ $# -gt 0 ]; do case "$1" in --talosconfig|-n) shift 2;; *) break;; esac; done
name=$1
case "$2" in ""|-*) ;; *) name="${1}_$2";; esac
[ -f "$dir/$name.sleep" ] && sleep "$(cat "$dir/$name.sleep")"
[ -f "$dir/$name.stdout" ] && cat "$dir/$name.stdout"
[ -f "$dir/$name.stderr" ] && cat "$dir/$name.stderr" >&2
exit "$(cat "$dir/$name.rc" 2>/dev/null || echo 0)"
"#;

impl FakeTalosctl {
    fn new() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("talosctl");
        std::fs::write(&script, SCRIPT).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self { dir }
    }

    fn answer(self, name: &str, stdout: &str, stderr: &str, rc: i32) -> Self {
        std::fs::write(self.dir.path().join(format!("{name}.stdout")), stdout).unwrap();
        std::fs::write(self.dir.path().join(format!("{name}.stderr")), stderr).unwrap();
        std::fs::write(self.dir.path().join(format!("{name}.rc")), rc.to_string()).unwrap();
        self
    }

    fn hang(self, name: &str) -> Self {
        std::fs::write(self.dir.path().join(format!("{name}.sleep")), "30").unwrap();
        self
    }

    fn talosctl(&self) -> Talosctl {
        Talosctl::new("/etc/talos/config").tools_path(&[self.dir.path().to_owned()])
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("calls")).unwrap_or_default()
    }
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn health_passes_when_the_last_check_is_ok_and_streams_progress() {
    let fake = FakeTalosctl::new().answer("health", "", HEALTH_PASSED, 0);
    let mut progress = Vec::new();
    let report = fake.talosctl().health("10.5.0.2", Duration::from_secs(100), &mut |l| progress.push(l.to_owned())).unwrap();
    assert_eq!(report.discovered, ["10.5.0.2", "10.5.0.3"]);
    assert_eq!(progress.first().map(String::as_str), Some("discovered nodes: [\"10.5.0.2\" \"10.5.0.3\"]"));
    assert_eq!(progress.last().map(String::as_str), Some("waiting for all k8s nodes to report schedulable: OK"));
    assert_eq!(fake.calls(), "--talosconfig /etc/talos/config -n 10.5.0.2 health --wait-timeout 90000ms\n");
}

#[test]
fn health_that_times_out_names_the_stuck_check() {
    let fake = FakeTalosctl::new().answer("health", "", HEALTH_TIMED_OUT, 1);
    let err = fake.talosctl().health("10.5.0.2", MINUTE, &mut |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Talos health on 10.5.0.2 failed: waiting for all k8s nodes to report ready: 2 errors occurred: \
         * node \"talos-default-worker-1\" is not ready * node \"talos-default-worker-2\" is not ready; \
         rpc error: code = DeadlineExceeded desc = context deadline exceeded"
    );
}

#[test]
fn health_that_hangs_past_its_budget_is_stopped_and_still_names_the_check() {
    let fake = FakeTalosctl::new().answer("health", "", "waiting for etcd to be healthy: ...\n", 0).hang("health");
    let err = fake.talosctl().health("10.5.0.2", Duration::from_millis(700), &mut |_| {}).unwrap_err();
    // The script prints only after its sleep: nothing was reported when the deadline passed.
    assert_eq!(err.to_string(), "Talos health on 10.5.0.2 failed: talosctl did not finish within 700ms");
}

#[test]
fn logs_stream_every_line_with_its_node_label() {
    let fake = FakeTalosctl::new().answer("logs_machined", LOGS_MACHINED, "", 0);
    let mut lines = Vec::new();
    let streamed = fake.talosctl().logs("10.5.0.2", "machined", MINUTE, &mut |l| lines.push(l.to_owned())).unwrap();
    assert_eq!(streamed.lines, 6);
    assert_eq!(lines.join("\n") + "\n", LOGS_MACHINED);
    assert_eq!(fake.calls(), "--talosconfig /etc/talos/config -n 10.5.0.2 logs machined\n");
}

#[test]
fn dmesg_streams_kernel_records() {
    let fake = FakeTalosctl::new().answer("dmesg", DMESG, "", 0);
    let mut lines = Vec::new();
    fake.talosctl().dmesg("10.5.0.3", MINUTE, &mut |l| lines.push(l.to_owned())).unwrap();
    assert_eq!(lines.len(), 3);
    assert!(lines[2].starts_with("10.5.0.3: kern:     err: ["), "{}", lines[2]);
}

#[test]
fn a_logs_error_on_one_node_fails_with_talosctl_s_message() {
    let fake = FakeTalosctl::new().answer(
        "logs_kubelet",
        "10.5.0.2: I0821 10:00:00.1 1 x.go:1] ok\n",
        "ERROR: rpc error: code = Unavailable desc = connection refused\n",
        1,
    );
    let err = fake.talosctl().logs("10.5.0.2", "kubelet", MINUTE, &mut |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`talosctl -n 10.5.0.2 logs kubelet` failed with exit code 1: ERROR: rpc error: code = Unavailable desc = connection refused"
    );
}

#[test]
fn a_warning_with_exit_0_is_a_partial_failure_not_a_success() {
    let fake = FakeTalosctl::new().answer(
        "service",
        SERVICE_TABLE,
        "WARNING: 1 error occurred:\n\t* 10.5.0.4: rpc error: code = Unavailable desc = connection refused\n\n",
        0,
    );
    let err = fake.talosctl().services(&["10.5.0.2", "10.5.0.3", "10.5.0.4"], MINUTE).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`talosctl -n 10.5.0.2,10.5.0.3,10.5.0.4 service` answered only in part: 1 error occurred: * 10.5.0.4: rpc error: code = Unavailable desc = connection refused"
    );
    assert!(matches!(err, Error::Partial { .. }));
}

#[test]
fn services_are_read_from_the_table() {
    let fake = FakeTalosctl::new().answer("service", SERVICE_TABLE, "", 0);
    let rows = fake.talosctl().services(&["10.5.0.2", "10.5.0.3"], MINUTE).unwrap();
    let failed: Vec<(&str, &str)> = rows.iter().filter(|r| r.state == ServiceState::Failed).map(|r| (r.node.as_str(), r.id.as_str())).collect();
    assert_eq!(failed, [("10.5.0.3", "ext-iscsid")]);
    assert_eq!(fake.calls(), "--talosconfig /etc/talos/config -n 10.5.0.2,10.5.0.3 service\n");
}

#[test]
fn one_service_is_read_from_its_block() {
    let fake = FakeTalosctl::new().answer("service_etcd", SERVICE_DETAIL, "", 0);
    let details = fake.talosctl().service(&["10.5.0.2", "10.5.0.3"], "etcd", MINUTE).unwrap();
    assert_eq!(details.iter().map(|d| d.health).collect::<Vec<_>>(), [ServiceHealth::Fail, ServiceHealth::Ok]);
}

#[test]
fn an_unknown_service_fails_naming_it() {
    let fake = FakeTalosctl::new().answer("service_nope", "", "service \"nope\" is not registered on any nodes\n", 1);
    let err = fake.talosctl().service(&["10.5.0.2"], "nope", MINUTE).unwrap_err();
    assert_eq!(err.to_string(), "`talosctl -n 10.5.0.2 service nope` failed with exit code 1: service \"nope\" is not registered on any nodes");
}

#[test]
fn versions_are_read_for_every_node() {
    let fake = FakeTalosctl::new().answer("version", VERSION_LONG, "", 0);
    let report = fake.talosctl().version(&["10.5.0.2", "10.5.0.3"], MINUTE).unwrap();
    assert_eq!(report.servers.len(), 2);
}

#[test]
fn output_of_another_format_is_refused_naming_the_line() {
    let fake = FakeTalosctl::new().answer("version", "Client:\n\tFlavour: x\n", "", 0);
    let err = fake.talosctl().version(&["10.5.0.2"], MINUTE).unwrap_err();
    assert_eq!(err.to_string(), "`talosctl -n 10.5.0.2 version` printed output this harness cannot read");
    let Error::Unparsable { source, .. } = err else { panic!() };
    assert_eq!(source.line, 2);
}

#[test]
fn secrets_are_redacted_from_errors_and_progress() {
    let fake = FakeTalosctl::new().answer("health", "", "bad token dG9rZW4tdmFsdWUtMTIz\n", 1);
    let mut redactor = Redactor::new();
    redactor.add("key", "dG9rZW4tdmFsdWUtMTIz");
    let mut progress = String::new();
    let err = fake.talosctl().redactor(&redactor).health("10.5.0.2", MINUTE, &mut |l| progress.push_str(l)).unwrap_err();
    assert_eq!(err.to_string(), "Talos health on 10.5.0.2 failed: bad token [REDACTED:key]");
    assert_eq!(progress, "bad token [REDACTED:key]");
}

#[test]
fn a_missing_talosctl_is_named() {
    let err = Talosctl::new("/x").binary("no-such-talosctl").version(&["n"], MINUTE).unwrap_err();
    assert_eq!(err.to_string(), "cannot run `no-such-talosctl` (is it installed, or in the environment's tools-path?)");
}

#[test]
fn talosctl_is_found_in_the_tools_path_before_path() {
    let fake = FakeTalosctl::new().answer("version", VERSION_LONG, "", 0);
    assert!(fake.talosctl().version(&["10.5.0.2"], MINUTE).is_ok());
    assert!(Path::new(&fake.dir.path().join("calls")).exists());
}
