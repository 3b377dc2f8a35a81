//! The error markers of Talos system logs (tool-formats.md §1), and the keyword prefilter that
//! finds the lines worth classifying.
//!
//! [`classify`] judges one line's text (node label removed). It is only ever called on candidate
//! lines: lines containing one of [`KEYWORDS`], an escape byte, or a klog `E`/`F` head at their
//! start. Every marker below needs one of those keywords in the line after ANSI stripping, and a
//! line whose keyword only appears once escapes are stripped contains an escape byte; so the
//! prefilter never drops a line that [`classify`] would flag. The "every line a candidate" tests
//! hold this to account.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::RegexSet;

use crate::lines::{DmesgRecord, Priority};

/// Why a line is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A kernel record of priority `emerg`, `alert`, `crit` or `err`.
    DmesgPriority(Priority),
    /// `[talos] task <name> (<i>/<n>): failed: ...`.
    TaskFailed,
    /// `[talos] phase <name> (<i>/<n>): failed`.
    PhaseFailed,
    /// `[talos] <sequence> sequence: failed`.
    SequenceFailed,
    /// `[talos] service[<id>](Failed): ...`.
    ServiceFailed,
    /// `[talos] controller failed {...}`.
    ControllerFailed,
    /// `[talos] controller runtime goroutine error: ...`.
    GoroutineError,
    /// `[talos] error ...`: machined's own fatal errors.
    TalosError,
    /// A `[talos]` console copy of a zap entry carrying an `"error"` field. The copy has no level,
    /// so the field is the only evidence (and Talos's log sender treats it as at least a warning).
    ErrorField,
    /// A zap console line at level `ERROR`, `DPANIC`, `PANIC` or `FATAL`.
    ZapLevel(&'static str),
    /// A logrus line (containerd) with `level=error`, `level=fatal` or `level=panic`.
    LogrusLevel(&'static str),
    /// An etcd JSON line with `"level":"error"` (or `dpanic`, `panic`, `fatal`).
    EtcdLevel(&'static str),
    /// A klog line (kubelet) of severity `E` or `F`.
    KlogSeverity(char),
}

/// The literals every marker needs: at least one of them is in any flagged line (ANSI aside).
/// They are as specific as the markers allow, so that normal lines (`Health check failed`,
/// `failed to list`, `level=warn ... error=`) are not even looked at; each is at least three bytes
/// long, which keeps aho-corasick on its SIMD searcher.
pub const KEYWORDS: &[&str] = &[
    // Kernel priorities: `%7s` right-aligns them after `<facility>: `, so a space always precedes.
    " emerg: ",
    " alert: ",
    " crit: ",
    " err: ",
    // `[talos]` markers: `task|phase x (i/n): failed`, `<seq> sequence: failed`, and the rest.
    ": failed",
    "](Failed)",
    "controller failed",
    "goroutine error",
    "] error",
    // Zap console levels, zap and etcd JSON (`"error": "..."` field, `{"level":"error"`), logrus.
    "ERROR",
    "PANIC",
    "FATAL",
    "\"error\"",
    "\"fatal\"",
    "\"panic\"",
    "\"dpanic\"",
    "=error",
    "=fatal",
    "=panic",
    // klog severities E and F (months 01 to 12), at a line start or after a node label.
    "\nE0",
    "\nE1",
    "\nF0",
    "\nF1",
    ": E0",
    ": E1",
    ": F0",
    ": F1",
];

static LOGRUS_LEVEL: LazyLock<memchr::memmem::Finder<'static>> = LazyLock::new(|| memchr::memmem::Finder::new("level="));

static TALOS_PREFIX: LazyLock<memchr::memmem::Finder<'static>> = LazyLock::new(|| memchr::memmem::Finder::new("[talos] "));

/// Error markers inside `[talos] ` text, anchored at its start, in [`TALOS_MARKERS`] order.
static TALOS: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"^task \S+ \(\d+/\d+\): failed",
        r"^phase \S+ \(\d+/\d+\): failed",
        r"^\S+ sequence: failed",
        r"^service\[[^\]]+\]\(Failed\)",
        r"^controller failed",
        r"^controller runtime goroutine error",
        r"^error\b",
    ])
    .expect("the Talos markers are valid regular expressions")
});

