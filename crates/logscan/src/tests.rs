//! The scanner end to end: fixtures composed from tool-formats.md §1, the synthetic corpus, and
//! the prefilters held to "every line a candidate" on both.

use proptest::prelude::*;

use super::corpus::Corpus;
use super::*;
use crate::Origin;
/// `talosctl -n 10.5.0.2 logs machined` and `talosctl -n 10.5.0.3 dmesg`, composed from talosctl's
/// format strings (the driver's tests read the same files).
const LOGS_MACHINED: &str = include_str!("../../../tests/fixtures/talosctl/logs-machined.txt");
const DMESG: &str = include_str!("../../../tests/fixtures/talosctl/dmesg.txt");
use crate::lines::Priority;

fn rule(line: usize, pattern: &str, reason: &str) -> AllowRule {
    AllowRule { pattern: pattern.into(), reason: reason.into(), origin: Origin { file: "environments/lab/env.yaml".into(), line } }
}

fn scan(scanner: &Scanner, text: &str, source: &str) -> (Vec<OwnedFinding>, Summary) {
    let mut findings = Vec::new();
    let summary = scanner.scan_reader(text.as_bytes(), &Input::new("test.log", source), &mut findings).unwrap();
    (findings, summary)
}

/// Findings and counts in a comparable form (rules compare by where they are written).
fn outcome(scanned: (Vec<OwnedFinding>, Summary)) -> String {
    format!("{:#?}", scanned)
}

fn every_line(scanner_config: ScanConfig) -> ScanConfig {
    ScanConfig { every_line_candidate: true, ..scanner_config }
}

#[test]
fn a_failed_controller_in_machined_logs_is_found_and_boot_noise_is_not() {
    let (findings, summary) = scan(&Scanner::new(&[]).unwrap(), LOGS_MACHINED, "machined");
    assert_eq!(summary, Summary { lines: 6, bytes: LOGS_MACHINED.len() as u64, flagged: 1, allowed: 0 });
    let [finding] = findings.as_slice() else { panic!("{findings:?}") };
    assert_eq!((finding.node.as_deref(), finding.source.as_str(), finding.line), (Some("10.5.0.2"), "machined", 5));
    assert_eq!(finding.marker, Marker::ControllerFailed);
    assert_eq!(finding.offset, LOGS_MACHINED.lines().take(4).map(|l| l.len() as u64 + 1).sum::<u64>());
}

#[test]
fn a_kernel_io_error_names_node_source_and_line() {
    let (findings, _) = scan(&Scanner::new(&[]).unwrap(), DMESG, "dmesg");
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].to_string(),
        "10.5.0.3: dmesg:3: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0 (kernel priority err)"
    );
    assert_eq!(findings[0].marker, Marker::DmesgPriority(Priority::Err));
}

#[test]
fn kernel_records_are_sourced_dmesg_whatever_file_they_are_in() {
    let (findings, _) = scan(&Scanner::new(&[]).unwrap(), DMESG, "support-bundle");
    assert_eq!(findings[0].source, "dmesg");
}

#[test]
fn an_allowed_line_names_the_rule_that_explains_it() {
    let scanner = Scanner::new(&[rule(40, "kubelet", "unrelated"), rule(42, r"I/O error, dev vdb", "vdb is the scratch disk of the lab")]).unwrap();
    let (findings, summary) = scan(&scanner, DMESG, "dmesg");
    assert_eq!((summary.flagged, summary.allowed), (0, 1));
    let rule = findings[0].allowed_by.as_ref().unwrap();
    assert_eq!((rule.origin.line, rule.reason.as_str()), (42, "vdb is the scratch disk of the lab"));
    assert!(!findings[0].is_flagged());
}

#[test]
fn the_single_line_verdict_matches_the_scan() {
    let scanner = Scanner::new(&[rule(7, "sector 0$", "known")]).unwrap();
    let line = DMESG.lines().nth(2).unwrap();
    assert!(matches!(scanner.verdict(line), Verdict::Allowed { rule, marker: Marker::DmesgPriority(Priority::Err) } if rule.origin.line == 7));
    assert_eq!(scanner.verdict(DMESG.lines().next().unwrap()), Verdict::Clean);
    let zap = "10.5.0.3: 2026-08-21T10:00:09.500Z \x1b[31mERROR\x1b[0m controller failed {\"component\": \"controller-runtime\"}";
    assert_eq!(scanner.verdict(zap), Verdict::Flagged(Marker::ZapLevel("ERROR")));
}

