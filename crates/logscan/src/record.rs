//! One line read as a log record: its format, time, level, and the message text the rules read.
//!
//! Every shape Talos prints is recognised from the line itself (node label and colour already
//! removed), so a file of unknown origin is read as well as a `talosctl` capture:
//!
//! | shape | example (abridged) | the rules read |
//! |---|---|---|
//! | kernel record (`talosctl dmesg`) | `kern:     err: [2026-08-21T09:19:45.1Z]: I/O error, dev sdb, ...` | the message, `\xNN` decoded |
//! | `[talos]` line in dmesg | `user: warning: [...]: [talos] service[etcd](Waiting): ...` | the text after `[talos] ` |
//! | machined log | `2026/08/21 09:00:13.118204 [talos] service[etcd](Waiting): ...` | the text after `[talos] ` |
//! | container mode | `[talos] 2026/08/21 09:00:22 service[apid](Failed): ...` (also after machined's own time) | the text after the date |
//! | serial console | `[   48.100705] [talos] time query error ...` | the text after `[talos] ` |
//! | zap console (`controller-runtime`) | `2026-08-21T09:00:44.215Z ERROR controller failed {...}` | the whole line |
//! | etcd JSON | `{"level":"warn","ts":"...","msg":"..."}` | the whole line |
//! | klog text (kubelet) | `E0821 09:00:21.441907    1734 file.go:107] "msg" err="..."` | the whole line |
//! | klog JSON (kubelet `--logging-format=json`) | `{"ts":1787302815400.225,"caller":"...","msg":"...","err":"..."}` | rendered as klog text |
//! | logrus (containerd, cri) | `time="..." level=error msg="..." error="..."` | the whole line |
//! | Go `log` (apid, trustd, extensions) | `2026/08/21 09:03:05.301118 log.go:76: ...` | the whole line |
//! | anything else (extension output, a Go panic) | `iscsid: can not bind NETLINK_ISCSI socket` | the whole line |
//!
//! Multi-line records are one record: the lines that continue one (a Go panic's stack, kubelet's
//! mount output, machined's `\t* error` lines and their `\x09` dmesg copies, an XFS hex dump)
//! are continuations and never judged on their own; the record's first line carries its
//! verdict. Which lines continue a record is known from the line and its source alone: in a
//! structured log (etcd, kubelet, containerd, machined, ...) a line with no record head continues
//! the one before it, while raw output (extensions, udevd) is a record per line.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::lines::{DmesgRecord, Facility, unescape_kmsg};
use crate::time::{self, Time};

/// The format a record was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A kernel ring buffer record (or a serial console line that is not `[talos]`).
    Kernel,
    /// A machined line (`[talos] ...`), whatever file it was read from.
    Talos,
    /// The `[talos]` console copy of a controller-runtime zap entry: no time, no level.
    ZapCopy,
    /// A zap development-console line with its time and level.
    Zap,
    /// etcd's zap JSON.
    Etcd,
    /// klog text, or klog JSON rendered as text.
    Klog,
    /// logrus text.
    Logrus,
    /// Go's standard `log` with a date.
    GoLog,
    /// Anything else: extension output, a Go runtime panic.
    Raw,
}

/// When a record was written, as far as the line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// The line carries no time (raw output, `[talos]` text pasted without its prefix).
    Unknown,
    /// An absolute time.
    At(Time),
    /// Microseconds since boot (a serial console's `[   48.100705]`).
    Uptime(i64),
}

/// A line read as a record.
#[derive(Debug, Clone)]
pub(crate) struct Record<'t> {
    pub kind: Kind,
    pub stamp: Stamp,
    /// The level as the format names it: a kernel priority (`err`), a zap or etcd level, a
    /// logrus level, a klog severity (`E`); empty when the format has none.
    pub level: &'t str,
    /// The message text the rules read (see the module's table).
    pub text: Cow<'t, str>,
    /// The log the record belongs to when that is not the input's own: `dmesg` for kernel
    /// records, `machined` for `[talos]` lines, `controller-runtime` for their zap copies.
    pub source: Option<&'static str>,
    /// A Go runtime panic's first line (`panic: ...`, `fatal error: ...`).
    pub stack_start: bool,
}

/// A line: a record, or the continuation of the record before it.
#[derive(Debug, Clone)]
pub(crate) enum Line<'t> {
    Record(Record<'t>),
    Continuation,
}