const TALOS_MARKERS: [Marker; 7] = [
    Marker::TaskFailed,
    Marker::PhaseFailed,
    Marker::SequenceFailed,
    Marker::ServiceFailed,
    Marker::ControllerFailed,
    Marker::GoroutineError,
    Marker::TalosError,
];

/// The marker of one line's text (ANSI colour already stripped, node label removed), if any.
#[must_use]
pub fn classify(text: &str) -> Option<Marker> {
    let text = text.trim_end_matches('\r');
    if let Some(record) = DmesgRecord::parse(text) {
        if record.priority.is_error() {
            return Some(Marker::DmesgPriority(record.priority));
        }
        // `[talos]` lines reach the kernel log too (as `user: warning`): judge their message.
        return classify_message(record.message);
    }
    classify_message(text)
}

fn classify_message(text: &str) -> Option<Marker> {
    if let Some(at) = TALOS_PREFIX.find(text.as_bytes()) {
        return talos(&text[at + "[talos] ".len()..]);
    }
    zap(text).or_else(|| etcd(text)).or_else(|| logrus(text)).or_else(|| klog(text))
}

/// `[talos]` text. (In container mode, which Vixens does not use, Go's default date would follow
/// the prefix; such lines are not recognised.)
fn talos(text: &str) -> Option<Marker> {
    if let Some(i) = TALOS.matches(text).iter().next() {
        return Some(TALOS_MARKERS[i]);
    }
    let fields = memchr::memmem::find(text.as_bytes(), b" {\"")?;
    memchr::memmem::find(&text.as_bytes()[fields..], b"\"error\": \"").map(|_| Marker::ErrorField)
}

/// Zap's development console encoder: `<ISO 8601> <LEVEL> <message> {...}`, judged by its level
/// only. The reference also names an `"error"` field as a marker; it is read on the `[talos]`
/// console copy of the same entry ([`talos`]), which is where the reference's error field shows
/// up, while a timestamped WARN or INFO entry carrying one is a retried reconcile, which every
/// healthy boot logs.
fn zap(text: &str) -> Option<Marker> {
    let b = text.as_bytes();
    let is_time = b.len() >= 20 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[10] == b'T';
    if !is_time {
        return None;
    }
    let rest = &text[memchr::memchr(b' ', b)? + 1..];
    let level = &rest[..memchr::memchr(b' ', rest.as_bytes()).unwrap_or(rest.len())];
    ["ERROR", "DPANIC", "PANIC", "FATAL"].into_iter().find(|l| *l == level).map(Marker::ZapLevel)
}

/// etcd's zap JSON encoder: `{"level":"error",...}`.
fn etcd(text: &str) -> Option<Marker> {
    let rest = text.strip_prefix("{\"level\":\"")?;
    let level = &rest[..rest.find('"')?];
    ["error", "dpanic", "panic", "fatal"].into_iter().find(|l| *l == level).map(Marker::EtcdLevel)
}

/// logrus text format (containerd): a `level=<level>` field.
fn logrus(text: &str) -> Option<Marker> {
    LOGRUS_LEVEL.find_iter(text.as_bytes()).find_map(|at| {
        let field_start = at == 0 || text.as_bytes()[at - 1] == b' ';
        let value = &text[at + "level=".len()..];
        let value = &value[..memchr::memchr(b' ', value.as_bytes()).unwrap_or(value.len())];
        let level = ["error", "fatal", "panic"].into_iter().find(|l| *l == value)?;
        field_start.then_some(Marker::LogrusLevel(level))
    })
}

/// klog: `E0821 10:00:00.123456 ...` (severity, then month 01 to 12 and day).
fn klog(text: &str) -> Option<Marker> {
    let b = text.as_bytes();
    let shaped = b.len() > 6 && matches!(b[0], b'E' | b'F') && matches!(b[1], b'0' | b'1') && b[2..5].iter().all(u8::is_ascii_digit) && b[5] == b' ';
    shaped.then(|| Marker::KlogSeverity(char::from(b[0])))
}

