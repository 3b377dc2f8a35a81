//! `vixens logs scan` on saved Talos logs: one finding per node, source and cause as
//! `file:line: node: source: text (cause, why; count)`, the shared allow-list and the
//! environment's own, the bootstrap window (`--healthy-at`, or assumed and said so), and one bad
//! file reported while the others are still scanned.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

const DMESG: &str = "10.5.0.3: kern:    info: [2026-08-21T10:00:00.412345678Z]: Linux version 6.12.40-talos
10.5.0.3: user: warning: [2026-08-21T10:00:05.12Z]: [talos] task startAllServices (1/1): done, 2.1s
10.5.0.3: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0
";

const MACHINED: &str = r#"10.5.0.2: 2026/08/21 10:00:01.123456 [talos] task startAllServices (1/1): waiting for 3 services
10.5.0.2: 2026/08/21 10:00:02.000001 [talos] service[etcd](Running): Health check failed: connection refused
10.5.0.2: 2026/08/21 10:00:03.000001 [talos] service[etcd](Running): Health check successful
"#;

const ENV_YAML: &str = "name: scan-test
kind: disposable
infra-repo: .
terraform:
  root: .
kubeconfig: ${SCAN_TEST_KUBECONFIG}
talosconfig: talosconfig
nodes:
  - name: cp1
    address: 10.5.0.2
    role: controlplane
argocd:
  system-apps:
    names: [traefik]
talos-logs:
  allow:
    - pattern: 'I/O error, dev vdb'
      reason: vdb is the lab's scratch disk
";

struct Logs {
    dir: tempfile::TempDir,
}

impl Logs {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dmesg.log"), DMESG).unwrap();
        std::fs::write(dir.path().join("machined.log"), MACHINED).unwrap();
        std::fs::create_dir_all(dir.path().join("environments/scan-test")).unwrap();
        std::fs::write(dir.path().join("environments/scan-test/env.yaml"), ENV_YAML).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn vixens(&self) -> Command {
        let mut cmd = vixens_testkit::vixens();
        cmd.current_dir(self.dir.path()).env_remove("SCAN_TEST_KUBECONFIG");
        cmd
    }
}

fn line(path: &Path, rest: &str) -> String {
    format!("{}:{rest}\n", path.display())
}

/// The window line when no `--healthy-at` is given and the files start at `boot`.
fn assumed(boot: &str, end: &str) -> String {
    format!(
        "bootstrap window: boot at {boot}, assumed to end at {end}, 20m later (no --healthy-at: judged conservatively, boot retries after it are errors)\n"
    )
}

#[test]
fn an_error_line_is_reported_with_file_line_node_and_source_and_fails() {
    let logs = Logs::new();
    let dmesg = logs.path("dmesg.log");
    logs.vixens()
        .args(["logs", "scan"])
        .arg(&dmesg)
        .arg(logs.path("machined.log"))
        .assert()
        .code(1)
        .stdout(line(&dmesg, "3: 10.5.0.3: dmesg: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0 (disk-io-error, known failure F09)"))
        .stderr(format!(
            "1 finding(s) in 6 lines of 2 file(s); 1 error line(s) explained by allow rules\n{}",
            assumed("2026-08-21T10:00:00.412345Z", "2026-08-21T10:20:00.412345Z")
        ));
}

#[test]
fn clean_logs_pass() {
    let logs = Logs::new();
    logs.vixens().args(["logs", "scan", "machined.log"]).assert().success().stdout("").stderr(format!(
        "0 finding(s) in 3 lines of 1 file(s); 1 error line(s) explained by allow rules\n{}",
        assumed("2026-08-21T10:00:01.123456Z", "2026-08-21T10:20:01.123456Z")
    ));
}

#[test]
fn boot_noise_after_the_healthy_time_is_an_error() {
    let logs = Logs::new();
    logs.vixens()
        .args(["logs", "scan", "--healthy-at", "2026-08-21T10:00:01.5Z", "machined.log"])
        .assert()
        .code(1)
        .stdout("machined.log:2: 10.5.0.2: machined: 2026/08/21 10:00:02.000001 [talos] service[etcd](Running): Health check failed: connection refused (health-check-failed/etcd, failed Talos health check)\n")
        .stderr("1 finding(s) in 3 lines of 1 file(s)\nbootstrap window: boot at 2026-08-21T10:00:01.123456Z, healthy at 2026-08-21T10:00:01.500000Z (--healthy-at)\n");
}

#[test]
fn a_healthy_time_that_is_no_time_is_a_usage_error() {
    let logs = Logs::new();
    logs.vixens().args(["logs", "scan", "--healthy-at", "after lunch", "machined.log"]).assert().code(2).stderr(predicate::str::contains(
        "invalid value 'after lunch' for '--healthy-at <TIME>': expected an RFC 3339 time such as 2026-08-21T09:03:10Z",
    ));
}

