//! Error markers: a record that no known failure matches is still an error when its level or
//! Talos's wording says so. Each marker names a cause, so that the lines of one problem are one
//! finding: the controller, the message, or the first words of the text with numbers masked.
//!
//! Deliberately not markers: a `[talos]` console copy merely carrying an `"error"` field (WARN and
//! INFO entries carry one too; the level is in the controller-runtime log), `level=warning`,
//! etcd `warn`, klog `W`, and `service[x](Waiting): Waiting for ...`.

use std::borrow::Cow;

use crate::lines::Priority;
use crate::record::{Kind, Record, json_field, json_unquote};

/// Why a record with no known failure is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A kernel record of priority `emerg`, `alert`, `crit` or `err`.
    DmesgPriority(Priority),
    /// `service[<id>](Running): Health check failed: ...`.
    TalosHealth,
    /// `retrying error: ...`: go-retry logs each distinct error of a retried operation once.
    TalosRetrying,
    /// `etcd is waiting to join the cluster ...`: printed every 30 s until the cluster is
    /// bootstrapped and the node's etcd joined.
    TalosEtcdJoin,
    /// `[talos] error ...`: machined's own errors.
    TalosError,
    /// A `[talos]` console copy of a controller-runtime entry whose message says error, failed or
    /// failure (the copy has no level).
    ZapConsoleCopy,
    /// A controller-runtime zap line at `ERROR`, `DPANIC`, `PANIC` or `FATAL`.
    ZapLevel(&'static str),
    /// An etcd JSON line at `error`, `dpanic`, `panic` or `fatal`.
    EtcdLevel(&'static str),
    /// A logrus line (containerd, cri) at `level=error`, `fatal` or `panic`.
    LogrusLevel(&'static str),
    /// A klog line of severity `E` or `F` (a klog JSON entry without `"v"` is an Error entry).
    KlogSeverity(char),
}

impl Marker {
    /// The marker's id, as reviews and the shared allow-list name it (`klog-severity`).
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Self::DmesgPriority(_) => "dmesg-priority",
            Self::TalosHealth => "talos-health",
            Self::TalosRetrying => "talos-retrying",
            Self::TalosEtcdJoin => "talos-etcd-join",
            Self::TalosError => "talos-error",
            Self::ZapConsoleCopy => "zap-console-copy",
            Self::ZapLevel(_) => "zap-level",
            Self::EtcdLevel(_) => "etcd-level",
            Self::LogrusLevel(_) => "logrus-level",
            Self::KlogSeverity(_) => "klog-severity",
        }
    }
}

/// The marker of a record read from `source`, with the cause its finding is grouped under.
pub(crate) fn classify(record: &Record<'_>, source: &str) -> Option<(Marker, String)> {
    let text = record.text.as_ref();
    match record.kind {
        Kind::Kernel => {
            let priority = Priority::parse(record.level).filter(|p| p.is_error())?;
            Some((Marker::DmesgPriority(priority), format!("kernel-err/{}", mask(text, 4))))
        }
        Kind::Talos => talos(text),
        Kind::ZapCopy => {
            let message = text.split(" {\"component\": ").next().unwrap_or(text);
            says_error(message)
                .then(|| (Marker::ZapConsoleCopy, format!("controller-error/{}", controller(text).map_or_else(|| mask(message, 6), str::to_owned))))
        }
        Kind::Zap => {
            let level = ["ERROR", "DPANIC", "PANIC", "FATAL"].into_iter().find(|l| *l == record.level)?;
            let rest = text.splitn(3, ' ').nth(2).unwrap_or("");
            Some((Marker::ZapLevel(level), format!("controller-error/{}", controller(text).map_or_else(|| mask(rest, 6), str::to_owned))))
        }
        Kind::Etcd => {
            let level = ["error", "dpanic", "panic", "fatal"].into_iter().find(|l| *l == record.level)?;
            let message = json_field(text, "msg").map_or_else(|| "?".to_owned(), json_unquote);
            Some((Marker::EtcdLevel(level), format!("etcd-error/{message}")))
        }
        Kind::Logrus => {
            let level = ["error", "fatal", "panic"].into_iter().find(|l| *l == record.level)?;
            Some((Marker::LogrusLevel(level), format!("{source}-error/{}", mask(logrus_message(text), 6))))
        }
        Kind::Klog => {
            let severity = match record.level {
                "E" => 'E',
                "F" => 'F',
                _ => return None,
            };
            Some((Marker::KlogSeverity(severity), format!("klog-error/{}", klog_message(text))))
        }
        Kind::GoLog | Kind::Raw => None,
    }
}

/// machined's wording.
fn talos(text: &str) -> Option<(Marker, String)> {
    if let Some(rest) = text.strip_prefix("service[")
        && let Some((service, rest)) = rest.split_once(']')
        && rest.starts_with("(Running): Health check failed: ")
    {
        return Some((Marker::TalosHealth, format!("health-check-failed/{service}")));
    }
    if text.starts_with("retrying error: ") {
        return Some((Marker::TalosRetrying, "retrying-error".to_owned()));
    }
    if text.starts_with("etcd is waiting to join the cluster") {
        return Some((Marker::TalosEtcdJoin, "etcd-not-bootstrapped".to_owned()));
    }
    let word_end = text.as_bytes().get(5).is_none_or(|b| !is_word(*b));
    (text.starts_with("error") && word_end).then(|| (Marker::TalosError, "talos-error".to_owned()))
}