/// `text` without ANSI escape sequences (CSI `ESC [ ... final` and two-byte `ESC x`).
#[must_use]
pub fn strip_ansi(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr(0x1b, bytes) else { return Cow::Borrowed(text) };
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = first;
    out.extend_from_slice(&bytes[..at]);
    while at < bytes.len() {
        // `bytes[at]` is an escape: skip its sequence.
        at += 1;
        if bytes.get(at) == Some(&b'[') {
            // Parameters and intermediates, up to the final byte (@ to ~).
            at += 1;
            while at < bytes.len() && !(b'@'..=b'~').contains(&bytes[at]) {
                at += 1;
            }
        }
        at = (at + 1).min(bytes.len());
        let next = memchr::memchr(0x1b, &bytes[at..]).map_or(bytes.len(), |i| at + i);
        out.extend_from_slice(&bytes[at..next]);
        at = next;
    }
    // Only ASCII bytes of escape sequences were removed; a cut inside a multi-byte character
    // (a malformed sequence) is repaired lossily.
    Cow::Owned(String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

impl std::fmt::Display for Marker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DmesgPriority(p) => write!(f, "kernel priority {}", p.as_str()),
            Self::TaskFailed => f.write_str("failed Talos task"),
            Self::PhaseFailed => f.write_str("failed Talos phase"),
            Self::SequenceFailed => f.write_str("failed Talos sequence"),
            Self::ServiceFailed => f.write_str("Talos service Failed"),
            Self::ControllerFailed => f.write_str("Talos controller failed"),
            Self::GoroutineError => f.write_str("controller runtime goroutine error"),
            Self::TalosError => f.write_str("Talos error"),
            Self::ErrorField => f.write_str("\"error\" field"),
            Self::ZapLevel(l) => write!(f, "level {l}"),
            Self::LogrusLevel(l) => write!(f, "level={l}"),
            Self::EtcdLevel(l) => write!(f, "etcd level {l}"),
            Self::KlogSeverity(s) => write!(f, "klog severity {s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn flags(line: &str, marker: Marker) {
        assert_eq!(classify(&strip_ansi(line)), Some(marker), "{line}");
    }

    #[track_caller]
    fn clean(line: &str) {
        assert_eq!(classify(&strip_ansi(line)), None, "{line}");
    }

    #[test]
    fn kernel_records_of_err_or_worse_are_flagged() {
        flags("kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0", Marker::DmesgPriority(Priority::Err));
        flags("kern:    crit: [2026-08-21T10:00:06.7Z]: EXT4-fs error", Marker::DmesgPriority(Priority::Crit));
        flags("kern:   alert: [2026-08-21T10:00:06.7Z]: x", Marker::DmesgPriority(Priority::Alert));
        flags("kern:   emerg: [2026-08-21T10:00:06.7Z]: x", Marker::DmesgPriority(Priority::Emerg));
        clean("kern: warning: [2026-08-21T10:00:06.7Z]: an error in a warning is a warning");
        clean("kern:    info: [2026-08-21T10:00:00.412345678Z]: Linux version 6.12.40-talos");
    }

    #[test]
    fn failed_talos_tasks_phases_sequences_and_services_are_flagged() {
        flags("2026/08/21 10:00:01.123456 [talos] task startAllServices (1/1): failed: 1 error occurred", Marker::TaskFailed);
        flags("2026/08/21 10:00:01.123456 [talos] phase startEverything (17/17): failed", Marker::PhaseFailed);
        flags("2026/08/21 10:00:01.123456 [talos] boot sequence: failed", Marker::SequenceFailed);
        flags("2026/08/21 10:00:01.123456 [talos] service[etcd](Failed): Failed to run pre stage: timeout", Marker::ServiceFailed);
        flags(r#"2026/08/21 10:00:09.500000 [talos] controller failed {"component": "controller-runtime", "error": "x"}"#, Marker::ControllerFailed);
        flags("2026/08/21 10:00:09.500000 [talos] controller runtime goroutine error: context canceled", Marker::GoroutineError);
        flags("2026/08/21 10:00:09.500000 [talos] error initializing talos: mount failed", Marker::TalosError);
    }

    #[test]
    fn a_talos_line_in_dmesg_is_judged_by_its_message() {
        flags("user: warning: [2026-08-21T10:00:05.12Z]: [talos] task startAllServices (1/1): failed: boom", Marker::TaskFailed);
        clean("user: warning: [2026-08-21T10:00:05.12Z]: [talos] task startAllServices (1/1): done, 2.1s");
    }

    #[test]
    fn waiting_services_and_boot_time_health_checks_are_normal() {
        clean(r#"2026/08/21 10:00:01.500000 [talos] service[etcd](Waiting): Waiting for service "cri" to be "up""#);
        clean("2026/08/21 10:00:02.000001 [talos] service[etcd](Running): Health check failed: dial tcp 127.0.0.1:2379: connect: connection refused");
        clean("2026/08/21 10:00:01.123456 [talos] task startAllServices (1/1): waiting for 3 services");
        clean("2026/08/21 10:00:01.123456 [talos] service[kubelet](Waiting): Error running Containerd(kubelet), going to restart forever");
    }

    #[test]
    fn a_console_copy_with_an_error_field_is_flagged() {
        flags(
            r#"[talos] kubernetes endpoint watch error {"component": "controller-runtime", "controller": "k8s.EndpointController", "error": "connection refused"}"#,
            Marker::ErrorField,
        );
        clean(
            r#"[talos] setting resolvers {"component": "controller-runtime", "controller": "network.ResolverSpecController", "resolvers": ["1.1.1.1"]}"#,
        );
    }

    #[test]
    fn zap_console_levels_are_read_after_stripping_colour() {
        flags("2026-08-21T10:00:09.500Z \x1b[31mERROR\x1b[0m controller failed {\"component\": \"controller-runtime\"}", Marker::ZapLevel("ERROR"));
        flags("2026-08-21T10:00:09.500Z \x1b[31mDPANIC\x1b[0m oops", Marker::ZapLevel("DPANIC"));
        clean("2026-08-21T10:00:09.500Z \x1b[33mWARN\x1b[0m retrying {\"error\": \"connection refused\"}");
        clean("2026-08-21T10:00:09.500Z \x1b[34mINFO\x1b[0m reconcile failed, retrying {\"component\": \"controller-runtime\"}");
    }

    #[test]
    fn logrus_error_fatal_and_panic_are_flagged_but_warn_is_not() {
        flags(r#"time="2026-08-21T10:00:00.000000000Z" level=error msg="failed to pull image""#, Marker::LogrusLevel("error"));
        flags(r#"time="2026-08-21T10:00:00.000000000Z" level=fatal msg="bye""#, Marker::LogrusLevel("fatal"));
        clean(r#"time="2026-08-21T10:00:00.000000000Z" level=warn msg="error looking up image, retrying""#);
        clean(r#"time="2026-08-21T10:00:00.000000000Z" level=info msg="msg=level=error is just text""#);
    }

    #[test]
    fn etcd_error_levels_are_flagged() {
        flags(
            r#"{"level":"error","ts":"2026-08-21T10:00:00.000Z","caller":"etcdserver/server.go:1","msg":"failed to publish"}"#,
            Marker::EtcdLevel("error"),
        );
        flags(r#"{"level":"fatal","ts":"2026-08-21T10:00:00.000Z","msg":"x"}"#, Marker::EtcdLevel("fatal"));
        clean(r#"{"level":"warn","ts":"2026-08-21T10:00:00.000Z","msg":"slow fdatasync","error":"none"}"#);
    }

    #[test]
    fn klog_e_and_f_lines_are_flagged() {
        flags("E0821 10:00:00.123456    1234 kubelet.go:2345] \"Error syncing pod\"", Marker::KlogSeverity('E'));
        flags("F1201 10:00:00.123456    1234 server.go:1] fatal", Marker::KlogSeverity('F'));
        clean("I0821 10:00:00.123456    1234 kubelet.go:2345] \"SyncLoop ADD\"");
        clean("W0821 10:00:00.123456    1234 reflector.go:1] error listing");
    }

    #[test]
    fn ansi_sequences_are_stripped_and_other_text_kept() {
        assert_eq!(strip_ansi("a\x1b[1;31mERROR\x1b[0m b"), "aERROR b");
        assert_eq!(strip_ansi("no colour"), "no colour");
        assert_eq!(strip_ansi("dangling \x1b"), "dangling ");
    }

    #[test]
    fn markers_read_well_in_messages() {
        assert_eq!(Marker::DmesgPriority(Priority::Err).to_string(), "kernel priority err");
        assert_eq!(Marker::KlogSeverity('E').to_string(), "klog severity E");
        assert_eq!(Marker::LogrusLevel("error").to_string(), "level=error");
    }
}