#[test]
fn colour_is_stripped_from_reported_text() {
    let zap = "10.5.0.3: 2026-08-21T10:00:09.500Z \x1b[31mERROR\x1b[0m controller failed\n";
    let (findings, _) = scan(&Scanner::new(&[]).unwrap(), zap, "controller-runtime");
    assert_eq!(findings[0].text, "2026-08-21T10:00:09.500Z ERROR controller failed");
}

#[test]
fn every_injected_error_of_the_corpus_is_found_and_nothing_else() {
    let corpus = Corpus::generate(2 << 20, 7);
    let mut findings = Vec::new();
    let summary = Scanner::new(&[]).unwrap().scan_reader(corpus.text.as_slice(), &Input::new("corpus", "mixed"), &mut findings).unwrap();
    assert_eq!(summary.lines, corpus.lines);
    assert_eq!(summary.flagged, corpus.errors, "{:#?}", &findings[..findings.len().min(5)]);
    assert!(findings.iter().all(|f| f.line % Corpus::ERROR_EVERY == 0), "only the injected lines");
}

#[test]
fn every_line_a_candidate_gives_the_same_findings_at_every_buffer_size() {
    let allow = [rule(1, "vdb", "scratch disk"), rule(2, r"(?i)endpoint watch", "boot noise"), rule(3, r".*pull image$", "registry hiccup")];
    let corpus = Corpus::generate(256 << 10, 11);
    let mut text = String::from_utf8(corpus.text).unwrap();
    text.push_str(LOGS_MACHINED);
    text.push_str(DMESG);
    text.push_str("E0821 10:00:00.1 1 x.go:1] raw klog at a line start, no newline at the end");
    let reference = scan(&Scanner::with_config(&allow, every_line(ScanConfig::default())).unwrap(), &text, "mixed");
    assert!(reference.1.allowed > 0 && reference.1.flagged > 0);
    let reference = outcome(reference);
    for buffer_bytes in [16, 97, 4096, 64 << 10] {
        let config = ScanConfig { buffer_bytes, ..ScanConfig::default() };
        assert_eq!(outcome(scan(&Scanner::with_config(&allow, config.clone()).unwrap(), &text, "mixed")), reference, "buffer {buffer_bytes}");
        assert_eq!(
            outcome(scan(&Scanner::with_config(&allow, every_line(config)).unwrap(), &text, "mixed")),
            reference,
            "buffer {buffer_bytes}, every line"
        );
    }
}

#[test]
fn lines_pushed_one_by_one_give_the_same_findings_as_a_reader() {
    let scanner = Scanner::new(&[rule(1, "vdb", "scratch")]).unwrap();
    let text = String::from_utf8(Corpus::generate(128 << 10, 3).text).unwrap() + DMESG + LOGS_MACHINED;
    let (from_reader, summary) = scan(&scanner, &text, "mixed");
    let mut pushed = Vec::new();
    let mut lines = scanner.lines(Input::new("test.log", "mixed"));
    for line in text.lines() {
        assert!(lines.push(line, &mut pushed).unwrap());
    }
    assert_eq!(format!("{pushed:#?}"), format!("{from_reader:#?}"));
    assert_eq!(lines.summary(), summary);
}

#[test]
fn a_line_over_the_cap_is_an_error_naming_node_and_offset() {
    let config = ScanConfig { max_line_bytes: 100, ..ScanConfig::default() };
    let scanner = Scanner::with_config(&[], config).unwrap();
    let text = format!("10.5.0.2: short\n10.5.0.2: also short\n10.5.0.3: {}\nnever read\n", "x".repeat(200));
    let err = scanner.scan_reader(text.as_bytes(), &Input::new("big.log", "machined"), &mut Vec::new()).unwrap_err();
    assert_eq!(err.to_string(), "big.log: line 3 (node 10.5.0.3, byte offset 37) is longer than 100 bytes");
    let err = scanner.lines(Input::new("talosctl logs", "machined")).push(&"y".repeat(101), &mut Vec::new()).unwrap_err();
    assert_eq!(err.to_string(), "talosctl logs: line 1 (node -, byte offset 0) is longer than 100 bytes");
}