/// How lines without a record head are read in a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Kernel records only (`dmesg`): anything else continues a record.
    Dmesg,
    /// machined's log: every record starts with its time and `[talos] `.
    Machined,
    /// A service whose every record has a head (etcd, kubelet, containerd, cri,
    /// controller-runtime, apid, trustd): a headless line continues the record before it.
    Structured,
    /// Raw output (extensions, udevd, anything unknown): every line is a record.
    Raw,
}

impl Shape {
    /// The shape of the log named `source` (`talosctl logs <source>`, or a file's stem).
    #[must_use]
    pub fn of(source: &str) -> Self {
        match source {
            "dmesg" => Self::Dmesg,
            "machined" => Self::Machined,
            "etcd" | "kubelet" | "containerd" | "cri" | "controller-runtime" | "apid" | "trustd" => Self::Structured,
            _ => Self::Raw,
        }
    }
}

const TALOS: &str = "[talos] ";

/// Reads one line's text (node label and ANSI colour removed). `year` dates klog lines.
pub(crate) fn parse(text: &str, shape: Shape, year: Option<i64>) -> Line<'_> {
    if let Some(record) = DmesgRecord::parse(text) {
        return kernel(&record);
    }
    let b = text.as_bytes();
    if let Some((at, used)) = time::go_log_prefix(b)
        && let Some(rest) = text[used..].strip_prefix(' ').and_then(|r| r.strip_prefix(TALOS))
    {
        return Line::Record(talos(rest, Stamp::At(at)));
    }
    if let Some(rest) = text.strip_prefix(TALOS) {
        return Line::Record(talos(rest, Stamp::Unknown));
    }
    if let Some((uptime, rest)) = serial(text) {
        return Line::Record(match rest.strip_prefix(TALOS) {
            Some(message) => talos(message, Stamp::Uptime(uptime)),
            None => Record {
                kind: Kind::Kernel,
                stamp: Stamp::Uptime(uptime),
                level: "",
                text: Cow::Borrowed(rest),
                source: Some("dmesg"),
                stack_start: false,
            },
        });
    }
    if matches!(shape, Shape::Dmesg | Shape::Machined) {
        return Line::Continuation;
    }
    let record = |kind, stamp, level| Line::Record(Record { kind, stamp, level, text: Cow::Borrowed(text), source: None, stack_start: false });
    if text.starts_with("panic: ") || text.starts_with("fatal error: ") {
        return Line::Record(Record {
            kind: Kind::Raw,
            stamp: Stamp::Unknown,
            level: "",
            text: Cow::Borrowed(text),
            source: None,
            stack_start: true,
        });
    }
    if let Some((at, used)) = time::rfc3339_prefix(b)
        && let Some(level) = text[used..].strip_prefix(' ').and_then(zap_level)
    {
        return record(Kind::Zap, Stamp::At(at), level);
    }
    if let Some(rest) = text.strip_prefix("{\"level\":\"") {
        let level = &rest[..rest.find('"').unwrap_or(0)];
        let stamp = json_field(text, "ts").and_then(|ts| Time::parse_rfc3339(ts.trim_matches('"'))).map_or(Stamp::Unknown, Stamp::At);
        return record(Kind::Etcd, stamp, level);
    }
    if text.starts_with("{\"ts\":") {
        return klog_json(text).map_or(Line::Continuation, Line::Record);
    }
    if let Some(severity) = klog_severity(b) {
        let stamp = year.and_then(|y| time::klog_prefix(&b[1..], y)).map_or(Stamp::Unknown, Stamp::At);
        return record(Kind::Klog, stamp, severity);
    }
    if let Some((at, level)) = logrus(text) {
        return record(Kind::Logrus, Stamp::At(at), level);
    }
    if let Some((at, used)) = time::go_log_prefix(b)
        && b.get(used) == Some(&b' ')
    {
        return record(Kind::GoLog, Stamp::At(at), "");
    }
    match shape {
        Shape::Structured => Line::Continuation,
        _ => record(Kind::Raw, Stamp::Unknown, ""),
    }
}

/// A kernel record: machined's `[talos]` lines are machined's, not the kernel's.
fn kernel<'t>(record: &DmesgRecord<'t>) -> Line<'t> {
    let stamp = Time::parse_rfc3339(record.timestamp).map_or(Stamp::Unknown, Stamp::At);
    let message = unescape_kmsg(record.message);
    if message.starts_with(TALOS) {
        return Line::Record(match message {
            Cow::Borrowed(m) => talos(&m[TALOS.len()..], stamp),
            Cow::Owned(m) => {
                let read = talos(&m[TALOS.len()..], stamp);
                Record {
                    kind: read.kind,
                    stamp: read.stamp,
                    level: "",
                    text: Cow::Owned(read.text.into_owned()),
                    source: read.source,
                    stack_start: false,
                }
            }
        });
    }
    // go-kmsg writes each line of a multi-line `[talos]` message as its own record; the
    // continuation lines of a Go error list start with a tab. An XFS hex dump continues the
    // corruption report before it.
    if (record.facility == Facility::User && message.starts_with('\t')) || is_hex_dump(&message) {
        return Line::Continuation;
    }
    Line::Record(Record { kind: Kind::Kernel, stamp, level: record.priority.as_str(), text: message, source: Some("dmesg"), stack_start: false })
}

