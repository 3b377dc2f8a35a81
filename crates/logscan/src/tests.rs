//! The scanner end to end: talosctl fixtures, the rules of the shared list and the failure table
//! on their own examples, the bootstrap window, grouping, and the prefilter held to "every line a
//! candidate" on the synthetic corpus. The composed Talos corpus is scanned by
//! `tests/corpus.rs`.

use std::io::Read;

use proptest::prelude::*;

use super::corpus::Corpus;
use super::*;
use crate::shared::SHARED;

/// `talosctl -n 10.5.0.2 logs machined` and `talosctl -n 10.5.0.3 dmesg`, composed from talosctl's
/// format strings (the driver's tests read the same files).
const LOGS_MACHINED: &str = include_str!("../../../tests/fixtures/talosctl/logs-machined.txt");
const DMESG: &str = include_str!("../../../tests/fixtures/talosctl/dmesg.txt");

fn at(text: &str) -> Time {
    Time::parse_rfc3339(text).unwrap()
}

fn env_rule(line: usize, pattern: &str, reason: &str) -> AllowRule {
    AllowRule {
        pattern: pattern.into(),
        reason: reason.into(),
        origin: Origin::File { file: "environments/lab/env.yaml".into(), line },
        window: RuleWindow::Always,
    }
}

/// Scans `(source, text)` inputs in one session.
fn scan_with(scanner: &Scanner, healthy_at: Option<Time>, inputs: &[(&str, &str)]) -> Report {
    let mut session = scanner.session(healthy_at);
    for (source, text) in inputs {
        session.scan_reader(text.as_bytes(), &Input::new(&format!("{source}.log"), source), &mut ()).unwrap();
    }
    session.finish()
}

fn scan(healthy_at: Option<Time>, inputs: &[(&str, &str)]) -> Report {
    scan_with(&Scanner::new(&[]).unwrap(), healthy_at, inputs)
}

/// `(node, source, cause, line, count)` of every finding.
fn found(report: &Report) -> Vec<(String, String, String, u64, u64)> {
    report.findings.iter().map(|f| (f.label.clone(), f.source.clone(), f.cause.clone(), f.line, f.count)).collect()
}

fn row(node: &str, source: &str, cause: &str, line: u64, count: u64) -> (String, String, String, u64, u64) {
    (node.into(), source.into(), cause.into(), line, count)
}

#[test]
fn a_failed_controller_in_machined_logs_is_found_and_boot_noise_is_not() {
    let report = scan(None, &[("machined", LOGS_MACHINED)]);
    assert_eq!(found(&report), [row("10.5.0.2", "controller-runtime", "controller-error/k8s.ManifestApplyController", 5, 1)]);
    assert_eq!(report.findings[0].offset, LOGS_MACHINED.lines().take(4).map(|l| l.len() as u64 + 1).sum::<u64>());
    assert_eq!(report.explained.get("A01"), Some(&1), "the boot-time health check failure is explained by the shared list");
    assert_eq!(report.summary, Summary { lines: 6, bytes: LOGS_MACHINED.len() as u64, errors: 2, explained: 1 });
    assert!(report.window.assumed);
}

#[test]
fn a_kernel_io_error_names_node_source_and_line() {
    let report = scan(None, &[("dmesg", DMESG)]);
    assert_eq!(
        report.findings[0].to_string(),
        "10.5.0.3: dmesg:3: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0 (disk-io-error, known failure F09)"
    );
    assert_eq!(report.findings.len(), 1);
}

#[test]
fn every_shared_rule_explains_its_example_inside_the_window() {
    let scanner = Scanner::new(&[]).unwrap();
    for rule in SHARED {
        let mut session = scanner.session(Some(at("2026-08-21T09:03:10Z")));
        session.boot_at(at("2026-08-21T09:00:00Z"));
        let mut explained_by = Vec::new();
        let mut observer = |j: &Judged<'_>| {
            explained_by.push(j.explained_by.map(|r| r.origin.to_string()));
            Ok(true)
        };
        session.scan_reader(rule.example.as_bytes(), &Input::new("example", rule.source), &mut observer).unwrap();
        let report = session.finish();
        assert!(report.findings.is_empty(), "{}: {:#?}", rule.id, report.findings);
        // Rules kept for lines that carry no marker (iSCSI reconnects, a closed stream) judge nothing.
        let defensive = rule.explains.starts_with("(defensive");
        let expected = if defensive { vec![] } else { vec![Some(format!("shared allow-list {}", rule.id))] };
        assert_eq!(explained_by, expected, "{}", rule.id);
    }
}

