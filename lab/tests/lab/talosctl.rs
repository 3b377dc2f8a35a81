//! The talosctl stand-in against a running lab: every command's format (times and durations
//! redacted), which stream it writes to, and its exit code, including partial failures and a lab
//! that is down. Formats follow talosctl v1.13.9.

use std::process::{Command, Output};
use std::sync::LazyLock;

use regex::Regex;

use crate::{Lab, vixens_lab};

/// A booted dev-shaped lab (3 control planes) running five times faster than normal.
pub fn booted_lab(args: &[&str], faults: &str) -> Lab {
    let mut all = vec!["--time-scale", "0.2"];
    all.extend_from_slice(args);
    let lab = Lab::up_with_faults(&all, faults);
    wait_booted(&lab);
    lab
}

/// Waits until every node has logged the end of its boot sequence.
pub fn wait_booted(lab: &Lab) {
    let started = std::time::Instant::now();
    loop {
        let dmesg = talosctl(lab, &["dmesg", "-n", &all_nodes(lab)]);
        let finished = String::from_utf8_lossy(&dmesg.stdout).matches("[talos] boot sequence: done").count();
        if finished == node_count(lab) {
            return;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "the lab did not boot");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn node_count(lab: &Lab) -> usize {
    lab.info["spec"]["nodes"].as_array().map_or(0, Vec::len)
}

fn all_nodes(lab: &Lab) -> String {
    lab.info["spec"]["nodes"].as_array().unwrap().iter().map(|n| n["address"].as_str().unwrap()).collect::<Vec<_>>().join(",")
}

/// `DIR/bin/talosctl --talosconfig DIR/talosconfig ARGS`.
pub fn talosctl(lab: &Lab, args: &[&str]) -> Output {
    Command::new(lab.path("bin/talosctl"))
        .arg("--talosconfig")
        .arg(lab.path("talosconfig"))
        .args(args)
        .env_remove("TALOSCONFIG")
        .output()
        .expect("the talosctl shim runs")
}

/// stdout, stderr and exit code, for snapshots.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

pub fn run(lab: &Lab, args: &[&str]) -> Run {
    let out = talosctl(lab, args);
    Run {
        stdout: normalize(&String::from_utf8_lossy(&out.stdout)),
        stderr: normalize(&String::from_utf8_lossy(&out.stderr)),
        code: out.status.code().unwrap_or(-1),
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Redacts what changes between runs: times and durations (a redacted "ago" column keeps one
/// padding, since the real widths vary).
pub fn normalize(text: &str) -> String {
    static RULES: LazyLock<Vec<(Regex, &str)>> = LazyLock::new(|| {
        [
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]"),
            (r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(\.\d{6})?", "[TIME]"),
            (r"[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6}", "[KLOG-TIME]"),
            (r"\b(\d+h)?(\d+m)?\d+(\.\d+)?(ns|µs|ms|s)\b", "[DURATION]"),
            (r"\[DURATION\] ago +", "[DURATION] ago   "),
        ]
        .into_iter()
        .map(|(pattern, with)| (Regex::new(pattern).unwrap(), with))
        .collect()
    });
    RULES.iter().fold(text.to_owned(), |text, (re, with)| re.replace_all(&text, *with).into_owned())
}

#[test]
fn dmesg_prints_kernel_records_in_the_talos_format_with_the_node_prefix() {
    let lab = booted_lab(&[], "");
    let out = talosctl(&lab, &["-n", "10.5.0.2", "dmesg"]);
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let record =
        Regex::new(r"^10\.5\.0\.2: (kern|user|daemon): +(emerg|alert|crit|err|warning|notice|info|debug): \[\d{4}-\d\d-\d\dT[\d:.]+Z\]: .+$")
            .unwrap();
    for line in stdout.lines() {
        assert!(record.is_match(line), "not a dmesg record: {line}");
        let priority = line.split(": ").nth(2).unwrap();
        assert_eq!(priority.len(), 7, "the priority is right-aligned to 7 characters: {line:?}");
    }
    let head: Vec<&str> = stdout.lines().take(20).collect();
    insta::assert_snapshot!(normalize(&head.join("\n")));
}

#[test]
fn logs_print_each_line_with_its_node_on_stdout() {
    let lab = booted_lab(&[], "");
    insta::assert_snapshot!("logs_machined_tail", run(&lab, &["logs", "machined", "--tail", "4"]).to_string());
    insta::assert_snapshot!("logs_containerd", run(&lab, &["-n", "10.5.0.3", "logs", "containerd"]).to_string());
    insta::assert_snapshot!("logs_kubelet_klog", run(&lab, &["logs", "kubelet", "--tail", "3"]).to_string());
    insta::assert_snapshot!("logs_controller_runtime_zap", run(&lab, &["logs", "controller-runtime", "--tail", "2"]).to_string());
    insta::assert_snapshot!(
        "logs_kubernetes_container",
        run(&lab, &["logs", "-k", "kube-system/kube-apiserver-lab-controlplane-1:kube-apiserver"]).to_string()
    );
    let etcd = run(&lab, &["logs", "etcd", "--tail", "1"]);
    assert!(etcd.stdout.starts_with("10.5.0.2: {\"level\":"), "{etcd}");
}

#[test]
fn logs_of_several_nodes_interleave_but_keep_each_nodes_order() {
    let lab = booted_lab(&[], "");
    let out = talosctl(&lab, &["-n", "10.5.0.2,10.5.0.3,10.5.0.4", "logs", "machined"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    for node in ["10.5.0.2", "10.5.0.3", "10.5.0.4"] {
        let mine: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix(&format!("{node}: "))).collect();
        let alone = String::from_utf8(talosctl(&lab, &["-n", node, "logs", "machined"]).stdout).unwrap();
        let alone: Vec<&str> = alone.lines().map(|l| l.strip_prefix(&format!("{node}: ")).unwrap()).collect();
        assert_eq!(mine, alone[..mine.len()], "{node}'s lines keep their order");
        assert!(mine.last().unwrap().contains("[talos] boot sequence: done"));
    }
}

#[test]
fn logs_follow_streams_new_lines_until_stopped() {
    // Following ext-iscsid once iscsid has started and before Argo CD syncs the apps with
    // volumes, with no line of the past (`--tail 0`): every line it prints was logged after it
    // started, so it kept streaming to print it.
    let nas = tempfile::tempdir().unwrap();
    let lab = Lab::up_with_faults(&["--nas-dir", nas.path().to_str().unwrap()], "");
    let nodes = "10.5.0.2,10.5.0.3,10.5.0.4";
    let started = std::time::Instant::now();
    while !String::from_utf8_lossy(&talosctl(&lab, &["-n", nodes, "logs", "ext-iscsid"]).stdout).contains("iSCSI daemon with pid=") {
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "iscsid never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut child = Command::new(lab.path("bin/talosctl"))
        .args(["--talosconfig", lab.path("talosconfig").to_str().unwrap(), "-n", nodes, "logs", "ext-iscsid", "-f", "--tail", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let first = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("no new line within 60 s, or the stream ended");
    assert!(first.contains(": iscsid: ") && !first.contains("started!"), "{first}");
    assert!(child.try_wait().unwrap().is_none(), "-f keeps streaming after a new line");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_log_that_does_not_exist_is_an_error_on_stderr_with_exit_1() {
    let lab = booted_lab(&[], "");
    insta::assert_snapshot!(run(&lab, &["logs", "nope"]).to_string(), @r#"
    exit 1
    --- stdout
    --- stderr
    ERROR: rpc error: code = Unknown desc = log "nope" was not registered
    "#);
}

#[test]
fn logs_from_an_unreachable_node_print_error_and_the_other_nodes_lines() {
    let lab = booted_lab(&[], "");
    let out = run(&lab, &["-n", "10.5.0.2,10.5.0.99", "logs", "kubelet", "--tail", "1"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.starts_with("10.5.0.2: [KLOG-TIME]"), "{out}");
    insta::assert_snapshot!(out.stderr, @r#"ERROR: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.5.0.99:50000: connect: no route to host""#);
}

#[test]
fn dmesg_errors_are_collected_and_reported_at_the_end() {
    let lab = booted_lab(&[], "");
    let out = run(&lab, &["-n", "10.5.0.2,10.5.0.99", "dmesg"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.lines().all(|l| l.starts_with("10.5.0.2: ")), "{out}");
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn health_prints_every_check_on_stderr_and_nothing_on_stdout() {
    let lab = booted_lab(&[], "");
    let out = run(&lab, &["health", "--wait-timeout", "30s"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out}");
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn health_on_the_client_side_prints_the_same_checks() {
    let lab = booted_lab(&[], "");
    let out = run(&lab, &["health", "--server=false", "--wait-timeout", "30s"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out}");
    assert!(!out.stderr.contains("discovered nodes"), "{out}");
    assert!(out.stderr.ends_with("waiting for all k8s nodes to report schedulable: OK\n"), "{out}");
}

#[test]
fn health_refuses_several_nodes_with_the_usage() {
    let lab = booted_lab(&[], "");
    insta::assert_snapshot!(run(&lab, &["-n", "10.5.0.2,10.5.0.3", "health"]).to_string());
}

#[test]
fn version_prints_the_client_and_each_node() {
    let lab = booted_lab(&[], "");
    insta::assert_snapshot!("version", run(&lab, &["version"]).to_string());
    insta::assert_snapshot!("version_short", run(&lab, &["version", "--short", "-n", "10.5.0.2,10.5.0.3"]).to_string());
    insta::assert_snapshot!("version_client", run(&lab, &["version", "--client"]).to_string());
    insta::assert_snapshot!("version_json", run(&lab, &["version", "--json"]).to_string());
}

#[test]
fn a_node_that_fails_in_a_unary_call_is_a_warning_with_exit_0() {
    let lab = booted_lab(&[], "");
    insta::assert_snapshot!("version_partial", run(&lab, &["version", "-n", "10.5.0.2,10.5.0.99"]).to_string());
    let service = run(&lab, &["service", "-n", "10.5.0.99,10.5.0.2"]);
    assert_eq!(service.code, 0, "{service}");
    assert!(service.stderr.starts_with("WARNING: 1 error occurred:\n\t* 10.5.0.99: rpc error: code = Unavailable"), "{service}");
    assert!(service.stdout.contains("10.5.0.2   apid "), "{service}");
}

#[test]
fn service_lists_every_service_and_shows_one_with_its_events() {
    let lab = booted_lab(&[], "");
    insta::assert_snapshot!("service_list", run(&lab, &["service"]).to_string());
    insta::assert_snapshot!("service_etcd", run(&lab, &["service", "etcd"]).to_string());
    insta::assert_snapshot!("service_unknown", run(&lab, &["service", "nope"]).to_string());
}

#[test]
fn get_members_as_a_table_yaml_and_json() {
    let lab = booted_lab(&[], "");
    insta::assert_snapshot!("members_table", run(&lab, &["get", "members"]).to_string());
    insta::assert_snapshot!("members_yaml", run(&lab, &["get", "members", "-o", "yaml"]).to_string());
    let json = run(&lab, &["get", "members", "-o", "json"]);
    let objects: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&json.stdout).into_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(objects.len(), 3, "a stream of objects, not an array");
    insta::assert_snapshot!("members_json_first", json.stdout.split("}\n{").next().unwrap());
}

#[test]
fn argument_errors_print_the_usage_and_exit_1() {
    let lab = booted_lab(&[], "");
    insta::assert_snapshot!("missing_arg", run(&lab, &["logs"]).to_string());
    insta::assert_snapshot!("unknown_command", run(&lab, &["bogus"]).to_string());
    insta::assert_snapshot!("unknown_flag", run(&lab, &["dmesg", "--bogus"]).to_string());
}

#[test]
fn a_missing_talosconfig_is_an_error() {
    let out = Command::new(crate::lab_binary()).args(["talosctl", "--talosconfig", "/nonexistent/talosconfig", "dmesg"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "failed to open config file \"/nonexistent/talosconfig\": open /nonexistent/talosconfig: no such file or directory\n"
    );
}

#[test]
fn talosconfig_comes_from_the_environment_and_nodes_from_the_context() {
    let lab = booted_lab(&[], "");
    let out = Command::new(lab.path("bin/talosctl")).args(["version", "--short"]).env("TALOSCONFIG", lab.path("talosconfig")).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\tNODE:        10.5.0.2\n"), "the context's first control plane");
    let wrong = run(&lab, &["--context", "prod", "version", "--short"]);
    assert_eq!(wrong.code, 1, "{wrong}");
    assert!(wrong.stderr.contains("context \"prod\""), "{wrong}");
}

#[test]
fn when_the_lab_is_down_every_command_fails_like_an_unreachable_apid() {
    let lab = booted_lab(&[], "");
    let down = vixens_lab(&["down", "--state-dir", lab.dir().to_str().unwrap()], "");
    assert!(down.status.success());
    let port = Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let mut all = String::new();
    for args in [&["dmesg"][..], &["logs", "machined"], &["health"], &["service"], &["get", "members"], &["version", "--short"]] {
        let out = run(&lab, args);
        assert_eq!(out.code, 1, "{args:?}: {out}");
        all.push_str(&format!("$ talosctl {}\n{out}\n", args.join(" ")));
    }
    insta::assert_snapshot!(port.replace_all(&all, "127.0.0.1:[PORT]"));
}

#[test]
fn dmesg_follow_with_tail_prints_only_new_records() {
    // Started before Argo CD syncs the apps with volumes, it sees their iSCSI attach and nothing
    // of the boot before it.
    let nas = tempfile::tempdir().unwrap();
    let lab = Lab::up_with_faults(&["--nas-dir", nas.path().to_str().unwrap(), "--time-scale", "0.5"], "");
    let mut child = Command::new(lab.path("bin/talosctl"))
        .args(["--talosconfig", lab.path("talosconfig").to_str().unwrap(), "-n", "10.5.0.2,10.5.0.3,10.5.0.4", "dmesg", "-f", "--tail"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    loop {
        let mut line = String::new();
        assert!(std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0, "the stream ended: {seen:#?}");
        if line.contains("iSCSI Initiator over TCP/IP") {
            break;
        }
        seen.push(line);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!seen.iter().any(|l| l.contains("Linux version")), "--tail skips what was logged before: {seen:#?}");
}

#[test]
fn endpoints_given_with_e_replace_the_talosconfigs() {
    let lab = booted_lab(&[], "");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = run(&lab, &["-e", &dead.to_string(), "version", "--short"]);
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains(&format!("dial tcp {dead}: connect: connection refused")), "{out}");
    let endpoint = lab.info["talos_endpoint"].as_str().unwrap();
    assert_eq!(run(&lab, &["-e", &format!("{dead},{endpoint}"), "version", "--short"]).code, 0, "the next endpoint answers");
}