/// True when `message` holds error, failed or failure as a word (as Go code writes them:
/// lower case, capitalised, or `ERROR`).
fn says_error(message: &str) -> bool {
    ["error", "Error", "ERROR", "failed", "Failed", "failure", "Failure"].into_iter().any(|word| {
        message.match_indices(word).any(|(at, _)| {
            let before = message.as_bytes()[..at].last().is_none_or(|b| !is_word(*b));
            let after = message.as_bytes().get(at + word.len()).is_none_or(|b| !is_word(*b));
            before && after
        })
    })
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The `"controller": "<name>"` field of a zap entry.
fn controller(text: &str) -> Option<&str> {
    let at = text.find("\"controller\": \"")? + "\"controller\": \"".len();
    text[at..].split('"').next()
}

/// logrus's `msg=` value, unquoted.
fn logrus_message(text: &str) -> &str {
    let Some(at) = text.find(" msg=") else { return "?" };
    let rest = &text[at + " msg=".len()..];
    let value = if rest.starts_with('"') {
        let b = rest.as_bytes();
        let mut i = 1;
        while i < b.len() && b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        &rest[..(i + 1).min(rest.len())]
    } else {
        &rest[..rest.find(' ').unwrap_or(rest.len())]
    };
    value.trim_matches('"')
}

/// A klog record's message: the quoted structured message, or the first words of an
/// unstructured one with numbers masked.
fn klog_message(text: &str) -> String {
    let body = text.find("] ").map_or(text, |at| &text[at + 2..]);
    if let Some(quoted) = body.strip_prefix('"') {
        let b = quoted.as_bytes();
        let mut i = 0;
        while i < b.len() && b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        if i < b.len() {
            return quoted[..i].to_owned();
        }
    }
    mask(body, 6)
}

/// The first `words` words of `text` with hex runs of 8 or more and every number replaced by
/// `#`: what stays the same when the same problem repeats.
pub(crate) fn mask(text: &str, words: usize) -> String {
    let mut masked = String::with_capacity(text.len().min(256));
    let b = text.as_bytes();
    let mut at = 0;
    while at < b.len() {
        let hex = b[at..].iter().take_while(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)).count();
        if hex >= 8 {
            masked.push('#');
            at += hex;
        } else if hex > 0 {
            let mut i = at;
            while i < at + hex {
                if b[i].is_ascii_digit() {
                    masked.push('#');
                    while i < at + hex && b[i].is_ascii_digit() {
                        i += 1;
                    }
                } else {
                    masked.push(char::from(b[i]));
                    i += 1;
                }
            }
            at += hex;
        } else {
            let next = at + b[at..].iter().position(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)).unwrap_or(b.len() - at);
            masked.push_str(&text[at..next]);
            at = next;
        }
    }
    masked.split_whitespace().take(words).collect::<Vec<_>>().join(" ")
}