#[test]
fn no_shared_rule_hides_the_real_error_of_its_shape() {
    let scanner = Scanner::new(&[]).unwrap();
    for rule in SHARED {
        let mut session = scanner.session(Some(at("2026-08-21T09:03:10Z")));
        session.boot_at(at("2026-08-21T09:00:00Z"));
        let mut judged = Vec::new();
        let mut observer = |j: &Judged<'_>| {
            let is = match j.why {
                Why::Failure(failure) => format!("{} {}", failure.id, j.cause),
                Why::Marker(marker) => format!("{} {}", marker.id(), j.cause),
            };
            judged.push((is, j.explained_by.map(|r| r.origin.to_string())));
            Ok(true)
        };
        session.scan_reader(rule.must_not_hide.as_bytes(), &Input::new("must-not-hide", rule.source), &mut observer).unwrap();
        assert_eq!(judged, [(rule.must_not_hide_is.to_owned(), None)], "{}: {}", rule.id, rule.must_not_hide_because);
    }
}

#[test]
fn older_and_other_forms_of_boot_noise_are_explained_inside_the_window() {
    let cases = [
        // Before KubePrism (Talos < 1.6) the kubelet talks to the cluster endpoint; before
        // Kubernetes 1.31 reflector errors were unstructured.
        (
            "kubelet",
            "E0821 09:00:40.100000    1734 reflector.go:138] k8s.io/client-go/informers/factory.go:134: Failed to watch *v1.Service: failed to list *v1.Service: Get \"https://10.5.0.2:6443/api/v1/services?limit=500&resourceVersion=0\": dial tcp 10.5.0.2:6443: connect: connection refused",
            "A09",
        ),
        (
            "cri",
            r#"time="2026-08-21T09:02:42.331904118Z" level=error msg="failed to reload cni configuration after receiving fs change event(RENAME        \"/etc/cni/net.d/05-cilium.conflist.cilium_tmp\")" error="cni config load failed: no network config found in /etc/cni/net.d: cni plugin not initialized: failed to load cni config""#,
            "A11",
        ),
        (
            "kubelet",
            r#"E0821 09:00:24.118300    1734 kubelet.go:1317] "Image garbage collection failed once. Stats initialization may not have completed yet" err="invalid capacity 0 on image filesystem""#,
            "A20",
        ),
    ];
    for (source, line, rule) in cases {
        let log = format!("{BOOT}10.5.0.2: {line}\n");
        let report = scan(Some(at("2026-08-21T09:03:10Z")), &[(source, &log)]);
        assert!(report.findings.is_empty(), "{line}: {:#?}", report.findings);
        assert_eq!(report.explained.get(rule), Some(&1), "{line}");
    }
}

/// `service[<svc>](Waiting): Error running ...` at the given seconds after 09:00:00.
fn crash_loop(node: &str, seconds: &[u32]) -> String {
    seconds
        .iter()
        .map(|s| {
            format!(
                "{node}: 2026/08/21 09:{:02}:{:02}.000001 [talos] service[etcd](Waiting): Error running Containerd(etcd), going to restart forever: task \"etcd\" failed: exit code 137 (last log \"\")\n",
                s / 60,
                s % 60
            )
        })
        .collect()
}

const BOOT: &str = "10.5.0.2: 2026/08/21 09:00:00.000001 [talos] task setupLogger (1/1): done, 118.34µs\n";

#[test]
fn a_few_restarts_inside_the_bootstrap_window_are_tolerated() {
    let log = format!("{BOOT}{}", crash_loop("10.5.0.2", &[30, 60, 90]));
    let report = scan(Some(at("2026-08-21T09:03:10Z")), &[("machined", &log)]);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.tolerated, 3);
}