#[test]
fn a_crash_loop_is_one_finding_with_its_count_whatever_its_level() {
    let logs = Logs::new();
    let restart = |s: u32| {
        format!(
            "10.5.0.4: user: warning: [2026-08-21T10:{s:02}:00Z]: [talos] service[etcd](Waiting): Error running Containerd(etcd), going to restart forever: task \"etcd\" failed: exit code 137\n"
        )
    };
    let dmesg: String = [1, 2, 3, 4, 30].into_iter().map(restart).collect();
    std::fs::write(logs.path("cp3-dmesg.log"), dmesg).unwrap();
    logs.vixens().args(["logs", "scan", "cp3-dmesg.log"]).assert().code(1).stdout(
        "cp3-dmesg.log:1: 10.5.0.4: machined: user: warning: [2026-08-21T10:01:00Z]: [talos] service[etcd](Waiting): Error running Containerd(etcd), going to restart forever: task \"etcd\" failed: exit code 137 (crash-loop/etcd/exit-137, known failure F01; 5 lines, 1 to 5)\n",
    );
}

#[test]
fn a_support_bundle_file_has_no_labels_and_its_panic_is_found() {
    let logs = Logs::new();
    std::fs::write(logs.path("etcd.log"), "{\"level\":\"info\",\"ts\":\"2026-08-21T10:00:00Z\",\"msg\":\"starting\"}\npanic: freepages: failed to get all reachable pages\n\ngoroutine 1 [running]:\n").unwrap();
    logs.vixens()
        .args(["logs", "scan", "--node", "cp2", "etcd.log"])
        .assert()
        .code(1)
        .stdout("etcd.log:2: cp2: etcd: panic: freepages: failed to get all reachable pages (panic, known failure F05)\n");
    logs.vixens().args(["logs", "scan", "etcd.log"]).assert().code(1).stdout(predicate::str::starts_with("etcd.log:2: -: etcd: panic: freepages"));
}

#[test]
fn the_environment_s_allow_list_explains_known_lines() {
    let logs = Logs::new();
    logs.vixens().args(["logs", "scan", "--env", "scan-test", "dmesg.log"]).assert().success().stdout("").stderr(format!(
        "0 finding(s) in 3 lines of 1 file(s); 1 error line(s) explained by allow rules\n{}",
        assumed("2026-08-21T10:00:00.412345Z", "2026-08-21T10:20:00.412345Z")
    ));
}

#[test]
fn show_allowed_lists_each_explained_line_with_its_rule() {
    let logs = Logs::new();
    let env_yaml = logs.path("environments/scan-test/env.yaml");
    logs.vixens()
        .args(["logs", "scan", "--show-allowed", "--env"])
        .arg(&env_yaml)
        .arg("dmesg.log")
        .assert()
        .success()
        .stdout(format!(
            "dmesg.log:3: 10.5.0.3: dmesg: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0  [explained by {}:17: vdb is the lab's scratch disk]\n",
            env_yaml.display()
        ));
}