#[test]
fn a_line_exactly_at_the_cap_is_accepted() {
    let scanner = Scanner::with_config(&[], ScanConfig { max_line_bytes: 64, buffer_bytes: 16, ..ScanConfig::default() }).unwrap();
    let head = "10.5.0.2: kern:     err: [t]: ";
    let line = format!("{head}{}", "z".repeat(64 - head.len()));
    assert_eq!(line.len(), 64);
    let (findings, summary) = scan(&scanner, &format!("{line}\n{line}"), "dmesg");
    assert_eq!((findings.len(), summary.lines), (2, 2));
}

#[test]
fn crlf_line_endings_are_tolerated() {
    let (findings, _) = scan(&Scanner::new(&[]).unwrap(), &DMESG.replace('\n', "\r\n"), "dmesg");
    assert_eq!(findings.len(), 1);
    assert!(findings[0].text.ends_with("sector 0"));
}

#[test]
fn a_sink_can_stop_the_scan() {
    struct First(Vec<u64>);
    impl Sink for First {
        fn finding(&mut self, finding: &Finding<'_>) -> std::io::Result<bool> {
            self.0.push(finding.line);
            Ok(false)
        }
    }
    let text = format!("{DMESG}{DMESG}");
    let mut sink = First(Vec::new());
    Scanner::new(&[]).unwrap().scan_reader(text.as_bytes(), &Input::new("x", "dmesg"), &mut sink).unwrap();
    assert_eq!(sink.0, [3]);
}

#[test]
fn a_failing_sink_or_reader_stops_the_scan_with_its_error() {
    struct Broken;
    impl Sink for Broken {
        fn finding(&mut self, _: &Finding<'_>) -> std::io::Result<bool> {
            Err(std::io::Error::other("disk full"))
        }
    }
    let err = Scanner::new(&[]).unwrap().scan_reader(DMESG.as_bytes(), &Input::new("x.log", "dmesg"), &mut Broken).unwrap_err();
    assert_eq!(err.to_string(), "cannot report the findings of x.log");

    struct Unreadable;
    impl Read for Unreadable {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("EIO"))
        }
    }
    let err = Scanner::new(&[]).unwrap().scan_reader(Unreadable, &Input::new("y.log", "dmesg"), &mut Vec::new()).unwrap_err();
    assert_eq!(err.to_string(), "cannot read y.log");
}

/// Fragments that sit near the prefilter's edges: keywords, escapes, klog heads, labels.
const FRAGMENTS: &[&str] = &[
    "10.5.0.2: ",
    "E0821 ",
    "F1",
    "E2",
    "I0821 ",
    ": E1",
    "err",
    "ERROR",
    "\x1b[31m",
    "\x1b[0m",
    "E\x1b[0mRROR",
    "[talos] ",
    "task x (1/2): failed",
    "phase y (3/4): failed",
    "boot sequence: failed",
    "service[etcd](Failed)",
    "service[etcd](Waiting)",
    "Health check failed",
    "controller failed",
    "controller runtime goroutine error",
    "error x",
    "level=error",
    "level=warn",
    "level=panic",
    " error=x",
    "{\"level\":\"error\"}",
    "{\"level\":\"dpanic\"",
    "{\"level\":\"warn\"",
    "kern:     err: [t]: ",
    "kern: crit: [t]: ",
    "user: warning: [t]: ",
    "2026-08-21T10:00:09.500Z ",
    "PANIC ",
    " {\"error\": \"x\"}",
    " {\"component\": \"c\"}",
    "x",
    " ",
    "\r",
];

proptest! {
    #[test]
    fn the_prefilter_never_drops_a_line_the_classifier_flags(lines in prop::collection::vec(prop::collection::vec(0..FRAGMENTS.len(), 0..6), 1..40)) {
        let text: String = lines.iter().map(|parts| parts.iter().map(|&i| FRAGMENTS[i]).collect::<String>() + "\n").collect();
        let allow = [rule(1, "failed$", "x"), rule(2, r"\d{4} ", "y")];
        let fast = scan(&Scanner::with_config(&allow, ScanConfig { buffer_bytes: 32, ..ScanConfig::default() }).unwrap(), &text, "p");
        let slow = scan(&Scanner::with_config(&allow, every_line(ScanConfig::default())).unwrap(), &text, "p");
        prop_assert_eq!(outcome(fast), outcome(slow));
    }
}