#[test]
fn a_crash_loop_is_one_finding_with_its_count_and_first_and_last_line() {
    let log = format!("{BOOT}{}", crash_loop("10.5.0.2", &[30, 35, 40, 45, 50, 55]));
    let report = scan(Some(at("2026-08-21T09:03:10Z")), &[("machined", &log)]);
    assert_eq!(found(&report), [row("10.5.0.2", "machined", "crash-loop/etcd/exit-137", 2, 6)]);
    assert_eq!((report.findings[0].first_line, report.findings[0].last_line), (2, 7));
}

#[test]
fn one_restart_after_the_window_is_an_error_and_the_tolerated_ones_are_left_out() {
    let log = format!("{BOOT}{}", crash_loop("10.5.0.2", &[30, 60, 600]));
    let report = scan(Some(at("2026-08-21T09:03:10Z")), &[("machined", &log)]);
    assert_eq!(found(&report), [row("10.5.0.2", "machined", "crash-loop/etcd/exit-137", 4, 1)]);
}

#[test]
fn the_window_never_outlasts_boot_plus_twenty_minutes() {
    let log = format!("{BOOT}{}", crash_loop("10.5.0.2", &[1300]));
    let report = scan(Some(at("2026-08-22T00:00:00Z")), &[("machined", &log)]);
    assert_eq!(found(&report), [row("10.5.0.2", "machined", "crash-loop/etcd/exit-137", 2, 1)], "checked long after its boot");
    assert_eq!(report.window.end, Some(at("2026-08-21T09:20:00.000001Z")));
}

#[test]
fn bootstrap_noise_after_the_window_is_an_error() {
    let health = "10.5.0.2: 2026/08/21 09:10:00.000001 [talos] service[kubelet](Running): Health check failed: Get \"http://127.0.0.1:10248/healthz\": dial tcp 127.0.0.1:10248: connect: connection refused\n";
    let log = format!("{BOOT}{health}");
    assert!(scan(Some(at("2026-08-21T09:15:00Z")), &[("machined", &log)]).findings.is_empty(), "inside the window");
    let report = scan(Some(at("2026-08-21T09:03:10Z")), &[("machined", &log)]);
    assert_eq!(found(&report), [row("10.5.0.2", "machined", "health-check-failed/kubelet", 2, 1)], "after it");
}

#[test]
fn a_line_without_a_time_is_never_inside_the_window() {
    let health = "10.5.0.2: [talos] service[kubelet](Running): Health check failed: connection refused\n";
    let report = scan(Some(at("2026-08-21T09:03:10Z")), &[("machined", &format!("{BOOT}{health}"))]);
    assert_eq!(found(&report), [row("10.5.0.2", "machined", "health-check-failed/kubelet", 2, 1)]);
}