/// machined's text after `[talos] `: in container mode Go's date still follows the prefix; the
/// console copy of a controller-runtime zap entry ends with its fields.
fn talos(rest: &str, stamp: Stamp) -> Record<'_> {
    let (text, stamp) = match time::go_log_prefix(rest.as_bytes()) {
        Some((at, used)) if rest.as_bytes().get(used) == Some(&b' ') => {
            (&rest[used + 1..], if stamp == Stamp::Unknown { Stamp::At(at) } else { stamp })
        }
        _ => (rest, stamp),
    };
    let copy = text.contains(" {\"component\": \"controller-runtime\"");
    let (kind, source) = if copy { (Kind::ZapCopy, "controller-runtime") } else { (Kind::Talos, "machined") };
    Record { kind, stamp, level: "", text: Cow::Borrowed(text), source: Some(source), stack_start: false }
}

/// `[   48.100705] rest`: seconds since boot, as a serial console prints the kernel log.
fn serial(text: &str) -> Option<(i64, &str)> {
    let rest = text.strip_prefix('[')?;
    let close = rest.find("] ")?;
    let (seconds, micros) = rest[..close].trim_start().split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(seconds) || micros.len() != 6 || !digits(micros) {
        return None;
    }
    let uptime = seconds.parse::<i64>().ok()? * 1_000_000 + micros.parse::<i64>().ok()?;
    Some((uptime, &rest[close + 2..]))
}

/// The level word of a zap console line (after its time).
fn zap_level(rest: &str) -> Option<&str> {
    let level = &rest[..rest.find(' ').unwrap_or(rest.len())];
    ["DEBUG", "INFO", "WARN", "ERROR", "DPANIC", "PANIC", "FATAL"].into_iter().find(|l| *l == level)
}

/// klog's head `Lmmdd hh:mm:ss.uuuuuu`: the severity.
fn klog_severity(b: &[u8]) -> Option<&'static str> {
    let severity = match b.first()? {
        b'I' => "I",
        b'W' => "W",
        b'E' => "E",
        b'F' => "F",
        _ => return None,
    };
    let shaped = b.len() > 21 && b[1..5].iter().all(u8::is_ascii_digit) && b[5] == b' ' && b[8] == b':' && b[14] == b'.';
    shaped.then_some(severity)
}

/// logrus: `time="<RFC 3339>" level=<level> ...`.
fn logrus(text: &str) -> Option<(Time, &str)> {
    let rest = text.strip_prefix("time=\"")?;
    let (at, used) = time::rfc3339_prefix(rest.as_bytes())?;
    let rest = rest[used..].strip_prefix("\" level=")?;
    Some((at, &rest[..rest.find(' ').unwrap_or(rest.len())]))
}

/// A component-base JSON entry rendered as the klog text the rules are written for:
/// `E0821 09:00:21.441907       0 kubelet_node_status.go:107] "msg" err="..." node="..."`. Info
/// entries carry `"v"`; Error entries have none (and an `"err"` when the error is not nil).
fn klog_json(text: &str) -> Option<Record<'_>> {
    let at = time::epoch_millis(json_field(text, "ts")?)?;
    let severity = if json_field(text, "v").is_some() { "I" } else { "E" };
    let caller = json_field(text, "caller").map_or("?", |c| c.trim_matches('"'));
    let caller = caller.rsplit('/').next().unwrap_or(caller);
    let mut line = format!("{severity}{} {:>7} {caller}] {}", at.klog_head(), 0, json_field(text, "msg").unwrap_or("\"\""));
    if let Some(err) = json_field(text, "err") {
        let _ = write!(line, " err={err}");
    }
    for (key, value) in JsonFields::new(text) {
        if !matches!(key, "ts" | "caller" | "msg" | "v" | "err") {
            let _ = write!(line, " {key}={value}");
        }
    }
    Some(Record { kind: Kind::Klog, stamp: Stamp::At(at), level: severity, text: Cow::Owned(line), source: None, stack_start: false })
}

