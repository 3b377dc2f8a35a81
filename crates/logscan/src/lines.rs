//! The lines `talosctl logs` and `talosctl dmesg` stream: `<node>: <line>`, and the kernel record
//! format inside a dmesg line (`<facility>: <priority padded to 7>: [<RFC 3339>]: <message>`).

use std::borrow::Cow;

/// A line split into its node label (the `-n` entry, or the peer IP) and its text.
///
/// Saved logs from a support bundle have no label; `None` then. A raw dmesg record's facility
/// (`kern: ...`) is not taken for a node.
#[must_use]
pub fn split_node(line: &str) -> (Option<&str>, &str) {
    // Only the label's own bytes are looked at, never the rest of the line: the scanner calls
    // this on every candidate line. An IPv6 label holds colons but never `": "`.
    let bytes = line.as_bytes();
    let mut end = 0;
    while end < bytes.len() && is_label_byte(bytes[end]) {
        if bytes[end] == b':' && bytes.get(end + 1) == Some(&b' ') {
            break;
        }
        end += 1;
    }
    let is_label = end > 0 && bytes.get(end..end + 2) == Some(b": ") && Facility::parse(&line[..end]).is_none();
    if is_label { (Some(&line[..end]), &line[end + 2..]) } else { (None, line) }
}

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']' | b'%')
}

/// A kernel message as it was written: `/dev/kmsg` prints every byte below 0x20, from 0x7f up, and
/// the backslash itself as `\xNN`, so machined's `\"` reads `\x5c"` in `talosctl dmesg`, a tab
/// `\x09` and `µs` `\xc2\xb5s`. Rules written against the machined log match its dmesg copy only
/// once this is undone. Bytes that do not form UTF-8 are replaced.
#[must_use]
pub fn unescape_kmsg(message: &str) -> Cow<'_, str> {
    let Some(first) = memchr::memmem::find(message.as_bytes(), b"\\x") else { return Cow::Borrowed(message) };
    let bytes = message.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut at = first;
    while at < bytes.len() {
        let escaped = (bytes[at] == b'\\' && bytes.get(at + 1) == Some(&b'x'))
            .then(|| bytes.get(at + 2..at + 4))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                at += 4;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// A kernel ring buffer record as `talosctl dmesg` prints it (after the node label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmesgRecord<'a> {
    /// Facility (`kern`, `user`, `daemon`, ...).
    pub facility: Facility,
    /// Priority.
    pub priority: Priority,
    /// The timestamp as printed (RFC 3339 with nanoseconds, trailing zeros trimmed).
    pub timestamp: &'a str,
    /// The message.
    pub message: &'a str,
}

/// Syslog facilities, as go-kmsg names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Facility {
    Kern,
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    Authpriv,
    /// `local0` to `local7`.
    Local(u8),
}

/// Syslog priorities, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Priority {
    Emerg,
    Alert,
    Crit,
    Err,
    Warning,
    Notice,
    Info,
    Debug,
}

impl<'a> DmesgRecord<'a> {
    /// Parses the text after the node label; `None` when it is not a kernel record.
    #[must_use]
    pub fn parse(text: &'a str) -> Option<Self> {
        // Word by word from the start: a line that is not a record is rejected within its first
        // few bytes (the scanner calls this on every candidate line).
        let (facility, rest) = word(text)?;
        let facility = Facility::parse(facility)?;
        let (priority, rest) = word(rest.trim_start_matches(' '))?;
        let priority = Priority::parse(priority)?;
        let rest = rest.strip_prefix('[')?;
        let close = memchr::memchr(b']', rest.as_bytes())?;
        let message = rest[close..].strip_prefix("]: ")?;
        Some(Self { facility, priority, timestamp: &rest[..close], message })
    }
}

/// A lowercase word followed by `": "`: the word and what follows.
fn word(text: &str) -> Option<(&str, &str)> {
    let end = text.bytes().position(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit()))?;
    Some((&text[..end], text[end..].strip_prefix(": ")?))
}

impl Facility {
    /// Parses a facility name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "kern" => Self::Kern,
            "user" => Self::User,
            "mail" => Self::Mail,
            "daemon" => Self::Daemon,
            "auth" => Self::Auth,
            "syslog" => Self::Syslog,
            "lpr" => Self::Lpr,
            "news" => Self::News,
            "uucp" => Self::Uucp,
            "cron" => Self::Cron,
            "authpriv" => Self::Authpriv,
            _ => {
                let n = name.strip_prefix("local")?.parse().ok().filter(|n| *n <= 7)?;
                Self::Local(n)
            }
        })
    }
}