#[test]
fn several_files_scanned_at_once_report_in_file_and_line_order() {
    let logs = Logs::new();
    // Each node's kernel log with an error of its own, the explained lines shown per file.
    for node in 1..=4 {
        let text = DMESG.replace("10.5.0.3", &format!("10.5.0.{node}"))
            + &format!("10.5.0.{node}: kern:     err: [2026-08-21T10:00:07Z]: sd 0:0:0:0: rejecting I/O to offline device\n");
        std::fs::write(logs.path(&format!("dmesg-{node}.log")), text).unwrap();
    }
    let env_yaml = logs.path("environments/scan-test/env.yaml");
    let output = logs
        .vixens()
        .args(["logs", "scan", "--show-allowed", "--env"])
        .arg(&env_yaml)
        .args(["dmesg-3.log", "dmesg-1.log", "dmesg-4.log", "dmesg-2.log"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (explained, findings): (Vec<&str>, Vec<&str>) = stdout.lines().partition(|l| l.contains("[explained by "));
    let files = |lines: &[&str]| lines.iter().map(|l| l.split(':').next().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(files(&explained), ["dmesg-3.log", "dmesg-1.log", "dmesg-4.log", "dmesg-2.log"], "as given: {stdout}");
    assert_eq!(files(&findings), ["dmesg-1.log", "dmesg-2.log", "dmesg-3.log", "dmesg-4.log"], "by file and line: {stdout}");
    assert!(findings.iter().all(|l| l.contains(":4: 10.5.0.") && l.contains("rejecting I/O to offline device")), "{stdout}");
}

#[test]
fn one_unreadable_file_is_reported_and_the_others_are_still_scanned() {
    let logs = Logs::new();
    logs.vixens()
        .args(["logs", "scan", "missing.log", "dmesg.log"])
        .assert()
        .code(2)
        .stdout(predicate::str::starts_with("dmesg.log:3: 10.5.0.3: dmesg: kern:     err:"))
        .stderr(predicate::str::starts_with("error: cannot read missing.log: No such file or directory"));
}

#[test]
fn a_compressed_binary_or_empty_capture_is_an_error_never_a_pass() {
    let logs = Logs::new();
    std::fs::write(logs.path("dmesg.log.gz"), b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03").unwrap();
    std::fs::write(logs.path("core.bin"), b"ELF\x00\x01\x02").unwrap();
    std::fs::write(logs.path("empty.log"), b"").unwrap();
    logs.vixens().args(["logs", "scan", "dmesg.log.gz", "core.bin", "empty.log", "machined.log"]).assert().code(2).stderr(
        "error: dmesg.log.gz: gzip data, not a text log: decompress it first (for instance `zcat FILE | vixens logs scan -`)\n\
         error: core.bin: binary data (a NUL byte), not a text log\n\
         error: empty.log: empty: nothing to scan (was the capture cut short?)\n\
         0 finding(s) in 3 lines of 1 file(s); 1 error line(s) explained by allow rules\n\
         bootstrap window: boot at 2026-08-21T10:00:01.123456Z, assumed to end at 2026-08-21T10:20:01.123456Z, 20m later (no --healthy-at: judged conservatively, boot retries after it are errors)\n",
    );
}

#[test]
fn standard_input_is_scanned_with_a_dash() {
    let logs = Logs::new();
    logs.vixens()
        .args(["logs", "scan", "-"])
        .write_stdin("10.5.0.2: E0821 10:00:00.123456    1234 kubelet.go:2345] \"Error syncing pod\"\n")
        .assert()
        .code(1)
        .stdout("-:1: 10.5.0.2: stdin: E0821 10:00:00.123456    1234 kubelet.go:2345] \"Error syncing pod\" (klog-error/Error syncing pod, klog severity E)\n");
}

#[test]
fn an_unknown_environment_is_an_error() {
    let logs = Logs::new();
    logs.vixens()
        .args(["logs", "scan", "--env", "nowhere", "dmesg.log"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("nowhere").and(predicate::str::contains("scan-test")));
}

#[test]
fn a_malformed_env_yaml_is_reported_with_its_location() {
    let logs = Logs::new();
    std::fs::write(logs.path("bad.yaml"), ENV_YAML.replace("reason: vdb", "raison: vdb")).unwrap();
    logs.vixens()
        .args(["logs", "scan", "--env", "bad.yaml", "dmesg.log"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("bad.yaml").and(predicate::str::contains("raison")));
}

#[test]
fn help_documents_the_exit_status() {
    vixens_testkit::vixens()
        .args(["logs", "scan", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit status: 0 when no error is left unexplained, 1 when some error is not explained"));
}

/// A folder of the composed corpus (`tests/fixtures/talos-logs`).
fn corpus(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/talos-logs").join(folder)
}

#[test]
fn the_composed_corpus_scans_from_the_command_line_as_it_must() {
    // The folders whose every file is a talosctl capture (node labels on every line).
    for folder in ["healthy/3-node", "healthy/5-node", "failing/service-crash-loop", "failing/etcd-quorum-loss", "failing/certificate-error"] {
        let dir = corpus(folder);
        let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
        let mut files: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|f| f.ends_with(".log")).collect();
        files.sort();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vixens"));
        cmd.current_dir(&dir).args(["logs", "scan"]);
        if let Some(healthy) = expected["healthy_at"].as_str() {
            cmd.args(["--healthy-at", healthy]);
        }
        let out = cmd.args(&files).output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let mut found: Vec<String> = stdout.lines().map(|l| l.split(": ").take(3).collect::<Vec<_>>().join(": ")).collect();
        let mut wanted: Vec<String> = expected["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{}:{}: {}: {}", f["file"].as_str().unwrap(), f["line"], f["node"].as_str().unwrap(), f["source"].as_str().unwrap()))
            .collect();
        found.sort();
        wanted.sort();
        assert_eq!(found, wanted, "{folder}:\n{stdout}");
        for f in expected["findings"].as_array().unwrap() {
            let cause = format!("({}, ", f["cause"].as_str().unwrap());
            let head = format!("{}:{}: ", f["file"].as_str().unwrap(), f["line"]);
            assert!(stdout.lines().any(|l| l.starts_with(&head) && l.contains(&cause)), "{folder}: {head} {cause}\n{stdout}");
        }
        assert_eq!(out.status.code(), Some(if wanted.is_empty() { 0 } else { 1 }), "{folder}");
    }
}
