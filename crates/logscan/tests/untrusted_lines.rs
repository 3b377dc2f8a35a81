//! Saved Talos logs are user input (`vixens logs scan FILE`, a support bundle): whatever bytes
//! they hold, the scanner and the Talos line parsers never panic, never hang, and keep memory
//! bounded by the longest line they accept.

use std::io::Read;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use vixens_logscan::lines::{DmesgRecord, split_node};
use vixens_logscan::markers::strip_ansi;
use vixens_logscan::{Error, Finding, Input, Scanner, Summary};

/// Pieces of real Talos, kernel, zap, logrus, etcd and klog lines, and the bytes that break
/// naive parsers: control characters, ANSI colour, invalid UTF-8, unterminated brackets.
const FRAGMENTS: &[&str] = &[
    "10.5.0.2: ",
    "10.5.0.3:",
    ": ",
    "kern:     err: [2026-08-21T10:00:06.7Z]: ",
    "user: warning: [2026-08-21T10:00:04.1Z]: [talos] ",
    "daemon:    info: ",
    "2026/08/21 10:00:09.500000 [talos] task mountVolumes (1/1): failed: ",
    "{\"level\":\"error\",\"ts\":\"2026-08-21T10:00:00Z\",\"msg\":\"",
    "time=\"2026-08-21T10:00:04.1Z\" level=error msg=\"",
    "E0821 10:00:05.123456    1234 kubelet_node_status.go:96] \"",
    "\u{1b}[31m",
    "\u{1b}[0m",
    "\u{1b}[",
    "ERROR",
    "error",
    "failed",
    "panic:",
    "<3>",
    "[",
    "]",
    "\"",
    "\t",
    "\r",
    "\u{0}",
    "é",
    "x",
    "   ",
];

/// Scans `reader` as one saved file: what was read, or why the scan stopped, and the findings.
fn scan_reader(reader: impl Read) -> (Result<Summary, Error>, Vec<Finding>) {
    let scanner = Scanner::new(&[]).expect("no rules always compile");
    let mut session = scanner.session(None);
    let result = session.scan_reader(reader, &Input::new("saved.log", "machined"), &mut ()).map(|id| session.read(id));
    let report = session.finish();
    (result.map(|(lines, bytes)| Summary { lines, bytes, ..report.summary }), report.findings)
}

fn scan(bytes: &[u8]) -> (Result<Summary, Error>, Vec<Finding>) {
    scan_reader(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_are_scanned_or_refused_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..8192)) {
        let started = Instant::now();
        let (result, findings) = scan(&bytes);
        let summary = result.expect("lines under the limit always scan");
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        prop_assert!(summary.lines == newlines || summary.lines == newlines + 1, "{} lines for {newlines} newlines", summary.lines);
        prop_assert_eq!(summary.bytes, bytes.len() as u64);
        prop_assert!(findings.iter().all(|f| f.line >= 1 && f.line <= summary.lines));
        prop_assert!(started.elapsed() < Duration::from_secs(2), "{:?} for {} bytes", started.elapsed(), bytes.len());
    }

    #[test]
    fn talos_shaped_lines_parse_without_panicking(parts in prop::collection::vec(prop::collection::vec(0..FRAGMENTS.len(), 0..12), 1..30)) {
        let text: String = parts.iter().map(|line| line.iter().map(|&i| FRAGMENTS[i]).collect::<String>() + "\n").collect();
        for line in text.lines() {
            let (node, rest) = split_node(line);
            prop_assert!(node.is_none_or(|n| line.starts_with(n)));
            prop_assert!(line.ends_with(rest));
            let _ = DmesgRecord::parse(rest);
            let _ = strip_ansi(rest);
        }
        let (result, _) = scan(text.as_bytes());
        prop_assert_eq!(result.expect("short lines scan").lines, text.lines().count() as u64);
    }
}

#[test]
fn a_line_that_never_ends_is_refused_at_the_limit_instead_of_filling_memory() {
    // An endless stream with no newline (`/dev/zero` piped in, a binary dumped by mistake): the
    // scanner keeps at most its line limit (1 MiB) and stops, naming the line.
    let started = Instant::now();
    let err = scan_reader(std::io::repeat(b'x')).0.unwrap_err();
    assert!(matches!(err, Error::LineTooLong { line: 1, limit: 1_048_576, .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

/// `line` repeated `times`, produced as it is read: the test itself holds one line.
struct Repeated {
    line: &'static [u8],
    times: usize,
    at: usize,
}

impl Read for Repeated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut written = 0;
        while written < buf.len() && self.times > 0 {
            let n = (self.line.len() - self.at).min(buf.len() - written);
            buf[written..written + n].copy_from_slice(&self.line[self.at..self.at + n]);
            written += n;
            self.at += n;
            if self.at == self.line.len() {
                self.at = 0;
                self.times -= 1;
            }
        }
        Ok(written)
    }
}

#[test]
fn many_short_lines_stream_through_a_fixed_buffer() {
    // 16 MiB of a boot's lines: read through the scanner's 64 KiB buffer, nothing kept but the
    // findings (none here), so memory does not grow with the input.
    let line: &'static [u8] = b"10.5.0.2: 2026/08/21 10:00:09.500000 [talos] task setupLogger (1/1): done, 118.34\xc2\xb5s\n";
    let times = 16 * 1024 * 1024 / line.len();
    let (summary, findings) = scan_reader(Repeated { line, times, at: 0 });
    let summary = summary.unwrap();
    assert_eq!(summary.lines as usize, times);
    assert!(findings.is_empty());
}