#[test]
fn a_panic_and_its_stack_are_one_finding_at_the_panic_line() {
    let log = "10.5.0.3: {\"level\":\"info\",\"ts\":\"2026-08-21T09:10:00.000Z\",\"msg\":\"starting\"}
10.5.0.3: panic: freepages: failed to get all reachable pages (page 212: multiple references)
10.5.0.3: 
10.5.0.3: goroutine 1 [running]:
10.5.0.2: {\"level\":\"info\",\"ts\":\"2026-08-21T09:10:00.100Z\",\"msg\":\"another node, in the middle\"}
10.5.0.3: go.etcd.io/bbolt.(*freelist).read(...)
10.5.0.3: \t/go/pkg/mod/go.etcd.io/bbolt@v1.4.0/freelist.go:266 +0x2a5
10.5.0.3: panic({0x1d4e0a0?, 0x2c4ed70?})
10.5.0.3: {\"level\":\"info\",\"ts\":\"2026-08-21T09:10:05.000Z\",\"msg\":\"starting again\"}
";
    let report = scan(Some(at("2026-08-21T09:03:10Z")), &[("etcd", log)]);
    assert_eq!(found(&report), [row("10.5.0.3", "etcd", "panic", 2, 1)]);
}

#[test]
fn a_talos_line_in_machined_and_in_dmesg_is_one_finding_in_machined() {
    let machined = "10.5.0.3: 2026/08/21 09:10:00.000001 [talos] service[apid](Failed): Failed to run pre stage: no space left on device\n";
    let dmesg = "10.5.0.3: user: warning: [2026-08-21T09:10:00.000001123Z]: [talos] service[apid](Failed): Failed to run pre stage: no space left on device\n";
    let report = scan(None, &[("dmesg", dmesg), ("machined", machined)]);
    assert_eq!(found(&report), [row("10.5.0.3", "machined", "service-failed/apid", 1, 1)]);
    assert_eq!(report.findings[0].input, "machined.log");
    assert_eq!(report.findings[0].also_in, [("dmesg.log".to_owned(), 1)]);
}

#[test]
fn controller_runtime_is_where_a_controller_s_errors_are_counted() {
    let error = |n: u32, console: bool| {
        let fields = "{\"component\": \"controller-runtime\", \"controller\": \"block.VolumeConfigController\", \"error\": \"boom\"}";
        if console {
            format!("10.5.0.2: 2026/08/21 09:10:0{n}.000001 [talos] controller failed {fields}\n")
        } else {
            format!("10.5.0.2: 2026-08-21T09:10:0{n}.000Z \x1b[31mERROR\x1b[0m controller failed {fields}\n")
        }
    };
    let runtime: String = (1..=5).map(|n| error(n, false)).collect();
    let console = error(5, true);
    let report = scan(None, &[("machined", &console), ("controller-runtime", &runtime)]);
    assert_eq!(found(&report), [row("10.5.0.2", "controller-runtime", "controller-error/block.VolumeConfigController", 1, 5)]);
    assert_eq!(report.findings[0].also_in, [("machined.log".to_owned(), 1)], "the console only has the fifth");
}

#[test]
fn an_unlabelled_copy_is_the_same_node_through_an_alias() {
    let labelled = "192.168.111.12: panic: boom\n";
    let bundle = "panic: boom\n";
    let scanner = Scanner::new(&[]).unwrap();
    let mut session = scanner.session(None);
    session.alias("192.168.111.12", "vixens-dev-cp2");
    session.scan_reader(bundle.as_bytes(), &Input::unlabelled("bundle/vixens-dev-cp2/etcd.log", "etcd", "vixens-dev-cp2"), &mut ()).unwrap();
    session.scan_reader(labelled.as_bytes(), &Input::new("etcd.log", "etcd"), &mut ()).unwrap();
    let report = session.finish();
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let finding = &report.findings[0];
    assert_eq!((finding.node.as_str(), finding.label.as_str(), finding.input.as_str()), ("vixens-dev-cp2", "192.168.111.12", "etcd.log"));
    assert_eq!(finding.also_in, [("bundle/vixens-dev-cp2/etcd.log".to_owned(), 1)]);
}

#[test]
fn an_unlabelled_line_that_looks_labelled_keeps_its_first_word() {
    let scanner = Scanner::new(&[]).unwrap();
    let mut session = scanner.session(None);
    session
        .scan_reader("iscsid: can not bind NETLINK_ISCSI socket\n".as_bytes(), &Input::unlabelled("ext-iscsid.log", "ext-iscsid", "cp3"), &mut ())
        .unwrap();
    assert_eq!(found(&session.finish()), [row("cp3", "ext-iscsid", "extension-error", 1, 1)]);
}

#[test]
fn an_environment_rule_may_explain_a_known_failure_the_shared_list_never_does() {
    let scanner = Scanner::new(&[env_rule(7, "I/O error, dev vdb", "vdb is the lab's scratch disk")]).unwrap();
    let report = scan_with(&scanner, None, &[("dmesg", DMESG)]);
    assert!(report.findings.is_empty());
    assert_eq!(report.explained.get("environments/lab/env.yaml:7"), Some(&1));
}

#[test]
fn colour_is_stripped_from_reported_text() {
    let zap =
        "10.5.0.3: 2026-08-21T10:00:09.500Z \x1b[31mERROR\x1b[0m controller failed {\"component\": \"controller-runtime\", \"controller\": \"x\"}\n";
    let report = scan(None, &[("controller-runtime", zap)]);
    assert_eq!(
        report.findings[0].text,
        "2026-08-21T10:00:09.500Z ERROR controller failed {\"component\": \"controller-runtime\", \"controller\": \"x\"}"
    );
}

#[test]
fn the_first_time_of_a_log_fixes_the_boot() {
    assert_eq!(first_time(DMESG.as_bytes(), true), Some(at("2026-08-21T10:00:00.412345678Z")));
    assert_eq!(first_time(b"no time here\nkern:    info: [2026-08-21T10:00:00Z]: x\n", false), Some(at("2026-08-21T10:00:00Z")));
    assert_eq!(first_time(b"nothing\n", false), None);
}

#[test]
fn labelled_captures_are_told_from_unlabelled_files() {
    assert!(looks_labelled(DMESG.as_bytes()));
    assert!(looks_labelled(LOGS_MACHINED.as_bytes()));
    assert!(looks_labelled(b"vixens-dev-cp1: iscsid: iSCSI daemon with pid=1628 started!\n"));
    assert!(looks_labelled(b"host: kern:    info: [2026-08-21T09:00:01Z]: br-5f2c8d1e9a3b: port 1 entered blocking state\n"));
    assert!(looks_labelled(b"fd00::2: x\n"));
    for unlabelled in [
        "panic: boom\n\ngoroutine 1 [running]:\n",
        "iscsid: can not bind NETLINK_ISCSI socket\n",
        "udevd[1042]: starting version 3.2.14\n",
        "{\"level\":\"info\",\"ts\":\"2026-08-21T09:00:47Z\",\"msg\":\"x: y\"}\niscsid: x\n",
        "E0821 09:00:14.227310    1734 run.go:72] \"command failed\"\n",
        "",
    ] {
        assert!(!looks_labelled(unlabelled.as_bytes()), "{unlabelled}");
    }
}

#[test]
fn every_injected_error_of_the_corpus_is_judged_and_nothing_else() {
    let corpus = Corpus::generate(2 << 20, 7);
    let scanner = Scanner::new(&[]).unwrap();
    let mut session = scanner.session(None);
    let mut lines = Vec::new();
    let mut observer = |j: &Judged<'_>| {
        lines.push(j.line);
        Ok(true)
    };
    session.scan_reader(corpus.text.as_slice(), &Input::new("corpus", "mixed"), &mut observer).unwrap();
    let report = session.finish();
    assert_eq!(report.summary.lines, corpus.lines);
    assert_eq!(report.summary.errors, corpus.errors, "{:?}", &lines[..lines.len().min(5)]);
    assert!(lines.iter().all(|l| l % Corpus::ERROR_EVERY == 0), "only the injected lines");
    let counted: u64 = report.findings.iter().map(|f| f.count).sum();
    assert_eq!(counted + report.tolerated, corpus.errors, "each error line is in one finding, or tolerated: {:#?}", report.findings);
}

/// A scanner that judges every line, bypassing the prefilter.
fn every_line(allow: &[AllowRule], config: ScanConfig) -> Scanner {
    Scanner { every_line_candidate: true, ..Scanner::with_config(allow, config).unwrap() }
}

/// A report in a comparable form.
fn outcome(report: &Report) -> String {
    format!("{:#?} {:?} {} {:?}", report.findings, report.explained, report.tolerated, report.summary)
}

fn scan_text_with(scanner: &Scanner, text: &str) -> Report {
    let mut session = scanner.session(Some(at("2026-08-21T10:03:00Z")));
    session.scan_reader(text.as_bytes(), &Input::new("mixed.log", "mixed"), &mut ()).unwrap();
    session.finish()
}

#[test]
fn every_line_a_candidate_gives_the_same_report_at_every_buffer_size() {
    let allow =
        [env_rule(1, "vdb", "scratch disk"), env_rule(2, r"(?i)endpoint watch", "boot noise"), env_rule(3, r".*pull image", "registry hiccup")];
    let corpus = Corpus::generate(256 << 10, 11);
    let mut text = String::from_utf8(corpus.text).unwrap();
    text.push_str(LOGS_MACHINED);
    text.push_str(DMESG);
    text.push_str("E0821 10:00:00.1 1 x.go:1] raw klog at a line start, no newline at the end");
    let reference = scan_text_with(&every_line(&allow, ScanConfig::default()), &text);
    assert!(reference.summary.explained > 0 && !reference.findings.is_empty());
    let reference = outcome(&reference);
    for buffer_bytes in [16, 97, 4096, 64 << 10] {
        let config = ScanConfig { buffer_bytes, ..ScanConfig::default() };
        assert_eq!(outcome(&scan_text_with(&Scanner::with_config(&allow, config.clone()).unwrap(), &text)), reference, "buffer {buffer_bytes}");
        assert_eq!(outcome(&scan_text_with(&every_line(&allow, config), &text)), reference, "buffer {buffer_bytes}, every line");
    }
}

#[test]
fn lines_pushed_one_by_one_give_the_same_report_as_a_reader() {
    let scanner = Scanner::new(&[env_rule(1, "vdb", "scratch")]).unwrap();
    let text = String::from_utf8(Corpus::generate(128 << 10, 3).text).unwrap() + DMESG + LOGS_MACHINED;
    let mut read = scanner.session(None);
    read.scan_reader(text.as_bytes(), &Input::new("test.log", "mixed"), &mut ()).unwrap();
    let mut pushed = scanner.session(None);
    let id = pushed.open(&Input::new("test.log", "mixed"));
    for line in text.lines() {
        assert!(pushed.push(id, line, &mut ()).unwrap());
    }
    assert_eq!(outcome(&pushed.finish()), outcome(&read.finish()));
}

#[test]
fn sessions_scanned_apart_and_absorbed_report_like_one() {
    let scanner = Scanner::new(&[]).unwrap();
    let machined = "10.5.0.3: 2026/08/21 09:10:00.000001 [talos] service[apid](Failed): Failed to run pre stage: no space left on device\n";
    let dmesg =
        "10.5.0.3: user: warning: [2026-08-21T09:10:00.000001Z]: [talos] service[apid](Failed): Failed to run pre stage: no space left on device\n";
    let one = scan_with(&scanner, None, &[("dmesg", dmesg), ("machined", machined)]);
    let mut first = scanner.session(None);
    first.scan_reader(dmesg.as_bytes(), &Input::new("dmesg.log", "dmesg"), &mut ()).unwrap();
    let mut second = scanner.session(None);
    second.scan_reader(machined.as_bytes(), &Input::new("machined.log", "machined"), &mut ()).unwrap();
    first.absorb(second);
    assert_eq!(outcome(&first.finish()), outcome(&one));
}

#[test]
fn a_line_over_the_cap_is_an_error_naming_node_and_offset() {
    let config = ScanConfig { max_line_bytes: 100, ..ScanConfig::default() };
    let scanner = Scanner::with_config(&[], config).unwrap();
    let text = format!("10.5.0.2: short\n10.5.0.2: also short\n10.5.0.3: {}\nnever read\n", "x".repeat(200));
    let err = scanner.session(None).scan_reader(text.as_bytes(), &Input::new("big.log", "machined"), &mut ()).unwrap_err();
    assert_eq!(err.to_string(), "big.log: line 3 (node 10.5.0.3, byte offset 37) is longer than 100 bytes");
    let mut session = scanner.session(None);
    let id = session.open(&Input::new("talosctl logs", "machined"));
    let err = session.push(id, &"y".repeat(101), &mut ()).unwrap_err();
    assert_eq!(err.to_string(), "talosctl logs: line 1 (node -, byte offset 0) is longer than 100 bytes");
}

#[test]
fn a_line_exactly_at_the_cap_is_accepted() {
    let scanner = Scanner::with_config(&[], ScanConfig { max_line_bytes: 64, buffer_bytes: 16, ..ScanConfig::default() }).unwrap();
    let head = "10.5.0.2: kern:     err: [2026-08-21T10:00:00Z]: ";
    let line = format!("{head}{}", "z".repeat(64 - head.len()));
    assert_eq!(line.len(), 64);
    let mut session = scanner.session(None);
    session.scan_reader(format!("{line}\n{line}").as_bytes(), &Input::new("dmesg.log", "dmesg"), &mut ()).unwrap();
    let report = session.finish();
    assert_eq!((report.findings[0].count, report.summary.lines), (2, 2));
}

#[test]
fn crlf_line_endings_are_tolerated() {
    let report = scan(None, &[("dmesg", &DMESG.replace('\n', "\r\n"))]);
    assert_eq!(report.findings.len(), 1);
    assert!(report.findings[0].text.ends_with("sector 0"));
}

#[test]
fn an_observer_can_stop_the_scan() {
    let text = format!("{DMESG}{DMESG}");
    let mut seen = Vec::new();
    let mut first = |j: &Judged<'_>| {
        seen.push(j.line);
        Ok(false)
    };
    Scanner::new(&[]).unwrap().session(None).scan_reader(text.as_bytes(), &Input::new("x", "dmesg"), &mut first).unwrap();
    assert_eq!(seen, [3]);
}