/// `text` without ANSI escape sequences (zap colours its levels).
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
            Self::TalosHealth => f.write_str("failed Talos health check"),
            Self::TalosRetrying => f.write_str("Talos retrying an error"),
            Self::TalosEtcdJoin => f.write_str("etcd waiting to join the cluster"),
            Self::TalosError => f.write_str("Talos error"),
            Self::ZapConsoleCopy => f.write_str("controller error (console copy)"),
            Self::ZapLevel(l) => write!(f, "level {l}"),
            Self::EtcdLevel(l) => write!(f, "etcd level {l}"),
            Self::LogrusLevel(l) => write!(f, "level={l}"),
            Self::KlogSeverity(s) => write!(f, "klog severity {s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Line, Shape, parse};

    #[track_caller]
    fn marker(line: &str, source: &str) -> Option<(Marker, String)> {
        let text = strip_ansi(line);
        let Line::Record(record) = parse(&text, Shape::of(source), Some(2026)) else { return None };
        classify(&record, record.source.unwrap_or(source))
    }

    #[track_caller]
    fn flags(line: &str, source: &str, expected: Marker, cause: &str) {
        assert_eq!(marker(line, source), Some((expected, cause.to_owned())), "{line}");
    }

    #[track_caller]
    fn clean(line: &str, source: &str) {
        assert_eq!(marker(line, source), None, "{line}");
    }

    #[test]
    fn kernel_records_of_err_or_worse_are_errors() {
        flags(
            "kern:     err: [2026-08-21T10:00:06.7Z]: sd 2:0:0:0: [sdb] tag#18 FAILED Result",
            "dmesg",
            Marker::DmesgPriority(Priority::Err),
            "kernel-err/sd #:#:#:#: [sdb] tag##",
        );
        flags("kern:   alert: [2026-08-21T10:00:06.7Z]: x", "dmesg", Marker::DmesgPriority(Priority::Alert), "kernel-err/x");
        clean("kern: warning: [2026-08-21T10:00:06.7Z]: an error in a warning is a warning", "dmesg");
        clean("kern:    info: [2026-08-21T10:00:00.412345678Z]: Linux version 6.12.40-talos", "dmesg");
    }

    #[test]
    fn machined_wording_is_read_in_every_file_it_reaches() {
        let health = "2026/08/21 09:00:13.118204 [talos] service[kubelet](Running): Health check failed: connection refused";
        flags(health, "machined", Marker::TalosHealth, "health-check-failed/kubelet");
        flags(
            "user: warning: [2026-08-21T09:00:58.61Z]: [talos] retrying error: etcdserver: rpc not supported for learner",
            "dmesg",
            Marker::TalosRetrying,
            "retrying-error",
        );
        flags(
            "2026/08/21 09:00:16.502183 [talos] etcd is waiting to join the cluster, if this node is the first node",
            "machined",
            Marker::TalosEtcdJoin,
            "etcd-not-bootstrapped",
        );
        flags("[talos] 2026/08/21 09:00:22 error initializing talos: mount failed", "machined", Marker::TalosError, "talos-error");
        clean("2026/08/21 09:00:01.500000 [talos] service[etcd](Waiting): Waiting for service \"cri\" to be \"up\"", "machined");
        clean("2026/08/21 09:00:01.500000 [talos] errors are not an error word", "machined");
    }

    #[test]
    fn a_console_copy_is_judged_by_its_message_not_its_error_field() {
        let copy = r#"2026/08/21 09:00:52.700000 [talos] kubernetes endpoint watch error {"component": "controller-runtime", "controller": "k8s.EndpointController", "error": "x"}"#;
        flags(copy, "machined", Marker::ZapConsoleCopy, "controller-error/k8s.EndpointController");
        clean(
            r#"2026/08/21 09:00:52.700000 [talos] retrying {"component": "controller-runtime", "controller": "k8s.ManifestApplyController", "error": "x"}"#,
            "machined",
        );
    }

    #[test]
    fn levels_are_read_in_each_format() {
        flags(
            "2026-08-21T10:00:09.500Z \x1b[31mERROR\x1b[0m controller failed {\"component\": \"controller-runtime\", \"controller\": \"block.VolumeConfigController\"}",
            "controller-runtime",
            Marker::ZapLevel("ERROR"),
            "controller-error/block.VolumeConfigController",
        );
        clean("2026-08-21T10:00:09.500Z \x1b[33mWARN\x1b[0m retrying {\"error\": \"connection refused\"}", "controller-runtime");
        flags(
            r#"{"level":"error","ts":"2026-08-21T10:00:00.000Z","msg":"failed to \"x\""}"#,
            "etcd",
            Marker::EtcdLevel("error"),
            r#"etcd-error/failed to "x""#,
        );
        clean(r#"{"level":"warn","ts":"2026-08-21T10:00:00.000Z","msg":"slow fdatasync","error":"none"}"#, "etcd");
        flags(
            r#"time="2026-08-21T09:12:31.580114302Z" level=error msg="ContainerStatus for \"7d2f0c4e9b1a83655e0a\" failed" error="x""#,
            "cri",
            Marker::LogrusLevel("error"),
            r##"cri-error/ContainerStatus for \"#\" failed"##,
        );
        clean(r#"time="2026-08-21T10:00:00.000000000Z" level=warning msg="error looking up image, retrying""#, "containerd");
        flags(
            "E0821 10:00:00.123456    1234 kubelet.go:2345] \"Error syncing pod\" err=\"x\"",
            "kubelet",
            Marker::KlogSeverity('E'),
            "klog-error/Error syncing pod",
        );
        flags(
            "E0821 10:00:00.123456    1234 nested.go:348] Operation for \"{volumeName:abc}\" failed. No retries",
            "kubelet",
            Marker::KlogSeverity('E'),
            "klog-error/Operation for \"{volumeName:abc}\" failed. No retries",
        );
        clean("W0821 10:00:00.123456    1234 reflector.go:1] error listing", "kubelet");
    }

    #[test]
    fn masking_keeps_words_and_hides_numbers_and_ids() {
        assert_eq!(mask("sd 2:0:0:1: [sdc] rejecting I/O to offline device", 4), "sd #:#:#:#: [sdc] rejecting");
        assert_eq!(mask("container 7d2f0c4e9b1a8365 is 42 days old", 6), "container # is # days old");
        assert_eq!(mask("deadbeef", 1), "#");
        assert_eq!(mask("cafe 12ab", 2), "cafe #ab");
    }

    #[test]
    fn ansi_sequences_are_stripped_and_other_text_kept() {
        assert_eq!(strip_ansi("a\x1b[1;31mERROR\x1b[0m b"), "aERROR b");
        assert_eq!(strip_ansi("no colour"), "no colour");
        assert_eq!(strip_ansi("dangling \x1b"), "dangling ");
    }
}