impl Priority {
    /// Parses a priority name (without its padding).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "emerg" => Self::Emerg,
            "alert" => Self::Alert,
            "crit" => Self::Crit,
            "err" => Self::Err,
            "warning" => Self::Warning,
            "notice" => Self::Notice,
            "info" => Self::Info,
            "debug" => Self::Debug,
            _ => return None,
        })
    }

    /// The name talosctl prints.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Emerg => "emerg",
            Self::Alert => "alert",
            Self::Crit => "crit",
            Self::Err => "err",
            Self::Warning => "warning",
            Self::Notice => "notice",
            Self::Info => "info",
            Self::Debug => "debug",
        }
    }

    /// True for `err` and more severe.
    #[must_use]
    pub fn is_error(self) -> bool {
        self <= Self::Err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_node_label_even_for_ipv6_and_hostnames() {
        assert_eq!(
            split_node("10.5.0.2: 2026/08/21 10:00:01.123456 [talos] task x"),
            (Some("10.5.0.2"), "2026/08/21 10:00:01.123456 [talos] task x")
        );
        assert_eq!(split_node("fd00::2: kern: info: [t]: m"), (Some("fd00::2"), "kern: info: [t]: m"));
        assert_eq!(split_node("talos-default-controlplane-1: x: y"), (Some("talos-default-controlplane-1"), "x: y"));
    }

    #[test]
    fn saved_lines_without_a_label_have_no_node() {
        for raw in [
            "2026/08/21 10:00:01.123456 [talos] task startAllServices (1/1): waiting for 3 services",
            r#"{"level":"warn","ts":"2026-08-21T10:00:00Z","msg":"x: y"}"#,
            r#"time="2026-08-21T10:00:00Z" level=error msg="failed: x""#,
            "E0821 10:00:00.123456    1234 file.go:12] boom: bad",
            "kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error",
            "no colon at all",
        ] {
            assert_eq!(split_node(raw), (None, raw), "{raw}");
        }
    }

    #[test]
    fn parses_dmesg_records_with_padded_priorities() {
        let (node, text) = split_node("10.5.0.3: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0");
        assert_eq!(node, Some("10.5.0.3"));
        let record = DmesgRecord::parse(text).unwrap();
        assert_eq!((record.facility, record.priority), (Facility::Kern, Priority::Err));
        assert_eq!(record.timestamp, "2026-08-21T10:00:06.7Z");
        assert_eq!(record.message, "blk_update_request: I/O error, dev vdb, sector 0");
        let talos = DmesgRecord::parse("user: warning: [2026-08-21T10:00:05.12Z]: [talos] task startAllServices (1/1): done, 2.1s").unwrap();
        assert_eq!((talos.facility, talos.priority), (Facility::User, Priority::Warning));
        assert_eq!(DmesgRecord::parse("local7:   alert: [t]: m").unwrap().facility, Facility::Local(7));
    }

    #[test]
    fn only_err_and_more_severe_priorities_are_errors() {
        let errors: Vec<&str> =
            [Priority::Emerg, Priority::Alert, Priority::Crit, Priority::Err, Priority::Warning, Priority::Notice, Priority::Info, Priority::Debug]
                .into_iter()
                .filter(|p| p.is_error())
                .map(Priority::as_str)
                .collect();
        assert_eq!(errors, ["emerg", "alert", "crit", "err"]);
    }

    #[test]
    fn kernel_escapes_are_decoded() {
        assert_eq!(unescape_kmsg(r"task setupLogger (1/1): done, 118.34\xc2\xb5s"), "task setupLogger (1/1): done, 118.34µs");
        assert_eq!(unescape_kmsg(r#"{"error": "pods \x5c"x\x5c" is forbidden"}"#), r#"{"error": "pods \"x\" is forbidden"}"#);
        assert_eq!(unescape_kmsg(r"\x09* context canceled"), "\t* context canceled");
        assert!(matches!(unescape_kmsg("plain"), Cow::Borrowed("plain")));
        assert_eq!(unescape_kmsg(r"not \xzz an escape \x"), r"not \xzz an escape \x");
    }

    #[test]
    fn other_text_is_not_a_dmesg_record() {
        assert_eq!(DmesgRecord::parse("2026/08/21 10:00:01.123456 [talos] x"), None);
        assert_eq!(DmesgRecord::parse("kern: loud: [t]: m"), None);
        assert_eq!(DmesgRecord::parse("local8: info: [t]: m"), None);
    }
}