#[test]
fn a_failing_observer_or_reader_stops_the_scan_with_its_error() {
    let scanner = Scanner::new(&[]).unwrap();
    let mut broken = |_: &Judged<'_>| Err(std::io::Error::other("disk full"));
    let err = scanner.session(None).scan_reader(DMESG.as_bytes(), &Input::new("x.log", "dmesg"), &mut broken).unwrap_err();
    assert_eq!(err.to_string(), "cannot report the findings of x.log");

    struct Unreadable;
    impl Read for Unreadable {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("EIO"))
        }
    }
    let err = scanner.session(None).scan_reader(Unreadable, &Input::new("y.log", "dmesg"), &mut ()).unwrap_err();
    assert_eq!(err.to_string(), "cannot read y.log");
}

/// Fragments that sit near the prefilter's edges: keywords, coloured levels, klog heads, labels,
/// formats.
const FRAGMENTS: &[&str] = &[
    "10.5.0.2: ",
    "E0821 ",
    "F1",
    "E2",
    "I0821 10:00:00.123456 1 x.go:1] ",
    "E0821 10:00:00.123456 1 x.go:1] ",
    ": E1",
    "err",
    "error",
    "ERROR",
    "failed",
    "Failure",
    // Colour as zap writes it: around the level word, nowhere else.
    "\x1b[31mERROR\x1b[0m ",
    "\x1b[34mINFO\x1b[0m ",
    "[talos] ",
    "2026/08/21 10:00:01.123456 [talos] ",
    "task x (1/2): failed",
    "service[etcd](Failed): ",
    "service[etcd](Waiting): Error running X, going to restart forever: exit code 1",
    "service[etcd](Running): Health check failed: ",
    "retrying error: ",
    "controller failed",
    " {\"component\": \"controller-runtime\", \"controller\": \"c\"}",
    "level=error",
    "level=warn",
    "time=\"2026-08-21T10:00:00Z\" level=panic msg=x",
    "{\"level\":\"error\",\"ts\":\"2026-08-21T10:00:00Z\"}",
    "{\"level\":\"warn\",\"msg\":\"x\",\"error\":\"tls: bad certificate\"}",
    "{\"ts\":1787302815400.225,\"msg\":\"x\"}",
    "kern:     err: [2026-08-21T10:00:00Z]: ",
    "kern:    info: [2026-08-21T10:00:00Z]: ",
    "user: warning: [2026-08-21T10:00:00Z]: ",
    "session1: session recovery timed out after 5 secs",
    "2026-08-21T10:00:09.500Z ",
    "PANIC ",
    "panic: ",
    "x509: certificate signed by unknown authority",
    "connect: no route to host",
    "\\x5c\"",
    "\\x09",
    "x",
    " ",
    "\r",
];