/// The raw JSON value of a top-level `key` of a one-line JSON object.
pub(crate) fn json_field<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    JsonFields::new(text).find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The top-level `(key, raw value)` pairs of a one-line JSON object, read without decoding.
pub(crate) struct JsonFields<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> JsonFields<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Self { text, at: usize::from(text.starts_with('{')) }
    }
}

impl<'t> Iterator for JsonFields<'t> {
    type Item = (&'t str, &'t str);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.text.as_bytes();
        while self.at < b.len() && matches!(b[self.at], b',' | b' ') {
            self.at += 1;
        }
        if b.get(self.at) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(b, self.at)?;
        let key = &self.text[self.at + 1..key_end - 1];
        let mut at = key_end;
        while at < b.len() && matches!(b[at], b':' | b' ') {
            at += 1;
        }
        let start = at;
        let end = value_end(b, start)?;
        self.at = end;
        Some((key, &self.text[start..end]))
    }
}

/// The end (exclusive) of the JSON string starting at `b[at] == '"'`.
fn string_end(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end (exclusive) of the JSON value starting at `b[at]`.
fn value_end(b: &[u8], at: usize) -> Option<usize> {
    match b.get(at)? {
        b'"' => string_end(b, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = string_end(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => Some(at + b[at..].iter().position(|c| matches!(c, b',' | b'}')).unwrap_or(b.len() - at)),
    }
}

/// A JSON string's value (`"a \"b\""` is `a "b"`), for messages quoted in cause ids.
pub(crate) fn json_unquote(raw: &str) -> String {
    let inner = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// `00000000: 49 4e 81 a4 03 02 00 00 00 00 00 00 00 00 00 00  IN..............`.
fn is_hex_dump(message: &str) -> bool {
    let b = message.as_bytes();
    b.len() >= 10 + 16 * 3
        && b[..8].iter().all(|c| c.is_ascii_hexdigit())
        && b[8] == b':'
        && b[9] == b' '
        && (0..16).all(|i| {
            let at = 10 + i * 3;
            b[at].is_ascii_hexdigit() && b[at + 1].is_ascii_hexdigit() && b[at + 2] == b' '
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str, shape: Shape) -> Record<'_> {
        match parse(text, shape, Some(2026)) {
            Line::Record(r) => r,
            Line::Continuation => panic!("a continuation: {text}"),
        }
    }

    fn at(s: &str) -> Stamp {
        Stamp::At(Time::parse_rfc3339(s).unwrap())
    }

    #[test]
    fn dmesg_records_are_the_kernel_s_unless_they_are_machined_s() {
        let kernel = record("kern:     err: [2026-08-21T09:19:45.1Z]: I/O error, dev sdb, sector 0", Shape::Dmesg);
        assert_eq!(
            (kernel.kind, kernel.level, kernel.source, kernel.text.as_ref()),
            (Kind::Kernel, "err", Some("dmesg"), "I/O error, dev sdb, sector 0")
        );
        assert_eq!(kernel.stamp, at("2026-08-21T09:19:45.1Z"));
        let talos = record(
            r#"user: warning: [2026-08-21T09:00:26.0Z]: [talos] controller failed {"component": "controller-runtime", "error": "pods \x5c"x\x5c""}"#,
            Shape::Dmesg,
        );
        assert_eq!((talos.kind, talos.source), (Kind::ZapCopy, Some("controller-runtime")));
        assert_eq!(talos.text, r#"controller failed {"component": "controller-runtime", "error": "pods \"x\""}"#);
        let service = record("user: warning: [2026-08-21T09:00:26.0Z]: [talos] service[etcd](Waiting): Error running", Shape::Dmesg);
        assert_eq!((service.kind, service.source, service.text.as_ref()), (Kind::Talos, Some("machined"), "service[etcd](Waiting): Error running"));
    }

    #[test]
    fn every_form_of_a_talos_line_reads_the_same_text() {
        let text = "service[apid](Failed): Failed to run pre stage";
        for (line, stamp) in [
            ("2026/08/21 09:00:22.000353 [talos] service[apid](Failed): Failed to run pre stage", at("2026-08-21T09:00:22.000353Z")),
            (
                "2026/08/21 09:00:22.000353 [talos] 2026/08/21 09:00:22 service[apid](Failed): Failed to run pre stage",
                at("2026-08-21T09:00:22.000353Z"),
            ),
            ("[talos] 2026/08/21 09:00:22 service[apid](Failed): Failed to run pre stage", at("2026-08-21T09:00:22Z")),
            ("user: warning: [2026-08-21T09:00:22Z]: [talos] service[apid](Failed): Failed to run pre stage", at("2026-08-21T09:00:22Z")),
            ("[   48.100705] [talos] service[apid](Failed): Failed to run pre stage", Stamp::Uptime(48_100_705)),
            ("[talos] service[apid](Failed): Failed to run pre stage", Stamp::Unknown),
        ] {
            let r = record(line, Shape::Raw);
            assert_eq!((r.kind, r.text.as_ref(), r.stamp), (Kind::Talos, text, stamp), "{line}");
        }
    }

    #[test]
    fn service_formats_keep_the_whole_line_and_read_time_and_level() {
        let zap = record("2026-08-21T09:00:44.215Z ERROR controller failed {\"component\": \"controller-runtime\"}", Shape::Structured);
        assert_eq!((zap.kind, zap.level), (Kind::Zap, "ERROR"));
        let etcd = record(r#"{"level":"warn","ts":"2026-08-21T09:01:12.224871Z","msg":"x"}"#, Shape::Structured);
        assert_eq!((etcd.kind, etcd.level, etcd.stamp), (Kind::Etcd, "warn", at("2026-08-21T09:01:12.224871Z")));
        let klog = record("E0821 09:00:21.441907    1734 kubelet_node_status.go:107] \"Unable to register node\"", Shape::Structured);
        assert_eq!((klog.kind, klog.level, klog.stamp), (Kind::Klog, "E", at("2026-08-21T09:00:21.441907Z")));
        let logrus = record(r#"time="2026-08-21T09:00:07.331904118Z" level=error msg="failed""#, Shape::Structured);
        assert_eq!((logrus.kind, logrus.level), (Kind::Logrus, "error"));
        let apid = record("2026/08/21 09:03:05.301118 log.go:76: OK [/machine.MachineService/Version]", Shape::Structured);
        assert_eq!((apid.kind, apid.stamp), (Kind::GoLog, at("2026-08-21T09:03:05.301118Z")));
        let panic = record("panic: freepages: failed to get all reachable pages", Shape::Structured);
        assert!(panic.stack_start && panic.kind == Kind::Raw);
    }

    #[test]
    fn klog_json_is_rendered_as_klog_text() {
        let line = r#"{"ts":1787302821441.907,"caller":"kubelet/kubelet_node_status.go:107","msg":"Unable to register node with API server","node":"w2","err":"Post \"https://127.0.0.1:7445/api/v1/nodes\": EOF"}"#;
        let r = record(line, Shape::Structured);
        assert_eq!(r.kind, Kind::Klog);
        assert_eq!(r.level, "E", "an entry without \"v\" is an Error entry");
        assert_eq!(
            r.text,
            r#"E0821 09:00:21.441907       0 kubelet_node_status.go:107] "Unable to register node with API server" err="Post \"https://127.0.0.1:7445/api/v1/nodes\": EOF" node="w2""#
        );
        let info = record(r#"{"ts":1787302821441.907,"caller":"x.go:1","msg":"hi","v":0}"#, Shape::Structured);
        assert_eq!(info.level, "I");
    }

    #[test]
    fn headless_lines_continue_structured_logs_and_are_records_in_raw_output() {
        for (line, shape) in [
            ("goroutine 1 [running]:", Shape::Structured),
            ("Output: mount: /var/lib/kubelet: wrong fs type, bad option, bad superblock on /dev/sdc", Shape::Structured),
            ("\t* context deadline exceeded", Shape::Machined),
            ("user: warning: [2026-08-21T09:00:26.0Z]: \\x09* context deadline exceeded", Shape::Dmesg),
            ("kern:   alert: [2026-08-21T09:20:02.2Z]: 00000000: 49 4e 81 a4 03 02 00 00 00 00 00 00 00 00 00 00  IN..............", Shape::Dmesg),
        ] {
            assert!(matches!(parse(line, shape, Some(2026)), Line::Continuation), "{line}");
        }
        assert_eq!(record("iscsid: can not bind NETLINK_ISCSI socket", Shape::Raw).kind, Kind::Raw);
    }

    #[test]
    fn json_fields_are_read_raw() {
        let fields: Vec<_> = JsonFields::new(r#"{"a":"x \"y\", z","b":{"c":[1,"}"]},"d":12.5}"#).collect();
        assert_eq!(fields, [("a", r#""x \"y\", z""#), ("b", r#"{"c":[1,"}"]}"#), ("d", "12.5")]);
        assert_eq!(json_unquote(r#""x \"y\" \u00b5s""#), "x \"y\" µs");
    }
}