/// A scanner with a small buffer, and one that judges every line, with the same rules.
static FAST_AND_SLOW: std::sync::LazyLock<(Scanner, Scanner)> = std::sync::LazyLock::new(|| {
    let allow = [env_rule(1, "failed$", "x"), env_rule(2, r"\d{4} ", "y")];
    let fast = Scanner::with_config(&allow, ScanConfig { buffer_bytes: 32, ..ScanConfig::default() }).unwrap();
    (fast, every_line(&allow, ScanConfig::default()))
});

proptest! {
    #[test]
    fn the_prefilter_never_drops_a_line_the_classifier_judges(lines in prop::collection::vec(prop::collection::vec(0..FRAGMENTS.len(), 0..6), 1..40)) {
        let text: String = lines.iter().map(|parts| parts.iter().map(|&i| FRAGMENTS[i]).collect::<String>() + "\n").collect();
        let (fast, slow) = &*FAST_AND_SLOW;
        prop_assert_eq!(outcome(&scan_text_with(fast, &text)), outcome(&scan_text_with(slow, &text)));
    }
}

/// The line numbers an observer was shown.
struct Lines(Vec<u64>);

impl Observer for Lines {
    fn judged(&mut self, line: &Judged<'_>) -> std::io::Result<bool> {
        self.0.push(line.line);
        Ok(true)
    }
}

#[test]
fn files_scanned_on_several_threads_report_as_scanned_in_turn_in_file_and_line_order() {
    let scanner = Scanner::new(&[env_rule(1, "vdb", "scratch")]).unwrap();
    let files: Vec<(String, String)> = (0..5u64)
        .map(|i| {
            let mut text = String::from_utf8(Corpus::generate(64 << 10, i).text).unwrap() + if i % 2 == 0 { DMESG } else { LOGS_MACHINED };
            // One finding of each file's own node.
            text.push_str(&format!("10.5.1.{i}: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev sda, sector 0\n"));
            (format!("node-{i}.log"), text)
        })
        .collect();
    let in_turn = |session: &mut Session<'_>| {
        for (name, text) in &files {
            session.scan_reader(text.as_bytes(), &Input::new(name, "mixed"), &mut ()).unwrap();
        }
    };
    let mut reference = scanner.session(None);
    reference.boot_at(at("2026-08-21T09:00:00Z"));
    in_turn(&mut reference);
    let reference = reference.finish();
    assert!(reference.findings.len() >= 5 && reference.summary.explained > 0, "{:#?}", reference.summary);
    let ordered = reference.findings.windows(2).all(|w| (&w[0].input, w[0].line) <= (&w[1].input, w[1].line));
    assert!(ordered, "findings in file and line order");
    for threads in [1, 2, 3, 8] {
        let mut session = scanner.session(None);
        session.boot_at(at("2026-08-21T09:00:00Z"));
        let jobs =
            files.iter().map(|(name, text)| Job { reader: text.as_bytes(), input: Input::new(name, "mixed"), observer: Lines(Vec::new()) }).collect();
        let scanned = session.scan_parallel(jobs, threads);
        for (i, (id, Lines(lines))) in scanned.iter().enumerate() {
            assert_eq!(session.read(*id.as_ref().unwrap()).1, files[i].1.len() as u64, "input {i} keeps its place");
            assert!(lines.windows(2).all(|w| w[0] < w[1]), "each file's lines are seen in order");
        }
        let judged: usize = scanned.iter().map(|(_, Lines(lines))| lines.len()).sum();
        assert_eq!(judged as u64, reference.summary.errors, "every error line shown to its file's observer");
        assert_eq!(outcome(&session.finish()), outcome(&reference), "{threads} threads");
    }
}

#[test]
fn a_file_that_cannot_be_read_stops_only_its_own_scan() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk gone"))
        }
    }
    let scanner = Scanner::new(&[]).unwrap();
    let mut session = scanner.session(None);
    let good = "10.5.0.3: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0\n";
    let jobs: Vec<Job<'_, Box<dyn Read + Send>, ()>> = vec![
        Job { reader: Box::new(Broken), input: Input::new("broken.log", "dmesg"), observer: () },
        Job { reader: Box::new(good.as_bytes()), input: Input::new("dmesg.log", "dmesg"), observer: () },
    ];
    let scanned = session.scan_parallel(jobs, 2);
    assert_eq!(scanned[0].0.as_ref().unwrap_err().to_string(), "cannot read broken.log");
    assert!(scanned[1].0.is_ok());
    assert_eq!(session.finish().findings.len(), 1);
}
